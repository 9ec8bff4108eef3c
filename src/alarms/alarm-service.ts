import type { AlarmTransition } from './parse-alarm-event.js';
import type { AlarmState, CloudWatchPort } from '../platform/aws/cloudwatch-port.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { OutboxPages, type PageNotifier } from '../platform/outbox/outbox-pages.js';
import { AuditRepository } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import type { WatchHealth } from '../platform/health/watch-health.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import { GoliveError } from '../platform/errors.js';
import { AlarmRepository, type AlarmRow, type AlarmTransitionRow } from './alarm-repository.js';
import { alarmRegion, alarmRuleFor, firingRead, flappingRule, isNewTransition, watcherFreshForMs, type AlarmRule } from './alarm-rules.js';
import type { FiringAlarms, FiringAnswer, FiringSource } from './describe-firing.js';
import { AlarmStorms, type StormBatch, type StormNotifier } from './storm-service.js';
import { shortestCronGapMs } from '../platform/cron-gap.js';

type State = AlarmState['state'];

export type { AlarmRow, AlarmRule };

/** One transition as the Slack layer renders it. */
export interface AlarmChange {
  name: string;
  region: string;
  from?: State;
  to: State;
  at: string;
  reason: string;
  rule: AlarmRule;
  metric?: AlarmTransition['metric'];
  /** How long the alarm fired, for a recovery. */
  firedForMs?: number;
  /** The alarm state's row after the change. */
  row: AlarmRow;
}

/**
 * The Slack side of alarm transitions. Called inside the transition's
 * transaction; each method stores outbox rows and resolves with the id of
 * the channel post it created, if any.
 */
export interface AlarmNotifier extends StormNotifier {
  firing(change: AlarmChange): Promise<number>;
  recovered(change: AlarmChange, firingPost: number, firedAt: string): Promise<void>;
  threaded(change: AlarmChange, post: number | null): Promise<number | null>;
  /** Resolves with the channel post it created when there was no post to thread under. */
  flapping(change: AlarmChange, post: number | null, transitions: number, minutes: number): Promise<number | null>;
  acknowledged(name: string, userId: string, rule: AlarmRule, row: AlarmRow): Promise<void>;
  /** A flapping alarm stayed OK for the whole window: its held page is resolved. */
  settled(row: AlarmRow, minutes: number): Promise<void>;
  baseline(alarms: AlarmState[], rules: (name: string) => AlarmRule): Promise<void>;
}

const BASELINE_KEY = 'alarm_baseline_at';
const LAST_POLL_KEY = 'alarm_last_poll_at';

/** A PagerDuty dedup key that stays the same for an alarm across restarts and transitions. */
export function alarmDedupKey(region: string, name: string): string {
  return `golive/alarm/${region}/${name}`;
}

/** The AWS console page of an alarm. */
export function alarmConsoleUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}

/**
 * The incidents a batch asks for: the storm firings of one rule in one batch are asked for together, as the
 * first one's need with the others in its `covers` (one incident, or one post naming them in its rule's
 * open incident, not one each).
 */
export function coverWithinBatch(needs: readonly IncidentNeed[]): IncidentNeed[] {
  const first = new Map<string, IncidentNeed>();
  const out: IncidentNeed[] = [];
  for (const n of needs) {
    const cover = n.stormRule === undefined ? undefined : first.get(n.stormRule);
    if (cover) (cover.covers ??= []).push({ name: n.name, reason: n.reason });
    else {
      if (n.stormRule !== undefined) first.set(n.stormRule, n);
      out.push(n);
    }
  }
  return out;
}

/** A firing whose rule says `incident:`, for the incident service to declare (once per firing). */
export interface IncidentNeed {
  name: string;
  firedAt: string;
  post: number | null;
  severity: NonNullable<AlarmRule['incident']>;
  reason: string;
  /** In a storm: the storm and rule (`<storm id>:<match>`); while that rule's incident is open, it names this firing instead of a channel of its own. */
  stormRule?: string;
  /** Firings of the same storm, rule and batch asked for with this one. */
  covers?: { name: string; reason: string }[];
}

/**
 * Watches the runbook's alarms: one pipeline for polled and pushed
 * transitions, each recorded once (push and poll never double-post), with
 * its Slack posts and PagerDuty events stored in the same transaction.
 */
export class AlarmService implements FiringAlarms {
  private notifier?: AlarmNotifier;
  private incidentHook?: (need: IncidentNeed) => void;

