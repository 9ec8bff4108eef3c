/*
 * PostgresStore against a real PostgreSQL (never a mock): the shared cluster under GOLIVE_TEST_STORE=postgres, else a
 * cluster of this file's own (startPostgresCluster()), so these run in the default run too wherever the server
 * binaries are installed. Without them the file is skipped with how to get them, except in CI, where it fails.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { freePort } from '../../support/free-port.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecklistRepository } from '../../../src/checklist/checklist-repository.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { AuditRepository } from '../../../src/platform/store/audit-repository.js';
import { migrations } from '../../../src/platform/store/migrations.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { withoutPassword } from '../../../src/platform/store/database-url.js';
import { ADVISORY_LOCKS, numberPlaceholders, PostgresLeaderLock, PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { createDatabaseAt, dropDatabaseAt, findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../../support/postgres.js';
import { postgresBaseUrl } from '../../support/test-database.js';

const LAST_VERSION = Math.max(...migrations.map((m) => m.version));
const PASSWORD = 'pw-Zq8!never-shown';
const T1 = '2026-12-01T10:00:00.000Z';

describe('numberPlaceholders', () => {
  it('numbers ? in order as $1, $2, …', () => {
    expect(numberPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)')).toBe('SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)');
    expect(numberPlaceholders('SELECT 1')).toBe('SELECT 1');
  });

  it("leaves a ? inside quotes, double-quoted names and -- comments alone", () => {
    expect(numberPlaceholders("SELECT '?' AS q, ? AS p")).toBe("SELECT '?' AS q, $1 AS p");
    expect(numberPlaceholders(`SELECT "what?" FROM t WHERE x = ?`)).toBe(`SELECT "what?" FROM t WHERE x = $1`);
    expect(numberPlaceholders("SELECT 'it''s ?' , ?")).toBe("SELECT 'it''s ?' , $1");
    expect(numberPlaceholders('SELECT ? -- why? because\n, ?')).toBe('SELECT $1 -- why? because\n, $2');
    expect(numberPlaceholders('SELECT ? -- a last comment? ')).toBe('SELECT $1 -- a last comment? ');
    expect(numberPlaceholders("SELECT a - ? FROM t WHERE b = '-- ?' AND c = ?")).toBe("SELECT a - $1 FROM t WHERE b = '-- ?' AND c = $2");
  });
});

describe('withoutPassword', () => {
  it('takes the password out of a URL and keeps the rest', () => {
    expect(withoutPassword(`postgres://golive:${PASSWORD}@db.example:5432/golive?sslmode=require`)).toBe('postgres://golive@db.example:5432/golive?sslmode=require');
    expect(withoutPassword('postgresql://golive@db.example/golive')).toBe('postgresql://golive@db.example/golive');
    expect(withoutPassword('postgres://not a url')).not.toContain('not a url');
  });
});

const binaries = postgresBaseUrl() !== '' || findPostgresBin() !== undefined;
if (!binaries && !process.env.CI) process.stderr.write(`golive: postgres-store.test.ts is skipped. ${POSTGRES_HOW_TO}\n`);

if (!binaries && process.env.CI) {
  it('has PostgreSQL to test against (CI must not skip it)', () => {
    throw new Error(`CI is set: ${POSTGRES_HOW_TO}`);
  });
}

describe.skipIf(!binaries)('PostgresStore on a real PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  let base: string;
  const databases: string[] = [];
  const stores: PostgresStore[] = [];
  const locks: PostgresLeaderLock[] = [];

  beforeAll(async () => {
    base = postgresBaseUrl();
    if (!base) {
      cluster = await startPostgresCluster();
      base = cluster.url();
    }
  }, 60_000);

  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.release();
    for (const s of stores.splice(0)) await s.close();
    for (const db of databases.splice(0)) await dropDatabaseAt(base, db);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** A fresh, empty database's URL (dropped after the test). */
  async function freshDatabase(): Promise<string> {
    const url = await createDatabaseAt(base);
    databases.push(url);
    return url;
  }

  function storeOn(url: string, opts: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}): PostgresStore {
    const s = new PostgresStore({ url, ...opts });
    stores.push(s);
    return s;
  }

  async function readyStore(url: string, opts: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}): Promise<PostgresStore> {
    const s = storeOn(url, opts);
    await s.ready();
    return s;
  }

  /** The URL with a password in it (the harness's cluster trusts every connection, so any password logs in). */
  function withPassword(url: string): string {
    const u = new URL(url);
    u.password = PASSWORD;
    return u.toString();
  }

  async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  describe('migrations', () => {
    it('applies every migration on PostgreSQL, and the schema version is the last one', async () => {
      const s = await readyStore(await freshDatabase());
      const applied = await s.all<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(applied).toEqual([...migrations].sort((a, b) => a.version - b.version).map((m) => ({ version: m.version, name: m.name })));
      expect(await s.health()).toEqual({ ok: true, read: 'ok', write: 'ok', schemaVersion: LAST_VERSION });
      // Ready again is a no-op, and so is another store on a migrated database.
      await s.ready();
      const again = await readyStore(s.target);
      expect(await again.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations')).toEqual({ n: migrations.length });
    });

    it('gives PostgreSQL the same tables and columns as SQLite (and gonogo_vote the rowid SQLite has of itself)', async () => {
      const s = await readyStore(await freshDatabase());
      const pgColumns = await s.all<{ table_name: string; column_name: string }>(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
      );
      const sqlite = openDatabase(':memory:');
      try {
        const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
        const sqliteColumns = tables.flatMap((t) => (sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[]).map((c) => `${t}.${c}`));
        expect(pgColumns.map((r) => `${r.table_name}.${r.column_name}`).sort()).toEqual([...sqliteColumns, 'gonogo_vote.rowid'].sort());
      } finally {
        sqlite.close();
      }
    });

    it('applies each migration once when two stores call ready() at once (replicas starting together)', async () => {
      const url = await freshDatabase();
      const replicas = [storeOn(url), storeOn(url), storeOn(url)];
      await Promise.all(replicas.map((r) => r.ready()));
      const counts = await replicas[0]!.all<{ version: number; n: number }>('SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
      expect(counts).toEqual([...migrations].map((m) => m.version).sort((a, b) => a - b).map((version) => ({ version, n: 1 })));
      for (const r of replicas) expect(await r.health()).toMatchObject({ ok: true, schemaVersion: LAST_VERSION });
    });

    it('names the migration that failed, and records nothing of it', async () => {
      const s = storeOn(await freshDatabase(), { migrations: [migrations[0]!, { version: 99, name: 'broken', sql: 'ALTER TABLE nope ADD COLUMN x TEXT' }] });
      await expect(s.ready()).rejects.toThrow(/migration 99 \(broken\) failed: .*nope/);
      expect((await s.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version)).toEqual([migrations[0]!.version]);
    });
  });

  describe('values', () => {
    it('gives COUNT(*), SUM and BIGINT back as numbers, as SQLite does', async () => {
      const s = await readyStore(await freshDatabase());
      const audit = new AuditRepository(s);
      await audit.record({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, T1);
      await audit.record({ actor: 'U1', action: 'item.check', target: 'b', source: 'command' }, T1);
      expect(await audit.count()).toBe(2);
      const row = await s.get<{ n: unknown; total: unknown; big: unknown }>('SELECT COUNT(*) AS n, SUM(id) AS total, CAST(? AS BIGINT) AS big FROM audit', 42);
      expect(row).toEqual({ n: 2, total: 3, big: 42 });
      expect(typeof row!.n).toBe('number');
    });
  });

  describe('concurrency across replicas', () => {
    it('lets exactly one of three stores racing on the same sign-offs win each gate, each seeing every earlier commit', async () => {
      const url = await freshDatabase();
      await readyStore(url);
      const GATES = 100;
      const users = ['U1', 'U2', 'U3'];
      const racers = await Promise.all(users.map(async (user) => ({ user, store: await readyStore(url) })));
      const results = await Promise.all(
        racers.map(({ user, store }) => {
          const items = new ChecklistRepository(store);
          return Promise.all(
            Array.from({ length: GATES }, (_, i) =>
              store.transaction(async () => {
                // A read, then a write: the write lock lets nothing commit between them.
                const before = await store.get('SELECT user_id FROM gate_signoff WHERE gate_id = ? AND role = ?', `gate-${i}`, 'cto');
                const won = await items.addSignoff(`gate-${i}`, 'cto', user, T1);
                return { won, sawNone: before === undefined };
              }),
            ),
          );
        }),
      );
      for (let i = 0; i < GATES; i++) {
        expect(results.filter((r) => r[i]!.won).length, `gate-${i}`).toBe(1);
        for (const r of results) expect(r[i]!.won, `gate-${i}: a transaction that saw no sign-off wins, one that saw one does not`).toBe(r[i]!.sawNone);
      }
      const rows = await new ChecklistRepository(racers[0]!.store).signoffs();
      expect(rows).toHaveLength(GATES);
      for (const row of rows) {
        const i = Number(row.gate_id.slice('gate-'.length));
        expect(row.user_id).toBe(users[results.findIndex((r) => r[i]!.won)]);
      }
    });

    it('never gives one outbox row to both of two stores claiming at once', async () => {
      const url = await freshDatabase();
      const a = await readyStore(url);
      const b = await readyStore(url);
      const outbox = new OutboxRepository(a);
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) ids.push(await outbox.enqueue('chat.postMessage', { channel: 'C1', text: `m${i}` }, T1));
      const until = '2026-12-01T10:01:00.000Z';
      const claimAll = (store: PostgresStore, replica: string) =>
        Promise.all(ids.map(async (id) => ((await new OutboxRepository(store).claim(id, replica, T1, until)) ? id : undefined)));
      const [byA, byB] = await Promise.all([claimAll(a, 'replica-a'), claimAll(b, 'replica-b')]);
      const gotA = byA.filter((id) => id !== undefined);
      const gotB = byB.filter((id) => id !== undefined);
      expect(gotA.filter((id) => gotB.includes(id))).toEqual([]);
      expect([...gotA, ...gotB].sort((x, y) => x - y)).toEqual(ids);
      const owners = await a.all<{ id: number; claimed_by: string }>('SELECT id, claimed_by FROM outbox ORDER BY id');
      expect(owners).toEqual(ids.map((id) => ({ id, claimed_by: gotA.includes(id) ? 'replica-a' : 'replica-b' })));
      // A claim that lapsed can be taken again by the other replica; one still held cannot. (Whichever won the first row:
      // a replica may renew its own claim.)
      const [other, otherName] = gotA.includes(ids[0]!) ? [b, 'replica-b'] : [a, 'replica-a'];
      expect(await new OutboxRepository(other).claim(ids[0]!, otherName, '2026-12-01T10:00:30.000Z', '2026-12-01T10:02:00.000Z')).toBeUndefined();
      expect(await new OutboxRepository(other).claim(ids[0]!, otherName, until, '2026-12-01T10:02:00.000Z')).toMatchObject({ id: ids[0] });
    });
  });

  describe('the password', () => {
    it('is in neither target, health() nor the errors, from the URL or from GOLIVE_DB_PASSWORD', async () => {
      const url = await freshDatabase();
      const inUrl = await readyStore(withPassword(url));
      expect(inUrl.target).toBe(url);
      const fromSecret = await readyStore(url, { password: PASSWORD });
      expect(fromSecret.target).toBe(url);
      for (const s of [inUrl, fromSecret]) {
        const health = await s.health();
        expect(health).toMatchObject({ ok: true });
        expect(JSON.stringify(health)).not.toContain(PASSWORD);
        const err = await s.get('SELECT * FROM no_such_table').catch((e: unknown) => e as Error);
        expect(String(err)).toContain('no_such_table');
        expect(`${String(err)} ${(err as Error).stack} ${JSON.stringify(err)}`).not.toContain(PASSWORD);
      }

      // A database that is not there: ready() and health() fail, naming it without the password.
      const missing = new URL(withPassword(url));
      missing.pathname = '/golive_not_here';
      const gone = storeOn(missing.toString());
      expect(gone.target).not.toContain(PASSWORD);
      const readyErr = await gone.ready().catch((e: unknown) => e as Error);
      expect(readyErr).toBeInstanceOf(Error);
      expect(`${String(readyErr)} ${readyErr!.stack} ${JSON.stringify(readyErr)}`).not.toContain(PASSWORD);
      const health = await gone.health();
      expect(health.ok).toBe(false);
      expect(JSON.stringify(health)).not.toContain(PASSWORD);
      expect(health).toMatchObject({ error: expect.stringContaining(gone.target) });
    });
  });

  describe('an unreachable database', () => {
    it('makes health() say so within 3 s, naming the database (a refused port, and a server that never answers)', async () => {
      // Takes connections and never says a word: what a database behind a dropped network or a hung host looks like.
      const sockets: Socket[] = [];
      const silentServer = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
      const silentPort = (silentServer.address() as AddressInfo).port;
      try {
        const refused = storeOn(`postgres://golive:${PASSWORD}@127.0.0.1:${await freePort()}/golive`);
        const silent = storeOn(`postgres://golive:${PASSWORD}@127.0.0.1:${silentPort}/golive`);
        for (const s of [refused, silent]) {
          const started = performance.now();
          const health = await s.health();
          const ms = performance.now() - started;
          expect(ms, s.target).toBeLessThan(3000);
          expect(health.ok).toBe(false);
          expect(health).toMatchObject({ error: expect.stringContaining(`golive cannot reach its database (${s.target})`) });
          expect(s.target).toContain('/golive');
          expect(JSON.stringify(health)).not.toContain(PASSWORD);
        }
        expect(sockets.length).toBeGreaterThan(0); // the silent one was really tried
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silentServer.close(resolve));
      }
    });
  });

  describe('PostgresLeaderLock', () => {
    const lost: string[] = [];
    beforeEach(() => {
      lost.length = 0;
    });
    const lockOn = (store: PostgresStore, name: string) => {
      const lock = new PostgresLeaderLock(store, (err) => lost.push(`${name}: ${err.message}`));
      locks.push(lock);
      return lock;
    };

    /** The backend holding the leader lock on `database`, from pg_locks (a bigint key: classid is its high half, objid its low). */
    const holderPid = (database: string) =>
      admin(async (c) => {
        const r = await c.query<{ pid: number }>(
          `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1 AND l.classid = 0 AND l.objid = $2 AND l.objsubid = 1`,
          [database, ADVISORY_LOCKS.leader],
        );
        return r.rows.map((row) => row.pid);
      });

    it('lets one of two replicas lead; release() lets the other take over', async () => {
      const url = await freshDatabase();
      const a = lockOn(await readyStore(url, { applicationName: 'golive replica-a' }), 'a');
      const b = lockOn(await readyStore(url, { applicationName: 'golive replica-b' }), 'b');
      const [gotA, gotB] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
      expect([gotA, gotB].filter(Boolean)).toHaveLength(1);
      const [leader, follower] = gotA ? [a, b] : [b, a];
      expect(await leader.check()).toBe(true);
      expect(await follower.check()).toBe(false);
      expect(await follower.tryAcquire()).toBe(false);
      expect(await leader.tryAcquire()).toBe(true); // already held: still true
      await leader.release();
      expect(await leader.check()).toBe(false);
      expect(await follower.tryAcquire()).toBe(true);
      expect(await follower.check()).toBe(true);
      expect(await leader.tryAcquire()).toBe(false);
      expect(lost).toEqual([]);
    });

    it('steps down when its connection is ended (pg_terminate_backend), and the other replica can lead', async () => {
      const url = await freshDatabase();
      const database = new URL(url).pathname.slice(1);
      const a = lockOn(await readyStore(url), 'a');
      const b = lockOn(await readyStore(url), 'b');
      expect(await a.tryAcquire()).toBe(true);
      expect(await b.tryAcquire()).toBe(false);
      const pids = await holderPid(database);
      expect(pids).toHaveLength(1);
      await admin((c) => c.query('SELECT pg_terminate_backend($1)', [pids[0]]));
      expect(await a.check()).toBe(false);
      expect(lost).toEqual([expect.stringMatching(/^a: /)]);
      await expect.poll(() => b.tryAcquire(), { timeout: 5000 }).toBe(true);
      expect(await b.check()).toBe(true);
      expect(await a.tryAcquire()).toBe(false);
    });
  });
});
