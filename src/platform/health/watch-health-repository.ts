import type { Store } from '../store/store.js';

/** What golive keeps about one thing it watches while that thing is failing. */
export interface WatchRecord {
  /** Failures in a row (polls, deliveries); for the outbox, how many deliveries were waiting when it was found backed up. */
  failures: number;
  /** When the failing started: the first failure in a row, or when the oldest waiting call was stored. */
  since: string;
  /** The latest error, as golive would show it. */
  error: string;
  /** Whether the ops channel has been told. */
  announced: boolean;
}

const KEY = (watch: string) => `watch_health/${watch}`;

/** The failing watches, one `watcher_meta` row each (no row: it works), so a restart neither forgets when the failing started nor announces it again. */
export class WatchHealthRepository {
  constructor(private readonly store: Store) {}

  async get(watch: string): Promise<WatchRecord | undefined> {
    const row = await this.store.get<{ value: string }>('SELECT value FROM watcher_meta WHERE key = ?', KEY(watch));
    return row ? (JSON.parse(row.value) as WatchRecord) : undefined;
  }

  async set(watch: string, record: WatchRecord): Promise<void> {
    await this.store.run('INSERT INTO watcher_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', KEY(watch), JSON.stringify(record));
  }

  async clear(watch: string): Promise<void> {
    await this.store.run('DELETE FROM watcher_meta WHERE key = ?', KEY(watch));
  }
}
