import type { PagerSeverity } from '../platform/pager/pager-port.js';
import type { StormPaging } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';

/** An alarm storm: many alarms going to ALARM together, shown as one post with its alarms in the thread. */
export interface StormRow {
  id: number;
  region: string;
  paging: StormPaging;
  started_at: string;
  last_firing_at: string;
  ended_at: string | null;
  post_outbox_id: number | null;
  dirty: number;
}

/** One firing of one alarm in a storm. */
export interface StormAlarmRow {
  storm_id: number;
  name: string;
  fired_at: string;
  joined_at: string;
  severity: PagerSeverity;
  rule: string | null;
  pages: number;
  reason: string;
  region: string;
  reply_outbox_id: number | null;
  own_post: number;
  ended_at: string | null;
  ended_state: string | null;
  redraw: number;
  paged: number;
}

/** by_rule: the page of one alarm rule in a storm. */
export interface StormPageRow {
  storm_id: number;
  rule: string;
  dedup_key: string;
  triggered_at: string;
  resolved_at: string | null;
}

/** An alarm firing now with a post of its own that began within a window (a storm that begins may count it). */
export interface RecentFiring {
  name: string;
  fired_at: string;
  post_outbox_id: number;
}

/** The storm tables: storms, the firings in each, and by_rule's pages. */
export class StormRepository {
  constructor(private readonly store: Store) {}

  /** The storm still going on, if any (there is at most one). */
  open(): Promise<StormRow | undefined> {
    return this.store.get<StormRow>('SELECT * FROM alarm_storm WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1');
  }

  get(id: number): Promise<StormRow | undefined> {
    return this.store.get<StormRow>('SELECT * FROM alarm_storm WHERE id = ?', id);
  }

  async start(s: { region: string; paging: StormPaging; at: string }): Promise<StormRow> {
    return (await this.store.get<StormRow>('INSERT INTO alarm_storm (region, paging, started_at, last_firing_at) VALUES (?, ?, ?, ?) RETURNING *', s.region, s.paging, s.at, s.at))!;
  }

