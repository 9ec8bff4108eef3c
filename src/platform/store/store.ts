import { AsyncLocalStorage } from 'node:async_hooks';

/** The database as /healthz sees it: `read` and `write` are `ok` or what failed. */
export type DatabaseHealth = { ok: true; read: 'ok'; write: 'ok'; schemaVersion: number } | { ok: false; read: string; write: string; error: string };

/** A value SQL can bind: booleans go in as 1/0, objects as JSON text. */
export type SqlValue = string | number | bigint | null;

/** Which SQL a store speaks, for the few statements that differ (see the repositories that ask). */
export type Dialect = 'sqlite' | 'postgres';

/** An open database transaction as a store implements it: its own statements run on `connection`. */
export interface OpenTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Called once the transaction is over, committed or not (gives back the lock or the connection). */
  release(failed: boolean): void;
}

/** The transaction a piece of async work runs in; `active` turns false at commit or rollback. */
interface Transaction {
  store: Store;
  active: boolean;
  afterCommit: (() => void)[];
  open: OpenTransaction;
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
 * The database every repository runs its SQL through: SQLite (sqlite-store.ts)
 * or PostgreSQL (postgres-store.ts), behind the same methods. Only
 * repositories (`*-repository.ts`) write SQL; they pass positional `?`
 * parameters and get plain rows back, and ask `dialect` for the rare statement
 * the two databases spell differently.
 *
 * Writes that belong together go through `transaction(async () => …)`, so a
 * change and its audit row land together or not at all. The rule for the
 * callback: only database work inside it — no Slack, AWS or PagerDuty call
 * (the adapters check this outside production: `assertNotInTransaction`).
 * Transactions are serialized, on either database (SQLite's write lock;
 * a transaction-scoped advisory lock on PostgreSQL, across every replica):
 * a read inside one sees every earlier commit, and nothing commits between
 * it and the write that follows. Statements inside the transaction's own
 * async context (found through AsyncLocalStorage) join it, and a nested
 * `transaction` joins the outer one.
 */
export abstract class Store {
  abstract readonly dialect: Dialect;
  /** Where the data is, for /healthz and logs: a file path, or a PostgreSQL URL without its password. */
  abstract readonly target: string;

  /** The first row of a query (or of an INSERT … RETURNING), or undefined. */
  abstract get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  /** Every row of a query. */
  abstract all<T>(sql: string, ...params: SqlValue[]): Promise<T[]>;
  /** Runs a statement that returns no rows; resolves with how many rows it changed. */
  abstract run(sql: string, ...params: SqlValue[]): Promise<number>;
  /** Starts a transaction (waiting for the one that holds the write lock). */
  protected abstract begin(): Promise<OpenTransaction>;
  /** What /healthz reports of the database (see the implementations). */
  abstract health(): Promise<DatabaseHealth>;
  abstract readonly isOpen: boolean;
  abstract close(): Promise<void>;

  /** Connects and brings the schema up to date; resolves at once where that was done on opening. */
  async ready(): Promise<void> {}

  /** The open transaction of the calling async work, when it is this store's. */
  protected ownTransaction(): OpenTransaction | undefined {
    const tx = current.getStore();
    return tx?.active && tx.store === this ? tx.open : undefined;
  }

  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when
   * it throws.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ownTransaction()) return fn();
    const open = await this.begin();
    const tx: Transaction = { store: this, active: true, afterCommit: [], open };
    let failed = false;
    try {
      let result: T;
      try {
        const request = handlingRequest.getStore();
        result = await current.run(tx, async () => {
          const out = await fn();
          // The request's first change and "this request is handled" commit together: a restart finishes it or not at all.
          if (request && !request.finished) await request.finish();
          return out;
        });
        await open.commit();
        if (request) request.finished = true;
      } catch (err) {
        failed = true;
        await open.rollback().catch(() => undefined);
        throw err;
      }
      tx.active = false;
      // What follows a commit (an outbox flush, a board refresh) is not the request's own change.
      for (const f of tx.afterCommit) handlingRequest.exit(() => current.exit(f));
      return result;
    } finally {
      tx.active = false;
      open.release(failed);
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
    const tx = current.getStore();
    if (tx?.active && tx.store === this) tx.afterCommit.push(fn);
    else fn();
  }
}
