import type { Store } from '../platform/store/store.js';

/** Who has opened the Home tab, so it can be republished for them when the launch changes. */
export class HomeRepository {
  constructor(private readonly store: Store) {}

  async opened(userId: string, at: string): Promise<void> {
    await this.store.run('INSERT INTO home_viewer (user_id, opened_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET opened_at = excluded.opened_at', userId, at);
  }

  /** Viewers who opened the tab since `since`, most recent first, at most `limit`. */
  async viewers(since: string, limit: number): Promise<string[]> {
    return (await this.store.all<{ user_id: string }>('SELECT user_id FROM home_viewer WHERE opened_at >= ? ORDER BY opened_at DESC LIMIT ?', since, limit)).map((r) => r.user_id);
  }
}
