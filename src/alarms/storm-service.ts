import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { PAGER_SEVERITIES, type PagerSeverity } from '../platform/pager/pager-port.js';
import type { PageNotifier } from '../platform/outbox/outbox-pages.js';
import type { Runbook, StormPaging } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { AlarmRepository, type AlarmRow } from './alarm-repository.js';
import { alarmRuleFor, alarmRuleMatch, stormRule } from './alarm-rules.js';
import { StormRepository, type RecentFiring, type StormAlarmRow, type StormRow } from './storm-repository.js';

/** What the storm post shows: counts, every critical alarm, how it paged. */
export interface StormView {
  startedAt: string;
  /** When the last alarm joined it. */
  lastFiringAt: string;
  /** Set once it is over. */
  endedAt?: string;
  quietMinutes: number;
  /** Alarms that went to ALARM in it (an alarm that fired twice counts once). */
  alarms: number;
  firing: number;
  recovered: number;
  noData: number;
  /** Alarms in it by their rule's severity. */
  bySeverity: Record<PagerSeverity, number>;
  /** Every critical alarm in it, in the order they joined, and how it stands. */
  critical: { name: string; state: StormAlarmState }[];
  paging: StormPaging;
  /** per_alarm: how many of its alarms page on-call (one page each). */
  pagingAlarms: number;
  /** by_rule: each rule's one page, and how many alarms it covers. */
  rulePages: { rule: string; alarms: number; resolved: boolean }[];
  /** Alarms shown by posts of their own, made before the storm began. */
  ownPosts: number;
}

export type StormAlarmState = 'firing' | 'recovered' | 'no_data';

/** One alarm's line in the storm's thread. */
export interface StormAlarmView {
  name: string;
  firedAt: string;
  region: string;
  severity: PagerSeverity;
  pages: boolean;
  reason: string;
  description?: string;
  state: StormAlarmState;
  endedAt?: string;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
}

/**
 * The Slack side of storms: stores outbox rows inside the caller's transaction. The notifier decides how many
 * alarms one thread reply carries (Slack's limits), and says which reply holds which alarms.
 */
export interface StormNotifier {
  stormStarted(view: StormView): Promise<number>;
  /** The storm post redrawn (coalesced: one pending edit at a time). */
  stormChanged(post: number, view: StormView): Promise<void>;
  /** The alarms' lines as thread replies, several per reply, in the order given. */
  stormReplies(post: number, alarms: StormAlarmView[]): Promise<{ outboxId: number; alarms: StormAlarmView[] }[]>;
  /** One reply redrawn with its alarms as they stand (coalesced). */
  stormReplyChanged(reply: number, alarms: StormAlarmView[]): Promise<void>;
}

/** What a batch of transitions does about storms (see {@link AlarmStorms.decide}). */
export interface StormBatch {
  /** Firings go to a storm instead of posts of their own. */
  storm: boolean;
  /** Pushed firings with posts of their own that a storm this batch begins counts too. */
  earlier: RecentFiring[];
  /** A firing joined or left a storm: it is to be redrawn. */
  touched: boolean;
}

/** The order of the thread: critical first, then by when they joined. */
const RANK: Record<string, number> = Object.fromEntries(PAGER_SEVERITIES.map((s, i) => [s, i]));

/** A by_rule page's dedup key: one per rule and storm. */
export function stormPageKey(region: string, stormId: number, rule: string): string {
  return `golive/alarm-storm/${region}/${stormId}/${rule}`;
}

/**
 * Alarm storms (issue 14): more than `alarms.storm.threshold` alarms going to ALARM in one poll (or, pushed,
 * within one poll interval) become one storm post instead of a post each — counts by severity, every critical
 * alarm named — with the alarms' lines in its thread, several per reply. While it lasts, every new firing
 * joins it (counted and threaded) and every recovery is counted; its post is edited in place, one pending edit
 * at a time. `quiet_minutes` after the last alarm joined, the post says it is over. Firings are recorded with
 * their transitions; drawing happens in {@link flush}, once per batch, so a storm of 2,000 alarms is drawn once.
 */
