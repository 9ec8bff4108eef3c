/*
 * Moving a running launch from SQLite to PostgreSQL (issue 17): every golive table of a SQLite file copied into an
 * empty PostgreSQL database in one transaction, ids kept, identity sequences moved past them. The source is only
 * read; the target is refused when it already holds golive data. src/copy-database-cli.ts is the command.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { databaseProblem, detailOf, readProblem } from './check-database.js';
import { DatabaseUnavailableError } from './database-unavailable.js';
import { migrations as allMigrations, type Migration } from './migrations.js';
import { openDatabase, type Db } from './open-database.js';
import { withoutPassword } from './database-url.js';
import { PostgresStore } from './postgres-store.js';
import type { SqlValue } from './store.js';

/** A copy that did not happen, and why: the message says what to do. Nothing was written to the target's tables. */
export class CopyRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefused';
  }
}

export interface CopyOptions {
  /** The SQLite file (golive's GOLIVE_DB until now). */
  source: string;
  /** The postgres:// URL of the target database. */
  target: string;
  /** Overrides the URL's password (GOLIVE_DB_PASSWORD), as golive does. */
  password?: string;
  /** Rows per INSERT (default 500; fewer for a table so wide the statement would pass PostgreSQL's 65535 parameters). */
  batchRows?: number;
  /** How long to wait for PostgreSQL to answer a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Told once the source is checked and before anything is written: what is about to be copied. */
  onStart?: (plan: CopyPlan) => void;
  migrations?: Migration[];
}

export interface CopyPlan {
  source: string;
  /** The target URL without its password. */
  target: string;
  schemaVersion: number;
  tables: { table: string; rows: number }[];
  /** Things worth knowing that do not stop the copy (golive seems to be still running on the source). */
  warnings: string[];
}

export interface CopyResult extends CopyPlan {
  /** The target's schema version before the copy migrated it (0: it had no golive schema). */
  targetVersionBefore: number;
  /** Every row, in all tables. */
  rows: number;
  ms: number;
}

/** Columns of one table, as the copy needs them. */
interface TableShape {
  columns: string[];
  /** Tables this one refers to (foreign keys to other tables). */
  parents: string[];
  withoutRowid: boolean;
  primaryKey: string[];
}

/** A table name or column golive's migrations made: safe to put in SQL between double quotes. */
const PLAIN = /^[a-z_][a-z0-9_]*$/;

function plain(name: string, what: string): string {
  if (!PLAIN.test(name)) throw new CopyRefused(`the SQLite file has a ${what} golive does not know: ${JSON.stringify(name)}; it is not a database golive made`);
  return name;
}

/** The tables of a SQLite database, with their columns, foreign keys and keys (sqlite_* internals and schema_migrations left out). */
function shapes(db: Db): Map<string, TableShape> {
  const tables = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' ORDER BY name").all() as { name: string; sql: string | null }[];
  const out = new Map<string, TableShape>();
  for (const t of tables) {
    const name = plain(t.name, 'table');
    const info = db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string; pk: number }[];
    const fks = db.prepare(`PRAGMA foreign_key_list("${name}")`).all() as { table: string }[];
    out.set(name, {
      columns: info.map((c) => plain(c.name, `column of ${name}`)),
      parents: [...new Set(fks.map((f) => f.table).filter((p) => p !== name))],
      withoutRowid: /\bWITHOUT\s+ROWID\b/i.test(t.sql ?? ''),
      primaryKey: info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
    });
  }
  return out;
}

/** Parents before children (a table's own rows come in id order, so a row that refers to an earlier one of its table follows it). */
function parentsFirst(tables: Map<string, TableShape>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const left = [...tables.keys()].sort();
  while (left.length > 0) {
    const next = left.findIndex((t) => tables.get(t)!.parents.every((p) => placed.has(p) || !tables.has(p)));
    if (next === -1) throw new CopyRefused(`the tables ${left.join(', ')} refer to each other in a circle; golive's schema has no such tables`);
    const [t] = left.splice(next, 1);
    order.push(t!);
    placed.add(t!);
  }
  return order;
}

