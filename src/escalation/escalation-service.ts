import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { PageNotifier } from '../platform/outbox/outbox-pages.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { AuditRepository } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { EscalationRepository } from './escalation-repository.js';
import { dueLevels, levelName, type EscalationAbout, type EscalationSubject, type LevelDecision } from './plan-escalation.js';

/** Something that may escalate now: an open incident, or an alarm that is firing. */
export interface EscalationCandidate {
  subject: EscalationSubject;
  about: EscalationAbout;
  /** PagerDuty dedup key of the incident's or alarm's own page, so a level's page is the same page. */
  dedupKey: string;
  /** The audit trail's name for it: `INC-3`, or the alarm's name. */
  target: string;
}

/** Where candidates come from, and what to do with each decided level besides the audit row. */
export interface EscalationSources {
  /** Open incidents and firing alarms whose severity or rule has escalation levels. */
  candidates(): Promise<EscalationCandidate[]>;
  /** Inside the level's transaction: e.g. a line in the incident's timeline. Database work only. */
  recorded?(candidate: EscalationCandidate, level: number, fired: boolean, detail: Record<string, unknown>, at: string): Promise<void>;
}

/** How a fired level tells people: stored in the outbox inside the level's transaction. */
export interface EscalationNotifier {
  /** Email, the channel post, a DM to each of `dmUsers`, and (when `page`) the page, for level `level` of the candidate. */
  fire(c: EscalationCandidate, level: number, dmUsers: string[], page: boolean, at: string): Promise<void>;
}

/** What one sweep did. */
export interface SweepResult {
  fired: { subject: string; level: number }[];
  skipped: { subject: string; level: number; reason: string }[];
  pagesResolved: string[];
}

/**
 * Seed 004's escalation matrix: levels by minutes since an incident was
 * declared (or an alarm fired), each decided once (`escalation_step`'s
 * unique key), by its condition as it stands then, in a sweep that survives
 * restarts like the incident reminders. A level that fires stores its
 * notifications in the outbox within the same transaction: email through SES,
 * the channel post with @channel and the roles, a DM to each member of the
 * `dm` roles, and the page. A page a level sent is resolved once its
 * incident is resolved (or its alarm stops firing).
 */
export class EscalationService {
  private readonly rows: EscalationRepository;
  private readonly audit: AuditRepository;
  private sweeping?: Promise<SweepResult>;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      roles: RoleDirectory;
      clock: Clock;
      logger: Logger;
      sources: EscalationSources;
      notifier: EscalationNotifier;
      /** Resolves the pages levels sent. */
      pages: PageNotifier;
      /** Whether PagerDuty is configured; a page level without it is recorded as not sent. */
      canPage: boolean;
      afterCommit: () => void;
    },
  ) {
    this.rows = new EscalationRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
  }

  /** Whether the runbook escalates anything by levels. */
  get configured(): boolean {
    const { runbook } = this.deps;
    return Object.values(runbook.incidents?.severities ?? {}).some((d) => (d?.escalation.length ?? 0) > 0) || (runbook.alarms?.rules ?? []).some((r) => r.escalation.length > 0);
  }

  /** Decides every level that is due; a sweep while one runs joins it. */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<SweepResult> {
    const result: SweepResult = { fired: [], skipped: [], pagesResolved: [] };
    if (!this.configured) return result;
    const now = this.deps.clock.now();
    const candidates = await this.deps.sources.candidates();
    const decided = await this.rows.decided(candidates.map((c) => c.subject.key));
    for (const c of candidates) {
      for (const d of dueLevels(c.subject, decided.get(c.subject.key) ?? new Set(), now)) {
        if (await this.decide(c, d)) {
          if (d.fire) result.fired.push({ subject: c.subject.key, level: d.level });
          else result.skipped.push({ subject: c.subject.key, level: d.level, reason: d.reason });
        }
      }
    }
    result.pagesResolved = await this.resolvePages(candidates);
    if (result.fired.length + result.skipped.length + result.pagesResolved.length > 0) this.deps.afterCommit();
    return result;
  }

  /** One level: its recipients are looked up first (Slack), then it is claimed and its notifications stored in one transaction. */
  private async decide(c: EscalationCandidate, d: LevelDecision): Promise<boolean> {
    const { runbook, store, clock } = this.deps;
    const level = c.subject.levels[d.level]!;
    const at = clock.now().toISOString();
    const dmUsers = d.fire ? await this.members(level.dm) : [];
    const page = d.fire && level.page && this.deps.canPage;
    const detail: Record<string, unknown> = d.fire
      ? {
          name: levelName(c.subject.levels, d.level),
          after_minutes: level.after_minutes,
          if: level.if,
          ...(level.email.length > 0 ? { email: level.email } : {}),
          ...(level.channel ? { channel: level.channel } : {}),
          ...(dmUsers.length > 0 ? { dm: dmUsers } : {}),
          ...(level.page ? { page: page ? 'sent' : 'not sent: PagerDuty is not configured' } : {}),
          dedup_key: c.dedupKey,
        }
      : { name: levelName(c.subject.levels, d.level), skipped: d.reason };
    const claimed = await store.transaction(async () => {
      if (!(await this.rows.claim({ subject: c.subject.key, level: d.level, dueAt: d.dueAt, at, fired: d.fire, detail, paged: page }))) return false;
      if (d.fire) await this.deps.notifier.fire(c, d.level, dmUsers, page, at);
      await this.audit.record({ actor: 'golive', action: d.fire ? 'escalation.fire' : 'escalation.skip', target: c.target, detail: { level: d.level + 1, ...detail }, source: 'system', channel: runbook.launch.channel }, at);
      await this.deps.sources.recorded?.(c, d.level, d.fire, detail, at);
      return true;
    });
    if (claimed) this.deps.logger.info({ subject: c.subject.key, level: d.level + 1, fired: d.fire, ...(d.fire ? {} : { reason: d.reason }) }, d.fire ? 'escalation level fired' : 'escalation level skipped');
    return claimed;
  }

  /** A page a level sent is resolved once its subject no longer escalates (resolved, or the alarm stopped firing), unless a newer firing shares its dedup key. */
  private async resolvePages(candidates: EscalationCandidate[]): Promise<string[]> {
    const open = new Set(candidates.map((c) => c.subject.key));
    const liveKeys = new Set(candidates.map((c) => c.dedupKey));
    const resolved: string[] = [];
    for (const { subject } of await this.rows.unresolvedPages()) {
      if (open.has(subject)) continue;
      const at = this.deps.clock.now().toISOString();
      await this.deps.store.transaction(async () => {
        const steps = await this.rows.steps(subject);
        const key = steps.map((s) => s.detail.dedup_key).find((k): k is string => typeof k === 'string');
        if (key && !liveKeys.has(key)) await this.deps.pages.resolve(key, at);
        await this.rows.markPageResolved(subject, at);
      });
      resolved.push(subject);
    }
    return resolved;
  }

  private async members(roles: readonly string[]): Promise<string[]> {
    const users = new Set<string>();
    for (const r of roles) {
      try {
        for (const u of (await this.deps.roles.members(r)).users) users.add(u);
      } catch (err) {
        this.deps.logger.warn({ err, role: r }, 'could not look up the members of an escalation role; they get no direct message');
      }
    }
    return [...users];
  }
}
