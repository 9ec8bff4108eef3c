import pg from 'pg';
import { parse as parseConnectionString, toClientConfig } from 'pg-connection-string';
import { detailOf } from './check-database.js';
import { withoutPassword } from './database-url.js';
import { DatabaseUnavailableError, isConnectionFailure } from './database-unavailable.js';
import { migrations as allMigrations, sqlFor, type Migration } from './migrations.js';
import { Store, type DatabaseHealth, type OpenTransaction, type SqlValue } from './store.js';

/** Keys of PostgreSQL advisory locks golive takes; one number space per database. */
export const ADVISORY_LOCKS = {
  /** Held by every write transaction for its length: writers take turns, as SQLite's BEGIN IMMEDIATE makes them. */
  write: 0x601f_0001,
  /** Held while migrations run, so replicas starting together apply each one once. */
  migrate: 0x601f_0002,
  /** Held on the leader's own connection for as long as it leads (src/platform/leadership/). */
  leader: 0x601f_0003,
} as const;

/** `?` placeholders become `$1, $2, …`, outside quotes and comments. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

/** How a PostgreSQL store connects. */
export interface PostgresOptions {
  /** The postgres:// URL (sslmode and sslrootcert as libpq reads them). */
  url: string;
  /** Overrides the URL's password (GOLIVE_DB_PASSWORD, from a secret). */
  password?: string;
  /** Shown in pg_stat_activity (the replica's name). */
  applicationName?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long a request waits for a connection before it is told the database cannot be reached (default 2 s, within Slack's 3). */
  connectTimeoutMs?: number;
  migrations?: Migration[];
}

/** The client settings for a URL, with libpq's meaning of sslmode (require encrypts; verify-full also checks the certificate and host). */
export function clientConfig(opts: Pick<PostgresOptions, 'url' | 'password' | 'applicationName' | 'connectTimeoutMs'>): pg.ClientConfig {
  const parsed = toClientConfig(parseConnectionString(opts.url, { useLibpqCompat: true })) as pg.ClientConfig;
  return {
    ...parsed,
    ...(opts.password ? { password: opts.password } : {}),
    application_name: opts.applicationName ?? 'golive',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
    // A dead peer (the database failed over, a network partition) shows within seconds instead of at the OS's two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 5000,
    // A statement stuck behind a lock is cut off rather than holding a request past any reply; a transaction left open by a stuck process is ended by the server.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
    types: { getTypeParser },
  } as pg.ClientConfig;
}

/** COUNT(*) and BIGINT come back as numbers, as SQLite gives them (golive's counts and ids fit easily). */
function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === 20 || oid === 1700) return (v: string) => Number(v);
  return pg.types.getTypeParser(oid, format as 'text');
}

class PgTransaction implements OpenTransaction {
  constructor(
    readonly client: pg.PoolClient,
    private readonly target: string,
  ) {}
  async commit(): Promise<void> {
    // A connection lost at COMMIT leaves the outcome unknown to us; it is reported as the database being out of reach.
    await this.client.query('COMMIT').catch((err: unknown) => {
      throw isConnectionFailure(err) ? new DatabaseUnavailableError(this.target, detailOf(err), { cause: err }) : err;
    });
  }
  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }
  release(failed: boolean): void {
    // A connection whose transaction failed may be broken (the server went away): it is closed, not reused.
    this.client.release(failed ? true : undefined);
  }
}

/**
 * The shared store: PostgreSQL, for running as several replicas (docs/deploy.md).
 * The same schema and migrations as SQLite, and the same SQL: `?` placeholders
 * are numbered, and every write transaction first takes one advisory lock, so
 * writers take turns across all replicas exactly as SQLite's write lock makes
 * them (a read then a write inside a transaction sees nothing commit between
 * them). Connection failures reject the statement; nothing here exits the process.
 */
export class PostgresStore extends Store {
  readonly dialect = 'postgres' as const;
  readonly target: string;
  private readonly pool: pg.Pool;
  private readonly texts = new Map<string, { name: string; text: string }>();
  private closed = false;
  private migrated?: Promise<void>;

  constructor(
    private readonly opts: PostgresOptions,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    super();
    this.target = withoutPassword(opts.url);
    this.pool = new pg.Pool({ ...clientConfig(opts), max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    // An idle connection the server closes emits here; unhandled, it would end the process.
    this.pool.on('error', (err) => this.onError(err));
  }

  private readonly guarded = new WeakSet<pg.PoolClient>();

  /**
   * A connection of the pool for a transaction or the migrations. The pool
   * stops listening for a connection's errors while it is checked out, and an
   * 'error' nobody listens to ends the process: a database that restarts mid-
   * transaction must fail that transaction, not golive.
   */
  private async checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (!this.guarded.has(client)) {
      client.on('error', (err) => this.onError(err));
      this.guarded.add(client);
    }
    return client;
  }

  /** A named statement per SQL text: PostgreSQL plans it once per connection. */
  private statement(sql: string, params: SqlValue[]): pg.QueryConfig {
    let s = this.texts.get(sql);
    if (!s) {
      s = { name: `golive_${this.texts.size + 1}`, text: numberPlaceholders(sql) };
      this.texts.set(sql, s);
    }
    return { ...s, values: params.map((p) => (typeof p === 'bigint' ? p.toString() : p)) };
  }

  private async query(sql: string, params: SqlValue[]): Promise<pg.QueryResult> {
    const tx = this.ownTransaction() as PgTransaction | undefined;
    const q = this.statement(sql, params);
    try {
      return await (tx ? tx.client.query(q) : this.pool.query(q));
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** A connection failure, told as the database being out of reach (what the user is told; see errors.ts); anything else as it came. */
  private unavailable(err: unknown): unknown {
    return isConnectionFailure(err) ? new DatabaseUnavailableError(this.target, detailOf(err), { cause: err }) : err;
  }

  async get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async all<T>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async run(sql: string, ...params: SqlValue[]): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  protected async begin(): Promise<OpenTransaction> {
    const client = await this.checkout().catch((err: unknown) => {
      throw this.unavailable(err);
    });
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.write]);
    } catch (err) {
      client.release(true);
      throw this.unavailable(err);
    }
    return new PgTransaction(client, this.target);
  }

