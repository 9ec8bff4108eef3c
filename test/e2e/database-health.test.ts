import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appProcessEnv, startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { golive } from '../support/golive-client.js';
import { usingPostgres } from '../support/test-database.js';
import { BOT_TOKEN, PROJECT_ROOT, startTestApp, type TestApp } from '../support/start-app.js';
import { openDatabase } from '../../src/platform/store/open-database.js';
import { migrations } from '../../src/platform/store/migrations.js';

// Each case starts golive as a real process at least once: a few seconds alone, more on two busy cores.
vi.setConfig({ testTimeout: 30_000 });

/** Someone else than the test runner, for whom a root-owned file is read-only (the suite runs as root in CI). */
const NOBODY = 65534;

let slack: FakeSlack;
let dir: string;
let dbPath: string;
let proc: AppProcess | undefined;
let t: TestApp | undefined;

beforeEach(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  dir = mkdtempSync(path.join(tmpdir(), 'golive-dbhealth-'));
  chmodSync(dir, 0o755);
  dbPath = path.join(dir, 'golive.db');
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
  await t?.close();
  t = undefined;
  await slack.close();
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const env = () => appProcessEnv(slack.url, dbPath);

/** Runs src/main.ts to its exit (asynchronously, so the fake Slack in this process can answer if it is asked). */
function runMain(extra: { uid?: number } = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env() },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(extra.uid === undefined ? {} : { uid: extra.uid, gid: extra.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A migrated database with some audit rows, closed (so everything is in the main file). */
function seedDatabase(): void {
  const db = openDatabase(dbPath, migrations);
  for (let i = 0; i < 40; i++) db.prepare("INSERT INTO audit (at, actor, action, target, source) VALUES (?, 'U0DEVOPS', 'item.check', ?, 'slash')").run(new Date(0).toISOString(), `item-${i}`);
  db.close();
}

/** Overwrites the first page of `table` in the main database file with garbage, as a bad disk sector would. */
function damage(table: string): void {
  const db = new Database(dbPath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const root = db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').pluck().get(table) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(dbPath, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
  closeSync(fd);
}

describe('start-up on a database golive cannot use', () => {
  // SQLite only: it overwrites a page of the SQLite file.
  it.skipIf(usingPostgres())('refuses a damaged database, naming the file, the damaged table and the fix, before connecting to Slack', async () => {
    seedDatabase();
    damage('audit');
    const res = await runMain();
    expect(res.code).toBe(1);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^golive cannot start: the database ${dbPath} is damaged \\(.+ \\(tables: audit\\)\\)\\.$`));
    expect(lines.slice(1)).toEqual([
      `  - Restore ${dbPath} from a backup, or move it (with golive.db-wal and golive.db-shm) aside to start with an empty database.`,
      `  - To keep what can still be read: sqlite3 ${dbPath} ".recover" | sqlite3 recovered.db, then set GOLIVE_DB to recovered.db.`,
    ]);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(slack.calls).toEqual([]);
  });

  // SQLite only: a read-only SQLite file and folder.
  it.skipIf(usingPostgres())('refuses a database it cannot write, naming the file and the fix, before connecting to Slack', async () => {
    seedDatabase();
    // As root (CI) the file stays root's and golive runs as nobody; as anyone else the file and folder lose their write bits.
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) {
      chmodSync(dbPath, 0o444);
      chmodSync(dir, 0o555);
    }
    const res = await runMain(asRoot ? { uid: NOBODY } : {});
    expect(res.code).toBe(1);
    const uid = asRoot ? NOBODY : process.getuid!();
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^golive cannot start: it cannot write to the database ${dbPath} \\(SQLITE_(READONLY|CANTOPEN)\\w*: .+\\)\\.$`));
    expect(lines.slice(1)).toEqual([
      `  - Give the user golive runs as (uid ${uid}) write access to ${dbPath} and to its folder ${dir} (SQLite writes golive.db-wal and golive.db-shm next to it), or set GOLIVE_DB to a writable path.`,
    ]);
    expect(slack.calls).toEqual([]);
  });
});

describe('/healthz reads and writes what golive needs', () => {
  // SQLite only: it overwrites a page of the running app's SQLite file (PostgreSQL's own health is postgres-store's tests').
  it.skipIf(usingPostgres())('answers 503 naming the table when a page of the running database is damaged', async () => {
    t = await startTestApp({ slack, dbDir: dir });
    await golive(t, 'check secrets-manager');
    await slack.waitForCall('chat.postMessage');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    damage('audit');
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; database: { ok: boolean; read: string; write: string; error: string } };
    expect(body.status).toBe('error');
    expect(body.database.ok).toBe(false);
    expect(body.database.read).toMatch(/ \(tables: audit\)$/);
    expect(body.database.error).toBe(`the database cannot be read: ${body.database.read}`);
  });

  // SQLite only: the disk SQLite writes to is full for the process (SQLITE_IOERR_WRITE).
  it.skipIf(usingPostgres())('answers 503 while no write reaches the disk, and 200 again once one does', async () => {
    proc = await startAppProcess(env());
    const health = async () => {
      const res = await fetch(`${proc!.url}/healthz`);
      return { status: res.status, database: ((await res.json()) as { database: Record<string, unknown> }).database };
    };
    expect(await health()).toMatchObject({ status: 200, database: { ok: true, read: 'ok', write: 'ok' } });
    // Every file the process writes may be at most one byte long: the disk is, for golive, full.
    const limit = (fsize: string) => expect(spawnSync('prlimit', ['--pid', String(proc!.child.pid), `--fsize=${fsize}`]).status).toBe(0);
    limit('1:unlimited');
    const full = await health();
    expect(full).toMatchObject({ status: 503, database: { ok: false, read: 'ok', write: 'SQLITE_IOERR_WRITE: disk I/O error', error: 'the database cannot be written: SQLITE_IOERR_WRITE: disk I/O error' } });
    limit('unlimited:unlimited');
    expect(await health()).toMatchObject({ status: 200, database: { ok: true, write: 'ok' } });
  });
});