/** What a failure says, with any password taken out. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** The passwords a copy knows of: GOLIVE_DB_PASSWORD and the URL's own. */
function secretsOf(opts: Pick<CopyOptions, 'target' | 'password'>): string[] {
  const secrets = opts.password ? [opts.password] : [];
  try {
    const p = new URL(opts.target).password;
    if (p) secrets.push(p, decodeURIComponent(p));
  } catch {
    // An unreadable URL: the client says so.
  }
  return secrets;
}

/** How to get on when PostgreSQL cannot be reached or refuses the connection. */
function targetProblem(failure: unknown, target: string): string {
  // The store tells an unreachable database apart already; the client's own error says which way it failed.
  const err = failure instanceof DatabaseUnavailableError ? failure.cause : failure;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] };
  const code = String(e.code ?? '');
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with one error per address.
  const detail = !e.message && Array.isArray(e.errors) && e.errors.length > 0 ? e.errors.map((x) => detailOf(x)).join('; ') : detailOf(err);
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(code) || /timeout|terminated unexpectedly|Connection terminated/i.test(String(e.message ?? ''))) {
    return `cannot reach PostgreSQL at ${target} (${detail}). Check the host and port in the URL, that the server is running, and that this machine may connect to it (security group, VPN). Nothing was copied.`;
  }
  if (code === '28P01' || code === '28000') {
    return `PostgreSQL at ${target} refused the login (${detail}). Check the user in the URL and the password (GOLIVE_DB_PASSWORD, or the URL's own). Nothing was copied.`;
  }
  if (code === '3D000') {
    return `PostgreSQL at ${target} has no such database (${detail}). Create it first, empty (CREATE DATABASE …), or name another in the URL. Nothing was copied.`;
  }
  return `PostgreSQL at ${target} failed: ${detail}. Nothing was copied.`;
}

/** Opens the SQLite file read-only, after checking that it is there, reads, and is at a schema version this golive copies. */
function openSource(file: string, known: number): { db: Db; version: number } {
  if (!existsSync(file)) throw new CopyRefused(`there is no SQLite database at ${file}: name the file golive runs on (its GOLIVE_DB, e.g. /data/golive.db). Nothing was copied.`);
  if (!statSync(file).isFile()) throw new CopyRefused(`${file} is not a file: name golive's SQLite database (its GOLIVE_DB, e.g. /data/golive.db). Nothing was copied.`);
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CopyRefused(`cannot open ${file} to read it (${detailOf(err)}). Nothing was copied.`);
  }
  try {
    try {
      db.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
    } catch (err) {
      // A file that is not a database at all is damaged, as far as the copy goes; anything else keeps it from being read.
      if (databaseProblem(err) !== 'damaged') {
        throw new CopyRefused(`cannot read ${file} (${detailOf(err)}): run the copy as the user golive runs as, or copy the file (with its -wal next to it) somewhere writable and copy from there. Nothing was copied.`);
      }
    }
    const damaged = readProblem(db);
    if (damaged) {
      throw new CopyRefused(
        `${file} is damaged (${damaged}); nothing was copied. Copy from a backup instead, or recover what can still be read: sqlite3 ${file} ".recover" | sqlite3 recovered.db, start golive on recovered.db once, and copy that.`,
      );
    }
    const hasMigrations = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasMigrations) throw new CopyRefused(`${file} is not a golive database (it has no schema_migrations table). Nothing was copied.`);
    const version = (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get() as number) ?? 0;
    if (version > known) {
      throw new CopyRefused(`${file} is at schema version ${version}, newer than this golive knows (${known}): a newer golive has run on it. Copy it with that golive version. Nothing was copied.`);
    }
    if (version < known) {
      throw new CopyRefused(
        `${file} is at schema version ${version}, older than this golive's (${known}). Start this golive on it once (it brings the schema up to date as it starts), stop it, and copy again; or migrate a copy: sqlite3 ${file} ".backup golive-copy.db", start golive on golive-copy.db once, and copy that. Nothing was copied.`,
      );
    }
    return { db, version };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The golive tables of schema `version`, as its migrations make them (on a scratch in-memory database). */
