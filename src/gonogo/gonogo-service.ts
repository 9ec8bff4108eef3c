import type { CloudWatchPort, MetricQuery } from '../platform/aws/cloudwatch-port.js';
import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import { formatTime } from '../platform/format-time.js';
import { parseDuration, resolveTimeRef } from '../platform/launch-time.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { GoNoGoRepository, type CriterionResult, type DecisionRow, type Evidence, type Vote, type VoteRow } from './gonogo-repository.js';
import { alarmRegion, describeFiringSource, type FiringAlarms } from '../alarms/index.js';
import type { ChecklistService } from '../checklist/index.js';
import { SEVERITIES, type Severity } from '../platform/runbook/schema.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { TimelineService } from '../timeline/index.js';

type Criterion = NonNullable<Runbook['gonogo']>['criteria'][number];

export type { CriterionResult, DecisionRow, Evidence, Vote, VoteRow };

/** Posts for go/no-go, queued inside the transaction that records the change. */
export interface GoNoGoNotifier {
  /** A decision card is opened; returns the outbox id of the card. */
  opened(decision: DecisionRow): Promise<number>;
  /** A vote is recorded (and maybe decides); the card is updated in place. */
  voted(decision: DecisionRow, votes: VoteRow[], vote: VoteRow): Promise<void>;
  /** An open decision without votes took fresh evidence; the card is updated in place. */
  refreshed(decision: DecisionRow): Promise<void>;
}

/** The incident record go/no-go reads: declared incidents of some severities since a time, oldest first. */
export interface IncidentRecord {
  declaredSince(severities: readonly Severity[], since: string): Promise<{ id: number; severity: string; declared_at: string }[]>;
}

