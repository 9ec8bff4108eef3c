import type { Store } from '../store/store.js';

/** Who leads, as recorded by the leader when it took over (the lock itself is the database's). */
export interface LeaderRow {
  replica: string;
  since: string;
}

/** The `leader` table: one row per role, written by whichever replica takes it. */
export class LeaderRepository {
  constructor(private readonly store: Store) {}

  async record(role: string, replica: string, since: string): Promise<void> {
    await this.store.run('INSERT INTO leader (role, replica, since) VALUES (?, ?, ?) ON CONFLICT (role) DO UPDATE SET replica = excluded.replica, since = excluded.since', role, replica, since);
  }

  current(role: string): Promise<LeaderRow | undefined> {
    return this.store.get<LeaderRow>('SELECT replica, since FROM leader WHERE role = ?', role);
  }
}