  /** Connects and applies the migrations not yet recorded (once, whichever replica gets there first). */
  override ready(): Promise<void> {
    this.migrated ??= this.migrate(this.opts.migrations ?? allMigrations).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async migrate(migrations: Migration[]): Promise<void> {
    const client = await this.checkout();
    let failed = false;
    try {
      // Session-level: held across each migration's own transaction, and freed by the server if this process dies.
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrate]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(sqlFor(m, 'postgres'));
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw new Error(`migration ${m.version} (${m.name}) failed: ${detailOf(err)}`, { cause: err });
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrate]).catch(() => undefined);
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      client.release(failed ? true : undefined);
    }
  }

  /** A dedicated connection outside the pool (the leader's lock lives as long as it does). */
  connect(): pg.Client {
    return new pg.Client(clientConfig(this.opts));
  }

  /** One read and one committed write, with the schema version: the database answers and takes changes. */
  async health(): Promise<DatabaseHealth> {
    let read: string;
    let write = 'not tried: the database cannot be read';
    let version = 0;
    try {
      version = (await this.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'))?.v ?? 0;
      read = 'ok';
    } catch (err) {
      read = detailOf(err);
    }
    if (read === 'ok') {
      try {
        await this.run('INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at', new Date().toISOString());
        write = 'ok';
      } catch (err) {
        write = detailOf(err);
      }
    }
    if (read !== 'ok' || write !== 'ok') return { ok: false, read, write, error: read !== 'ok' ? `golive cannot reach its database (${this.target}): ${read}` : `the database cannot be written: ${write}` };
    return { ok: true, read: 'ok', write: 'ok', schemaVersion: version };
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * The leader's hold on PostgreSQL: a session advisory lock on a connection of
 * its own. The server frees it the moment that connection ends, so a replica
 * that dies (SIGKILL, a lost task) lets another lead at its next try; one
 * that loses the database notices at its next check and stops leading.
 */
export class PostgresLeaderLock {
  private client?: pg.Client;

  constructor(
    private readonly store: PostgresStore,
    private readonly onLost: (err: Error) => void,
  ) {}

  /** Takes the lock if no other replica holds it; true while this one does. */
  async tryAcquire(): Promise<boolean> {
    if (this.client) return true;
    const client = this.store.connect();
    client.on('error', (err) => this.lost(client, err));
    await client.connect();
    try {
      // The server's side of the watch: a leader whose network is gone is noticed in about 11 s, which frees its lock.
      await client.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3');
      const got = (await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [ADVISORY_LOCKS.leader])).rows[0]?.got === true;
      if (!got) {
        await client.end();
        return false;
      }
      this.client = client;
      return true;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  /** Whether the lock's connection still answers (it is the lock). */
  async check(): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    try {
      // A connection that hangs (a partition) is as lost as one that fails: the check gives it a few seconds.
      await Promise.race([client.query('SELECT 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('the leader lock connection did not answer within 4 s')), 4000).unref())]);
      return this.client === client;
    } catch (err) {
      this.lost(client, err as Error);
      return false;
    }
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.onLost(err);
  }

  /** Gives the lock up (a clean stop): another replica can lead at once. */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.leader]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The channel replicas tell each other on that the boards or App Home may be stale. */
const CHANGES_CHANNEL = 'golive_changes';

/**
 * Tells the other replicas that something changed, through PostgreSQL's
 * LISTEN/NOTIFY (delivered at commit, to every listening connection): so that
 * one replica, the leader, redraws the status boards and App Home for changes
 * made on any replica — once, and from the latest state, instead of each
 * replica drawing its own changes and an older drawing landing last.
 */
export class PostgresChangeRelay {
  private client?: pg.Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly store: PostgresStore,
    private readonly onChange: (kind: string) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Starts listening; a lost connection is reopened every few seconds, and reopening counts as a change (notices may have been missed). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.listen().catch((err: unknown) => this.lost(err as Error));
  }

  private async listen(): Promise<void> {
    const client = this.store.connect();
    client.on('error', (err) => this.lost(err, client));
    client.on('end', () => this.lost(new Error('the change notice connection ended'), client));
    client.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL && n.payload) this.onChange(n.payload);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.client = client;
  }

  private lost(err: Error, client?: pg.Client): void {
    if (client && this.client !== client && this.client !== undefined) return;
    this.client = undefined;
    if (this.stopped || this.retry) return;
    this.onError(err);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listen().then(
        () => {
          this.onChange('status');
          this.onChange('home');
        },
        (e: unknown) => this.lost(e as Error),
      );
    }, 3000);
    this.retry.unref();
  }

  /** Tells every replica (the leader acts on it). */
  async publish(kind: string): Promise<void> {
    await this.store.run('SELECT pg_notify(?, ?)', CHANGES_CHANNEL, kind);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
