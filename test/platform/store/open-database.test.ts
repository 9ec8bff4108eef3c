import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations, type Migration } from '../../../src/platform/store/migrations.js';
import { migrate, openDatabase, schemaVersion, type Db } from '../../../src/platform/store/open-database.js';

// SQLite only: openDatabase() and its file (WAL, pragmas, the migration race between processes); postgres-store.test.ts covers PostgreSQL.

/** These tests pin the first migration so later ones do not change what they check. */
const BASE: Migration[] = migrations.slice(0, 1);
const V1 = { version: 1, name: 'checklist, sign-offs, audit, outbox' };
const V1_TABLES = ['audit', 'gate_signoff', 'inbound_request', 'item_state', 'outbox', 'schema_migrations', 'status_message'];

const dirs: string[] = [];
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database path inside a fresh temp dir, one folder deeper than exists. */
function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-db-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'golive.db');
}

function open(file: string, list?: Migration[]): Db {
  const db = openDatabase(file, list ?? BASE);
  opened.push(db);
  return db;
}

const tables = (db: Db) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
const recorded = (db: Db) => db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();

describe('openDatabase', () => {
  it('creates the missing folder and the file, and sets WAL, busy timeout, foreign keys and synchronous=NORMAL', () => {
    const file = tempFile();
    const db = open(file);
    expect(existsSync(file)).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('records each applied migration with its version, name and time', () => {
    const before = new Date().toISOString();
    const db = open(tempFile());
    expect(recorded(db)).toEqual([V1]);
    const appliedAt = db.prepare('SELECT applied_at FROM schema_migrations WHERE version = 1').pluck().get() as string;
    expect(appliedAt >= before && appliedAt <= new Date().toISOString()).toBe(true);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(V1_TABLES);
  });

  it('works in memory', () => {
    const db = open(':memory:');
    expect(db.pragma('journal_mode', { simple: true })).toBe('memory');
    expect(recorded(db)).toEqual([V1]);
  });

  it('does not re-apply migrations on re-open, and keeps data across close/re-open', () => {
    const file = tempFile();
    const first = open(file);
    const appliedAt = first.prepare('SELECT applied_at FROM schema_migrations').pluck().get();
    first.prepare("INSERT INTO item_state (item_id, checked, changed_by, changed_at) VALUES ('a', 1, 'U1', '2026-12-01T00:00:00.000Z')").run();
    first.close();

    const second = open(file);
    expect(migrate(second, BASE)).toEqual([]);
    expect(second.prepare('SELECT version, applied_at FROM schema_migrations').all()).toEqual([{ version: 1, applied_at: appliedAt }]);
    expect(second.prepare('SELECT item_id, checked, changed_by FROM item_state').all()).toEqual([{ item_id: 'a', checked: 1, changed_by: 'U1' }]);
  });

  it('migrate applies only what is missing, in version order, and reports it', () => {
    const db = new Database(':memory:');
    opened.push(db);
    expect(migrate(db, BASE)).toEqual([1]);
    const later: Migration[] = [
      { version: 3, name: 'three', sql: 'ALTER TABLE two ADD COLUMN extra TEXT' }, // needs table "two": order matters
      { version: 2, name: 'two', sql: 'CREATE TABLE two (id INTEGER PRIMARY KEY)' },
      ...BASE,
    ];
    expect(migrate(db, later)).toEqual([2, 3]);
    expect(migrate(db, later)).toEqual([]);
    expect(recorded(db)).toEqual([V1, { version: 2, name: 'two' }, { version: 3, name: 'three' }]);
    expect(schemaVersion(db)).toBe(3);
  });

  it('leaves a failed migration wholly unapplied and keeps the ones before it', () => {
    const file = tempFile();
    const broken: Migration[] = [...BASE, { version: 2, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); INSERT INTO nope VALUES (1);' }];
    expect(() => openDatabase(file, broken)).toThrow(/no such table: nope/);

    const db = open(file);
    expect(recorded(db)).toEqual([V1]);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(V1_TABLES); // no "half"
  });

  it('refuses a broken migration on an existing database without touching its data', () => {
    const file = tempFile();
    const first = open(file);
    first.prepare("INSERT INTO audit (at, actor, action, target, source) VALUES ('t', 'U1', 'item.check', 'a', 'command')").run();
    first.close();

    const broken: Migration[] = [...BASE, { version: 2, name: 'broken', sql: "DELETE FROM audit; CREATE TABLE half (id INTEGER); SELECT * FROM nope;" }];
    expect(() => openDatabase(file, broken)).toThrow(/no such table: nope/);

    const db = open(file);
    expect(recorded(db)).toEqual([V1]);
    expect(db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(1);
    expect(tables(db)).not.toContain('half');
  });

  it('survives another connection applying the same migration at the same time', () => {
    const file = tempFile();
    let raced = false;
    const v1 = BASE[0]!;
    const racing: Migration = {
      name: v1.name,
      sql: v1.sql,
      get version() {
        if (!raced) {
          raced = true;
          openDatabase(file, BASE).close(); // the other process wins the race
        }
        return v1.version;
      },
    };
    const db = open(file, [racing, { version: 2, name: 'two', sql: 'CREATE TABLE two (id INTEGER)' }]);
    expect(raced).toBe(true);
    expect(recorded(db)).toEqual([V1, { version: 2, name: 'two' }]);
  });
});

describe('schemaVersion', () => {
  it('is 0 before any migration', () => {
    const db = new Database(':memory:');
    opened.push(db);
    migrate(db, []);
    expect(schemaVersion(db)).toBe(0);
  });
});
