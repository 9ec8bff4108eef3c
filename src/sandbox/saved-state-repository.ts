import type { Store } from '../platform/store/store.js';

/**
 * The simulated world (Slack messages, ECS revisions, alarms, pages), saved
 * next to golive's own tables in the sandbox database so that a restarted
 * sandbox shows the same session the app's state refers to.
 */
export class SavedStateRepository {
  private constructor(private readonly store: Store) {}

  /** The saved world of a sandbox database, its table created if this is the first session. */
  static async open(store: Store): Promise<SavedStateRepository> {
    // Only sandbox databases have this table, so it is not one of golive's migrations.
    await store.run('CREATE TABLE IF NOT EXISTS sandbox_world (name TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at TEXT NOT NULL)');
    return new SavedStateRepository(store);
  }

  async load<T extends { version: number }>(name: string): Promise<T | undefined> {
    const row = await this.store.get<{ state: string }>('SELECT state FROM sandbox_world WHERE name = ?', name);
    if (!row) return undefined;
    const value = JSON.parse(row.state) as T;
    // A snapshot from another version of the sandbox starts that part of the world afresh.
    return value.version === 1 ? value : undefined;
  }

  async save(name: string, value: unknown): Promise<void> {
    await this.store.run('INSERT INTO sandbox_world (name, state, saved_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at', name, JSON.stringify(value), new Date().toISOString());
  }
}