function referenceSchema(migrations: Migration[], version: number): Map<string, TableShape> {
  const scratch = openDatabase(':memory:', migrations.filter((m) => m.version <= version));
  try {
    return shapes(scratch);
  } finally {
    scratch.close();
  }
}

/** The source's tables, checked against what golive's migrations make: an unknown table or column stops the copy, naming it. */
function checkSourceTables(file: string, source: Map<string, TableShape>, reference: Map<string, TableShape>, version: number): void {
  for (const [table, shape] of source) {
    const known = reference.get(table);
    if (!known) {
      const hint = table === 'sandbox_world' ? ' (the sandbox keeps its simulated world there: this is a sandbox database, not a launch’s)' : '';
      throw new CopyRefused(`${file} has a table golive's schema (version ${version}) does not have: ${table}${hint}. Nothing was copied.`);
    }
    const extra = shape.columns.filter((c) => !known.columns.includes(c));
    if (extra.length > 0) throw new CopyRefused(`${file}: table ${table} has columns golive's schema (version ${version}) does not have: ${extra.join(', ')}. Nothing was copied.`);
  }
  const missing = [...reference.keys()].filter((t) => !source.has(t));
  if (missing.length > 0) throw new CopyRefused(`${file} lacks tables golive's schema version ${version} has: ${missing.join(', ')}; it was not made by golive's migrations. Nothing was copied.`);
}

/** A row count in words. */
const rowsText = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

/** The columns of every table in the target's schema, and which are identity columns. */
async function targetColumns(store: PostgresStore): Promise<Map<string, { column: string; identity: boolean; optional: boolean }[]>> {
  const rows = await store.all<{ table_name: string; column_name: string; is_identity: string; column_default: string | null; is_nullable: string }>(
    'SELECT table_name, column_name, is_identity, column_default, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
  );
  const out = new Map<string, { column: string; identity: boolean; optional: boolean }[]>();
  for (const r of rows) {
    const list = out.get(r.table_name) ?? [];
    list.push({ column: r.column_name, identity: r.is_identity === 'YES', optional: r.is_identity === 'YES' || r.column_default !== null || r.is_nullable === 'YES' });
    out.set(r.table_name, list);
  }
  return out;
}

