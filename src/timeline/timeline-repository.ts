import type { Store } from '../platform/store/store.js';

/** A launch setting changed at run time (T-0), with who changed it. */
export interface LaunchSettingRow {
  value: string;
  set_by: string;
  set_at: string;
}

/** A milestone posted (once, ever). */
export interface MilestonePostRow {
  key: string;
  posted_at: string;
  late_ms: number;
}

/** The launch clock's tables: settings such as T-0, and the milestones already posted. */
export class TimelineRepository {
  constructor(private readonly store: Store) {}

  async setting(key: string): Promise<LaunchSettingRow | undefined> {
    return this.store.get<LaunchSettingRow>('SELECT value, set_by, set_at FROM launch_setting WHERE key = ?', key);
  }

  async putSetting(key: string, value: string, by: string, at: string): Promise<void> {
    await this.store.run(
      'INSERT INTO launch_setting (key, value, set_by, set_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at',
      key,
      value,
      by,
      at,
    );
  }

  async posted(): Promise<MilestonePostRow[]> {
    return this.store.all<MilestonePostRow>('SELECT key, posted_at, late_ms FROM milestone_post');
  }

  /** Claims a milestone for posting; false if it was already claimed. */
  async claimMilestone(key: string, dueAt: string, postedAt: string, lateMs: number): Promise<boolean> {
    return (await this.store.run('INSERT INTO milestone_post (key, due_at, posted_at, late_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', key, dueAt, postedAt, lateMs)) === 1;
  }

  async setMilestonePost(key: string, outboxId: number): Promise<void> {
    await this.store.run('UPDATE milestone_post SET outbox_id = ? WHERE key = ?', outboxId, key);
  }
}
