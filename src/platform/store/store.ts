import { AsyncLocalStorage } from 'node:async_hooks';
import type { Statement } from 'better-sqlite3';
import { detailOf, readProblem, writeProbe } from './check-database.js';
import { schemaVersion, type Db } from './open-database.js';

/** The database as /healthz sees it: `read` and `write` are `ok` or what failed. */
export type DatabaseHealth = { ok: true; read: 'ok'; write: 'ok'; schemaVersion: number } | { ok: false; read: string; write: string; error: string };

/** A value SQL can bind: booleans go in as 1/0, objects as JSON text. */
export type SqlValue = string | number | bigint | null;

/** The transaction a piece of async work runs in; `active` turns false at commit or rollback. */
interface Transaction {
  store: Store;
  active: boolean;
  afterCommit: (() => void)[];
}

/** Carries the open transaction through every await of the work it runs, so repository calls join it without passing it along. */
const current = new AsyncLocalStorage<Transaction>();

/** The inbound request a piece of async work is handling (see `Store.handling`). */
interface RequestScope {
  finish: () => Promise<void>;
  finished: boolean;
}

const handlingRequest = new AsyncLocalStorage<RequestScope>();

/** Whether the calling code runs inside an open database transaction. */
export function inTransaction(): boolean {
  return current.getStore()?.active === true;
}

/**
 * Refuses, outside production, a network call made inside a transaction: the
 * write lock would be held while Slack, AWS or PagerDuty answer, and every
 * other request would wait for them. In production it only costs time, so it
 * is not worth failing the user's action over.
 */
export function assertNotInTransaction(call: string): void {
  if (inTransaction() && process.env.NODE_ENV !== 'production') {
    throw new Error(`${call} was called inside a database transaction; make the call before or after it (see src/platform/store/store.ts)`);
  }
}

/**
 * The database connection every repository runs its SQL through. Only
 * repositories (`*-repository.ts`) write SQL; they pass positional `?`
 * parameters and get plain rows back. Every method returns a promise, so a
 * second database (PostgreSQL) can implement the same interface and no
 * caller changes.
 *
 * Writes that belong together go through `transaction(async () => …)`, so a
 * change and its audit row land together or not at all. The rule for the
 * callback: only database work inside it — no Slack, AWS or PagerDuty call
 * (the adapters check this outside production: `assertNotInTransaction`).
 *
 * SQLite has one connection here and better-sqlite3 is synchronous, so the
 * transaction is BEGIN IMMEDIATE … COMMIT around the awaited callback, held
 * by an async lock: while it is open, a statement from any other async work
 * waits for the lock instead of silently joining it, and so does another
 * transaction. Statements inside the transaction's own async context (found
 * through AsyncLocalStorage) run at once, and a nested `transaction` joins
 * the outer one.
 */
export class Store {
  /** Statements compiled once per SQL text: preparing them on every call was a few percent of golive's CPU under load (bench/README.md). */
  private readonly statements = new Map<string, Statement>();
  private locked = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly db: Db) {}

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private ownTransaction(): Transaction | undefined {
    const tx = current.getStore();
    return tx?.active && tx.store === this ? tx : undefined;
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

  /** The first row of a query (or of an INSERT … RETURNING), or undefined. */
  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return this.statement(() => this.prepared(sql).get(...params) as T | undefined);
  }

  /** Every row of a query. */
  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return this.statement(() => this.prepared(sql).all(...params) as T[]);
  }

  /** Runs a statement that returns no rows; resolves with how many rows it changed. */
  run(sql: string, ...params: SqlValue[]): Promise<number> {
    return this.statement(() => this.prepared(sql).run(...params).changes);
  }

  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when
   * it throws. IMMEDIATE takes SQLite's write lock up front, so another
   * process writing at the same time waits (busy_timeout) instead of failing.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ownTransaction()) return fn();
    await this.lock();
    const tx: Transaction = { store: this, active: true, afterCommit: [] };
    try {
      this.prepared('BEGIN IMMEDIATE').run();
      let result: T;
      try {
        const request = handlingRequest.getStore();
        result = await current.run(tx, async () => {
          const out = await fn();
          // The request's first change and "this request is handled" commit together: a restart finishes it or not at all.
          if (request && !request.finished) await request.finish();
          return out;
        });
        this.prepared('COMMIT').run();
        if (request) request.finished = true;
      } catch (err) {
        if (this.db.inTransaction) this.prepared('ROLLBACK').run();
        throw err;
      }
      tx.active = false;
      // What follows a commit (an outbox flush, a board refresh) is not the request's own change.
      for (const f of tx.afterCommit) handlingRequest.exit(() => current.exit(f));
      return result;
    } finally {
      tx.active = false;
      this.unlock();
    }
  }

  /**
   * Runs `fn`, the handling of one inbound request: the first transaction that
   * commits inside it also runs `finish` (which marks the request done), so a
   * request that changed something is never run again after a restart, and
   * one that did not is run again. Once `fn` ends, `finish` runs if no
   * transaction did (a reply, an error, nothing to change).
   */
  async handling<T>(finish: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
    const scope: RequestScope = { finish, finished: false };
    try {
      return await handlingRequest.run(scope, fn);
    } finally {
      if (!scope.finished) {
        scope.finished = true;
        await handlingRequest.exit(finish);
      }
    }
  }

  /** Runs `fn` once the current transaction has committed (never, if it rolls back); at once outside one. */
  afterCommit(fn: () => void): void {
    const tx = this.ownTransaction();
    if (tx) tx.afterCommit.push(fn);
    else fn();
  }

  /**
   * What /healthz reports of the database: every page of every table read
   * (so a damaged page shows), and one row written and committed (so a full or
   * read-only disk shows), with the schema version.
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

  close(): void {
    this.db.close();
  }
}