/** Golive tables of the target that hold rows, with how many. */
async function occupied(store: PostgresStore, tables: string[]): Promise<{ table: string; rows: number }[]> {
  if (tables.length === 0) return [];
  const counts = await store.all<{ t: string; n: number }>(tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM "${t}"`).join(' UNION ALL '));
  return counts.filter((c) => c.n > 0).map((c) => ({ table: c.t, rows: c.n }));
}

function nonEmptyMessage(target: string, found: { table: string; rows: number }[]): string {
  const shown = found.slice(0, 5).map((f) => `${f.table}: ${rowsText(f.rows)}`);
  if (found.length > 5) shown.push(`and ${found.length - 5} more tables`);
  return `the PostgreSQL database ${target} already holds golive data (${shown.join(', ')}); nothing was copied. Copy into a new, empty database (CREATE DATABASE …), or, if what it holds can go, drop it and create it again.`;
}

/** A value as read from SQLite, as PostgreSQL takes it. */
function value(v: unknown, table: string, column: string): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  throw new CopyRefused(`table ${table}, column ${column} holds a ${Buffer.isBuffer(v) ? 'BLOB' : typeof v} value, which golive never stores; nothing was copied`);
}

/**
 * Copies the golive database in the SQLite file `source` into the empty PostgreSQL database `target`: checks the
 * source (there, readable, not damaged, at this golive's schema version, only golive's tables), migrates the target
 * to the same version, refuses it if any golive table holds a row, then copies every table in one transaction:
 * parents before children, rows in id order with their ids, in multi-row INSERTs, each identity sequence moved past
 * the highest id SQLite used, and every table's row count checked before the commit. Throws CopyRefused with what
 * to do when anything is wrong; nothing is copied then (the target may have been given the schema, no rows).
 */
export async function copyDatabase(opts: CopyOptions): Promise<CopyResult> {
  const started = performance.now();
  const secrets = secretsOf(opts);
  const target = withoutPassword(opts.target);
  const migrations = opts.migrations ?? allMigrations;
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const batchRows = opts.batchRows ?? 500;

  const { db, version } = openSource(opts.source, known);
  let store: PostgresStore | undefined;
  try {
    // One read transaction: every table is read from the same moment, even if something still writes to the file.
    db.exec('BEGIN');
    const source = shapes(db);
    const reference = referenceSchema(migrations, version);
    checkSourceTables(opts.source, source, reference, version);
    const broken = db.prepare('PRAGMA foreign_key_check').all() as { table: string; rowid: number; parent: string }[];
    if (broken.length > 0) {
      const first = broken[0]!;
      throw new CopyRefused(`${opts.source}: ${rowsText(broken.length)} refer to rows that are not there (first: ${first.table} rowid ${first.rowid} → ${first.parent}); PostgreSQL would refuse them. Nothing was copied.`);
    }
    const order = parentsFirst(source);
    const count = (t: string) => db.prepare(`SELECT COUNT(*) FROM "${t}"`).pluck().get() as number;
    const tables = order.map((table) => ({ table, rows: count(table) }));
    const warnings: string[] = [];
    if (source.has('health_probe')) {
      const at = db.prepare('SELECT at FROM health_probe WHERE id = 1').pluck().get() as string | undefined;
      const ago = at ? Date.now() - Date.parse(at) : Number.NaN;
      if (ago >= 0 && ago < 120_000) warnings.push(`golive wrote to ${opts.source} ${Math.round(ago / 1000)} s ago: if it is still running, stop it first, or what it changes after this copy is not in PostgreSQL`);
    }

    store = new PostgresStore({ url: opts.target, password: opts.password, applicationName: 'golive copy-db', poolSize: 2, connectTimeoutMs: opts.connectTimeoutMs ?? 10_000, migrations: migrations.filter((m) => m.version <= version) });
    const pgStore = store;
    const onTarget = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof CopyRefused) throw err;
        throw new CopyRefused(scrub(targetProblem(err, target), secrets));
      }
    };

    // Before anything is written to it: a target a newer golive set up, or one that holds golive data, is left as it is.
    const targetVersionBefore = await onTarget(async () => {
      const has = await pgStore.get<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
      return has?.t ? ((await pgStore.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'))?.v ?? 0) : 0;
    });
    if (targetVersionBefore > version) {
      throw new CopyRefused(`the PostgreSQL database ${target} is at schema version ${targetVersionBefore}, ahead of ${opts.source} (${version}): a newer golive set it up. Copy into a new, empty database, or copy with that golive version. Nothing was copied.`);
    }
    const allGoliveTables = [...referenceSchema(migrations, known).keys()];
    const before = await onTarget(async () => {
      const present = new Set((await targetColumns(pgStore)).keys());
      return occupied(pgStore, allGoliveTables.filter((t) => present.has(t)));
    });
    if (before.length > 0) throw new CopyRefused(nonEmptyMessage(target, before));

    opts.onStart?.({ source: opts.source, target, schemaVersion: version, tables, warnings });
    await onTarget(() => pgStore.ready());
    const columns = await onTarget(() => targetColumns(pgStore));
    for (const { table } of tables) {
      const pgCols = columns.get(table);
      if (!pgCols) throw new CopyRefused(`the PostgreSQL schema has no table ${table}, which ${opts.source} has; nothing was copied`);
      const names = new Set(pgCols.map((c) => c.column));
      const missing = source.get(table)!.columns.filter((c) => !names.has(c));
      if (missing.length > 0) throw new CopyRefused(`the PostgreSQL table ${table} has no column ${missing.join(', ')}, which ${opts.source} has; nothing was copied`);
      const required = pgCols.filter((c) => !c.optional && !source.get(table)!.columns.includes(c.column));
      if (required.length > 0) throw new CopyRefused(`the PostgreSQL table ${table} requires ${required.map((c) => c.column).join(', ')}, which ${opts.source} does not have; nothing was copied`);
    }

    // SQLite's AUTOINCREMENT counters (made with the first such table; golive's first migration has some).
    const hasSequences = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
    const sequences = new Map(hasSequences ? (db.prepare('SELECT name, seq FROM sqlite_sequence').all() as { name: string; seq: number }[]).map((r) => [r.name, r.seq]) : []);
    await onTarget(() =>
      pgStore.transaction(async () => {
        // Checked again under golive's write lock: a golive started on the target meanwhile has not written since.
        const now = await occupied(pgStore, allGoliveTables.filter((t) => columns.has(t)));
        if (now.length > 0) throw new CopyRefused(nonEmptyMessage(target, now));
        for (const { table, rows } of tables) {
          const shape = source.get(table)!;
          const cols = shape.columns;
          const list = cols.map((c) => `"${c}"`).join(', ');
          const pgCols = columns.get(table)!;
          const overriding = pgCols.some((c) => c.identity && cols.includes(c.column)) ? ' OVERRIDING SYSTEM VALUE' : '';
          const perInsert = Math.max(1, Math.min(batchRows, Math.floor(60_000 / cols.length)));
          const insert = async (batch: unknown[][]): Promise<number> => {
            const params: SqlValue[] = [];
            for (const row of batch) row.forEach((v, i) => params.push(value(v, table, cols[i]!)));
            const tuple = `(${cols.map(() => '?').join(', ')})`;
            try {
              return await pgStore.run(`INSERT INTO "${table}" (${list})${overriding} VALUES ${batch.map(() => tuple).join(', ')}`, ...params);
            } catch (err) {
              // A connection lost on the way is the target's problem; a SQL error is these rows'.
              const code = String((err as { code?: unknown }).code ?? '');
              if (!/^[0-9A-Z]{5}$/.test(code) || /^(08|57)/.test(code)) throw err;
              throw new CopyRefused(`PostgreSQL refused rows of table ${table} (${detailOf(err)}); nothing was copied`);
            }
          };
          let copied = 0;
          if (shape.withoutRowid) {
            const keys = shape.primaryKey.map((c) => `"${c}"`).join(', ');
            const all = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY ${keys}`).raw().safeIntegers().all() as unknown[][];
            for (let i = 0; i < all.length; i += perInsert) copied += await insert(all.slice(i, i + perInsert));
          } else {
            // In rowid order (the id, where the table has one; gonogo_vote's order on PostgreSQL's own rowid), a batch at a time.
            const page = db.prepare(`SELECT rowid, ${list} FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ?`).raw().safeIntegers();
            let after: unknown = -(2n ** 63n);
            for (;;) {
              const batch = page.all(after, perInsert) as unknown[][];
              if (batch.length === 0) break;
              after = batch.at(-1)![0];
              copied += await insert(batch.map((r) => r.slice(1)));
            }
          }
          const there = (await pgStore.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`))!.n;
          if (copied !== rows || there !== rows) throw new CopyRefused(`table ${table}: ${rowsText(rows)} in ${opts.source}, ${rowsText(copied)} inserted, ${rowsText(there)} in PostgreSQL; nothing was copied`);
          // The next id PostgreSQL gives is past every id SQLite used (sqlite_sequence also remembers deleted ones).
          for (const c of pgCols.filter((p) => p.identity)) {
            const floor = cols.includes(c.column) ? (sequences.get(table) ?? 0) : 0;
            await pgStore.get(`SELECT setval(pg_get_serial_sequence('${table}', '${c.column}'), v) FROM (SELECT GREATEST(MAX("${c.column}"), ?) AS v FROM "${table}") m WHERE v >= 1`, floor);
          }
        }
      }),
    );
    return { source: opts.source, target, schemaVersion: version, tables, warnings, targetVersionBefore, rows: tables.reduce((n, t) => n + t.rows, 0), ms: performance.now() - started };
  } catch (err) {
    if (err instanceof CopyRefused) throw new CopyRefused(scrub(err.message, secrets));
    throw new Error(scrub(`the copy failed: ${detailOf(err)}. Nothing was copied.`, secrets), { cause: err });
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
    db.close();
    await store?.close();
  }
}
