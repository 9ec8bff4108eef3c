import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import { WaitingWriters } from '../../../src/platform/store/waiting-writers.js';

let dir: string;
let store: SqliteStore;
let other: Database.Database;
let writers: WaitingWriters;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'golive-writers-'));
  const file = path.join(dir, 'golive.db');
  store = new SqliteStore(openDatabase(file));
  // The accepting thread's connection: it asks for the lock and does not wait inside SQLite.
  other = new Database(file);
  other.pragma('busy_timeout = 0');
  other.exec('CREATE TABLE written (who TEXT)');
  writers = new WaitingWriters();
  store.letWriteFirst(writers);
});
afterEach(async () => {
  other.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The other connection's write, the way the accepting thread makes it: the lock at once, or SQLITE_BUSY. */
function otherWrites(): boolean {
  try {
    other.prepare("INSERT INTO written (who) VALUES ('U0OTHER')").run();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw err;
  }
}

describe('writers on another thread waiting for SQLite’s lock', () => {
  it('go before the store’s next transaction, which begins once they say they are done', async () => {
    writers.waiting();
    let began = 0;
    const tx = store.transaction(async () => {
      began = performance.now();
      await store.run("INSERT INTO written (who) VALUES ('U0MAIN')");
    });
    await sleep(5);
    // The store has not taken the lock: the other connection gets it at once.
    expect(began).toBe(0);
    expect(otherWrites()).toBe(true);
    const done = performance.now();
    writers.done();
    await tx;
    expect(began - done).toBeLessThan(5);
    expect((await store.all<{ who: string }>('SELECT who FROM written ORDER BY rowid')).map((r) => r.who)).toEqual(['U0OTHER', 'U0MAIN']);
  });

  it('hold the store up for at most 20 ms when they never say they are done', async () => {
    writers.waiting();
    const started = performance.now();
    await store.transaction(async () => undefined);
    const held = performance.now() - started;
    expect(held).toBeGreaterThanOrEqual(19);
    expect(held).toBeLessThan(200);
  });

  it('hold nothing up when none waits, or after their thread ended', async () => {
    writers.waiting();
    writers.reset();
    const started = performance.now();
    for (let i = 0; i < 20; i++) await store.transaction(async () => undefined);
    expect(performance.now() - started).toBeLessThan(19);
  });
});
