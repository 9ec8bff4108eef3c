import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../store/migrations.js';
import { migrate, openDatabase, schemaVersion } from '../../store/open-database.js';

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'golive-db-')), 'nested', 'golive.db');

describe('openDatabase', () => {
  it('creates the folder, uses WAL and a busy timeout, and records migrations', () => {
    const file = tempFile();
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'checklist, sign-offs, audit, outbox' }]);
    expect(schemaVersion(db)).toBe(1);
    db.close();
  });

  it('does not re-apply migrations on reopen, and keeps data', () => {
    const file = tempFile();
    const first = openDatabase(file);
    first.prepare("INSERT INTO item_state (item_id, checked, changed_by, changed_at) VALUES ('a', 1, 'U1', 'now')").run();
    first.close();
    const second = openDatabase(file);
    expect(migrate(second)).toEqual([]);
    expect(second.prepare('SELECT item_id, checked FROM item_state').all()).toEqual([{ item_id: 'a', checked: 1 }]);
    second.close();
  });

  it('leaves a failed migration wholly unapplied', () => {
    const file = tempFile();
    const broken = [...migrations, { version: 2, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); INSERT INTO nope VALUES (1);' }];
    expect(() => openDatabase(file, broken)).toThrow(/no such table: nope/);
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    db.close();
  });
});
