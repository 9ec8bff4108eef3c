import type { Statement } from 'better-sqlite3';
import { schemaVersion, type Db } from './open-database.js';

/** A value SQL can bind: booleans go in as 1/0, objects as JSON text. */
export type SqlValue = string | number | bigint | null;

/**
 * The database connection every repository runs its SQL through. Only
 * repositories (`*-repository.ts`) write SQL; they pass positional `?`
 * parameters and get plain rows back. Writes that belong together go through
 * `transaction`, so a change and its audit row land together or not at all.
 */
export class Store {
  /** Statements compiled once per SQL text: preparing them on every call was a few percent of golive's CPU under load (bench/README.md). */
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The first row of a query (or of an INSERT … RETURNING), or undefined. */
  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.prepared(sql).get(...params) as T | undefined;
  }

  /** Every row of a query. */
  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.prepared(sql).all(...params) as T[];
  }

  /** Runs a statement that returns no rows; returns how many rows it changed. */
  run(sql: string, ...params: SqlValue[]): number {
    return this.prepared(sql).run(...params).changes;
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front, so racing writers queue instead of failing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Whether the database answers, and its schema version, for /healthz. */
  health(): { ok: true; schemaVersion: number } | { ok: false; error: string } {
    try {
      this.get('SELECT 1');
      return { ok: true, schemaVersion: schemaVersion(this.db) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }
}
