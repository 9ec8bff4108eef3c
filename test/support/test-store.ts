/*
 * A store for a test that builds its own (not through startTestApp), on whichever store the run is on: SQLite
 * (':memory:', or a file in a tmp folder) by default, a ready PostgresStore on a fresh database of the run's shared
 * cluster under GOLIVE_TEST_STORE=postgres (test-database.ts). Every store opened here is closed, and its database
 * dropped or its folder removed, by closeTestStores():
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
import { openDatabase } from '../../src/platform/store/open-database.js';
import { PostgresStore } from '../../src/platform/store/postgres-store.js';
import { SqliteStore } from '../../src/platform/store/sqlite-store.js';
import type { Store } from '../../src/platform/store/store.js';
import { testDatabase, usingPostgres } from './test-database.js';

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
    const db = await testDatabase();
    const store = new PostgresStore({ url: db.target });
    const entry = { store: store as Store, cleanup: async () => { await store.close(); await db.cleanup(); } };
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
 * Another store on the database of an earlier openTestStoreWithTarget() (a restart, or a second replica): a new
 * SqliteStore on the same file, or a new PostgresStore on the same database. Closed by closeTestStores() (before the
 * database it reopens is removed).
 */
export async function reopenTestStore(target: string): Promise<Store> {
  if (target === ':memory:') throw new Error('a :memory: database cannot be opened again: openTestStore({ file: true })');
  if (/^postgres(ql)?:\/\//.test(target)) {
    const store = new PostgresStore({ url: target });
    // Before the entry that drops the database: closeTestStores() closes in reverse order.
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

/** Closes every store opened since the last call, newest first, dropping their PostgreSQL databases or tmp folders. */
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
