import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import { parseT0, resolveTimeRef, T0_FORMS } from '../platform/launch-time.js';
import type { Milestone, Runbook } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { TimelineRepository } from './timeline-repository.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';

/** A post counts as late once it is this far behind its time (the scheduler runs twice a minute). */
const LATE_AFTER_MS = 2 * 60_000;

/** Where a milestone stands. */
export type MilestoneState =
  /** Posted (maybe late). */
  | 'posted'
  /** Its time came before golive had this T-0 (set or moved later), so it is not posted. */
  | 'passed'
  /** Due now: the next run posts it. */
  | 'due'
  | 'upcoming'
  /** Relative to T-0, which is not set. */
  | 'unscheduled';

/** One milestone with its time and state. */
export interface ScheduledMilestone {
  milestone: Milestone;
  key: string;
  /** 1-based position in the runbook. */
  number: number;
  dueAt?: Date;
  state: MilestoneState;
  postedAt?: string;
  lateMs?: number;
}

/** T-0 as golive holds it. */
export interface LaunchT0 {
  at: Date;
  /** `runbook` or the user who set it. */
  setBy: string;
  /** When golive started holding this T-0; milestones before it are not posted late. */
  setAt: string;
}

/** Posts for the timeline, queued in the transaction that claims them. */
export interface TimelineNotifier {
  /** A milestone's time has come; returns the outbox id of its post. */
  milestone(m: ScheduledMilestone, next: ScheduledMilestone | undefined, lateMs: number): Promise<number>;
  t0Changed(change: { at: Date; previous?: Date; by: string; passed: ScheduledMilestone[]; next?: ScheduledMilestone }): Promise<void>;
}

const T0_KEY = 't0';
/** The runbook's launch.t0 as last seen, to tell an edited file from an unchanged one on restart. */
const RUNBOOK_T0_KEY = 'runbook_t0';

/** A milestone is remembered by its title: reordering the runbook must not post it again. */
function milestoneKey(m: Milestone): string {
  return m.title.trim().toLowerCase();
}

/**
 * The launch clock: T-0 (from the runbook, or set with `/golive t0`) and the
 * milestones around it. Each milestone is posted once, ever: the claim and
 * the queued post commit together. A milestone missed while golive was down
 * is posted on start, marked late; one whose time had passed before golive
 * held the current T-0 is not posted at all.
 */
