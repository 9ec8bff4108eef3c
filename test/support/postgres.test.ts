import { existsSync, statSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from './postgres.js';
import { testDatabase, usingPostgres } from './test-database.js';

const bin = findPostgresBin();
// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !bin && !process.env.CI;
if (skip) process.stderr.write(`golive: test/support/postgres.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The error connecting to `url` fails with (undefined when it connects). */
async function connectError(url: string): Promise<(Error & { code?: string }) | undefined> {
  try {
    await query(url, 'SELECT 1');
    return undefined;
  } catch (err) {
    return err as Error & { code?: string };
  }
}

describe.skipIf(skip)('a throwaway PostgreSQL cluster', () => {
  let cluster: PostgresCluster;
  let startMs = 0;

  beforeAll(async () => {
    const t = performance.now();
    cluster = await startPostgresCluster();
    startMs = performance.now() - t;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts on a free port of 127.0.0.1 with a fresh data directory, tuned for tests', async () => {
    expect(cluster.port).toBeGreaterThan(0);
    expect(cluster.url()).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    expect(statSync(cluster.dataDir).isDirectory()).toBe(true);
    expect(cluster.dataDir.startsWith(cluster.baseDir)).toBe(true);
    const rows = await query<{ one: number; fsync: string; sc: string; conns: string; encoding: string }>(
      cluster.url(),
      `SELECT 1 AS one, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc,
              current_setting('max_connections') AS conns, pg_encoding_to_char(encoding) AS encoding
         FROM pg_database WHERE datname = current_database()`,
    );
    expect(rows).toEqual([{ one: 1, fsync: 'off', sc: 'off', conns: '200', encoding: 'UTF8' }]);
    process.stderr.write(`postgres.test: initdb + pg_ctl start in ${Math.round(startMs)} ms (${cluster.binDir})\n`);
  });

  it('creates databases of their own: a table in one is not in the other', async () => {
    const t = performance.now();
    const a = await cluster.createDatabase();
    const createMs = performance.now() - t;
    const b = await cluster.createDatabase('golive_harness_b');
    expect(a).toMatch(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/golive_test_[0-9a-f]{12}$`));
    expect(b).toBe(cluster.url('golive_harness_b'));

    await query(a, 'CREATE TABLE items (id integer PRIMARY KEY, title text NOT NULL)');
    await query(a, 'INSERT INTO items VALUES ($1, $2), ($3, $4)', [1, 'Go/no-go', 2, 'Sign off ✅']);
    expect(await query(a, 'SELECT id, title FROM items ORDER BY id')).toEqual([
      { id: 1, title: 'Go/no-go' },
      { id: 2, title: 'Sign off ✅' },
    ]);
    expect(await query(b, "SELECT to_regclass('items') AS t")).toEqual([{ t: null }]);

    // Dropping ends connections still open to it, as a test that forgot to close its store leaves them.
    const leaked = new pg.Client({ connectionString: b });
    leaked.on('error', () => {});
    await leaked.connect();
    await cluster.dropDatabase(b);
    await cluster.dropDatabase(a.split('/').pop() ?? '');
    await leaked.end().catch(() => {});
    const left = await query<{ datname: string }>(cluster.url(), "SELECT datname FROM pg_database WHERE datname LIKE 'golive_%'");
    expect(left).toEqual([]);
    process.stderr.write(`postgres.test: CREATE DATABASE in ${Math.round(createMs)} ms\n`);
  });

  it('refuses a database name that is not a plain identifier', async () => {
    await expect(cluster.createDatabase('x"; DROP DATABASE postgres; --')).rejects.toThrow(/not a plain database name/);
  });

  it('stopServer() makes connections fail with ECONNREFUSED; startServer() brings the same data back on the same port', async () => {
    const url = await cluster.createDatabase();
    await query(url, 'CREATE TABLE t (v text)');
    await query(url, "INSERT INTO t VALUES ('kept across the restart')");
    const port = cluster.port;

    // A connection open when the server stops fails too.
    const open = new pg.Client({ connectionString: url });
    const openErrors: Error[] = [];
    open.on('error', (err) => openErrors.push(err));
    await open.connect();

    await cluster.stopServer();
    expect(cluster.running).toBe(false);
    const refused = await connectError(url);
    expect(refused?.code).toBe('ECONNREFUSED');
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await open.end().catch(() => {});

    await cluster.startServer();
    expect(cluster.running).toBe(true);
    expect(cluster.port).toBe(port);
    expect(await query(url, 'SELECT v FROM t')).toEqual([{ v: 'kept across the restart' }]);

    // An immediate stop (a crash) also leaves the server startable, with what was committed before a checkpoint.
    await query(url, 'CHECKPOINT');
    await cluster.stopServer({ mode: 'immediate' });
    expect((await connectError(url))?.code).toBe('ECONNREFUSED');
    await cluster.startServer();
    expect(await query(url, 'SELECT v FROM t')).toEqual([{ v: 'kept across the restart' }]);
    await cluster.dropDatabase(url);
  });

  it('stop() ends the server and removes the data directory', async () => {
    const other = await startPostgresCluster();
    const url = other.url();
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(other.port).not.toBe(cluster.port);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    expect(existsSync(other.baseDir)).toBe(false);
    expect((await connectError(url))?.code).toBe('ECONNREFUSED');
    await other.stop(); // twice is fine
  });

  it('says what went wrong with the server log when the server cannot start', async () => {
    await expect(startPostgresCluster({ settings: { shared_buffers: 'not-a-size' } })).rejects.toThrow(/shared_buffers/);
  });
});

describe('testDatabase()', () => {
  it('gives a fresh target on the run’s store, and cleanup() removes it', async () => {
    const db = await testDatabase();
    try {
      if (usingPostgres()) {
        expect(db.kind).toBe('postgres');
        expect(db.target).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/golive_test_[0-9a-f]{12}$/);
        expect(process.env.GOLIVE_TEST_POSTGRES_URL).toMatch(/^postgres:\/\//);
        expect(await query(db.target, 'SELECT current_database() AS d')).toEqual([{ d: db.target.split('/').pop() }]);
      } else {
        expect(db.kind).toBe('sqlite');
        expect(db.target).toMatch(/golive\.db$/);
        expect(existsSync(db.target)).toBe(false);
      }
    } finally {
      await db.cleanup();
    }
    if (db.kind === 'postgres') expect((await connectError(db.target))?.message).toMatch(/does not exist/);
  });

  it('is on PostgreSQL exactly when the run asked for it', () => {
    if (process.env.GOLIVE_TEST_STORE !== 'postgres') expect(usingPostgres()).toBe(false);
    else if (bin) expect(usingPostgres()).toBe(true);
  });
});