export class AlarmStorms {
  private readonly rows: StormRepository;
  private readonly alarms: AlarmRepository;
  private notifier?: StormNotifier;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      clock: Clock;
      logger: Logger;
      pages: PageNotifier;
      /** The shortest gap between polls: the window in which pushed firings add up to a storm. */
      pollIntervalMs: number;
      launchName: string;
      pagerSource: string;
      /** Told when a storm's post (or its pages) has been committed, so the outbox sends it before the thread is stored. */
      stored?: () => void;
    },
  ) {
    this.rows = new StormRepository(deps.store);
    this.alarms = new AlarmRepository(deps.store);
  }

  notify(notifier: StormNotifier | undefined): void {
    this.notifier = notifier;
  }

  get repository(): StormRepository {
    return this.rows;
  }

  /**
   * Whether the firings of a batch go to a storm: one is going on, or the batch brings more than the threshold
   * of alarms into ALARM — counting, for pushes, the alarms pushed into ALARM within the last poll interval.
   * `firing` are the batch's alarms that look newly in ALARM.
   */
  async decide(firing: readonly string[], pushed: boolean): Promise<StormBatch> {
    const now = this.deps.clock.now();
    await this.endQuiet(now.toISOString());
    if (await this.rows.open()) return { storm: true, earlier: [], touched: false };
    const { threshold } = stormRule(this.deps.runbook);
    if (firing.length > threshold) return { storm: true, earlier: [], touched: false };
    if (!pushed || firing.length === 0) return { storm: false, earlier: [], touched: false };
    const names = new Set(firing);
    const earlier = (await this.rows.recentFirings(new Date(now.getTime() - this.deps.pollIntervalMs).toISOString())).filter((r) => !names.has(r.name));
    return firing.length + earlier.length > threshold ? { storm: true, earlier, touched: false } : { storm: false, earlier: [], touched: false };
  }

  /** Ends, inside a transaction, a storm no alarm has joined for `quiet_minutes`; its post is redrawn at the next flush. */
  private async endQuiet(now: string): Promise<void> {
    const open = await this.rows.open();
    if (!open || !this.quiet(open, now)) return;
    await this.deps.store.transaction(async () => {
      const fresh = await this.rows.open();
      if (fresh && this.quiet(fresh, now)) await this.rows.end(fresh.id, now);
    });
  }

  private quiet(storm: StormRow, now: string): boolean {
    return Date.parse(storm.last_firing_at) + stormRule(this.deps.runbook).quiet_minutes * 60_000 <= Date.parse(now);
  }

  /**
   * A firing joins the storm going on (or the one this batch begins, with the batch's earlier pushed firings),
   * inside the transition's transaction. Its alarm's post is the thread reply {@link flush} will store.
   */
  async join(batch: StormBatch, f: { name: string; firedAt: string; reason: string; region: string }): Promise<StormRow> {
    const now = this.deps.clock.now().toISOString();
    let storm = await this.rows.open();
    if (!storm) {
      storm = await this.rows.start({ region: f.region, paging: stormRule(this.deps.runbook).paging, at: now });
      this.deps.logger.info({ storm: storm.id, threshold: stormRule(this.deps.runbook).threshold }, 'an alarm storm began');
    }
    for (const e of batch.earlier.splice(0)) {
      const row = await this.alarms.alarm(e.name);
      // Still the firing that was posted on its own: counted in the storm, its post kept (and it paged on its own).
      if (row?.state !== 'ALARM' || row.fired_at !== e.fired_at) continue;
      await this.rows.join({ ...this.member(storm.id, e.name, e.fired_at, row.reason, row.region ?? f.region, now), reply_outbox_id: e.post_outbox_id, own_post: 1, paged: 1 });
    }
    await this.rows.join(this.member(storm.id, f.name, f.firedAt, f.reason, f.region, now));
    await this.alarms.joinStorm(f.name, storm.id);
    batch.touched = true;
    return storm;
  }

  private member(stormId: number, name: string, firedAt: string, reason: string, region: string, now: string) {
    const rule = alarmRuleFor(this.deps.runbook, name);
    return { storm_id: stormId, name, fired_at: firedAt, joined_at: now, severity: rule.severity, rule: alarmRuleMatch(this.deps.runbook, name) ?? null, pages: rule.page ? 1 : 0, reason, region, own_post: 0, paged: 0 };
  }

  /**
   * The storm and alarm rule a storm firing is asked an incident under (`<storm id>:<match>`): a storm of
   * alarms under a rule that opens incidents opens one per rule, not one channel per alarm. None without a rule.
   */
  ruleKey(stormId: number, name: string): string | undefined {
    const rule = alarmRuleMatch(this.deps.runbook, name);
    return rule === undefined ? undefined : `${stormId}:${rule}`;
  }

  /** The storm firing of an alarm's firing at `firedAt`, if it is in one. */
  memberOf(name: string, firedAt: string): Promise<StormAlarmRow | undefined> {
    return this.rows.memberOf(name, firedAt);
  }

  /** A firing in a storm left ALARM (to `state`), inside the transition's transaction. */
  async left(member: StormAlarmRow, state: string, at: string, batch?: StormBatch): Promise<void> {
    await this.rows.left(member.storm_id, member.name, member.fired_at, state, at);
    if (batch) batch.touched = true;
  }

  /** Whether a storm firing pages by rule (its alarm's own dedup key is then never paged). */
  async pagesByRule(stormId: number | null): Promise<boolean> {
    if (stormId === null) return false;
    return (await this.rows.get(stormId))?.paging === 'by_rule';
  }

  /** The dedup key an acknowledgement of a storm firing acknowledges: its rule's page under by_rule, if one was sent. */
  async pageKeyOf(row: AlarmRow): Promise<string | undefined> {
    if (row.storm_id === null || !row.fired_at) return undefined;
    const storm = await this.rows.get(row.storm_id);
    const member = await this.rows.memberOf(row.name, row.fired_at);
    if (storm?.paging !== 'by_rule' || member?.storm_id !== storm.id || member.rule === null) return undefined;
    return (await this.rows.page(storm.id, member.rule))?.dedup_key;
  }

  /** An acknowledged storm firing: its line in the thread is redrawn at the next flush. */
  async acknowledged(row: AlarmRow): Promise<void> {
    if (row.storm_id !== null && row.fired_at) await this.rows.redraw(row.storm_id, row.name, row.fired_at);
  }

  /**
   * Draws and pages what the storms need, one transaction per storm: a storm that went quiet is over; a new
   * storm's post; the lines of alarms that joined, as thread replies (critical first); the post and the replies
   * whose alarms changed, edited in place; by_rule, a trigger per rule for its alarms not yet paged and a
   * resolve once all of a rule's alarms have left ALARM. Resolves with whether anything was stored.
   */
  async flush(): Promise<boolean> {
    await this.endQuiet(this.deps.clock.now().toISOString());
    let stored = false;
    for (const s of await this.rows.needingWork()) {
      // The post (and by_rule's pages) commit first and go at once: the thread of a big storm takes longer to store.
      if (await this.deps.store.transaction(() => this.flushOne(s.id, 'post'))) {
        stored = true;
        this.deps.stored?.();
      }
      if (await this.deps.store.transaction(() => this.flushOne(s.id, 'thread'))) stored = true;
    }
    return stored;
  }

  private async flushOne(id: number, part: 'post' | 'thread'): Promise<boolean> {
    const storm = (await this.rows.get(id))!;
    const now = this.deps.clock.now().toISOString();
    const members = await this.rows.members(id);
    const states = new Map((await this.alarms.inStorm(id)).map((r) => [r.name, r]));
    // Pages first: they are stored before the posts, and the post's paging line reads the same members.
    let stored = part === 'post' && storm.paging === 'by_rule' && (await this.pageByRule(storm, members, now));
    if (this.notifier) {
      const lines = new Map(members.map((m) => [m, this.line(m, states.get(m.name))]));
      const post = storm.post_outbox_id;
      if (part === 'post') {
        const view = this.view(storm, members, lines);
        if (post === null) {
          await this.rows.setPost(id, await this.notifier.stormStarted(view));
          stored = true;
        } else if (storm.dirty) {
          await this.notifier.stormChanged(post, view);
          await this.rows.drawn(id);
          stored = true;
        }
        return stored;
      }
      // The post was stored by the first part (it may have failed to: then the thread waits for the next flush).
      if (post === null) return stored;
      const fresh = members.filter((m) => m.reply_outbox_id === null && !m.own_post);
      if (fresh.length > 0) {
        const ordered = [...fresh].sort(byThreadOrder);
        for (const reply of await this.notifier.stormReplies(post, ordered.map((m) => lines.get(m)!))) {
          const firings = reply.alarms.map((a) => ({ name: a.name, fired_at: a.firedAt }));
          await this.rows.setReply(id, firings, reply.outboxId);
          await this.alarms.setStormPost(id, firings, reply.outboxId);
        }
        stored = true;
      }
      const redraw = new Set(members.filter((m) => m.redraw && m.reply_outbox_id !== null && !m.own_post).map((m) => m.reply_outbox_id!));
      for (const reply of redraw) {
        const shown = members.filter((m) => m.reply_outbox_id === reply).sort(byThreadOrder);
        await this.notifier.stormReplyChanged(reply, shown.map((m) => lines.get(m)!));
        await this.rows.replyDrawn(id, reply);
        stored = true;
      }
    }
    return stored;
  }

  /** by_rule: a trigger per rule for its firing alarms not yet paged, a resolve for a rule none of whose alarms fires any more. */
  private async pageByRule(storm: StormRow, members: StormAlarmRow[], now: string): Promise<boolean> {
    let stored = false;
    const byRule = new Map<string, StormAlarmRow[]>();
    for (const m of members) {
      if (!m.pages || m.own_post || m.rule === null) continue;
      const list = byRule.get(m.rule);
      if (list) list.push(m);
      else byRule.set(m.rule, [m]);
    }
    for (const [rule, ms] of byRule) {
      const firing = ms.filter((m) => m.ended_at === null);
      const unpaged = firing.filter((m) => !m.paged);
      const key = stormPageKey(storm.region, storm.id, rule);
      if (unpaged.length > 0) {
        const names = [...new Set(firing.map((m) => m.name))];
        const severity = [...firing].sort(byThreadOrder)[0]!.severity;
        await this.deps.pages.trigger(
          {
            dedupKey: key,
            summary: `Alarm storm: ${names.length} alarm${names.length === 1 ? '' : 's'} of rule ${rule} in ALARM: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`.slice(0, 1024),
            source: this.deps.pagerSource,
            severity,
            component: this.deps.runbook.pagerduty?.component,
            group: this.deps.runbook.pagerduty?.group,
            class: 'cloudwatch-alarm-storm',
            timestamp: firing[0]!.fired_at,
            customDetails: { rule, alarms: names.slice(0, 200), alarm_count: names.length, storm_started_at: storm.started_at, region: storm.region, launch: this.deps.launchName },
            links: [{ href: `https://${storm.region}.console.aws.amazon.com/cloudwatch/home?region=${storm.region}#alarmsV2:?~(alarmStateFilter~'ALARM)`, text: 'CloudWatch alarms in ALARM' }],
          },
          now,
        );
        await this.rows.triggered(storm.id, rule, key, now);
        await this.rows.markPaged(storm.id, unpaged);
        stored = true;
      } else if (firing.length === 0) {
        const page = await this.rows.page(storm.id, rule);
        if (page && page.resolved_at === null) {
          await this.deps.pages.resolve(page.dedup_key, now);
          await this.rows.resolved(storm.id, rule, now);
          stored = true;
        }
      }
    }
    return stored;
  }

  /** One firing's line, from what the storm knows and its alarm's stored state (who acknowledged it). */
  private line(m: StormAlarmRow, state: AlarmRow | undefined): StormAlarmView {
    const rule = alarmRuleFor(this.deps.runbook, m.name);
    const current = state && state.fired_at === m.fired_at && state.state === 'ALARM';
    const ended = m.ended_at ? { at: m.ended_at, state: m.ended_state ?? 'OK' } : undefined;
    return {
      name: m.name,
      firedAt: m.fired_at,
      region: m.region,
      severity: m.severity,
      pages: Boolean(m.pages),
      reason: m.reason,
      ...(rule.description ? { description: rule.description } : {}),
      state: !ended ? 'firing' : ended.state === 'OK' ? 'recovered' : 'no_data',
      ...(ended ? { endedAt: ended.at } : {}),
      ...(current && state.acked_by ? { acknowledgedBy: state.acked_by, ...(state.acked_at ? { acknowledgedAt: state.acked_at } : {}) } : {}),
    };
  }

  private view(storm: StormRow, members: StormAlarmRow[], lines: Map<StormAlarmRow, StormAlarmView>): StormView {
    // An alarm that fired twice in the storm stands as its latest firing.
    const latest = new Map<string, StormAlarmRow>();
    for (const m of members) if (!latest.has(m.name) || latest.get(m.name)!.fired_at < m.fired_at) latest.set(m.name, m);
    const shown = [...latest.values()].sort((a, b) => (a.joined_at < b.joined_at ? -1 : a.joined_at > b.joined_at ? 1 : a.name < b.name ? -1 : 1));
    const bySeverity = Object.fromEntries(PAGER_SEVERITIES.map((s) => [s, 0])) as Record<PagerSeverity, number>;
    const count = { firing: 0, recovered: 0, no_data: 0 };
    for (const m of shown) {
      bySeverity[m.severity]++;
      count[lines.get(m)!.state]++;
    }
    const rulePages = new Map<string, Set<string>>();
    for (const m of shown) if (m.pages && !m.own_post && m.rule !== null) rulePages.set(m.rule, (rulePages.get(m.rule) ?? new Set()).add(m.name));
    return {
      startedAt: storm.started_at,
      lastFiringAt: storm.last_firing_at,
      ...(storm.ended_at ? { endedAt: storm.ended_at } : {}),
      quietMinutes: stormRule(this.deps.runbook).quiet_minutes,
      alarms: shown.length,
      firing: count.firing,
      recovered: count.recovered,
      noData: count.no_data,
      bySeverity,
      critical: shown.filter((m) => m.severity === 'critical').map((m) => ({ name: m.name, state: lines.get(m)!.state })),
      paging: storm.paging,
      pagingAlarms: shown.filter((m) => m.pages).length,
      rulePages: [...rulePages].map(([rule, names]) => ({ rule, alarms: names.size, resolved: shown.every((m) => m.rule !== rule || !m.pages || m.own_post || lines.get(m)!.state !== 'firing') })),
      ownPosts: shown.filter((m) => m.own_post).length,
    };
  }
}

function byThreadOrder(a: StormAlarmRow, b: StormAlarmRow): number {
  return (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9) || (a.joined_at < b.joined_at ? -1 : a.joined_at > b.joined_at ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.fired_at < b.fired_at ? -1 : 1);
}