  /** Called after commit for each firing whose rule says `incident:`; the incident service declares it (once per firing). */
  onIncidentNeeded(hook: (need: IncidentNeed) => void): void {
    this.incidentHook = hook;
  }

  private readonly rows: AlarmRepository;
  private readonly audit: AuditRepository;
  private readonly pages: PageNotifier;
  private readonly storms: AlarmStorms;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      cloudwatch: CloudWatchPort;
      clock: Clock;
      logger: Logger;
      defaultRegion?: string;
      afterCommit: () => void;
      /** Where its pages go (default: the outbox). */
      pages?: PageNotifier;
      /** Told how each poll went, so that golive says when it cannot see the alarms. */
      health?: Pick<WatchHealth, 'failed' | 'succeeded'>;
      /** Who may acknowledge (it stops PagerDuty paging): anyone the runbook names in a role. Absent only where the watcher is tested alone. */
      roles?: Pick<RoleDirectory, 'isNamed'>;
    },
  ) {
    this.rows = new AlarmRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
    this.pages = deps.pages ?? new OutboxPages(deps.store);
    this.storms = new AlarmStorms({
      runbook: deps.runbook,
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      pages: this.pages,
      pollIntervalMs: shortestCronGapMs(deps.runbook.alarms?.schedule ?? '* * * * *'),
      launchName: deps.runbook.launch.name,
      pagerSource: deps.runbook.pagerduty?.source ?? 'golive',
      stored: () => deps.afterCommit(),
    });
  }

  notify(notifier: AlarmNotifier): void {
    this.notifier = notifier;
    this.storms.notify(notifier);
  }

  /**
   * Draws and pages what alarm storms need (see {@link AlarmStorms.flush}): a storm that has gone quiet is
   * over, lines that changed are redrawn. Runs after each poll and on the 30-second sweep.
   */
  async sweepStorms(): Promise<void> {
    if (await this.storms.flush()) this.deps.afterCommit();
  }

  get configured(): boolean {
    return this.deps.runbook.alarms !== undefined;
  }

  region(): string {
    return alarmRegion(this.deps.runbook, this.deps.defaultRegion);
  }

  /** Whether an alarm name is under one of the runbook's prefixes. */
  watches(name: string): boolean {
    return (this.deps.runbook.alarms?.prefixes ?? []).some((p) => name.startsWith(p));
  }

  /** The rule that applies to an alarm (see `alarmRuleFor`). */
  ruleFor(name: string): AlarmRule {
    return alarmRuleFor(this.deps.runbook, name);
  }

  private polling?: Promise<{ alarms: number; transitions: number; baseline: boolean }>;

  /** Polls CloudWatch once; a call while a poll is running joins it. The first poll of a fresh database records a baseline and posts one summary. */
  poll(): Promise<{ alarms: number; transitions: number; baseline: boolean }> {
    this.polling ??= this.pollOnce()
      .then(
        async (result) => {
          await this.reportPoll(undefined);
          return result;
        },
        async (err: unknown) => {
          await this.reportPoll(err instanceof Error ? err.message : String(err));
          throw err;
        },
      )
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  /** A poll's outcome for golive's health; failing to record it must not hide the poll's own result. */
  private async reportPoll(error: string | undefined): Promise<void> {
    try {
      await (error === undefined ? this.deps.health?.succeeded('alarms') : this.deps.health?.failed('alarms', error));
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not record how the alarm poll went');
    }
  }

  private async pollOnce(): Promise<{ alarms: number; transitions: number; baseline: boolean }> {
    const { store, cloudwatch, clock } = this.deps;
    const alarms = this.deps.runbook.alarms;
    if (!alarms) return { alarms: 0, transitions: 0, baseline: false };
    const region = this.region();
    const current = await cloudwatch.describeAlarms(region, alarms.prefixes);
    const now = clock.now().toISOString();
    const baseline = await store.transaction(async () => {
      // Checked under the lock: two first polls (the start-up one and a push-triggered one) must not both post a baseline.
      if (await this.rows.meta(BASELINE_KEY)) return false;
      for (const a of current) await this.upsertState(a.name, a.state, a.reason, a.updatedAt || now, a.kind, region, now);
      await this.rows.setMeta(BASELINE_KEY, now);
      await this.rows.setMeta(LAST_POLL_KEY, now);
      await this.notifier?.baseline(current, (n) => this.ruleFor(n));
      // Whatever already fires when watching starts still deserves a page (PagerDuty folds it into an open incident).
      for (const a of current) if (a.state === 'ALARM' && this.ruleFor(a.name).page) await this.enqueueTrigger(a.name, region, a.reason, a.updatedAt || now, undefined, a.metric, now);
      return true;
    });
    if (baseline) {
      this.deps.afterCommit();
      return { alarms: current.length, transitions: 0, baseline: true };
    }
    const recorded = await this.ingest(await this.changesIn(current, region, now));
    await store.transaction(async () => {
      // Alarms deleted in CloudWatch leave the list rather than look firing forever.
      const seen = new Set(current.map((a) => a.name));
      for (const row of await this.rows.watched()) {
        const name = row.name;
        if (!seen.has(name)) {
          // A page held open for it would otherwise never be resolved.
          if (row.page_held_since) await this.resolvePage(name, row.region ?? region, now);
          await this.rows.forget(name);
          this.deps.logger.info({ alarm: name }, 'alarm no longer exists in CloudWatch; no longer watched');
        }
      }
      await this.rows.setMeta(LAST_POLL_KEY, now);
    });
    await this.releaseHeldPages();
    await this.sweepStorms();
    return { alarms: current.length, transitions: recorded, baseline: false };
  }

  private readonly firingListeners: ((name: string) => void)[] = [];

  /** Called after commit for each recorded transition to ALARM, polled or pushed (a canary watching it is judged at once). */
  onFiring(listener: (name: string) => void): void {
    this.firingListeners.push(listener);
  }

  /** Records transitions (from a poll or a push) in time order; resolves with how many were new. */
  async ingest(transitions: AlarmTransition[]): Promise<number> {
    let recorded = 0;
    const needs: IncidentNeed[] = [];
    const fired: string[] = [];
    const sorted = [...transitions].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).filter((t) => this.watches(t.alarmName));
    // Many alarms going to ALARM together are one storm post, not a post each (alarms.storm).
    const batch = await this.storms.decide(await this.newlyFiring(sorted), sorted.length > 0 && sorted.every((t) => t.source !== 'poll'));
    for (const t of sorted) {
      // The incidents a transition asks for count only once its transaction has committed.
      const asked: IncidentNeed[] = [];
      if (await this.deps.store.transaction(() => this.record(t, asked, batch))) {
        recorded++;
        if (t.to === 'ALARM') fired.push(t.alarmName);
      }
      needs.push(...asked);
    }
    // The storm's post and thread are drawn once for the whole batch.
    const drawn = batch.touched && (await this.storms.flush());
    for (const need of needs) {
      if (need.post !== null) continue;
      const row = await this.row(need.name);
      if (row?.fired_at === need.firedAt) need.post = row.post_outbox_id;
    }
    if (recorded > 0 || drawn) this.deps.afterCommit();
    for (const need of coverWithinBatch(needs)) this.incidentHook?.(need);
    for (const name of fired) for (const l of this.firingListeners) l(name);
    return recorded;
  }

  /** The alarms of a batch that look newly in ALARM against the stored states (what a storm counts). */
  private async newlyFiring(sorted: readonly AlarmTransition[]): Promise<string[]> {
    const last = new Map<string, string>();
    for (const t of sorted) if (t.to === 'ALARM') last.set(t.alarmName, normaliseTime(t.at, ''));
    if (last.size === 0) return [];
    const stored = last.size > 20 ? new Map((await this.rows.alarms()).map((r) => [r.name, r])) : new Map<string, AlarmRow>();
    const out: string[] = [];
    for (const [name, at] of last) {
      const known = stored.get(name) ?? (last.size > 20 ? undefined : await this.row(name));
      if (!known || known.state !== 'ALARM' || at > known.state_at) out.push(name);
    }
    return out;
  }

  /** Acknowledges the alarm's current firing; resolves with ok false if it is not firing or already acknowledged. */
  async acknowledge(name: string, userId: string): Promise<{ ok: true } | { ok: false; row?: AlarmRow }> {
    const { store, clock, roles } = this.deps;
    if (roles && !(await roles.isNamed(userId))) {
      throw new GoliveError('not_permitted', 'Only people named in one of the runbook’s roles may acknowledge an alarm: acknowledging it stops PagerDuty paging on-call.', 'Ask the on-call, or anyone in the launch’s roles.');
    }
    const at = clock.now().toISOString();
    const result = await store.transaction(async () => {
      const row = await this.row(name);
      if (!row || row.state !== 'ALARM' || row.acked_by) return { ok: false as const, row };
      await this.rows.acknowledge(name, userId, at);
      await this.audit.record({ actor: userId, action: 'alarm.acknowledge', target: name, detail: { fired_at: row.fired_at }, source: 'button', channel: this.deps.runbook.launch.channel }, at);
      const rule = this.ruleFor(name);
      // In a storm that pages by rule, the page is the rule's.
      if (rule.page) await this.pages.acknowledge((await this.storms.pageKeyOf(row)) ?? alarmDedupKey(row.region ?? this.region(), name), at);
      await this.storms.acknowledged(row);
      await this.notifier?.acknowledged(name, userId, rule, (await this.row(name))!);
      return { ok: true as const, storm: row.storm_id !== null };
    });
    if (!result.ok) return result;
    if (result.storm) await this.storms.flush();
    this.deps.afterCommit();
    return { ok: true };
  }

  /**
   * The dedup key of the alarm's PagerDuty alert, and whether its rule pages.
   * An incident opened for the alarm pages under the same key, so one event is one PagerDuty incident.
   */
  async page(name: string): Promise<{ dedupKey: string; rulePages: boolean }> {
    const row = await this.row(name);
    return { dedupKey: alarmDedupKey(row?.region ?? this.region(), name), rulePages: this.ruleFor(name).page };
  }

  /** Every watched alarm, firing first, then no data, then OK; by name within each. */
  async list(): Promise<AlarmRow[]> {
    const order: Record<string, number> = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };
    return (await this.rows.alarms()).sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3));
  }

  row(name: string): Promise<AlarmRow | undefined> {
    return this.rows.alarm(name);
  }

  /** The alarm's recorded transitions from `from` to `until`, in time order. */
  transitions(name: string, from: string, until: string): Promise<AlarmTransitionRow[]> {
    return this.rows.transitions(name, from, until);
  }

  /** Every recorded transition of every alarm, in time order (the launch report). */
  allTransitions(): Promise<(AlarmTransitionRow & { name: string })[]> {
    return this.rows.allTransitions();
  }

  /** When the last poll that reached CloudWatch finished. */
  lastPollAt(): Promise<string | undefined> {
    return this.rows.meta(LAST_POLL_KEY);
  }

  /** The transitions a read of CloudWatch shows against the stored state (an unchanged new OK alarm is stored as it is). */
  private async changesIn(current: readonly AlarmState[], region: string, now: string): Promise<AlarmTransition[]> {
    const transitions: AlarmTransition[] = [];
    // One read of every stored state, not one per alarm: on PostgreSQL each statement is a network round trip (10,000 alarms, 10,000 trips).
    const stored = new Map((await this.rows.alarms()).map((r) => [r.name, r]));
    for (const a of current) {
      const known = stored.get(a.name);
      const at = a.updatedAt || now;
      if (!known) {
        // A new alarm after the baseline: its first state counts as a transition only if it is not OK.
        if (a.state !== 'OK') transitions.push(this.fromPoll(a, undefined, region));
        else await this.upsertState(a.name, a.state, a.reason, at, a.kind, region, now);
      } else if (this.storedAhead(known) && a.state === known.state) {
        // A state "from the future" an older golive stored would make every real reading look old: the present wins.
        this.deps.logger.warn({ alarm: a.name, stored: known.state_at, read: at }, 'a stored alarm state dated in the future was replaced by what CloudWatch says now');
        await this.upsertState(a.name, a.state, a.reason, at, a.kind, known.region ?? region, now);
      } else if (!this.storedAhead(known) && !isNewTransition(known, a.state, at)) {
        continue;
      } else if (a.state !== known.state) {
        transitions.push(this.fromPoll(a, known.state, region));
      } else {
        // Same state, newer timestamp: it left and came back between two polls (ALARM → OK → ALARM).
        transitions.push(...(await this.missedTransitions(a, known, region)));
      }
    }
    return transitions;
  }

  /**
   * What is firing under `prefixes` in `region`: the one answer the deploy
   * gate, go/no-go and evidence checks share with the watcher. Read where
   * `firingRead` says: the stored state while the last poll is fresh, a
   * poll now when it is not (so the store holds what was read, and its
   * transitions are posted like any other), and CloudWatch directly for
   * alarms the watcher does not watch (whatever of them it does watch is
   * recorded too).
   */
  async firing(prefixes: readonly string[] = this.deps.runbook.alarms?.prefixes ?? [''], region: string = this.region()): Promise<FiringAnswer> {
    const { clock, cloudwatch, runbook } = this.deps;
    const lastPollAt = await this.lastPollAt();
    const read = firingRead(runbook, { region, prefixes }, { region: this.region(), lastPollAt }, clock.now());
    const under = (name: string) => prefixes.some((p) => name.startsWith(p));
    if (read.from === 'live') {
      const current = (await cloudwatch.describeAlarms(region, prefixes)).filter((a) => under(a.name));
      const readAt = clock.now().toISOString();
      await this.observe(current, region, readAt);
      const watched = runbook.alarms?.prefixes ?? [];
      const unwatched = region === this.region() ? prefixes.filter((p) => !watched.some((w) => p.startsWith(w))) : prefixes;
      return firingAnswer(region, prefixes, current.map((a) => ({ name: a.name, state: a.state, since: a.updatedAt || readAt })), { from: 'cloudwatch', readAt, why: 'unwatched', unwatched });
    }
    if (read.from === 'poll') await this.poll();
    const polledAt = (await this.lastPollAt()) ?? clock.now().toISOString();
    const rows = (await this.rows.alarms()).filter((r) => under(r.name)).map((r) => ({ name: r.name, state: r.state, since: r.state === 'ALARM' ? (r.fired_at ?? r.state_at) : r.state_at }));
    const source: FiringSource =
      read.from === 'watcher'
        ? { from: 'watcher', polledAt }
        : read.why === 'stale'
          ? { from: 'cloudwatch', readAt: polledAt, why: 'stale', lastPollAt: lastPollAt!, freshForMs: watcherFreshForMs(runbook) }
          : { from: 'cloudwatch', readAt: polledAt, why: 'never_polled' };
    return firingAnswer(region, prefixes, rows, source);
  }

  /** A read made for someone else: what the watcher watches in it is recorded as a poll would (not counted as one: it may not cover every prefix). */
  private async observe(current: readonly AlarmState[], region: string, now: string): Promise<void> {
    if (region !== this.region() || !(await this.rows.meta(BASELINE_KEY))) return;
    await this.ingest(await this.changesIn(current.filter((a) => this.watches(a.name)), region, now));
  }

  private fromPoll(a: AlarmState, from: State | undefined, region: string): AlarmTransition {
    return { alarmName: a.name, region, from, to: a.state, reason: a.reason, at: a.updatedAt || this.deps.clock.now().toISOString(), kind: a.kind, metric: a.metric, source: 'poll' };
  }

  private async missedTransitions(a: AlarmState, known: AlarmRow, region: string): Promise<AlarmTransition[]> {
    try {
      const items = await this.deps.cloudwatch.describeAlarmHistory(region, a.name, known.state_at);
      const missed = items.filter((i) => i.at > known.state_at).map((i): AlarmTransition => ({ alarmName: a.name, region, from: i.from, to: i.to, reason: i.reason, at: i.at, kind: a.kind, metric: a.metric, source: 'poll' }));
      if (missed.length > 0) return missed;
    } catch (err) {
      // Not every CloudWatch implementation has DescribeAlarmHistory (moto does not); the state is still right.
      this.deps.logger.debug({ err, alarm: a.name }, 'alarm history unavailable');
    }
    await this.upsertState(a.name, a.state, a.reason, a.updatedAt, a.kind, region, this.deps.clock.now().toISOString());
    return [];
  }

  /** Whether a stored state is dated further ahead than any push is allowed to be (written before pushes were bounded). */
  private storedAhead(known: Pick<AlarmRow, 'state_at'>): boolean {
    return Date.parse(known.state_at) > this.deps.clock.now().getTime() + MAX_PUSH_AHEAD_MS;
  }

  /** One transition, inside its transaction. Resolves with false if it was already recorded or is older than what we know. */
  private async record(t: AlarmTransition, needs: IncidentNeed[], batch: StormBatch): Promise<boolean> {
    const { clock } = this.deps;
    const now = clock.now().toISOString();
    const at = normaliseTime(t.at, now);
    if (t.source !== 'poll' && Date.parse(at) > clock.now().getTime() + MAX_PUSH_AHEAD_MS) {
      // Stored, a state "from the future" would make every real poll and push look older: history only, for good.
      this.deps.logger.warn({ alarm: t.alarmName, at, source: t.source }, 'an alarm push dated in the future was ignored; the next poll reads the state');
      return false;
    }
    const known = await this.row(t.alarmName);
    if (known && !isNewTransition(known, t.to, at)) return false;
    if (!(await this.rows.addTransition({ name: t.alarmName, from: t.from ?? known?.state ?? null, to: t.to, at, reason: t.reason, source: t.source, recordedAt: now }))) return false;
    // A late push about something older than the state we hold is history, not news (unless what we hold is dated in the future).
    if (known && !this.storedAhead(known) && at < known.state_at) return true;

    const region = t.region ?? known?.region ?? this.region();
    const rule = this.ruleFor(t.alarmName);
    const from = known?.state ?? t.from;
    await this.upsertState(t.alarmName, t.to, t.reason, at, t.kind, region, now);
    await this.audit.record({ actor: 'cloudwatch', action: 'alarm.transition', target: t.alarmName, detail: { from: from ?? null, to: t.to, at, source: t.source }, source: 'system', channel: this.deps.runbook.launch.channel }, now);

    const flap = flappingRule(this.deps.runbook);
    const windowStart = new Date(Date.parse(at) - flap.minutes * 60_000).toISOString();
    const recent = await this.rows.transitionCount(t.alarmName, windowStart, at);
    const wasFlapping = Boolean(known?.flapping_since);
    const flapping = recent > flap.transitions;
    await this.rows.setFlappingSince(t.alarmName, flapping ? (known?.flapping_since ?? at) : null);

    const change = async (): Promise<AlarmChange> => ({ name: t.alarmName, region, from, to: t.to, at, reason: t.reason, rule, metric: t.metric, row: (await this.row(t.alarmName))! });
    const post = known?.post_outbox_id ?? null;

    // A firing in a storm that ends is counted on the storm's post; one shown in its thread has nothing else to post.
    const member = known?.fired_at && from === 'ALARM' && t.to !== 'ALARM' ? await this.storms.memberOf(t.alarmName, known.fired_at) : undefined;
    if (member && member.ended_at === null) await this.storms.left(member, t.to, at, batch);
    const inThread = member !== undefined && !member.own_post && known?.storm_id === member.storm_id;
    // In a storm that pages by rule, this alarm's own dedup key is never paged: the storm pages its rule.
    let byRule = rule.page && (await this.storms.pagesByRule(known?.storm_id ?? null));

    if (flapping) {
      let parent = post;
      if (!wasFlapping) {
        // Without a firing post to thread under, the flapping notice becomes the thread.
        const notice = (await this.notifier?.flapping(await change(), post, recent, flap.minutes)) ?? null;
        if (parent === null && notice !== null) {
          parent = notice;
          await this.rows.setPost(t.alarmName, notice);
        }
      }
      await this.notifier?.threaded(await change(), parent);
    } else if (t.to === 'ALARM' && batch.storm) {
      await this.rows.fired(t.alarmName, at);
      const storm = await this.storms.join(batch, { name: t.alarmName, firedAt: at, reason: t.reason, region });
      byRule = storm.paging === 'by_rule';
      // Its post (the thread reply that shows it) is stored when the storm is drawn, after the batch.
      if (rule.incident) {
        const stormRule = this.storms.ruleKey(storm.id, t.alarmName);
        needs.push({ name: t.alarmName, firedAt: at, post: null, severity: rule.incident, reason: t.reason, ...(stormRule ? { stormRule } : {}) });
      }
    } else if (t.to === 'ALARM') {
      await this.rows.fired(t.alarmName, at);
      await this.rows.leaveStorm(t.alarmName);
      byRule = false;
      const postId = (await this.notifier?.firing(await change())) ?? null;
      await this.rows.setPost(t.alarmName, postId);
      if (rule.incident) needs.push({ name: t.alarmName, firedAt: at, post: postId, severity: rule.incident, reason: t.reason });
    } else if (inThread) {
      // Shown by its line in the storm's thread, which the storm redraws.
    } else if (t.to === 'OK' && from === 'ALARM' && post !== null && known?.fired_at) {
      const c = await change();
      c.firedForMs = Date.parse(at) - Date.parse(known.fired_at);
      await this.notifier?.recovered(c, post, known.fired_at);
    } else {
      await this.notifier?.threaded(await change(), from === 'ALARM' ? post : null);
    }

    // Pages follow ALARM and OK only: losing data (INSUFFICIENT_DATA) is not a recovery.
    if (rule.page && t.to === 'ALARM' && !byRule) {
      await this.enqueueTrigger(t.alarmName, region, t.reason, at, from, t.metric, now);
      await this.rows.releasePage(t.alarmName);
    }
    if (rule.page && t.to === 'OK' && from !== 'OK' && !byRule) {
      // While it flaps, resolving and re-triggering would page on-call once per flap: the page stays open until it settles.
      if (flapping) await this.rows.holdPage(t.alarmName, at);
      else await this.resolvePage(t.alarmName, region, now);
    }
    return true;
  }

  private async resolvePage(name: string, region: string, now: string): Promise<void> {
    await this.pages.resolve(alarmDedupKey(region, name), now);
    await this.rows.releasePage(name);
  }

  /**
   * Resolves the held page of every flapping alarm that has stayed OK for the
   * whole flapping window, and ends its flapping. Runs after each poll and on
   * the 30-second sweep; resolves with how many it settled.
   */
  async releaseHeldPages(): Promise<number> {
    const { store, clock } = this.deps;
    const flap = flappingRule(this.deps.runbook);
    const now = clock.now().toISOString();
    const quietSince = new Date(clock.now().getTime() - flap.minutes * 60_000).toISOString();
    const settled = await this.rows.settledWithHeldPage(quietSince);
    for (const row of settled) {
      await store.transaction(async () => {
        const fresh = await this.row(row.name);
        if (!fresh?.page_held_since || fresh.state !== 'OK') return;
        await this.resolvePage(row.name, row.region ?? this.region(), now);
        await this.rows.setFlappingSince(row.name, null);
        await this.audit.record({ actor: 'golive', action: 'alarm.settled', target: row.name, detail: { ok_since: row.state_at, held_since: row.page_held_since }, source: 'system' }, now);
        await this.notifier?.settled((await this.row(row.name))!, flap.minutes);
      });
    }
    if (settled.length > 0) this.deps.afterCommit();
    return settled.length;
  }

  private async enqueueTrigger(name: string, region: string, reason: string, at: string, from: State | undefined, metric: AlarmTransition['metric'], now: string): Promise<void> {
    const rule = this.ruleFor(name);
    await this.pages.trigger(
      {
        dedupKey: alarmDedupKey(region, name),
        summary: `${name} is in ALARM: ${reason}`.slice(0, 1024),
        source: this.deps.runbook.pagerduty?.source ?? 'golive',
        severity: rule.severity,
        component: this.deps.runbook.pagerduty?.component,
        group: this.deps.runbook.pagerduty?.group,
        class: 'cloudwatch-alarm',
        timestamp: normaliseTime(at, now),
        customDetails: { alarm: name, region, from: from ?? null, reason, metric: metric ?? null, launch: this.deps.runbook.launch.name },
        links: [{ href: alarmConsoleUrl(region, name), text: 'CloudWatch alarm' }],
      },
      now,
    );
  }

  private upsertState(name: string, state: State, reason: string, stateAt: string, kind: string, region: string, seenAt: string): Promise<void> {
    const trustUntil = new Date(this.deps.clock.now().getTime() + MAX_PUSH_AHEAD_MS).toISOString();
    return this.rows.upsertState({ name, state, reason, stateAt: normaliseTime(stateAt, seenAt), kind, region, seenAt, trustUntil });
  }
}

function firingAnswer(region: string, prefixes: readonly string[], alarms: FiringAnswer['alarms'], source: FiringSource): FiringAnswer {
  const sorted = [...alarms].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { region, prefixes, alarms: sorted, firing: sorted.filter((a) => a.state === 'ALARM').map((a) => ({ name: a.name, since: a.since })), source };
}

/** How far ahead of golive's clock a pushed transition may be dated (clock skew between AWS and here). */
export const MAX_PUSH_AHEAD_MS = 5 * 60_000;

/** CloudWatch writes times as `2019-10-02T17:04:40.985+0000` in events and as Dates in the API; one form makes them comparable. */
function normaliseTime(at: string, fallback: string): string {
  const fixed = at.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(fixed);
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
}