  /** A firing joins the storm (once); the storm's post is to be redrawn and its quiet time starts again. */
  async join(m: Omit<StormAlarmRow, 'reply_outbox_id' | 'ended_at' | 'ended_state' | 'redraw'> & { reply_outbox_id?: number | null }): Promise<void> {
    await this.store.run(
      `INSERT INTO alarm_storm_alarm (storm_id, name, fired_at, joined_at, severity, rule, pages, reason, region, reply_outbox_id, own_post, paged)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      m.storm_id,
      m.name,
      m.fired_at,
      m.joined_at,
      m.severity,
      m.rule,
      m.pages,
      m.reason,
      m.region,
      m.reply_outbox_id ?? null,
      m.own_post,
      m.paged,
    );
    await this.store.run('UPDATE alarm_storm SET last_firing_at = ?, dirty = 1 WHERE id = ?', m.joined_at, m.storm_id);
  }

  /** The storm firing an alarm's firing at `firedAt` belongs to, if it is in one. */
  memberOf(name: string, firedAt: string): Promise<StormAlarmRow | undefined> {
    return this.store.get<StormAlarmRow>('SELECT * FROM alarm_storm_alarm WHERE name = ? AND fired_at = ? ORDER BY storm_id DESC LIMIT 1', name, firedAt);
  }

  /** A firing in a storm ended (the alarm left ALARM): counted on the storm's post, shown on its line in the thread. */
  async left(stormId: number, name: string, firedAt: string, state: string, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_storm_alarm SET ended_at = ?, ended_state = ?, redraw = 1 WHERE storm_id = ? AND name = ? AND fired_at = ? AND ended_at IS NULL', at, state, stormId, name, firedAt);
    await this.store.run('UPDATE alarm_storm SET dirty = 1 WHERE id = ?', stormId);
  }

  /** Its line in the thread is to be redrawn (acknowledged). */
  async redraw(stormId: number, name: string, firedAt: string): Promise<void> {
    await this.store.run('UPDATE alarm_storm_alarm SET redraw = 1 WHERE storm_id = ? AND name = ? AND fired_at = ?', stormId, name, firedAt);
  }

  members(stormId: number): Promise<StormAlarmRow[]> {
    return this.store.all<StormAlarmRow>('SELECT * FROM alarm_storm_alarm WHERE storm_id = ? ORDER BY joined_at, name, fired_at', stormId);
  }

  /**
   * Storms with something to do: one still going on (it may have gone quiet), a post or a line in its thread to
   * (re)draw, or a by_rule page to send or resolve.
   */
  needingWork(): Promise<StormRow[]> {
    return this.store.all<StormRow>(
      `SELECT * FROM alarm_storm s
       WHERE s.ended_at IS NULL OR s.dirty = 1
          OR EXISTS (SELECT 1 FROM alarm_storm_alarm m WHERE m.storm_id = s.id AND (m.reply_outbox_id IS NULL OR m.redraw = 1
               OR (s.paging = 'by_rule' AND m.pages = 1 AND m.own_post = 0 AND m.paged = 0 AND m.ended_at IS NULL)))
          OR EXISTS (SELECT 1 FROM alarm_storm_page p WHERE p.storm_id = s.id AND p.resolved_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM alarm_storm_alarm m WHERE m.storm_id = p.storm_id AND m.rule = p.rule AND m.own_post = 0 AND m.ended_at IS NULL))
       ORDER BY s.id`,
    );
  }

  async setPost(stormId: number, outboxId: number): Promise<void> {
    await this.store.run('UPDATE alarm_storm SET post_outbox_id = ?, dirty = 0 WHERE id = ?', outboxId, stormId);
  }

  async drawn(stormId: number): Promise<void> {
    await this.store.run('UPDATE alarm_storm SET dirty = 0 WHERE id = ?', stormId);
  }

  async end(stormId: number, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_storm SET ended_at = ?, dirty = 1 WHERE id = ? AND ended_at IS NULL', at, stormId);
  }

  /** The thread reply that now shows these firings (and is their alarms' post). */
  async setReply(stormId: number, firings: readonly { name: string; fired_at: string }[], outboxId: number): Promise<void> {
    for (const f of firings) await this.store.run('UPDATE alarm_storm_alarm SET reply_outbox_id = ?, redraw = 0 WHERE storm_id = ? AND name = ? AND fired_at = ?', outboxId, stormId, f.name, f.fired_at);
  }

  async replyDrawn(stormId: number, outboxId: number): Promise<void> {
    await this.store.run('UPDATE alarm_storm_alarm SET redraw = 0 WHERE storm_id = ? AND reply_outbox_id = ?', stormId, outboxId);
  }

  async markPaged(stormId: number, firings: readonly { name: string; fired_at: string }[]): Promise<void> {
    for (const f of firings) await this.store.run('UPDATE alarm_storm_alarm SET paged = 1 WHERE storm_id = ? AND name = ? AND fired_at = ?', stormId, f.name, f.fired_at);
  }

  pages(stormId: number): Promise<StormPageRow[]> {
    return this.store.all<StormPageRow>('SELECT * FROM alarm_storm_page WHERE storm_id = ? ORDER BY rule', stormId);
  }

  page(stormId: number, rule: string): Promise<StormPageRow | undefined> {
    return this.store.get<StormPageRow>('SELECT * FROM alarm_storm_page WHERE storm_id = ? AND rule = ?', stormId, rule);
  }

  async triggered(stormId: number, rule: string, dedupKey: string, at: string): Promise<void> {
    await this.store.run(
      `INSERT INTO alarm_storm_page (storm_id, rule, dedup_key, triggered_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (storm_id, rule) DO UPDATE SET triggered_at = excluded.triggered_at, resolved_at = NULL`,
      stormId,
      rule,
      dedupKey,
      at,
    );
  }

  async resolved(stormId: number, rule: string, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_storm_page SET resolved_at = ? WHERE storm_id = ? AND rule = ?', at, stormId, rule);
  }

  /**
   * Alarms firing now, with a post of their own and in no storm, whose firing was recorded after `since`: pushed
   * one at a time, they are the start of a storm that a push batch alone does not show.
   */
  recentFirings(since: string): Promise<RecentFiring[]> {
    return this.store.all<RecentFiring>(
      `SELECT s.name, s.fired_at, s.post_outbox_id FROM alarm_state s
       WHERE s.state = 'ALARM' AND s.storm_id IS NULL AND s.post_outbox_id IS NOT NULL AND s.fired_at IS NOT NULL AND s.flapping_since IS NULL
         AND EXISTS (SELECT 1 FROM alarm_transition t WHERE t.name = s.name AND t.to_state = 'ALARM' AND t.at = s.fired_at AND t.recorded_at > ?)
       ORDER BY s.name`,
      since,
    );
  }
}
