import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_SLACK_LIMIT_SCALE } from './fake-slack.js';
import { BOT_TOKEN, PROJECT_ROOT, SIGNING_SECRET } from './start-app.js';

const MAIN = path.join(PROJECT_ROOT, 'test/support/app-process-main.ts');

/** golive running as a separate Node process, which a test can SIGKILL at any moment. */
export interface AppProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` once it is listening. */
  url: string;
  /** Every line the process wrote to stdout and stderr, in order. */
  lines: string[];
  /** `Date.now()` when each of `lines` arrived. */
  lineTimes: number[];
  /** The first line from index `from` on (default 0) that contains `text` (or matches it), and when it arrived; rejects after `timeoutMs`. */
  waitForLine(text: string | RegExp, timeoutMs?: number, from?: number): Promise<{ line: string; at: number; index: number }>;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<string>;
  /** SIGKILL, no clean-up of any kind; resolves once the process is gone. */
  kill(): Promise<string>;
  /** SIGTERM (a clean stop), then waits for the exit. */
  stop(): Promise<string>;
}

/**
 * The whole configuration of a golive process in HTTP mode on a free port, against `slackUrl`, on `dbPath` (a SQLite
 * file, or a postgres:// URL: several processes on one URL are replicas; name each with GOLIVE_REPLICA in `extra`),
 * with the small test runbook unless `extra` says otherwise.
 */
export function appProcessEnv(slackUrl: string, dbPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slackUrl,
    PORT: '0',
    GOLIVE_RUNBOOK: path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
    GOLIVE_DB: dbPath,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * Starts `test/support/app-process-main.ts` in its own `node --import tsx`
 * process (not the tsx CLI, which would put a wrapper process between the
 * test and the app, and a kill would hit the wrapper). `env` is the whole
 * configuration; resolves once the app says it is listening, or with the
 * exit if `waitForListening` is false (for runs that are meant to die early).
 */
export async function startAppProcess(env: Record<string, string>, opts: { waitForListening?: boolean; timeoutMs?: number } = {}): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: PROJECT_ROOT,
    // PATH and HOME only: nothing of the test runner's environment leaks in except what the test passes.
    // The fake Slack's default scale (test/support/fake-slack.ts), unless the test says otherwise.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GOLIVE_SLACK_LIMIT_SCALE: String(TEST_SLACK_LIMIT_SCALE), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const lineTimes: number[] = [];
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? String(code));
    }),
  );
  let listening: (url: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => (listening = resolve));
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        lineTimes.push(Date.now());
        if (line.includes('"golive is running"')) listening(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      }
    });
    stream?.on('end', () => {
      if (buf) {
        lines.push(buf);
        lineTimes.push(Date.now());
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const waitForLine = async (text: string | RegExp, timeoutMs = 30_000, from = 0) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < lines.length; i++) {
        const line = lines[i]!;
        if (typeof text === 'string' ? line.includes(text) : text.test(line)) return { line, at: lineTimes[i]!, index: i };
      }
      if (Date.now() > deadline) throw new Error(`no line ${String(text)} within ${timeoutMs} ms; the last lines:\n${lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  if (opts.waitForListening === false) return { child, url: '', lines, lineTimes, waitForLine, exited, kill, stop };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const url = await Promise.race([
    ready,
    exited.then((how) => Promise.reject(new Error(`golive exited (${how}) before listening:\n${lines.join('\n')}`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`golive did not listen within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs).unref()),
  ]).catch(async (err: unknown) => {
    await kill();
    throw err;
  });
  return { child, url, lines, lineTimes, waitForLine, exited, kill, stop };
}

/** Reads what golive processes wrote, straight from their database: a SQLite file or a postgres:// URL. */
export interface DatabaseReader {
  /** Every row of a query; `?` placeholders on either database. */
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * A reader for `target` (GOLIVE_DB). SQLite: opened read-only for each query, so it never holds a lock the
 * processes wait for. PostgreSQL: a small pool, with COUNT(*) and BIGINT as numbers, as golive reads them.
 */
export function databaseReader(target: string): DatabaseReader {
  if (!/^postgres(ql)?:\/\//i.test(target)) {
    return {
      all: async <T>(sql: string, ...params: unknown[]) => {
        const db = new Database(target, { readonly: true });
        try {
          return db.prepare(sql).all(...params) as T[];
        } finally {
          db.close();
        }
      },
      close: async () => undefined,
    };
  }
  const pool = new pg.Pool({
    connectionString: target,
    max: 2,
    connectionTimeoutMillis: 5_000,
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) },
  } as pg.PoolConfig);
  // The server going away (a test stops it) must not end the test process.
  pool.on('error', () => undefined);
  return {
    all: async <T>(sql: string, ...params: unknown[]) => {
      let n = 0;
      return (await pool.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
    },
    close: () => pool.end(),
  };
}
