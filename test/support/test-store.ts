/*
 * A store for a test that builds its own (not through startTestApp), on whichever store the run is on: SQLite
 * (':memory:', or a file in a tmp folder) by default, a ready PostgresStore on a fresh database of the run's shared
 * cluster under GOLIVE_TEST_STORE=postgres (test-database.ts). Every store opened here is closed, and its database
 * emptied for the next test (or dropped) or its folder removed, by closeTestStores():
 *
 *   let store: Store;
 *   beforeEach(async () => { store = await openTestStore(); });
 *   afterEach(closeTestStores);
 *
 * Tests that are about SQLite itself (the file, WAL, quick_check, worker threads sharing one file) build a
 * SqliteStore explicitly instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/platform/store/open-database.js';
import { PostgresStore } from '../../src/platform/store/postgres-store.js';
import { SqliteStore } from '../../src/platform/store/sqlite-store.js';
import type { Store } from '../../src/platform/store/store.js';
import { testDatabase, usingPostgres, type TestDatabase } from './test-database.js';

export interface TestStoreOptions {
  /**
   * On SQLite, a file in a tmp folder rather than ':memory:' (a test that reopens it, or reads it from elsewhere).
   * On PostgreSQL every store is a database on the server anyway.
   */
  file?: boolean;
}

export interface OpenedTestStore {
  store: Store;
  /** What GOLIVE_DB takes to open the same data again: the SQLite file path (or ':memory:') or the postgres:// URL. */
  target: string;
}

const opened: { store: Store; cleanup: () => Promise<void> }[] = [];

/** A migrated, ready store on a fresh database; closed (and its database removed) by closeTestStores(). */
export async function openTestStore(options: TestStoreOptions = {}): Promise<Store> {
  return (await openTestStoreWithTarget(options)).store;
}

/** openTestStore(), and the target to open the same database again with reopenTestStore(). */
export async function openTestStoreWithTarget(options: TestStoreOptions = {}): Promise<OpenedTestStore> {
  if (usingPostgres()) {
    const db = spareDatabases.pop() ?? (await testDatabase());
    const store = new PostgresStore({ url: db.target });
    const entry = { store: store as Store, cleanup: async () => { await store.close(); await putBack(db); } };
    opened.push(entry);
    try {
      await store.ready();
    } catch (err) {
      await closeOne(entry);
      throw err;
    }
    return { store, target: db.target };
  }
  if (!options.file) {
    const store = new SqliteStore(openDatabase(':memory:'));
    opened.push({ store, cleanup: () => store.close() });
    return { store, target: ':memory:' };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-store-'));
  const file = path.join(dir, 'golive.db');
  const store = new SqliteStore(openDatabase(file));
  opened.push({ store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } });
  return { store, target: file };
}

/**
 * Migrated PostgreSQL databases emptied for the next openTestStore() of this file: CREATE DATABASE and the migrations
 * take ~250 ms a test (more under load), emptying one takes a few. The few left at the end stay on the run's
 * throwaway cluster, which goes with it.
 */
const spareDatabases: TestDatabase[] = [];
const MAX_SPARE = 4;

/** Empties a database a closed test store used (every table but schema_migrations, identities restarted), or drops it. */
async function putBack(db: TestDatabase): Promise<void> {
  if (spareDatabases.length >= MAX_SPARE) return db.cleanup();
  const client = new pg.Client({ connectionString: db.target });
  try {
    await client.connect();
    // Another connection still on it (a pool the test made itself) could write after the reset: not reused then.
    // (The closed store's own backends leave pg_stat_activity a moment after their connections end.)
    const others = async () => Number((await client.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0]?.n);
    for (let i = 0; (await others()) > 0; i++) {
      if (i === 20) throw new Error('still in use');
      await new Promise((r) => setTimeout(r, 10));
    }
    const tables = (await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'")).rows.map((r) => r.t);
    const sequences = (await client.query<{ s: string }>("SELECT sequencename AS s FROM pg_sequences WHERE schemaname = 'public'")).rows.map((r) => r.s);
    // Foreign keys are not checked while the tables empty in any order (the harness connects as superuser).
    await client.query(
      ['BEGIN', 'SET LOCAL session_replication_role = replica', ...tables.map((t) => `DELETE FROM "${t}"`), ...sequences.map((q) => `SELECT setval('"${q}"', 1, false)`), 'COMMIT'].join(';\n'),
    );
    spareDatabases.push(db);
  } catch {
    await client.end().catch(() => undefined);
    return db.cleanup();
  }
  await client.end();
}

/**
 * Another store on the database of an earlier openTestStoreWithTarget() (a restart, or a second replica): a new
 * SqliteStore on the same file, or a new PostgresStore on the same database. Closed by closeTestStores() (before the
 * database it reopens is removed).
 */
export async function reopenTestStore(target: string): Promise<Store> {
  if (target === ':memory:') throw new Error('a :memory: database cannot be opened again: openTestStore({ file: true })');
  if (/^postgres(ql)?:\/\//.test(target)) {
    const store = new PostgresStore({ url: target });
    // Before the entry that empties or drops the database: closeTestStores() closes in reverse order.
    opened.push({ store, cleanup: () => store.close() });
    await store.ready();
    return store;
  }
  const store = new SqliteStore(openDatabase(target));
  opened.push({ store, cleanup: () => store.close() });
  return store;
}

async function closeOne(entry: { store: Store; cleanup: () => Promise<void> }): Promise<void> {
  const i = opened.indexOf(entry);
  if (i !== -1) opened.splice(i, 1);
  await entry.cleanup();
}

/** Closes every store opened since the last call, newest first, emptying (or dropping) their PostgreSQL databases or removing their tmp folders. */
export async function closeTestStores(): Promise<void> {
  const errors: unknown[] = [];
  for (const entry of opened.splice(0).reverse()) {
    try {
      await entry.cleanup();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} test stores failed to close`);
}

/** Whether this run's stores are PostgreSQL ones (for the rare expectation that differs). */
export function testStoreKind(): 'sqlite' | 'postgres' {
  return usingPostgres() ? 'postgres' : 'sqlite';
}
