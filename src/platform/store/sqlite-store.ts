import type { Statement } from 'better-sqlite3';
import { detailOf, readProblem, writeProbe } from './check-database.js';
import { schemaVersion, type Db } from './open-database.js';
import { Store, type DatabaseHealth, type OpenTransaction, type SqlValue } from './store.js';

/**
 * The embedded store: one SQLite file, one connection. better-sqlite3 is
 * synchronous, so a transaction is BEGIN IMMEDIATE … COMMIT around the awaited
 * callback, held by an async lock: while it is open, a statement from any
 * other async work waits for the lock instead of silently joining it, and so
 * does another transaction. IMMEDIATE takes SQLite's write lock up front, so
 * another process writing at the same time waits (busy_timeout) instead of
 * failing.
 */
export class SqliteStore extends Store {
  readonly dialect = 'sqlite' as const;
  readonly target: string;
  /** Statements compiled once per SQL text: preparing them on every call was a few percent of golive's CPU under load (bench/README.md). */
  private readonly statements = new Map<string, Statement>();
  private locked = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly db: Db) {
    super();
    this.target = db.name;
  }

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private async lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    // Handed over by unlock(): the lock stays taken from one holder to the next.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private unlock(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.locked = false;
  }

  /** Runs one statement: at once inside its own transaction or when nothing holds the lock, else after the transaction that does. */
  private async statement<T>(run: () => T): Promise<T> {
    if (this.ownTransaction() || (!this.locked && this.waiting.length === 0)) return run();
    await this.lock();
    try {
      return run();
    } finally {
      this.unlock();
    }
  }

  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return this.statement(() => this.prepared(sql).get(...params) as T | undefined);
  }

  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return this.statement(() => this.prepared(sql).all(...params) as T[]);
  }

  run(sql: string, ...params: SqlValue[]): Promise<number> {
    return this.statement(() => this.prepared(sql).run(...params).changes);
  }

  protected async begin(): Promise<OpenTransaction> {
    await this.lock();
    try {
      this.prepared('BEGIN IMMEDIATE').run();
    } catch (err) {
      this.unlock();
      throw err;
    }
    return {
      commit: async () => void this.prepared('COMMIT').run(),
      rollback: async () => {
        if (this.db.inTransaction) this.prepared('ROLLBACK').run();
      },
      release: () => this.unlock(),
    };
  }

  /**
   * Every page of every table read (so a damaged page shows), and one row
   * written and committed (so a full or read-only disk shows), with the schema
   * version.
   */
  async health(): Promise<DatabaseHealth> {
    let read: string;
    let write: string;
    try {
      read = (await this.statement(() => readProblem(this.db))) ?? 'ok';
    } catch (err) {
      read = detailOf(err);
    }
    try {
      await this.statement(() => writeProbe(this.db, new Date().toISOString()));
      write = 'ok';
    } catch (err) {
      write = detailOf(err);
    }
    if (read !== 'ok' || write !== 'ok') return { ok: false, read, write, error: read !== 'ok' ? `the database cannot be read: ${read}` : `the database cannot be written: ${write}` };
    try {
      return { ok: true, read: 'ok', write: 'ok', schemaVersion: await this.statement(() => schemaVersion(this.db)) };
    } catch (err) {
      return { ok: false, read, write, error: (err as Error).message };
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
