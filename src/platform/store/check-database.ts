import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type Db } from './open-database.js';

/** Why the database cannot be used, as far as the operator's fix goes. */
export type DatabaseProblem = 'damaged' | 'read_only' | 'full' | 'other';

/** A database golive cannot start on: the message names the file, what is wrong with it and the fix. */
export class DatabaseError extends Error {
  constructor(
    readonly file: string,
    readonly problem: DatabaseProblem,
    readonly detail: string,
  ) {
    super(startupMessage(file, problem, detail));
    this.name = 'DatabaseError';
  }
}

/** What a failure from SQLite (or the file system under it) says about the database. */
export function databaseProblem(err: unknown): DatabaseProblem {
  const code = String((err as { code?: unknown }).code ?? '');
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return 'damaged';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || ['EACCES', 'EPERM', 'EROFS'].includes(code)) return 'read_only';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  return 'other';
}

/** One line for a failure: SQLite's words with its code. */
export function detailOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = String(e.message ?? err);
  return typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

function startupMessage(file: string, problem: DatabaseProblem, detail: string): string {
  const base = path.basename(file);
  const uid = process.getuid?.();
  const fix: Record<DatabaseProblem, [headline: string, ...fix: string[]]> = {
    damaged: [
      `golive cannot start: the database ${file} is damaged (${detail}).`,
      `Restore ${file} from a backup, or move it (with ${base}-wal and ${base}-shm) aside to start with an empty database.`,
      `To keep what can still be read: sqlite3 ${file} ".recover" | sqlite3 recovered.db, then set GOLIVE_DB to recovered.db.`,
    ],
    read_only: [
      `golive cannot start: it cannot write to the database ${file} (${detail}).`,
      `Give the user golive runs as${uid === undefined ? '' : ` (uid ${uid})`} write access to ${file} and to its folder ${path.dirname(file)} (SQLite writes ${base}-wal and ${base}-shm next to it), or set GOLIVE_DB to a writable path.`,
    ],
    full: [`golive cannot start: the disk holding the database ${file} is full (${detail}).`, `Free space on that disk, or set GOLIVE_DB to a path on a disk with room.`],
    other: [`golive cannot start: the database ${file} could not be opened (${detail}).`, `Check the file and the disk it is on, or set GOLIVE_DB to another path.`],
  };
  const [headline, ...steps] = fix[problem];
  return [headline, ...steps.map((s) => `  - ${s}`)].join('\n');
}

/**
 * Reads every page of every table and index (`PRAGMA quick_check`) through a
 * connection of its own, which reads the file as the next start would (the
 * app's own connection would answer from its page cache). Undefined when every
 * page reads; otherwise what is damaged, naming the tables.
 */
export function readProblem(db: Db): string | undefined {
  const reader = db.memory ? db : new Database(db.name, { readonly: true, fileMustExist: true });
  try {
    const verdict = quickCheck(reader);
    if (verdict === 'ok') return undefined;
    const tables = reader.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    const damaged = tables.filter((t) => quickCheck(reader, t) !== 'ok');
    return `${verdict}${damaged.length > 0 ? ` (tables: ${damaged.join(', ')})` : ''}`;
  } catch (err) {
    // The schema itself may not read.
    return detailOf(err);
  } finally {
    if (reader !== db) reader.close();
  }
}

/** `ok`, or the first problem quick_check reports (a page it cannot even read throws, which counts as one). */
function quickCheck(db: Db, table?: string): string {
  try {
    const first = db.pragma(table ? `quick_check("${table.replaceAll('"', '""')}")` : 'quick_check', { simple: true });
    // One line: SQLite heads its report with the database's name and may break it over lines.
    return String(first).replace(/^\*\*\* in database \w+ \*\*\*\s*/, '').replace(/\s*\n\s*/g, '; ').slice(0, 300);
  } catch (err) {
    return detailOf(err);
  }
}

/** Writes and commits the one probe row: fails as every change would on a full or read-only disk. */
export function writeProbe(db: Db, at: string): void {
  db.prepare('INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(at);
}

/**
 * Opens the database for golive's start: migrated, every page read, one
 * write committed. A damaged, read-only or full database fails here, before
 * golive connects to Slack, with a DatabaseError that names the file and the fix.
 */
export function openCheckedDatabase(file: string): Db {
  let db: Db | undefined;
  try {
    db = openDatabase(file);
    const damaged = readProblem(db);
    if (damaged) throw new DatabaseError(file, 'damaged', damaged);
    writeProbe(db, new Date().toISOString());
    return db;
  } catch (err) {
    if (db?.open) db.close();
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(file, databaseProblem(err), detailOf(err));
  }
}
