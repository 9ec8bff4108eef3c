import { runHttpCheck, shortTaskDef, watchRollout, type DeployPlan, type DeployRow, type HttpCheck, type HttpCheckResult } from '../deploys/index.js';
import type { MetricBatchPort } from '../platform/aws/cloudwatch-port.js';
import { asUserError } from '../platform/aws/as-user-error.js';
import type { EcsPort, ServiceRef } from '../platform/aws/ecs-port.js';
import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import { escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import type { Watchers } from '../platform/leadership/liveness.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { CanaryConfig, Runbook, Service } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { analysisQueries, scoreMetrics } from './analyse-metrics.js';
import { CanaryRepository, type CanaryFields, type CanaryRow } from './canary-repository.js';
import { decideCanary, judgeCanaryTasks, judgeEvidence, promoteRefusal, trafficShare, WATCHED_STATES, type CanaryEvidence, type CanaryState } from './decide-canary.js';

/** The deploy steps a canary reports on its deploy's card and thread. */
export type CanaryDeployStep = 'registered' | 'canary_starting' | 'baking' | 'waiting' | 'promoting';

/**
 * What the canary needs of the deploy service: a canary is a deploy (one
 * deploy row, the service's implicit lock, from start to end) run in steps
 * of its own, and its promotion is a normal rollout of the main service.
 */
export interface CanaryDeployRunner {
  plan(serviceName: string, targetArg: string, userId: string, forRequest?: number): Promise<DeployPlan>;
  /** Claims the service and records the deploy; `within` runs in the same transaction. */
  start(plan: DeployPlan, userId: string, requestId: number | null, within?: (deployId: number, at: string) => Promise<void>): Promise<number>;
  /** Registers the plan's new revision (for an image tag) and records it as the deploy's target. */
  register(deployId: number, plan: DeployPlan): Promise<string>;
  /** Posts the deploy card. */
  announce(deployId: number): Promise<void>;
  report(deployId: number, step: CanaryDeployStep, detail: string): Promise<void>;
  /** Rolls the main service out to `to` (UpdateService, watch, smoke check) and records the outcome; never throws. */
  rollOutMain(deployId: number, to: string, updating: string): Promise<DeployRow>;
  /** After a restart: finds what ECS runs for a deploy whose UpdateService may have been sent, and finishes it once. */
  resume(deployId: number): Promise<DeployRow>;
  /** Records the deploy as failed with `reason` (once) and reports it. */
  failDeploy(deployId: number, reason: string): Promise<DeployRow>;
  deploy(deployId: number): Promise<DeployRow | undefined>;
  ref(service: Service): ServiceRef;
}

/** The alarm watcher, as the canary reads it: one answer to "what is firing". */
export interface CanaryAlarms {
  /** Alarms the watcher holds in ALARM. */
  firing(): Promise<{ name: string; since: string }[]>;
  /** When the watcher last read CloudWatch; undefined before its first poll. */
  lastPollAt(): Promise<string | undefined>;
  /** Polls CloudWatch now (joining a poll that is running). */
  poll(): Promise<unknown>;
  /** DescribeAlarms requests one poll makes (one per prefix and page). */
  callsPerPoll(): number;
}

/** The Slack side of a canary. */
export interface CanaryNotifier {
  /** The live scorecard in the deploy's thread: posted the first time, updated after. */
  scorecard(c: CanaryRow): Promise<void>;
  /** Re-renders the deploy card (its canary lines and buttons) without a thread line. */
  card(c: CanaryRow): Promise<void>;
}

/** What a person's Promote did. */
export type PromoteOutcome =
  | { kind: 'promoted'; canary: CanaryRow }
  /** The analysis fails and the runbook allows an override: a note is needed (the button opens a form for it). */
  | { kind: 'needs_note'; canary: CanaryRow; failing: string[] }
  /** Someone (or the canary itself) decided first; nothing changed. */
  | { kind: 'decided'; canary: CanaryRow };

/** What a person's Abort did. */
export type AbortOutcome = { kind: 'aborted'; canary: CanaryRow } | { kind: 'decided'; canary: CanaryRow };

const DECIDABLE: readonly CanaryState[] = ['starting', 'baking', 'waiting'];

/**
 * Canary deploys: the new version on the canary ECS service (same cluster and
 * target group as the main one), judged every interval against the stable
 * version, then promoted (a normal rollout of the main service) or aborted
 * (the canary back to 0 tasks of the stable revision). Every step is a
 * compare-and-set with an audit row, so two clicks, a click racing the
 * analysis, or a restart decide once. After a restart each canary carries on
 * from what was recorded and what ECS and CloudWatch say: the canary never
 * runs the new version without golive watching it.
 */
export class CanaryService {
  private readonly rows: CanaryRepository;
  private readonly audit: AuditRepository;
  private notifier?: CanaryNotifier;
  private readonly loops = new Map<number, Promise<void>>();
  private readonly wakers = new Map<number, () => void>();
  private readonly urgent = new Set<number>();
  /** Canaries this process carries on now (started, decided or taken over here): a recovery leaves them alone. */
  private readonly mine = new Set<number>();
  private stopped = false;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      clock: Clock;
      logger: Logger;
      ecs: EcsPort;
      metrics: MetricBatchPort;
      deploys: CanaryDeployRunner;
      alarms: CanaryAlarms;
      /** What holds deploys of a service (locks, freeze windows): a Promote is a deploy of the main service. */
      locks: { heldBy(service: string): Promise<string | undefined> };
      roles: RoleDirectory;
      /** Runs long work after the reply; the app waits for it on shutdown. */
      background: (task: () => Promise<unknown>) => void;
      /** How often a waiting loop looks at the clock (default 1 s); tests use less. */
      pollMs: number;
      /** How often the canary's first rollout is polled (the deploy's rollout poll). */
      rolloutPollMs: number;
      healthCheck?: (check: HttpCheck) => Promise<HttpCheckResult>;
      /** Who this replica is, and which others are dead (their canaries are taken over); default: one process. */
      watchers?: Watchers;
    },
  ) {
    this.rows = new CanaryRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
  }

  private get me(): string {
    return this.deps.watchers?.replica ?? 'golive';
  }

  private deadBefore(): string | undefined {
    return this.deps.watchers ? this.deps.watchers.deadBefore() : '9999-12-31T23:59:59.999Z';
  }

  /** This process carries out a decision made here: the canary is its own from now, whoever watched it before. */
  private async carry(c: CanaryRow): Promise<void> {
    this.mine.add(c.id);
    if (c.watched_by !== this.me) await this.rows.watchBy(c.id, this.me);
  }

  notify(notifier: CanaryNotifier): void {
    this.notifier = notifier;
  }

  /** Whether a deploy of `service` goes through its canary: asked for with `--canary`, or always where the runbook says so. */
  wants(service: Service, asked: boolean): boolean {
    if (asked && !service.canary) throw new GoliveError('not_configured', `\`${service.name}\` has no canary in the runbook, so \`--canary\` cannot be used.`, 'Add a `canary:` section to the service (docs/runbook.md).');
    return Boolean(service.canary && (asked || service.canary.always));
  }

  canaryRef(service: Service): ServiceRef {
    return { cluster: service.cluster, service: service.canary!.service, region: service.region };
  }

  /** Whether a deploy row belongs to a canary (its recovery is the canary's). */
  async owns(deployId: number): Promise<boolean> {
    return (await this.rows.ofDeploy(deployId)) !== undefined;
  }

  get(id: number): Promise<CanaryRow | undefined> {
    return this.rows.get(id);
  }

  ofDeploy(deployId: number): Promise<CanaryRow | undefined> {
    return this.rows.ofDeploy(deployId);
  }

  latestFor(service: string): Promise<CanaryRow | undefined> {
    return this.rows.latestFor(service);
  }

  /**
   * Checks the canary service is there and idle, then claims the service and
   * records the deploy and the canary together. Returns their ids for `run`.
   */
  async start(plan: DeployPlan, userId: string, requestId: number | null = null): Promise<{ deployId: number; canaryId: number }> {
    const service = plan.service;
    const config = service.canary!;
    const state = await this.aws(
      () => this.deps.ecs.describeService(this.canaryRef(service)),
      () => new GoliveError('not_configured', `The canary service \`${config.service}\` does not exist in cluster \`${service.cluster}\` (${service.region}).`, 'Create it beside the main service: same task definition family and target group, desired count 0.'),
    );
    if (state.desiredCount > 0) {
      throw new GoliveError(
        'deploy_in_progress',
        `The canary service \`${config.service}\` already runs ${state.desiredCount} task${state.desiredCount === 1 ? '' : 's'} of ${shortTaskDef(state.taskDefinition)}; a canary starts only on an idle one (desired count 0). Nothing was changed.`,
        'If it is left over from an earlier canary, scale it to 0 in ECS first.',
      );
    }
    let canaryId = 0;
    const deployId = await this.deps.deploys.start(plan, userId, requestId, async (id, at) => {
      canaryId = await this.rows.create({ deploy_id: id, service: service.name, canary_service: config.service, stable_task_def: plan.current, desired_count: config.desired_count, created_at: at, watched_by: this.me });
      this.mine.add(canaryId);
      await this.audit.record({ actor: userId, action: 'canary.start', target: service.name, detail: { canary: canaryId, deploy: id, canary_service: config.service, bake_minutes: config.bake_minutes, desired_count: config.desired_count }, source: requestId ? 'system' : 'command', channel: this.deps.runbook.launch.channel }, at);
    });
    return { deployId, canaryId };
  }

  /** Runs a started canary: the new version on the canary service, then the bake. Never throws. */
  async run(id: number, plan: DeployPlan): Promise<void> {
    const c = (await this.rows.get(id))!;
    const service = plan.service;
    const { deploys, ecs, clock } = this.deps;
    await this.safely(() => deploys.announce(c.deploy_id));
    try {
      const td = plan.revisionArn ?? (await deploys.register(c.deploy_id, plan));
      await this.rows.setCanaryTaskDef(id, td, clock.now().toISOString());
      if (!(await this.stillStarting(id))) return;
      const main = await this.aws(() => ecs.describeService(deploys.ref(service)));
      await this.rows.markCanaryUpdateSent(id, clock.now().toISOString());
      await this.aws(() => ecs.updateService(this.canaryRef(service), td, c.desired_count));
      if (!(await this.stillStarting(id))) return;
      await deploys.report(c.deploy_id, 'canary_starting', `Starting ${c.desired_count} task${c.desired_count === 1 ? '' : 's'} of ${shortTaskDef(td)} on \`${c.canary_service}\` beside the ${main.desiredCount} of \`${service.service}\` (${trafficShare(c.desired_count, main.desiredCount)})`);
      await this.watchStart(id);
    } catch (err) {
      await this.startFailed(id, describe(err));
    }
  }

  /** An approved deploy override that asked for the canary: started and run like any canary, and waited for to its end (the request's outcome is the deploy's). */
  async runApproved(plan: DeployPlan, userId: string, requestId: number): Promise<DeployRow> {
    const { deployId, canaryId } = await this.start(plan, userId, requestId);
    await this.run(canaryId, plan);
    for (;;) {
      const d = (await this.deps.deploys.deploy(deployId))!;
      if (d.outcome !== 'running' || this.stopped) return d;
      await new Promise((resolve) => setTimeout(resolve, this.deps.pollMs));
    }
  }

  /**
   * A person's Promote: only once the bake is over, only for the runbook's
   * promoters, never while a lock or freeze holds the service, and over a
   * failing analysis only where the runbook allows it and with a note.
   */
  async promote(id: number, userId: string, note: string | undefined, source: AuditSource): Promise<PromoteOutcome> {
    const c = await this.find(id);
    const service = this.serviceOf(c);
    const config = service.canary!;
    if (c.state !== 'waiting') {
      if (c.state === 'baking') {
        throw new GoliveError('canary_state', `The canary of \`${service.name}\` is still baking: ${this.left(c)} left. *Promote* is offered when the bake ends (or it aborts by itself if the analysis fails).`);
      }
      if (c.state === 'starting') throw new GoliveError('canary_state', `The canary of \`${service.name}\` is still starting; it has not been measured yet.`);
      return { kind: 'decided', canary: c };
    }
    await this.requireRole(userId, service, config.promoters.length > 0 ? config.promoters : service.deployers, 'promote');
    const held = await this.deps.locks.heldBy(service.name);
    if (held) throw new GoliveError('deploy_locked', `Promote refused: ${held}. Promoting is a deploy of \`${service.service}\`. Nothing was changed.`, 'The canary keeps running and being judged; *Abort* stays available.');
    const refusal = promoteRefusal(config, c.evidence ?? undefined, note);
    if (refusal.refused) {
      if (refusal.needsNote) return { kind: 'needs_note', canary: c, failing: refusal.failing };
      throw new GoliveError('canary_state', `Promote refused: ${escapeText(refusal.reason)}. Nothing was changed.`, 'Abort it, or fix what fails and deploy again.');
    }
    const how = refusal.override ? 'override' : 'click';
    const ok = await this.move(c, 'promoting', { actor: userId, source, action: 'canary.promote', detail: { how, note: note?.trim() || null, verdict: c.evidence ? judgeEvidence(config, c.evidence).verdict : 'unknown' } }, { decided_by: userId, decided_at: this.deps.clock.now().toISOString(), promoted_how: how, ...(note?.trim() ? { decision_note: note.trim().slice(0, 500) } : {}) });
    const after = await this.find(id);
    if (!ok) return { kind: 'decided', canary: after };
    await this.carry(after);
    this.deps.background(() => this.runPromotion(id, false));
    return { kind: 'promoted', canary: after };
  }

  /** A person's Abort: the canary goes back to 0 tasks of the stable revision; the main service is never touched. */
  async abort(id: number, userId: string, reason: string | undefined, source: AuditSource): Promise<AbortOutcome> {
    const c = await this.find(id);
    const service = this.serviceOf(c);
    const config = service.canary!;
    if (c.state === 'promoting') {
      throw new GoliveError('canary_state', `The canary of \`${service.name}\` was already promoted${c.decided_by ? ` by <@${c.decided_by}>` : ''}; the service is rolling out, so there is nothing to abort.`, `To undo it once it is done: \`/golive rollback ${service.name}\`.`);
    }
    if (!DECIDABLE.includes(c.state)) return { kind: 'decided', canary: c };
    await this.requireRole(userId, service, [...new Set([...config.promoters, ...service.deployers, ...service.rollback_approvers])], 'abort');
    const words = reason?.trim() ? `aborted by <@${userId}>: ${reason.trim().slice(0, 300)}` : `aborted by <@${userId}>`;
    const ok = await this.abortBy(c, userId, words, source, undefined);
    return { kind: ok ? 'aborted' : 'decided', canary: await this.find(id) };
  }

  /** An alarm went to ALARM: canaries that watch it are judged now rather than at their next interval. */
  alarmFired(name: string): void {
    for (const [id] of this.loops) {
      void this.rows.get(id).then((c) => {
        const config = c && this.deps.runbook.services.find((s) => s.name === c.service)?.canary;
        if (config?.alarms.some((p) => name.startsWith(p))) this.wake(id, true);
      });
    }
  }

  /**
   * After a restart: every canary that was still going is picked up where
   * the record says it was, checked against what ECS runs, and finished once.
   */
  async recover(): Promise<void> {
    const deadBefore = this.deadBefore();
    // This replica cannot tell who is alive (its own beats fail): it takes nothing over.
    if (deadBefore === undefined) return;
    for (const c of await this.rows.inStates(WATCHED_STATES)) {
      // Carried on here already, or (compare-and-set) by a live replica: left to it.
      if (this.mine.has(c.id)) continue;
      this.mine.add(c.id);
      if (!(await this.rows.takeOver(c.id, this.me, deadBefore).catch(() => false))) {
        this.mine.delete(c.id);
        continue;
      }
      if (c.watched_by && c.watched_by !== this.me) this.deps.logger.info({ canary: c.id, service: c.service, from: c.watched_by, state: c.state }, 'taking over a canary whose replica is no longer running');
      const service = this.deps.runbook.services.find((s) => s.name === c.service);
      if (!service?.canary) {
        await this.end(c, 'failed', { abort_reason: `the service (or its canary) is no longer in the runbook; check \`${c.canary_service}\` in ECS by hand` });
        await this.safely(async () => void (await this.deps.deploys.failDeploy(c.deploy_id, `the canary could not be finished: \`${c.service}\` or its canary is no longer in the runbook; check \`${c.canary_service}\` in ECS by hand`)));
        continue;
      }
      switch (c.state) {
        case 'starting':
          this.deps.background(() => this.resumeStart(c.id));
          break;
        case 'baking':
        case 'waiting':
          this.ensureLoop(c.id);
          break;
        case 'promoting':
          this.deps.background(() => this.runPromotion(c.id, true));
          break;
        case 'aborting':
          this.deps.background(() => this.finishAbort(c.id));
          break;
      }
    }
  }

  /** Stops the analysis loops (they resume from the record on the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers.values()) wake();
    await Promise.allSettled([...this.loops.values()]);
  }

  // ---- starting ----

  private async stillStarting(id: number): Promise<boolean> {
    const c = (await this.rows.get(id))!;
    if (c.state === 'starting') return true;
    // Aborted while starting: whatever this run sent ECS last, the canary must end at 0 tasks.
    if (c.state === 'aborting' || c.state === 'aborted') await this.finishAbort(id);
    return false;
  }

  private async watchStart(id: number): Promise<void> {
    const c = (await this.rows.get(id))!;
    const service = this.serviceOf(c);
    const config = service.canary!;
    const { clock, ecs } = this.deps;
    const result = await watchRollout(ecs, this.canaryRef(service), c.canary_task_def!, {
      clock,
      pollMs: this.deps.rolloutPollMs,
      timeoutMs: service.rollout_timeout_minutes * 60_000,
      startedAt: new Date(c.canary_update_sent_at ?? c.created_at),
      onTransientError: (err) => this.deps.logger.warn({ err, canary: id }, 'could not read the canary service; still watching'),
    });
    if (!(await this.stillStarting(id))) return;
    if (!result.ok) {
      await this.abortBy(c, 'golive', `the canary's tasks did not start: ${result.reason}`, 'system', clock.now());
      return;
    }
    const now = clock.now();
    const ends = new Date(now.getTime() + config.bake_minutes * 60_000);
    const ok = await this.move(c, 'baking', { actor: 'golive', source: 'system', action: 'canary.bake', detail: { bake_ends_at: ends.toISOString() } }, { bake_started_at: now.toISOString(), bake_ends_at: ends.toISOString() });
    if (!ok) {
      await this.stillStarting(id);
      return;
    }
    await this.deps.deploys.report(c.deploy_id, 'baking', `Canary up (${result.running}/${result.desired} running): baking for ${config.bake_minutes} min, judged every ${config.interval_seconds} s; the scorecard below is updated as it goes`);
    await this.refresh(id);
    this.ensureLoop(id);
  }

  /** After a restart in `starting`: sends the canary's UpdateService if it never reached ECS, else watches it; nothing sent means nothing to undo. */
  private async resumeStart(id: number): Promise<void> {
    const c = (await this.rows.get(id))!;
    const service = this.serviceOf(c);
    if (!c.canary_update_sent_at || !c.canary_task_def) {
      await this.end(c, 'failed', { abort_reason: 'golive restarted before the canary service was asked to run the new version; nothing was changed in ECS' });
      await this.safely(async () => void (await this.deps.deploys.failDeploy(c.deploy_id, 'golive restarted before the canary started; nothing was changed in ECS. Deploy again if it is still needed.')));
      return;
    }
    try {
      const state = await this.aws(() => this.deps.ecs.describeService(this.canaryRef(service)));
      if (state.taskDefinition !== c.canary_task_def || state.desiredCount !== c.desired_count) {
        // The request was recorded as sent but ECS does not show it: send it once more, while the canary is still watched.
        await this.aws(() => this.deps.ecs.updateService(this.canaryRef(service), c.canary_task_def!, c.desired_count));
      }
      await this.deps.deploys.report(c.deploy_id, 'canary_starting', 'golive restarted while the canary was starting; checking what ECS runs');
      await this.watchStart(id);
    } catch (err) {
      await this.startFailed(id, describe(err));
    }
  }

  private async startFailed(id: number, reason: string): Promise<void> {
    const c = (await this.rows.get(id))!;
    if (c.canary_update_sent_at) {
      // ECS may have taken the change: the canary is scaled back, whatever state it reached.
      await this.abortBy(c, 'golive', `the canary could not start: ${reason}`, 'system', this.deps.clock.now());
      return;
    }
    if (await this.end(c, 'failed', { abort_reason: reason })) {
      await this.safely(async () => void (await this.deps.deploys.failDeploy(c.deploy_id, `the canary could not start: ${endSentence(reason)} Nothing was changed in ECS.`)));
    }
    await this.refresh(id);
  }

  // ---- baking and waiting ----

  private ensureLoop(id: number): void {
    if (this.loops.has(id) || this.stopped) return;
    const p = this.loop(id)
      .catch((err: unknown) => this.deps.logger.error({ err, canary: id }, 'canary analysis loop failed; it resumes on the next start'))
      .finally(() => {
        this.loops.delete(id);
        this.wakers.delete(id);
      });
    this.loops.set(id, p);
    this.deps.background(() => p);
  }

  private async loop(id: number): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const c = await this.rows.get(id);
      if (!c || (c.state !== 'baking' && c.state !== 'waiting')) {
        // Decided elsewhere (a Promote or Abort clicked on another replica, which carries it out).
        if (c?.watched_by !== this.me) this.mine.delete(id);
        return;
      }
      const config = this.serviceOf(c).canary!;
      const due = this.nextDue(c, config);
      const now = this.deps.clock.now().getTime();
      if (now >= due || this.urgent.delete(id)) {
        await this.tick(c);
        continue;
      }
      await this.nap(id, Math.min(this.deps.pollMs, due - now));
    }
  }

  /** The next analysis: one interval after the last (so a restart after a long gap measures at once), and never past the bake's end or the decision deadline. */
  private nextDue(c: CanaryRow, config: CanaryConfig): number {
    const last = c.evidence ? Date.parse(c.evidence.at) : Date.parse(c.bake_started_at!);
    const next = last + config.interval_seconds * 1000;
    const limit = c.state === 'baking' ? Date.parse(c.bake_ends_at!) : Date.parse(c.bake_ends_at!) + config.decide_within_minutes * 60_000;
    return Math.min(next, limit);
  }

  private nap(id: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.set(id, done);
    });
  }

  private wake(id: number, urgent: boolean): void {
    if (urgent) this.urgent.add(id);
    this.wakers.get(id)?.();
  }

  /** One analysis interval: measure, record, decide. */
  private async tick(c: CanaryRow): Promise<void> {
    const service = this.serviceOf(c);
    const config = service.canary!;
    const { evidence, healthFailed } = await this.measure(c, service);
    const seen = this.deps.clock.now();
    if (!(await this.rows.recordEvidence(c.id, c.state, evidence, healthFailed, seen.toISOString()))) return;
    const now = (await this.rows.get(c.id))!;
    const atEnd = c.state === 'baking' && seen.getTime() >= Date.parse(c.bake_ends_at!);
    const lockedBy = atEnd && config.auto_promote ? await this.deps.locks.heldBy(service.name) : undefined;
    const decision = decideCanary({ state: c.state as 'baking' | 'waiting', now: seen, bakeEndsAt: new Date(c.bake_ends_at!), config, evidence, lockedBy });
    switch (decision.kind) {
      case 'abort':
        await this.abortBy(now, 'golive', decision.reason, 'system', seen);
        return;
      case 'wait':
        await this.toWaiting(now, decision.why);
        return;
      case 'promote':
        if (await this.move(now, 'promoting', { actor: 'golive', source: 'system', action: 'canary.promote', detail: { how: 'auto', verdict: 'pass' } }, { decided_by: 'golive', decided_at: seen.toISOString(), promoted_how: 'auto' })) {
          await this.runPromotion(c.id, false);
        }
        return;
      case 'continue':
        await this.refresh(c.id);
    }
  }

  /** Reads the canary's tasks, the watcher's alarms, one GetMetricData batch and the health check. */
  private async measure(c: CanaryRow, service: Service): Promise<{ evidence: CanaryEvidence; healthFailed: boolean }> {
    const config = service.canary!;
    const { ecs, metrics, clock } = this.deps;
    const now = clock.now();
    let calls = 0;
    let tasks: CanaryEvidence['tasks'];
    try {
      tasks = judgeCanaryTasks(await ecs.describeService(this.canaryRef(service)), c.canary_task_def!, c.desired_count);
    } catch (err) {
      tasks = { running: 0, desired: c.desired_count, taskDefinition: c.canary_task_def!, unread: describe(err) };
    }
    let alarms: CanaryEvidence['alarms'] = { firing: [] };
    if (config.alarms.length > 0) {
      const last = await this.deps.alarms.lastPollAt();
      // The watcher's state is the one answer to "what is firing"; it is refreshed first when older than one interval.
      if (!last || now.getTime() - Date.parse(last) > config.interval_seconds * 1000) {
        calls += this.deps.alarms.callsPerPoll();
        await this.deps.alarms.poll().catch((err: unknown) => this.deps.logger.warn({ err, canary: c.id }, 'alarm poll for the canary failed'));
      }
      const polled = await this.deps.alarms.lastPollAt();
      if (!polled || now.getTime() - Date.parse(polled) > 2 * config.interval_seconds * 1000) {
        alarms = { unknown: polled ? `CloudWatch alarms not read since ${formatTime(polled, this.deps.runbook.launch.timezone)}` : 'the alarm watcher has not read CloudWatch yet' };
      } else {
        alarms = { firing: (await this.deps.alarms.firing()).filter((a) => config.alarms.some((p) => a.name.startsWith(p))) };
      }
    }
    let scores: CanaryEvidence['metrics'] = { scores: [] };
    if (config.metrics.length > 0) {
      try {
        const batch = await metrics.getMetricDataBatch(config.region ?? service.region, analysisQueries(config), config.interval_seconds, new Date(c.bake_started_at!), now);
        calls += batch.calls;
        scores = { scores: scoreMetrics(config, batch.series) };
      } catch (err) {
        calls += 1;
        scores = { unknown: describe(err) };
      }
    }
    let health: CanaryEvidence['health'];
    let healthFailed = false;
    if (config.health_check) {
      const r = await (this.deps.healthCheck ?? runHttpCheck)(config.health_check);
      health = r.ok ? { ok: true, detail: `${r.status} in ${r.ms} ms` } : { ok: false, detail: r.reason };
      healthFailed = !r.ok;
    }
    return { evidence: { at: now.toISOString(), tasks, alarms, metrics: scores, ...(health ? { health } : {}), healthFailures: c.health_failures + (healthFailed ? 1 : 0), cloudwatchCalls: calls }, healthFailed };
  }

  private async toWaiting(c: CanaryRow, why: string): Promise<void> {
    const config = this.serviceOf(c).canary!;
    if (!(await this.move(c, 'waiting', { actor: 'golive', source: 'system', action: 'canary.wait', detail: { why } }))) return;
    const by = new Date(Date.parse(c.bake_ends_at!) + config.decide_within_minutes * 60_000).toISOString();
    const verdict = c.evidence ? judgeEvidence(config, c.evidence) : undefined;
    const head = verdict?.verdict === 'pass' && verdict.tolerated.length === 0 ? 'Bake passed' : 'Bake over';
    await this.deps.deploys.report(c.deploy_id, 'waiting', `${head}: ${why}. *Promote* rolls it out to the service; *Abort* takes the canary down. It aborts by itself at ${formatTime(by, this.deps.runbook.launch.timezone)} if nobody decides.`);
    await this.refresh(c.id);
  }

  // ---- promoting ----

  /** Rolls the main service out to the canary's revision, then takes the canary down; after a restart, finishes what was started, once. */
  private async runPromotion(id: number, restarted: boolean): Promise<void> {
    const c = (await this.rows.get(id))!;
    const service = this.serviceOf(c);
    const { deploys } = this.deps;
    const td = c.canary_task_def!;
    try {
      const d = await deploys.deploy(c.deploy_id);
      if (d?.outcome === 'running') {
        if (!restarted) await deploys.report(c.deploy_id, 'promoting', `Promoted ${this.promotedBy(c)}: rolling ${shortTaskDef(td)} out to \`${service.service}\``);
        if (d.update_sent_at) await deploys.resume(c.deploy_id);
        else await deploys.rollOutMain(c.deploy_id, td, `${restarted ? 'golive restarted before the promotion reached ECS; ' : ''}updating the service from ${shortTaskDef(c.stable_task_def)} to ${shortTaskDef(td)}`);
      }
      const finished = (await deploys.deploy(c.deploy_id))!;
      const ok = finished.outcome === 'succeeded';
      // Either way the canary's work is done: back to 0 tasks, on the revision the service now runs.
      await this.scaleDown(c, service, ok ? td : c.stable_task_def);
      await this.end(c, ok ? 'succeeded' : 'failed', ok ? {} : { abort_reason: `the rollout of the service failed: ${finished.reason ?? 'unknown reason'}` });
    } catch (err) {
      this.deps.logger.error({ err, canary: id }, 'could not finish the canary promotion; it is retried on the next start');
      // With replicas, the leader's next sweep retries it (this one's, too).
      this.mine.delete(id);
    }
    await this.refresh(id);
  }

  // ---- aborting ----

  /** Moves a canary that is still undecided to aborting (once), then takes it down. */
  private async abortBy(c: CanaryRow, actor: string, reason: string, source: AuditSource, detectedAt: Date | undefined): Promise<boolean> {
    const current = (await this.rows.get(c.id))!;
    if (!DECIDABLE.includes(current.state)) return false;
    const ok = await this.move(current, 'aborting', { actor, source, action: 'canary.abort', detail: { reason, by_itself: actor === 'golive' } }, { abort_reason: reason, aborted_by: actor, ...(detectedAt ? { abort_detected_at: detectedAt.toISOString() } : {}) });
    if (!ok) return this.abortBy(c, actor, reason, source, detectedAt);
    await this.carry(current);
    await this.finishAbort(c.id);
    return true;
  }

  /** Takes the canary down to 0 tasks of the stable revision and records the abort once. Safe to run again (after a restart, or a start racing it). */
  private async finishAbort(id: number): Promise<void> {
    const c = (await this.rows.get(id))!;
    const service = this.serviceOf(c);
    try {
      if (c.canary_update_sent_at) {
        await this.scaleDown(c, service, c.stable_task_def);
        await this.rows.setAbortSent(id, this.deps.clock.now().toISOString());
      }
    } catch (err) {
      this.deps.logger.error({ err, canary: id }, 'could not take the canary down; retrying');
      if (!this.stopped) setTimeout(() => this.deps.background(() => this.finishAbort(id)), 5_000).unref();
      await this.refresh(id);
      return;
    }
    const after = (await this.rows.get(id))!;
    if (after.state === 'aborting' && (await this.end(after, 'aborted', {}))) {
      const ms = after.abort_detected_at && after.abort_sent_at ? Date.parse(after.abort_sent_at) - Date.parse(after.abort_detected_at) : undefined;
      const down = c.canary_update_sent_at ? 'The canary service is back to 0 tasks; nothing' : 'Nothing';
      await this.safely(async () => void (await this.deps.deploys.failDeploy(c.deploy_id, `canary aborted: ${endSentence(after.abort_reason ?? 'no reason recorded')} ${down} was changed in \`${service.service}\`, which still runs ${shortTaskDef(c.stable_task_def)}.`)));
      if (ms !== undefined) this.deps.logger.info({ canary: id, ms }, 'canary abort reached ECS');
    }
    await this.refresh(id);
  }

  private async scaleDown(c: CanaryRow, service: Service, taskDefinition: string): Promise<void> {
    await this.aws(() => this.deps.ecs.updateService(this.canaryRef(service), taskDefinition, 0));
  }

  // ---- shared ----

  /** Compare-and-set to `to` with its audit row, in one transaction. */
  private async move(c: CanaryRow, to: CanaryState, audit: { actor: string; source: AuditSource; action: string; detail: Record<string, unknown> }, fields: CanaryFields = {}): Promise<boolean> {
    const at = this.deps.clock.now().toISOString();
    return this.deps.store.transaction(async () => {
      const ok = await this.rows.transition(c.id, c.state, to, at, fields);
      if (ok) await this.audit.record({ actor: audit.actor, action: audit.action, target: c.service, detail: { canary: c.id, deploy: c.deploy_id, from: c.state, ...audit.detail }, source: audit.source, channel: this.deps.runbook.launch.channel }, at);
      return ok;
    });
  }

  /** Records a final state (succeeded, aborted, failed) once. */
  private async end(c: CanaryRow, to: 'succeeded' | 'aborted' | 'failed', fields: CanaryFields): Promise<boolean> {
    const current = (await this.rows.get(c.id))!;
    const ok = await this.move(current, to, { actor: 'golive', source: 'system', action: `canary.${to}`, detail: { reason: fields.abort_reason ?? current.abort_reason ?? null } }, fields);
    if (ok) this.mine.delete(c.id);
    return ok;
  }

  private async refresh(id: number): Promise<void> {
    const c = await this.rows.get(id);
    if (!c || !this.notifier) return;
    await this.safely(() => this.notifier!.scorecard(c));
    await this.safely(() => this.notifier!.card(c));
  }

  private promotedBy(c: CanaryRow): string {
    if (c.promoted_how === 'auto') return 'by the analysis';
    return `by <@${c.decided_by}>${c.promoted_how === 'override' ? ' over a failing analysis' : ''}`;
  }

  private left(c: CanaryRow): string {
    const ms = Date.parse(c.bake_ends_at ?? c.created_at) - this.deps.clock.now().getTime();
    return ms > 60_000 ? `${Math.round(ms / 60_000)} min` : 'under a minute';
  }

  private async find(id: number): Promise<CanaryRow> {
    const c = await this.rows.get(id);
    if (!c) throw new GoliveError('unknown_request', 'That button does not name a canary golive knows.');
    return c;
  }

  private serviceOf(c: CanaryRow): Service {
    const s = this.deps.runbook.services.find((x) => x.name === c.service);
    if (!s?.canary) throw new GoliveError('unknown_service', `Service \`${c.service}\` (or its canary) is no longer in the runbook.`);
    return s;
  }

  private async requireRole(userId: string, service: Service, roles: string[], what: string): Promise<void> {
    if ((await this.deps.roles.rolesOf(userId, roles)).length > 0) return;
    const who = roles.map((r) => this.deps.runbook.roles[r]?.name ?? r).join(' or ');
    throw new GoliveError('not_permitted', `Only ${who} can ${what} the canary of \`${service.name}\`.`);
  }

  /** Reporting must never break a canary that is half done; a failed Slack update is logged. */
  private async safely(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not report canary progress');
    }
  }

  private aws<T>(fn: () => Promise<T>, notFound?: () => GoliveError): Promise<T> {
    return asUserError(fn, notFound);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function endSentence(s: string): string {
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