const PASS_OPS: Record<string, (a: number, b: number) => boolean> = { '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b };

/** How a number reads with its unit. */
function formatValue(v: number, unit?: string): string {
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? Number(v.toFixed(2)).toString() : Number(v.toPrecision(3)).toString();
  if (!unit) return n;
  if (unit === 'percent' || unit === '%') return `${n} %`;
  if (unit === 'seconds') return `${n} s`;
  if (unit === 'milliseconds' || unit === 'ms') return `${n} ms`;
  return `${n} ${unit}`;
}

/**
 * Whether a criterion must pass before anyone may vote Go: the runbook's
 * `hard:`, and by default only `blockers_done` (the seeds' "do not proceed if
 * any item is unresolved"). Evidence recorded before criteria had weight is read the same way.
 */
export function isHard(c: { type: string; hard?: boolean }): boolean {
  return c.hard ?? c.type === 'blockers_done';
}

/** The hard criteria that fail or are unknown in this evidence. */
export function hardFailures(e: Evidence): CriterionResult[] {
  return e.results.filter((r) => isHard(r) && r.pass !== true);
}

function windowWords(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 && Number.isInteger(h) ? `${h} h` : `${Math.round(ms / 60_000)} min`;
}

/**
 * Go/No-Go: evaluates the runbook's criteria from the evidence (the checklist,
 * CloudWatch, the incident record), opens one decision card at a time, and
 * records the voters' votes. A single No-Go decides NO-GO (holding is the safe
 * side); `votes_required` Go votes decide GO.
 */
export class GoNoGoService {
  private notifier?: GoNoGoNotifier;
  private readonly rows: GoNoGoRepository;
  private readonly audit: AuditRepository;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      cloudwatch: CloudWatchPort;
      /** The one answer to "what is firing" (the alarm watcher's). */
      alarms: FiringAlarms;
      checklist: ChecklistService;
      timeline: TimelineService;
      roles: RoleDirectory;
      clock: Clock;
      logger: Logger;
      defaultRegion?: string;
      afterCommit: () => void;
      /** Declared incidents of some severities since a time, for `no_incidents`. */
      incidents: IncidentRecord;
    },
  ) {
    this.rows = new GoNoGoRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
  }

  notify(notifier: GoNoGoNotifier): void {
    this.notifier = notifier;
  }


  get configured(): boolean {
    return this.deps.runbook.gonogo !== undefined;
  }

  private get config(): NonNullable<Runbook['gonogo']> {
    const g = this.deps.runbook.gonogo;
    if (!g) throw new GoliveError('not_configured', 'This runbook has no go/no-go criteria.', 'Add a `gonogo:` section with `voters` and `criteria` to the runbook.');
    return g;
  }

  /** Evaluates every criterion (or those `which` keeps) now; a criterion whose evidence cannot be read is unknown, the others still count. */
  async evaluate(which: (c: Criterion) => boolean = () => true): Promise<Evidence> {
    const at = this.deps.clock.now();
    const results = await Promise.all(
      this.config.criteria.filter(which).map(async (c): Promise<CriterionResult> => {
        try {
          return { ...(await this.evaluateOne(c, at)), hard: isHard(c) };
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.deps.logger.warn({ err, criterion: c.type }, 'could not evaluate a go/no-go criterion');
          return { type: c.type, label: this.label(c), pass: null, value: 'could not be read', source: message, hard: isHard(c) };
        }
      }),
    );
    return { at: at.toISOString(), results, allPass: results.every((r) => r.pass === true) };
  }

  private label(c: Criterion): string {
    if (c.label) return c.label;
    switch (c.type) {
      case 'blockers_done':
        return 'All blockers done';
      case 'gates_signed':
        return `Gates signed off: ${c.gates.join(', ')}`;
      case 'no_firing_alarms':
        return c.prefixes ? `No alarm firing under ${c.prefixes.join(', ')}` : 'No watched alarm firing';
      case 'no_incidents':
        return `No ${c.severity}${c.severity === 'P1' ? '' : ' or worse'} incident since ${c.since}`;
      default:
        return c.label;
    }
  }

  private async evaluateOne(c: Criterion, at: Date): Promise<CriterionResult> {
    const { checklist, runbook, cloudwatch, timeline } = this.deps;
    const tz = runbook.launch.timezone;
    const label = this.label(c);
    switch (c.type) {
      case 'blockers_done': {
        const snapshot = await checklist.snapshot();
        const open = snapshot.open.blocker;
        // A blocker with a check says how its check stands: a drifting one is signed off but failing now.
        const shown = open.slice(0, 5).map((s) => `${s.item.id}${s.drift ? ' (signed off, check failing)' : s.evidence?.outcome === 'fail' ? ' (check failing)' : s.evidence?.outcome === 'pass' ? ' (check passes)' : ''}`);
        const value = open.length === 0 ? '0 open' : `${open.length} open: ${shown.join(', ')}${open.length > shown.length ? ', …' : ''}`;
        const checked = snapshot.gates.flatMap((g) => g.items).filter((s) => s.evidence);
        const count = (o: string) => checked.filter((s) => s.evidence!.outcome === o).length;
        const checks = checked.length > 0 ? `; evidence checks: ${count('pass')} ✅ · ${count('fail')} ❌ · ${count('unknown')} ❔` : '';
        return { type: c.type, label, pass: open.length === 0, value, source: `golive checklist${checks}` };
      }
      case 'gates_signed': {
        const gates = (await checklist.snapshot()).gates;
        const missing = c.gates.flatMap((id) => {
          const g = gates.find((x) => x.gate.id === id);
          if (!g) return [];
          if (g.missingSignoffs.length > 0) return [`${id} (${g.missingSignoffs.map((r) => checklist.roleLabel(r)).join(', ')})`];
          // A gate nobody signs off counts as signed once every item in it is done.
          return g.gate.signoff.length === 0 && g.done < g.total ? [`${id} (${g.total - g.done} of ${g.total} items open)`] : [];
        });
        const value = missing.length === 0 ? `${c.gates.length} of ${c.gates.length} signed off` : `waiting for ${missing.join('; ')}`;
        return { type: c.type, label, pass: missing.length === 0, value, source: 'golive sign-offs' };
      }
      case 'no_firing_alarms': {
        const answer = await this.deps.alarms.firing(c.prefixes ?? runbook.alarms?.prefixes ?? ['']);
        const firing = answer.firing.map((a) => a.name);
        const n = answer.alarms.length;
        const value = firing.length === 0 ? `0 of ${n} in ALARM` : `${firing.length} of ${n} in ALARM: ${firing.slice(0, 5).join(', ')}${firing.length > 5 ? ', …' : ''}`;
        return { type: c.type, label, pass: firing.length === 0, value, source: describeFiringSource(answer, at) };
      }
      case 'metric': {
        const region = c.region ?? alarmRegion(runbook, this.deps.defaultRegion);
        const windowMs = parseDuration(c.window)!;
        const query: MetricQuery = c.expression
          ? { period: c.period_seconds, expression: c.expression, metrics: Object.fromEntries(Object.entries(c.metrics ?? {}).map(([id, m]) => [id, { namespace: m.namespace, metric: m.metric, dimensions: m.dimensions, stat: m.stat }])) }
          : { period: c.period_seconds, metric: { namespace: c.namespace!, metric: c.metric!, dimensions: c.dimensions, stat: c.stat } };
        const series = await cloudwatch.getMetricData(region, query, new Date(at.getTime() - windowMs), at);
        const what = c.expression ? `${c.expression}` : `${c.namespace} ${c.metric} ${c.stat}`;
        const source = `CloudWatch GetMetricData, ${region}: ${what} per ${c.period_seconds} s over the last ${windowWords(windowMs)}`;
        if (series.values.length === 0) return { type: c.type, label, pass: null, value: 'no data in the window', source };
        // Every datapoint must pass; the worst one is what the meeting needs to see.
        const pass = PASS_OPS[c.op]!;
        const worst = c.op.startsWith('<') ? Math.max(...series.values) : Math.min(...series.values);
        const n = series.values.length;
        const value = `${formatValue(worst, c.unit)} (${n === 1 ? 'one datapoint' : `worst of ${n} datapoints`}; needs ${c.op} ${formatValue(c.threshold, c.unit)})`;
        return { type: c.type, label, pass: series.values.every((v) => pass(v, c.threshold)), value, source };
      }
      case 'no_incidents': {
        const since = resolveTimeRef(c.since, (await timeline.t0())?.at);
        if (!since) return { type: c.type, label, pass: null, value: 'T-0 is not set', source: `golive incidents since ${c.since}: set T-0 with \`/golive t0\`` };
        // "No P2" means no P2 or worse: a P1 in the window fails it too.
        const severities = SEVERITIES.slice(0, SEVERITIES.indexOf(c.severity) + 1);
        const rows = await this.deps.incidents.declaredSince(severities, since.toISOString());
        const what = severities.length === 1 ? c.severity : `${c.severity} or worse`;
        const value = rows.length === 0 ? `0 ${what}` : `${rows.length} ${what}: ${rows.slice(0, 5).map((r) => `INC-${r.id} ${r.severity} (${formatTime(r.declared_at, tz)})`).join(', ')}`;
        return { type: c.type, label, pass: rows.length === 0, value, source: `golive incidents since ${c.since} (${formatTime(since.toISOString(), tz)})` };
      }
    }
  }

  /** Who may vote: members of the voter roles. */
  async voterRoles(userId: string): Promise<string[]> {
    return this.deps.roles.rolesOf(userId, this.config.voters);
  }

  /** Labels of the voter roles, e.g. "CTO, Product Lead". */
  voterLabel(): string {
    return this.config.voters.map((r) => this.deps.runbook.roles[r]?.name ?? r).join(', ');
  }

  /**
   * Opens a decision with fresh evidence and queues its card, unless one is
   * open already: then that one is returned (created false) with fresh
   * evidence, which also replaces its card's while nobody has voted on it.
   */
  async open(actor: { userId: string; source: AuditSource; channel: string | null }): Promise<{ decision: DecisionRow; evidence: Evidence; created: boolean; refreshed: boolean }> {
    const { store, clock, runbook, roles } = this.deps;
    const g = this.config;
    if (!(await roles.isNamed(actor.userId))) {
      throw new GoliveError('not_permitted', 'Only people named in one of the runbook’s roles may call a go/no-go decision.', `The voters are: ${this.voterLabel()}.`);
    }
    const evidence = await this.evaluate();
    const at = clock.now().toISOString();
    const result = await store.transaction(async () => {
      const existing = await this.openDecision();
      if (existing) {
        // Nobody has voted on it yet, so nobody decided on its evidence: the card shows the evidence as it stands now.
        if ((await this.votes(existing.id)).length > 0) return { decision: existing, evidence, created: false, refreshed: false };
        await this.rows.setEvidence(existing.id, evidence);
        await this.audit.record({ actor: actor.userId, action: 'gonogo.refresh', target: `decision #${existing.id}`, detail: { all_pass: evidence.allPass, failing: evidence.results.filter((r) => r.pass !== true).map((r) => r.label) }, source: actor.source, channel: actor.channel }, at);
        const refreshed = (await this.decision(existing.id))!;
        await this.notifier?.refreshed(refreshed);
        return { decision: refreshed, evidence, created: false, refreshed: true };
      }
      const id = await this.rows.open({ openedBy: actor.userId, at, evidence, votesRequired: g.votes_required, channel: runbook.launch.channel });
      await this.audit.record({ actor: actor.userId, action: 'gonogo.open', target: `decision #${id}`, detail: { all_pass: evidence.allPass, failing: evidence.results.filter((r) => r.pass !== true).map((r) => r.label) }, source: actor.source, channel: actor.channel }, at);
      const decision = (await this.decision(id))!;
      const card = await this.notifier?.opened(decision);
      if (card !== undefined) await this.rows.setCard(id, card);
      return { decision: (await this.decision(id))!, evidence, created: true, refreshed: false };
    });
    if (result.created || result.refreshed) this.deps.afterCommit();
    return result;
  }

  /** Refuses privately, before the note modal opens, anyone who may not cast this vote on this decision now. */
  async checkMayVote(decisionId: number, userId: string, vote: Vote): Promise<DecisionRow> {
    const decision = await this.decision(decisionId);
    if (!decision) throw new GoliveError('unknown_request', `golive has no go/no-go decision #${decisionId}.`);
    if ((await this.voterRoles(userId)).length === 0) throw new GoliveError('not_permitted', `Only ${this.voterLabel()} vote on go/no-go.`);
    await this.refuseIfClosed(decision, userId);
    if (vote === 'go') await this.refuseGoOnHardFailures(decision);
    return decision;
  }

  /**
   * A Go vote is refused while a hard criterion fails or is unknown, on the
   * card's evidence (what the voters see) or measured again now (a blocker
   * reopened since the card was posted). No note overrides it.
   */
  private async refuseGoOnHardFailures(decision: DecisionRow): Promise<void> {
    const onCard = hardFailures(decision.evidence);
    const now = onCard.length > 0 ? [] : hardFailures(await this.evaluate(isHard));
    const failing = onCard.length > 0 ? onCard : now;
    if (failing.length === 0) return;
    const list = failing.map((r) => `${r.pass === false ? '❌' : '❔'} ${r.label}: ${r.value}`).join('; ');
    throw new GoliveError(
      'usage',
      `A Go vote is refused while a hard criterion fails or is unknown${onCard.length > 0 ? '' : ' (measured again now)'}: ${list}. Your vote was not recorded.`,
      onCard.length > 0 ? 'Resolve it, then run `/golive gonogo` for a card with fresh evidence. A No-Go vote is still possible.' : 'Resolve it and vote again. A No-Go vote is still possible.',
    );
  }

  private async refuseIfClosed(decision: DecisionRow, userId: string): Promise<void> {
    const tz = this.deps.runbook.launch.timezone;
    const mine = (await this.votes(decision.id)).find((v) => v.user_id === userId);
    if (decision.state !== 'open') {
      throw new GoliveError('usage', `Go/no-go decision #${decision.id} is already decided: ${decision.state === 'go' ? 'GO' : 'NO-GO'} at ${formatTime(decision.decided_at!, tz)}. Your vote was not recorded.`, 'Run `/golive gonogo` to call a new decision.');
    }
    if (mine) throw new GoliveError('usage', `You already voted ${mine.vote === 'go' ? 'Go' : 'No-Go'} on decision #${decision.id} at ${formatTime(mine.at, tz)}; a vote cannot be changed.`);
  }

  /** Records a vote; the decision is made when it reaches the rule. */
  async vote(decisionId: number, userId: string, vote: Vote, note: string | null): Promise<{ decision: DecisionRow; votes: VoteRow[] }> {
    const { store, clock } = this.deps;
    const decision = await this.checkMayVote(decisionId, userId, vote);
    const trimmed = note?.trim() ? note.trim().slice(0, 1000) : null;
    if (vote === 'go' && !decision.evidence.allPass && !trimmed) {
      throw new GoliveError('usage', 'A Go vote against failing or unknown criteria needs a note saying why.', 'Vote again and write the reason in the note.');
    }
    const at = clock.now().toISOString();
    const out = await store.transaction(async () => {
      const fresh = (await this.decision(decisionId))!;
      // The checks above ran before an await; a racing vote may have decided it since.
      await this.refuseIfClosed(fresh, userId);
      await this.rows.addVote(decisionId, userId, vote, trimmed, at);
      const votes = await this.votes(decisionId);
      const goVotes = votes.filter((v) => v.vote === 'go').length;
      const outcome = vote === 'no_go' ? 'no_go' : goVotes >= fresh.votes_required ? 'go' : undefined;
      await this.audit.record({ actor: userId, action: 'gonogo.vote', target: `decision #${decisionId}`, detail: { vote, note: trimmed }, source: 'button', channel: fresh.channel }, at);
      if (outcome) {
        await this.rows.decide(decisionId, outcome, at);
        await this.audit.record({ actor: 'golive', action: 'gonogo.decide', target: `decision #${decisionId}`, detail: { outcome, votes: votes.map((v) => `${v.user_id}:${v.vote}`) }, source: 'system', channel: fresh.channel }, at);
      }
      const decided = (await this.decision(decisionId))!;
      await this.notifier?.voted(decided, votes, votes.find((v) => v.user_id === userId)!);
      return { decision: decided, votes };
    });
    this.deps.afterCommit();
    return out;
  }

  async openDecision(): Promise<DecisionRow | undefined> {
    return this.rows.openDecision();
  }

  /** The most recent decision, open or made. */
  async latest(): Promise<DecisionRow | undefined> {
    const id = await this.rows.latestId();
    return id === undefined ? undefined : await this.decision(id);
  }

  async decision(id: number): Promise<DecisionRow | undefined> {
    return this.rows.decision(id);
  }

  async votes(decisionId: number): Promise<VoteRow[]> {
    return this.rows.votes(decisionId);
  }

  /** Every decision with its votes, oldest first (the launch report). */
  async allDecisions(): Promise<{ decision: DecisionRow; votes: VoteRow[] }[]> {
    const out: { decision: DecisionRow; votes: VoteRow[] }[] = [];
    for (const decision of await this.rows.decisions()) out.push({ decision, votes: await this.rows.votes(decision.id) });
    return out;
  }

}
