import type { LeaderLock } from '../leadership/leadership.js';
import type { Logger } from '../logger.js';
import { openCheckedDatabase } from './check-database.js';
import { isPostgresUrl } from './database-url.js';
import { PostgresChangeRelay, PostgresLeaderLock, PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/**
 * The store GOLIVE_DB names: a postgres:// URL opens PostgreSQL (connected and
 * migrated by `ready()`), anything else is a SQLite file, opened, migrated and
 * checked here (a damaged or read-only file fails now, naming the fix).
 */
export function openStore(config: { dbPath: string; dbPassword?: string; replica: string }, logger: Logger): Store {
  if (!isPostgresUrl(config.dbPath)) return new SqliteStore(openCheckedDatabase(config.dbPath));
  return new PostgresStore({ url: config.dbPath, password: config.dbPassword, applicationName: `golive ${config.replica}`.slice(0, 63) }, (err) => logger.warn({ err }, 'a database connection failed; the next statement opens another'));
}

/** The lock that elects a leader among replicas sharing the store; none for SQLite, where this process always leads. */
export function leaderLockFor(store: Store, onLost: (err: Error) => void): LeaderLock | undefined {
  return store instanceof PostgresStore ? new PostgresLeaderLock(store, onLost) : undefined;
}

/** How replicas sharing the store tell each other of changes; none for SQLite, where this process draws everything itself. */
export function changeRelayFor(store: Store, onChange: (kind: string) => void, onError: (err: Error) => void): PostgresChangeRelay | undefined {
  return store instanceof PostgresStore ? new PostgresChangeRelay(store, onChange, onError) : undefined;
}