export class TimelineService {
  private notifier?: TimelineNotifier;
  private readonly rows: TimelineRepository;
  private readonly audit: AuditRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; roles: RoleDirectory; afterCommit: () => void }) {
    this.rows = new TimelineRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
  }

  notify(notifier: TimelineNotifier): void {
    this.notifier = notifier;
  }


  /** Records the runbook's T-0 when it is new or was edited since the last start. */
  async syncRunbookT0(): Promise<void> {
    const { runbook, store, clock } = this.deps;
    const fileT0 = runbook.launch.t0;
    if (!fileT0) return;
    await store.transaction(async () => {
      const seen = await this.setting(RUNBOOK_T0_KEY);
      if (seen?.value === fileT0 && await this.setting(T0_KEY)) return;
      const at = clock.now().toISOString();
      await this.put(RUNBOOK_T0_KEY, fileT0, 'runbook', at);
      const current = await this.setting(T0_KEY);
      if (current && new Date(current.value).getTime() === new Date(fileT0).getTime()) return;
      await this.put(T0_KEY, new Date(fileT0).toISOString(), 'runbook', at);
      if (current) await this.audit.record({ actor: 'golive', action: 'launch.t0', target: 'T-0', detail: { from: current.value, to: new Date(fileT0).toISOString(), by: 'runbook file' }, source: 'system' }, at);
    });
  }

  async t0(): Promise<LaunchT0 | undefined> {
    const row = await this.setting(T0_KEY);
    if (!row) return undefined;
    return { at: new Date(row.value), setBy: row.set_by, setAt: row.set_at };
  }

  /** Everything on the timeline, in time order (unscheduled ones last, in runbook order). */
  async schedule(): Promise<ScheduledMilestone[]> {
    const { runbook, clock, store } = this.deps;
    // One transaction: T-0, the posted milestones and the first start as of the same moment.
    return store.transaction(async () => {
      const t0 = await this.t0();
      const now = clock.now().getTime();
      const posted = new Map((await this.rows.posted()).map((r) => [r.key, r]));
      const out: ScheduledMilestone[] = [];
      for (const [i, milestone] of runbook.milestones.entries()) {
        const key = milestoneKey(milestone);
        const dueAt = resolveTimeRef(milestone.at, t0?.at);
        const p = posted.get(key);
        const base = { milestone, key, number: i + 1, dueAt };
        if (p) out.push({ ...base, state: 'posted', postedAt: p.posted_at, lateMs: p.late_ms });
        else if (!dueAt) out.push({ ...base, state: 'unscheduled' });
        else if (dueAt.getTime() > now) out.push({ ...base, state: 'upcoming' });
        else {
          // A milestone that was already past when golive learned this T-0 (and, for absolute times, when it first ran) was never missed.
          const heldSince = Date.parse(await this.trackedSince(milestone, t0));
          out.push({ ...base, state: dueAt.getTime() < heldSince ? 'passed' : 'due' });
        }
      }
      return out.sort((a, b) => (a.dueAt && b.dueAt ? a.dueAt.getTime() - b.dueAt.getTime() : a.dueAt ? -1 : b.dueAt ? 1 : a.number - b.number));
    });
  }

  /** The next milestone still to come. */
  async next(): Promise<ScheduledMilestone | undefined> {
    return (await this.schedule()).find((m) => m.state === 'upcoming' || m.state === 'due');
  }

  /** Posts every milestone whose time has come and that was never posted; returns how many. */
  async runDue(): Promise<number> {
    const { store, clock } = this.deps;
    const notifier = this.notifier;
    if (!notifier) return 0;
    let posted = 0;
    for (const m of (await this.schedule()).filter((s) => s.state === 'due')) {
      const now = clock.now();
      const lateMs = now.getTime() - m.dueAt!.getTime();
      const claimed = await store.transaction(async () => {
        const ok = await this.rows.claimMilestone(m.key, m.dueAt!.toISOString(), now.toISOString(), lateMs >= LATE_AFTER_MS ? lateMs : 0);
        if (!ok) return false;
        const next = (await this.schedule()).find((s) => s.key !== m.key && (s.state === 'upcoming' || s.state === 'due'));
        const outboxId = await notifier.milestone({ ...m, state: 'posted', postedAt: now.toISOString() }, next, lateMs >= LATE_AFTER_MS ? lateMs : 0);
        await this.rows.setMilestonePost(m.key, outboxId);
        await this.audit.record({ actor: 'golive', action: 'milestone.posted', target: m.milestone.title, detail: { at: m.milestone.at, due_at: m.dueAt!.toISOString(), late_ms: lateMs >= LATE_AFTER_MS ? lateMs : 0 }, source: 'system' }, now.toISOString());
        return true;
      });
      if (claimed) posted++;
    }
    if (posted > 0) this.deps.afterCommit();
    return posted;
  }

  /**
   * Sets or moves T-0 from what a person typed. Refused for people in no
   * runbook role; setting the same time again changes nothing.
   */
  /** Sets or moves T-0; `roundedFrom` is the moment `now` was typed when T-0 went to the start of that minute. */
  async setT0(text: string, actor: { userId: string; source: AuditSource; channel: string | null }): Promise<{ changed: boolean; t0: LaunchT0; previous?: Date; passed: ScheduledMilestone[]; roundedFrom?: Date }> {
    const { runbook, store, clock, roles } = this.deps;
    if (!(await roles.isNamed(actor.userId))) {
      throw new GoliveError('not_permitted', 'Only people named in one of the runbook’s roles may set T-0.', 'Ask the launch lead to run `/golive t0 <time>`.');
    }
    const current = await this.t0();
    const parsed = parseT0(text, { timeZone: runbook.launch.timezone, now: clock.now(), current: current?.at });
    if ('problem' in parsed) throw new GoliveError('usage', parsed.problem, `\`/golive t0\` takes: ${T0_FORMS.join(', ')}.`);
    const rounded = parsed.roundedFrom ? { roundedFrom: parsed.roundedFrom } : {};
    if (current && current.at.getTime() === parsed.at.getTime()) return { changed: false, t0: current, passed: [], ...rounded };
    const at = clock.now().toISOString();
    const result = await store.transaction(async () => {
      await this.put(T0_KEY, parsed.at.toISOString(), actor.userId, at);
      await this.audit.record({ actor: actor.userId, action: 'launch.t0', target: 'T-0', detail: { from: current?.at.toISOString() ?? null, to: parsed.at.toISOString() }, source: actor.source, channel: actor.channel }, at);
      const schedule = await this.schedule();
      const passed = schedule.filter((s) => s.state === 'passed');
      await this.notifier?.t0Changed({ at: parsed.at, previous: current?.at, by: actor.userId, passed, next: schedule.find((s) => s.state === 'upcoming' || s.state === 'due') });
      return { changed: true, t0: (await this.t0())!, previous: current?.at, passed, ...rounded };
    });
    this.deps.afterCommit();
    return result;
  }

  private async trackedSince(m: Milestone, t0: LaunchT0 | undefined): Promise<string> {
    // Relative milestones count from when golive took this T-0; absolute ones from golive's first start.
    if (m.at.startsWith('T') && t0) return t0.setAt;
    return this.ensureStarted();
  }

  /** Marks the first start, so absolute milestones before it are not posted as late. */
  async ensureStarted(): Promise<string> {
    return this.deps.store.transaction(async () => {
      const row = await this.setting('started');
      if (row) return row.set_at;
      const at = this.deps.clock.now().toISOString();
      await this.put('started', at, 'golive', at);
      return at;
    });
  }


  private async setting(key: string): Promise<{ value: string; set_by: string; set_at: string } | undefined> {
    return this.rows.setting(key);
  }

  private async put(key: string, value: string, by: string, at: string): Promise<void> {
    await this.rows.putSetting(key, value, by, at);
  }
}
