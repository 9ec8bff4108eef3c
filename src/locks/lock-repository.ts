import type { Store } from '../platform/store/store.js';
import type { LockRow } from './decide-locks.js';

/** Deploy locks: at most one unreleased lock per scope (a service, or `*` for all). */
export class LockRepository {
  constructor(private readonly store: Store) {}

  /** Sets a lock; undefined when the scope already has an unreleased one. */
  async create(row: Pick<LockRow, 'scope' | 'reason' | 'locked_by' | 'locked_at' | 'expires_at' | 'channel'>): Promise<number | undefined> {
    const created = await this.store.get<{ id: number }>(
      `INSERT INTO deploy_lock (scope, reason, locked_by, locked_at, expires_at, channel) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope) WHERE released_at IS NULL DO NOTHING RETURNING id`,
      row.scope,
      row.reason,
      row.locked_by,
      row.locked_at,
      row.expires_at,
      row.channel,
    );
    return created?.id;
  }

  async get(id: number): Promise<LockRow | undefined> {
    return this.store.get<LockRow>('SELECT * FROM deploy_lock WHERE id = ?', id);
  }

  /** The unreleased lock of a scope, expired or not. */
  async open(scope: string): Promise<LockRow | undefined> {
    return this.store.get<LockRow>('SELECT * FROM deploy_lock WHERE scope = ? AND released_at IS NULL', scope);
  }

  /** Every unreleased lock (some may be past their expiry, waiting for the sweep). */
  async allOpen(): Promise<LockRow[]> {
    return this.store.all<LockRow>('SELECT * FROM deploy_lock WHERE released_at IS NULL ORDER BY id');
  }

  /** Changes the reason and expiry of the holder's own unreleased lock. */
  async extend(id: number, reason: string, expiresAt: string): Promise<boolean> {
    return (await this.store.run('UPDATE deploy_lock SET reason = ?, expires_at = ? WHERE id = ? AND released_at IS NULL', reason, expiresAt, id)) === 1;
  }

  /** Releases a lock once; false if it was already released. */
  async release(id: number, kind: 'unlocked' | 'expired', by: string | null, at: string): Promise<boolean> {
    return (await this.store.run('UPDATE deploy_lock SET released_at = ?, released_by = ?, release_kind = ? WHERE id = ? AND released_at IS NULL', at, by, kind, id)) === 1;
  }

  /** Unreleased locks whose time is up, for the expiry sweep. */
  async dueExpiries(now: string): Promise<LockRow[]> {
    return this.store.all<LockRow>('SELECT * FROM deploy_lock WHERE released_at IS NULL AND expires_at <= ? ORDER BY id', now);
  }
}
