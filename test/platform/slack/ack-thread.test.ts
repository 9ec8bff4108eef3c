import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startAckThread, type AcceptedRequest } from '../../../src/platform/slack/ack-thread.js';
import { createLogger } from '../../../src/platform/logger.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import { query, until } from '../../support/golive-client.js';
import { signSlackRequest, slashCommandBody } from '../../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../../support/start-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Sends one signed request from another process at `at` (epoch ms) and resolves with its status and how long
 * the answer took, as that process measured it: this test's own thread is busy meanwhile, on purpose.
 */
function sendFromOtherProcess(url: string, body: string, at: number): Promise<{ status: number; ms: number }> {
  const headers = { ...signSlackRequest(SIGNING_SECRET, body), 'Content-Length': String(Buffer.byteLength(body)) };
  const script = `
    const { request } = require('node:http');
    const [url, body, headers, at] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3]), Number(process.argv[4])];
    setTimeout(() => {
      const start = Date.now();
      const req = request(url, { method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, ms: Date.now() - start })));
      });
      req.end(body);
    }, Math.max(0, at - Date.now()));`;
  const child = spawn(process.execPath, ['-e', script, url, body, JSON.stringify(headers), String(at)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += String(c)));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 && out ? resolve(JSON.parse(out) as { status: number; ms: number }) : reject(new Error(`the sender exited with ${code}: ${out}`)))));
}

/** Keeps this thread (the app's main thread) busy for `ms`, as a long board render or a burst of after-ack work would. */
function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

/**
 * `/golive check secrets-manager` from another process while this thread (the app's main thread) is busy: the
 * sender's process takes a moment to start, so it sends 700 ms from now, while this thread is busy for 2.5 s.
 */
async function signOffWhileBusy(app: TestApp): Promise<{ status: number; ms: number }> {
  const sent = sendFromOtherProcess(`${app.url}/slack/events`, slashCommandBody({ text: 'check secrets-manager' }), Date.now() + 700);
  busyFor(2500);
  return sent;
}

describe('the accepting thread', () => {
  it('acknowledges a command at once while the main thread is busy, and the main thread runs it once it is free', async () => {
    t = await startTestApp();
    expect(t.logs.some((l) => l.includes('"acceptingThread":true'))).toBe(true);
    const answer = await signOffWhileBusy(t);
    expect(answer.status).toBe(200);
    // Well under the 1.8 s the request waited for this thread to be free: the accepting thread answered it.
    expect(answer.ms).toBeLessThan(1000);
    await until('the sign-off recorded', async () => (await query<{ n: number }>(t!, "SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'secrets-manager'"))[0]!.n === 1);
    expect(await query(t, "SELECT kind, replica, done_at IS NOT NULL AS done FROM inbound_request WHERE kind = 'command'")).toEqual([{ kind: 'command', replica: 'golive-test', done: 1 }]);
  });

  it('with GOLIVE_ACK_THREAD=off the same request waits for the busy main thread (what the thread is for)', async () => {
    t = await startTestApp({ env: { GOLIVE_ACK_THREAD: 'off' } });
    expect(t.logs.some((l) => l.includes('"acceptingThread":true'))).toBe(false);
    const answer = await signOffWhileBusy(t);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeGreaterThan(1000);
  });

  it('says plainly when its port is taken', async () => {
    const holder = createServer();
    holder.listen(0);
    await once(holder, 'listening');
    const taken = (holder.address() as AddressInfo).port;
    try {
      await expect(startTestApp({ env: { PORT: String(taken) } })).rejects.toThrow(
        `golive cannot start: it cannot listen for Slack's requests: port ${taken} is in use by another program. Set PORT to a free port (or stop what holds this one).`,
      );
    } finally {
      holder.close();
    }
  });

  it('passes what it does not answer itself to the main thread: /healthz, an unsigned request', async () => {
    t = await startTestApp();
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { database: { ok: boolean } }).database.ok).toBe(true);
    const unsigned = await fetch(`${t.url}/slack/events`, { method: 'POST', body: slashCommandBody({ text: 'status' }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(unsigned.status).toBe(401);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM inbound_request')).toEqual([{ n: 0 }]);
  });
});

describe('startAckThread', () => {
  it('records and hands over a command, passes the rest on, and starts again on the same port if the thread ends', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-ack-'));
    const dbPath = path.join(dir, 'golive.db');
    const db = new SqliteStore(openDatabase(dbPath));
    const main = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 204 : 404).end());
    main.listen(0, '127.0.0.1');
    await once(main, 'listening');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', secrets: [], destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const handed: AcceptedRequest[] = [];
    const thread = await startAckThread({ port: 0, mainPort: (main.address() as AddressInfo).port, signingSecret: SIGNING_SECRET, dbPath, replica: 'r1' }, (r) => handed.push(r), logger, 50);
    const url = `http://127.0.0.1:${thread.port}`;
    const command = (text: string) => {
      const body = slashCommandBody({ text });
      return fetch(`${url}/slack/events`, { method: 'POST', body, headers: signSlackRequest(SIGNING_SECRET, body) });
    };
    try {
      expect((await command('status')).status).toBe(200);
      await until('handed over', () => handed.length === 1);
      expect(handed[0]).toMatchObject({ first: true });
      expect(JSON.parse(handed[0]!.json)).toMatchObject({ command: '/golive', text: 'status' });
      expect(await db.all('SELECT kind, replica, done_at FROM inbound_request')).toEqual([{ kind: 'command', replica: 'r1', done_at: null }]);
      expect((await fetch(`${url}/healthz`)).status).toBe(204);

      await thread.thread.terminate();
      await until('a new thread listens', () => lines.some((l) => l.includes('the accepting thread listens again')));
      expect(lines.some((l) => l.includes('the accepting thread ended; starting another'))).toBe(true);
      expect((await command('timeline')).status).toBe(200);
      await until('handed over by the new thread', () => handed.length === 2);
      expect(handed[1]).toMatchObject({ first: true });
      expect(JSON.parse(handed[1]!.json)).toMatchObject({ text: 'timeline' });
    } finally {
      await thread.stop();
      main.close();
      await db.close();
    }
  });
});
