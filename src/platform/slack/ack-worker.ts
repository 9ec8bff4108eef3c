// The accepting thread (see ack-thread.ts): listens on golive's port, records and acknowledges Slack's
// requests that are acknowledged empty, hands them to the main thread to run, and passes everything else
// to the main thread's own HTTP server unchanged.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { isValidSlackRequest } from '@slack/bolt/dist/receivers/verify-request.js';
import { openDatabase, type Db } from '../store/open-database.js';
import { isPostgresUrl } from '../store/database-url.js';
import { PostgresStore } from '../store/postgres-store.js';
import { RequestRepository } from '../store/request-repository.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { BODY_LIMIT, readBody, slackBody } from './guard-receiver.js';
import { inboxEntry, requestKey } from './inbox.js';
import type { AckThreadData, FromAckThread, ToAckThread } from './ack-thread.js';

const data = workerData as AckThreadData;
const parent = parentPort!;
const tell = (m: FromAckThread) => parent.postMessage(m);

function openSqlite(file: string): Db {
  const db = openDatabase(file);
  // SQLite's own wait sleeps 1, 2, 5, 10, 15… ms between tries and misses the short moments the main thread's
  // writes leave free; this thread asks again at once instead (receive() below), so it does not wait here.
  db.pragma('busy_timeout = 0');
  // A checkpoint copies the write-ahead log into the database and syncs it to disk (milliseconds, more on a slow
  // disk): the main thread's connection, which commits all the time, does them; an ack should not wait for one.
  db.pragma('wal_autocheckpoint = 0');
  return db;
}

const store: Store = isPostgresUrl(data.dbPath)
  ? new PostgresStore({ url: data.dbPath, password: data.dbPassword, applicationName: `golive ${data.replica} ack`.slice(0, 63) }, (err) => tell({ log: 'warn', msg: 'a database connection of the accepting thread failed; the next statement opens another', detail: err.message }))
  : new SqliteStore(openSqlite(data.dbPath));
const requests = new RequestRepository(store);

/** How long a request waits for SQLite's write lock before the main thread is left to record it: as long as the main thread's own wait. */
const BUSY_WAIT_MS = 5000;

/**
 * Records a request. On SQLite, while the main thread holds the write lock: tries again on every turn of this
 * thread's loop for the first 2 ms (most waits are shorter), then every millisecond, so that a long wait does not
 * spin a core the main thread needs to finish and let go.
 */
async function receive(...args: Parameters<RequestRepository['receive']>): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    try {
      return await requests.receive(...args);
    } catch (err) {
      const waited = Date.now() - started;
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || waited >= BUSY_WAIT_MS) throw err;
      await new Promise((resolve) => (waited < 2 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  }
}

/** Bodies acknowledged empty by golive's listeners (commands, clicks, shortcuts, events); a form's answer depends on it. */
function ackedEmpty(body: Record<string, unknown>): boolean {
  if (typeof body.command === 'string') return true;
  return body.type === 'block_actions' || body.type === 'event_callback' || body.type === 'message_action' || body.type === 'shortcut';
}

/** Passes a request, with the body already read, to the main thread's server, and its answer back. */
function pass(req: IncomingMessage, res: ServerResponse, raw?: Buffer): void {
  const upstream = request({ host: '127.0.0.1', port: data.mainPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (err) => {
    tell({ log: 'warn', msg: 'the accepting thread could not pass a request on', detail: err.message });
    if (!res.headersSent) res.writeHead(503).end();
    else res.destroy();
  });
  if (raw) upstream.end(raw);
  else req.pipe(upstream);
}

async function accept(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || req.url?.split('?')[0] !== '/slack/events') return pass(req, res);
  const raw = await readBody(req, BODY_LIMIT);
  if (raw === 'too_large') return void res.writeHead(413).end();
  const text = raw.toString();
  const signature = req.headers['x-slack-signature'];
  const timestamp = Number(req.headers['x-slack-request-timestamp']);
  const signed = typeof signature === 'string' && Number.isFinite(timestamp) && isValidSlackRequest({ signingSecret: data.signingSecret, body: text, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
  const body = signed ? slackBody(text, req.headers['content-type']) : undefined;
  const key = body && ackedEmpty(body) ? requestKey(body) : undefined;
  // Unsigned, malformed, a form, a URL check: Bolt answers those, as it would without this thread.
  if (!body || !key) return pass(req, res, raw);
  const { kind, replayable } = inboxEntry(body);
  // One serialisation for the inbox and the hand-over: a string crosses threads far cheaper than the object would.
  const json = JSON.stringify(body);
  let first: boolean;
  try {
    first = await receive(key, new Date().toISOString(), replayable ? { kind, payload: json } : undefined, data.replica);
  } catch (err) {
    // Not recorded: the main thread records it or, if it cannot either, says so to the person.
    tell({ log: 'warn', msg: 'the accepting thread could not record a request; the main thread takes it', detail: (err as Error).message });
    return pass(req, res, raw);
  }
  // Handed over before the ack, so a stop that waits for the acks has every request they acknowledged.
  const retryNum = Number(req.headers['x-slack-retry-num']);
  const retryReason = req.headers['x-slack-retry-reason'];
  tell({ request: { key, json, first, ...(Number.isFinite(retryNum) ? { retryNum } : {}), ...(typeof retryReason === 'string' ? { retryReason } : {}) } });
  res.writeHead(200).end();
}

const server = createServer((req, res) => {
  accept(req, res).catch((err: unknown) => {
    tell({ log: 'error', msg: 'the accepting thread failed on a request', detail: (err as Error).stack ?? String(err) });
    if (!res.headersSent) res.writeHead(500).end();
  });
});

parent.on('message', (m: ToAckThread) => {
  if (m.stop) {
    // Stops accepting; answers the requests already in, then says so (after every request it handed over).
    server.close(() => void store.close().finally(() => tell({ stopped: true })));
    server.closeIdleConnections();
    // A keep-alive connection that stays open past its last answer would hold the stop.
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  }
});

server.on('error', (err: NodeJS.ErrnoException) => tell({ failed: err.code === 'EADDRINUSE' ? `port ${data.port} is in use by another program` : err.message }));
const ready = store.ready ? store.ready() : Promise.resolve();
ready.then(
  () => server.listen(data.port, () => tell({ listening: (server.address() as AddressInfo).port })),
  (err: unknown) => tell({ failed: `the accepting thread cannot reach the database: ${(err as Error).message}` }),
);
