import { asUserError } from '../platform/aws/as-user-error.js';
import type { EcsPort, ServiceRef } from '../platform/aws/ecs-port.js';
import { IMAGE_TAG, imageWithTag } from '../platform/aws/image-ref.js';
import type { Clock } from '../platform/clock.js';
import { describeError, GoliveError } from '../platform/errors.js';
import { formatTime } from '../platform/format-time.js';
import type { Watchers } from '../platform/leadership/liveness.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook, Service } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import type { ChangeRequestRow } from './approval-repository.js';
import { DeployRepository, type DeployRow } from './deploy-repository.js';
import { closestNames } from '../platform/suggest.js';
import type { ApprovalService } from './approval-service.js';
import type { ChecklistService } from '../checklist/index.js';
import { describeFiringSource, type FiringAlarms, type FiringAnswer } from '../alarms/index.js';
import { gateRefusal } from './describe-gate.js';
import { runHttpCheck } from './http-check.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import { shortTaskDef, watchRollout } from './watch-rollout.js';

/** What the user asked to deploy. */
export type DeployTarget = { kind: 'tag'; tag: string } | { kind: 'revision'; revision: number };

/** A checked deploy, ready to run (or to describe for --dry-run). */
export interface DeployPlan {
  service: Service;
  target: DeployTarget;
  /** The task definition the service runs now (ARN). */
  current: string;
  currentImage?: string;
  /** How many tasks the service runs now. */
  desiredCount?: number;
  /** For a tag: the image the new revision will use. For a revision: its task definition ARN. */
  image?: string;
  revisionArn?: string;
  /** Why the deploy may not go ahead now (open blockers, firing alarms); empty when clear. `start` decides again against the state it commits on. */
  blockedBy: string[];
  /** What was firing when the plan was made (the runbook watches alarms), and where that answer came from, in words. */
  alarms?: { answer: FiringAnswer; source: string };
}

/** A rollback target and why it was chosen. */
export interface RollbackTarget {
  current: string;
  to: string;
  why: string;
}

/** Steps a deploy reports as it goes. */
export type DeployStep = 'registered' | 'updating' | 'rolling_out' | 'smoke_check' | 'succeeded' | 'failed' | 'canary_starting' | 'baking' | 'waiting' | 'promoting';

/** A deploy that runs in steps of its own (the canary): it owns the deploy rows it starts, and their recovery. */
export interface DeployStrategy {
  /** Whether a deploy of `service` runs this way: asked for (`--canary`), or always where the runbook says so; throws if asked where it cannot. */
  wants(service: Service, asked: boolean): boolean;
  /** What `--dry-run` lists before the service's own rollout (after registering the revision), and after it. */
  dryRunSteps(plan: DeployPlan): { before: string[]; after: string[] };
  /** Claims the service and records the deploy (before the reply, so a racing deploy is refused); `run` does the rest. */
  start(plan: DeployPlan, userId: string): Promise<{ deployId: number; run: () => Promise<unknown> }>;
  owns(deployId: number): Promise<boolean>;
  /** Runs an approved deploy override that asked for this strategy, to its end. */
  runApproved(plan: DeployPlan, userId: string, requestId: number): Promise<DeployRow>;
}

/**
 * Receives deploy progress. The Slack layer turns it into the deploy message,
 * its thread, and the outcome in the channel; the service knows nothing of Slack.
 */
export interface DeployObserver {
  started(deploy: DeployRow, service: Service): Promise<void>;
  progress(deploy: DeployRow, step: DeployStep, detail: string): Promise<void>;
  finished(deploy: DeployRow, service: Service): Promise<void>;
  /** A line about an approval request that did not get as far as a deploy (e.g. why it could not run). */
  requestNote(request: ChangeRequestRow, text: string): Promise<void>;
}

/** With one process: its own name, and every other replica counts as dead (what a restart always took over). */
const SOLO: Watchers = { replica: 'golive', deadBefore: () => '9999-12-31T23:59:59.999Z' };

/** Deploys and rollbacks of the runbook's ECS services. */
export class DeployService {
  private observer?: DeployObserver;
  private readonly rows: DeployRepository;
  private readonly audit: AuditRepository;
  /** Rollouts this process watches now: a recovery (at start, taking the lead, a sweep) leaves them alone. */
  private readonly watching = new Set<number>();
  /** Approved requests this process runs now. */
  private readonly executingHere = new Set<number>();

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      ecs: EcsPort;
      /** The one answer to "what is firing" (the alarm watcher's). */
      alarms: FiringAlarms;
      checklist: ChecklistService;
      roles: RoleDirectory;
      approvals: ApprovalService;
      clock: Clock;
      logger: Logger;
      rolloutPollMs: number;
      /** Deploy locks and freeze windows: a deploy they hold is refused (a rollback never is). */
      locks?: { deployRefusal(service: string): Promise<GoliveError | undefined> };
      /** Who this replica is, and which others are dead (their rollouts are taken over); default: one process. */
      watchers?: Watchers;
    },
  ) {
    this.rows = new DeployRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
  }

  private get watchers(): Watchers {
    return this.deps.watchers ?? SOLO;
  }

  /** Runs `fn` as this process's watch of the rollout: no recovery here takes it meanwhile. */
  private async watched<T>(id: number, fn: () => Promise<T>): Promise<T> {
    this.watching.add(id);
    try {
      return await fn();
    } finally {
      this.watching.delete(id);
    }
  }

  observe(observer: DeployObserver): void {
    this.observer = observer;
  }

  private strategy?: DeployStrategy;

  /** The canary registers here: its deploys are recovered by it, and approved overrides that asked for it run through it. */
  useStrategy(strategy: DeployStrategy): void {
    this.strategy = strategy;
  }

  /** The strategy a deploy of `service` runs through, if any (`asked`: the deployer typed `--canary`). */
  strategyFor(service: Service, asked: boolean): DeployStrategy | undefined {
    if (!this.strategy) {
      if (asked) throw new GoliveError('not_configured', `\`${service.name}\` has no canary in the runbook, so \`--canary\` cannot be used.`, 'Add a `canary:` section to the service (docs/runbook.md).');
      return undefined;
    }
    return this.strategy.wants(service, asked) ? this.strategy : undefined;
  }

  findService(name: string): Service {
    const { runbook } = this.deps;
    const key = name.trim().toLowerCase();
    const s = runbook.services.find((x) => x.name === key);
    if (s) return s;
    const names = runbook.services.map((x) => x.name);
    if (names.length === 0) throw new GoliveError('not_configured', 'This runbook defines no services, so there is nothing to deploy.', 'Add a `services:` section to the runbook.');
    const close = closestNames(key, names);
    const list = `The services are: ${names.map((n) => `\`${n}\``).join(', ')}.`;
    throw new GoliveError('unknown_service', `There is no service \`${clean(name)}\`.`, close.length > 0 ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? ${list}` : list);
  }

  ref(service: Service): ServiceRef {
    return { cluster: service.cluster, service: service.service, region: service.region };
  }

  /** `v1.2.3` → image tag; `:42` → revision 42. */
  parseTarget(arg: string): DeployTarget {
    const rev = /^:(\d{1,7})$/.exec(arg);
    if (rev) return { kind: 'revision', revision: Number(rev[1]) };
    if (IMAGE_TAG.test(arg)) return { kind: 'tag', tag: arg };
    throw new GoliveError('usage', `\`${clean(arg)}\` is neither an image tag (letters, digits, \`_.-\`, at most 128) nor a revision like \`:42\`.`);
  }

  /**
   * Reasons a deploy of the service must wait: open blockers of its gates as
   * the checklist stands now, and the alarms firing in `alarms` (read before,
   * because reading them may take a CloudWatch call). `start` asks this again
   * inside the transaction that records the deploy, so a blocker reopened
   * while the alarms were read still stops it.
   */
  private async gate(service: Service, alarms: FiringAnswer | undefined): Promise<string[]> {
    const out: string[] = [];
    const snapshot = await this.deps.checklist.snapshot();
    for (const gateId of service.deploy_requires) {
      const gate = snapshot.gates.find((g) => g.gate.id === gateId);
      for (const s of gate?.items ?? []) if (!s.done && s.item.level === 'blocker') out.push(`🔴 blocker \`${s.item.id}\` ${s.item.title} (gate \`${gateId}\`, owner: ${this.deps.checklist.roleLabel(s.item.owner)})${s.drift ? ' — signed off, but its check now fails' : ''}`);
    }
    for (const a of alarms?.firing ?? []) out.push(`🚨 alarm \`${a.name}\` is in ALARM since ${a.since}`);
    return out;
  }

  /** What is firing under the runbook's alarm prefixes (none to read without an `alarms` section). */
  private async readAlarms(): Promise<DeployPlan['alarms']> {
    if (!this.deps.runbook.alarms) return undefined;
    const answer = await this.aws(() => this.deps.alarms.firing());
    return { answer, source: describeFiringSource(answer, this.deps.clock.now()) };
  }

  /**
   * Why the service cannot take another change now: a rollout running, or a
   * rollback/override request open. One change per service at a time, so a
   * rollback approved later never lands on top of a newer deploy.
   */
  async busyReason(service: Service, exceptRequest?: number): Promise<string | undefined> {
    const running = await this.rows.runningDeployFor(service.name);
    if (running) return this.stillRunning(running);
    const open = (await this.deps.approvals.active(service.name)).find((r) => r.id !== exceptRequest);
    if (open) return `A ${open.kind === 'rollback' ? 'rollback' : 'deploy override'} of \`${service.name}\` requested by <@${open.requested_by}> is ${open.state === 'requested' ? 'waiting for approval' : open.state} (request #${open.id}); approve, reject or cancel it on its card first.`;
    return undefined;
  }

  /** Names a running change and who started it, e.g. "A deploy of `api` (#4, started by <@U…> at 2 Dec 09:41 IST) is still running; …". */
  private stillRunning(d: DeployRow): string {
    return `A ${d.kind} of \`${d.service}\` (#${d.id}, started by <@${d.requested_by}> at ${formatTime(d.started_at, this.deps.runbook.launch.timezone)}) is still running; wait for it to finish. Nothing was changed.`;
  }

  /** The refusal of a rollback or override request while the service is busy (undefined when it is not); asked before the request's slow reads and again as it is recorded. */
  private async requestRefusal(service: Service, kind: ChangeRequestRow['kind']): Promise<GoliveError | undefined> {
    const busy = await this.busyReason(service);
    if (!busy) return undefined;
    const running = kind === 'rollback' && (await this.rows.runningDeployFor(service.name)) !== undefined;
    return new GoliveError('deploy_in_progress', busy, running ? 'If it fails, its card offers *Roll back*; if it succeeds and you still need to go back, ask again then.' : undefined);
  }

  /** The service of the newest deploy (not rollback), whatever its outcome. */
  async lastDeployedService(): Promise<string | undefined> {
    return this.rows.lastDeployedService();
  }

  /** Checks permission and state, reads ECS, and works out what a deploy would do. */
  async plan(serviceName: string, targetArg: string, userId: string, forRequest?: number): Promise<DeployPlan> {
    const service = this.findService(serviceName);
    const target = this.parseTarget(targetArg);
    await this.requireDeployer(userId, service);
    const busy = await this.busyReason(service, forRequest);
    if (busy) throw new GoliveError('deploy_in_progress', busy);
    const locked = await this.deps.locks?.deployRefusal(service.name);
    if (locked) throw locked;
    const state = await this.aws(() => this.deps.ecs.describeService(this.ref(service)));
    const currentDef = await this.aws(() => this.deps.ecs.describeTaskDefinition(service.region, state.taskDefinition));
    const alarms = await this.readAlarms();
    const plan: DeployPlan = { service, target, current: state.taskDefinition, currentImage: currentDef.images[service.container], desiredCount: state.desiredCount, blockedBy: await this.gate(service, alarms?.answer), alarms };
    if (target.kind === 'tag') {
      if (!plan.currentImage) throw new GoliveError('not_configured', `The running task definition ${shortTaskDef(state.taskDefinition)} has no container \`${service.container}\` (it has: ${Object.keys(currentDef.images).join(', ')}).`, 'Fix `container` for this service in the runbook.');
      plan.image = imageWithTag(plan.currentImage, target.tag);
    } else {
      // The family actually running decides what `:N` means, whatever the runbook says.
      const family = currentDef.family;
      const rev = await this.aws(() => this.deps.ecs.describeTaskDefinition(service.region, `${family}:${target.revision}`), () => new GoliveError('unknown_revision', `Revision \`${family}:${target.revision}\` does not exist.`, `See the revisions with \`aws ecs list-task-definitions --family-prefix ${family}\`.`));
      if (rev.status !== 'ACTIVE') throw new GoliveError('unknown_revision', `Revision \`${family}:${target.revision}\` is ${rev.status}; only ACTIVE revisions can be deployed.`);
      if (rev.arn === state.taskDefinition) throw new GoliveError('usage', `\`${service.name}\` already runs ${shortTaskDef(rev.arn)}; nothing to deploy.`);
      plan.revisionArn = rev.arn;
      plan.image = rev.images[service.container];
    }
    return plan;
  }

  /**
   * Decides the deploy gate and claims the service, in the one transaction
   * that records the deploy: the blockers, locks and running changes as they
   * are now, with the plan's alarm reading. A gate that holds (and no
   * approved override) is refused with an audit row naming what held it.
   * Throws if refused or if another change got there first; returns the
   * deploy id to `run`.
   */
  async start(plan: DeployPlan, userId: string, requestId: number | null = null, within?: (deployId: number, at: string) => Promise<void>): Promise<number> {
    const { store, clock } = this.deps;
    const service = plan.service;
    const at = clock.now().toISOString();
    // Deploys are announced in the launch's ops channel, wherever the command was typed.
    const channel = this.deps.runbook.launch.channel;
    const started = await store.transaction(async (): Promise<{ deployId: number } | { refused: string[] }> => {
      const busy = await this.busyReason(service, requestId ?? undefined);
      if (busy) throw new GoliveError('deploy_in_progress', busy);
      // A lock set between the plan and now still counts.
      const locked = await this.deps.locks?.deployRefusal(service.name);
      if (locked) throw locked;
      const blockedBy = await this.gate(service, plan.alarms?.answer);
      if (blockedBy.length > 0 && requestId === null) {
        await this.recordRefusal(plan, userId, blockedBy, at);
        return { refused: blockedBy };
      }
      const deployId = await this.rows.startDeploy({ service: service.name, kind: 'deploy', from_task_def: plan.current, to_task_def: plan.revisionArn ?? `${familyOf(plan.current)}:(registering)`, image: plan.image ?? null, requested_by: userId, request_id: requestId, started_at: at, channel, watched_by: this.watchers.replica });
      if (deployId === undefined) throw await this.anotherChange(service);
      // Watched by this process from the moment it exists (until `run`, or the canary's promotion, ends).
      this.watching.add(deployId);
      await this.audit.record({ actor: userId, action: 'deploy.start', target: service.name, detail: { deploy: deployId, from: plan.current, to: plan.revisionArn ?? null, image: plan.image ?? null, override: requestId !== null, blocked_by: blockedBy, ...alarmsRead(plan) }, source: requestId ? 'system' : 'command', channel }, at);
      await within?.(deployId, at);
      return { deployId };
    });
    if ('refused' in started) throw this.refusal(plan, started.refused);
    return started.deployId;
  }

  /** Refuses a deploy its plan found gated (no override asked for): recorded in the audit trail, then thrown as the private answer. */
  async refuse(plan: DeployPlan, userId: string): Promise<never> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(() => this.recordRefusal(plan, userId, plan.blockedBy, at));
    throw this.refusal(plan, plan.blockedBy);
  }

  private async recordRefusal(plan: DeployPlan, userId: string, blockedBy: string[], at: string): Promise<void> {
    await this.audit.record({ actor: userId, action: 'deploy.refused', target: plan.service.name, detail: { from: plan.current, to: plan.revisionArn ?? null, image: plan.image ?? null, blocked_by: blockedBy, ...alarmsRead(plan) }, source: 'command', channel: this.deps.runbook.launch.channel }, at);
  }

  /** The private answer to a deploy the gate holds: each reason, where the alarm state came from, and whether an override may be asked for. */
  private refusal(plan: DeployPlan, blockedBy: string[]): GoliveError {
    const r = gateRefusal(plan.service.name, blockedBy, plan.service.allow_override, plan.alarms?.source);
    return new GoliveError('deploy_blocked', r.message, r.hint);
  }

  /** Runs a started deploy to the end; never throws (failures are recorded and reported). */
  async run(id: number, plan: DeployPlan): Promise<DeployRow> {
    return this.watched(id, async () => {
      const service = plan.service;
      await this.announce(id);
      try {
        const to = plan.revisionArn ?? (await this.register(id, plan));
        return await this.rollOut(id, service, to, `Updating the service from ${shortTaskDef(plan.current)} to ${shortTaskDef(to)}`);
      } catch (err) {
        return this.fail(id, service, err);
      }
    });
  }

  /* The pieces of `run`, for a deploy that runs in steps of its own (the canary). */

  /** Posts the deploy card. */
  async announce(id: number): Promise<void> {
    const d = (await this.rows.deploy(id))!;
    await this.safely(async () => this.observer?.started(d, this.findService(d.service)));
  }

  /** Registers the plan's new revision (an image tag) and records it as the deploy's target. */
  async register(id: number, plan: DeployPlan): Promise<string> {
    const service = plan.service;
    const registered = await this.aws(() => this.deps.ecs.registerWithImage(service.region, plan.current, service.container, plan.image!));
    await this.rows.setDeployTarget(id, registered.arn);
    await this.report(id, 'registered', `Registered ${shortTaskDef(registered.arn)} with \`${plan.image}\``);
    return registered.arn;
  }

  /** Rolls the service out to `to` and records the outcome; never throws. */
  async rollOutMain(id: number, to: string, updating: string): Promise<DeployRow> {
    return this.watched(id, async () => {
      const service = this.findService((await this.rows.deploy(id))!.service);
      try {
        return await this.rollOut(id, service, to, updating);
      } catch (err) {
        return this.fail(id, service, err);
      }
    });
  }

  /** After a restart: finds what ECS runs for a deploy whose UpdateService may have been sent, and finishes it once; never throws. */
  async resume(id: number): Promise<DeployRow> {
    return this.watched(id, async () => {
      const d = (await this.rows.deploy(id))!;
      const service = this.findService(d.service);
      return this.resumeRollout(d, service).catch((err: unknown) => this.fail(id, service, err));
    });
  }

  /** Records a deploy as failed (once) and reports it. */
  async failDeploy(id: number, reason: string): Promise<DeployRow> {
    const d = (await this.rows.deploy(id))!;
    return this.finish(id, this.findService(d.service), 'failed', reason);
  }

  async deploy(id: number): Promise<DeployRow | undefined> {
    return this.rows.deploy(id);
  }

  /** Reports a step on the deploy's card and thread. */
  async report(id: number, step: DeployStep, detail: string): Promise<void> {
    await this.safely(async () => this.observer?.progress((await this.rows.deploy(id))!, step, detail));
  }

  /**
   * Picks the rollback target: the named revision; else the revision the
   * current one replaced, per the deploy history; else the newest ACTIVE
   * revision below the current one. Every target must be ACTIVE and older.
   */
  async rollbackTarget(service: Service, revision: number | undefined): Promise<RollbackTarget> {
    const { ecs } = this.deps;
    const current = (await this.aws(() => ecs.describeService(this.ref(service)))).taskDefinition;
    const family = familyOf(current);
    const currentRevision = revisionOf(current) ?? Number.MAX_SAFE_INTEGER;
    const activeOlder = async (arnOrName: string): Promise<string | undefined> => {
      const td = await this.aws(() => ecs.describeTaskDefinition(service.region, arnOrName), () => new GoliveError('unknown_revision', `Revision \`${shortTaskDef(arnOrName)}\` does not exist.`));
      return td.status === 'ACTIVE' && td.family === family && td.revision < currentRevision ? td.arn : undefined;
    };
    if (revision !== undefined) {
      const named = `${family}:${revision}`;
      if (revision >= currentRevision) {
        throw new GoliveError('usage', `${named} is not older than the running ${shortTaskDef(current)}, so it is not a rollback.`, `To move forward, deploy it: \`/golive deploy ${service.name} :${revision}\`.`);
      }
      const arn = await activeOlder(named);
      if (!arn) throw new GoliveError('unknown_revision', `Revision \`${named}\` is not ACTIVE, so ECS cannot run it.`);
      return { current, to: arn, why: 'the revision you named' };
    }
    // The deploy that put the current revision in place says what ran before it.
    const history = await this.rows.successfulDeploys(service.name);
    const installedAt = history.findIndex((d) => d.to_task_def === current);
    if (installedAt >= 0) {
      for (const d of history.slice(installedAt + 1)) {
        if (d.to_task_def === current || familyOf(d.to_task_def) !== family) continue;
        const arn = await activeOlder(d.to_task_def).catch(() => undefined);
        if (arn) return { current, to: arn, why: `the last successful ${d.kind} before the current one (#${d.id}, by <@${d.requested_by}>)` };
      }
    }
    const revisions = await this.aws(() => ecs.listRevisions(service.region, family));
    const older = revisions.find((r) => r.revision < currentRevision);
    if (!older) throw new GoliveError('unknown_revision', `There is no ACTIVE revision of \`${family}\` older than ${shortTaskDef(current)} to roll back to.`, `Name one: \`/golive rollback ${service.name} <revision>\`.`);
    return { current, to: older.arn, why: 'the newest ACTIVE revision below the current one' };
  }

  /**
   * Files a rollback request for approval. `words` are what followed the
   * service: an optional revision (`:41`, or a bare number older than the
   * current revision) and then the reason.
   */
  async proposeRollback(serviceName: string, words: string[], userId: string, source: AuditSource): Promise<ChangeRequestRow> {
    const service = this.findService(serviceName);
    const refused = await this.requestRefusal(service, 'rollback');
    if (refused) throw refused;
    let revision: number | undefined;
    let reasonWords = words;
    const first = words[0];
    if (first && /^:\d{1,7}$/.test(first)) {
      revision = Number(first.slice(1));
      reasonWords = words.slice(1);
    } else if (first && /^\d{1,7}$/.test(first)) {
      // "/golive rollback api 502 errors" is a reason, not revision 502: a bare number counts only if it is an older revision.
      const current = revisionOf((await this.aws(() => this.deps.ecs.describeService(this.ref(service)))).taskDefinition);
      if (current !== undefined && Number(first) < current) {
        revision = Number(first);
        reasonWords = words.slice(1);
      }
    }
    const reason = reasonWords.length > 0 ? reasonWords.join(' ').slice(0, 1000) : null;
    const target = await this.rollbackTarget(service, revision);
    // Reading ECS took a while: a deploy that started meanwhile still refuses the request, under the same lock that records it.
    return this.deps.approvals.create({ kind: 'rollback', service, params: { from: target.current, to: target.to, why: target.why, reason }, requester: userId, channel: this.deps.runbook.launch.channel, source }, () => this.requestRefusal(service, 'rollback'));
  }

  /** The Roll back button on a failed deploy: back to what that deploy replaced, if ECS really moved. */
  async proposeRollbackOfDeploy(deployId: number, userId: string): Promise<ChangeRequestRow> {
    const d = await this.rows.deploy(deployId);
    if (!d || d.kind !== 'deploy' || !d.from_task_def) throw new GoliveError('unknown_request', 'That button does not name a deploy golive knows.');
    const service = this.findService(d.service);
    const refused = await this.requestRefusal(service, 'rollback');
    if (refused) throw refused;
    const current = (await this.aws(() => this.deps.ecs.describeService(this.ref(service)))).taskDefinition;
    if (current !== d.to_task_def) {
      throw new GoliveError(
        'usage',
        `\`${service.name}\` runs ${shortTaskDef(current)}, not ${shortTaskDef(d.to_task_def)} from deploy #${d.id}, so there is nothing of that deploy to roll back.`,
        current === d.from_task_def ? 'ECS is already back on the revision it replaced.' : `Use \`/golive rollback ${service.name}\` to pick a target from the current state.`,
      );
    }
    return this.deps.approvals.create({
      kind: 'rollback',
      service,
      params: { from: current, to: d.from_task_def, why: `the revision deploy #${d.id} replaced`, reason: `deploy #${d.id} failed: ${d.reason ?? 'unknown reason'}` },
      requester: userId,
      channel: this.deps.runbook.launch.channel,
      source: 'button',
    }, () => this.requestRefusal(service, 'rollback'));
  }

  /** Files a request to deploy despite blockers (only where the runbook allows it). */
  async proposeOverride(plan: DeployPlan, targetArg: string, userId: string, opts: { canary?: boolean } = {}): Promise<ChangeRequestRow> {
    if (!plan.service.allow_override) throw new GoliveError('not_permitted', `The runbook does not allow overriding the deploy gate of \`${plan.service.name}\`.`);
    return this.deps.approvals.create({ kind: 'deploy_override', service: plan.service, params: { target: targetArg, from: plan.current, image: plan.image ?? null, blocked_by: plan.blockedBy, ...(opts.canary ? { canary: true } : {}) }, requester: userId, channel: this.deps.runbook.launch.channel, source: 'command' }, () => this.requestRefusal(plan.service, 'deploy_override'));
  }

  /**
   * Runs an approved request once: only the caller that wins the approved →
   * executing step executes. Whatever happens, the request ends succeeded or failed.
   */
  async executeApproved(request: ChangeRequestRow): Promise<void> {
    const { approvals } = this.deps;
    if (!await approvals.beginExecution(request.id)) return;
    this.executingHere.add(request.id);
    try {
      const service = this.findService(request.service);
      let deploy: DeployRow;
      if (request.kind === 'rollback') {
        deploy = await this.executeRollback(request, service);
      } else {
        const plan = await this.plan(service.name, String(request.params.target), request.requested_by, request.id);
        deploy = request.params.canary === true && this.strategy ? await this.strategy.runApproved(plan, request.requested_by, request.id) : await this.run(await this.start(plan, request.requested_by, request.id), plan);
      }
      await approvals.finish(request.id, deploy.outcome === 'succeeded', deploy.reason ?? deploy.outcome);
    } catch (err) {
      // Said in words, whatever failed: a coded refusal as it is, anything else as an internal error with its logged id, never the raw message.
      const reason = describeError(err, this.deps.logger, { request: request.id }).message;
      await approvals.finish(request.id, false, reason);
      await this.safely(async () => this.observer?.requestNote(await approvals.get(request.id), `❌ Could not run: ${reason}`));
    } finally {
      this.executingHere.delete(request.id);
    }
  }

  /**
   * After a restart: deploys and rollbacks that were running are checked
   * against what ECS really runs, then watched to the end or recorded. Each
   * service recovers on its own, so one long rollout does not hold up the rest.
   *
   * With several replicas, only what no live replica is on: rollouts whose
   * watcher is dead (or this replica's previous life), each taken over by
   * compare-and-set so one replica resumes it; the leader runs this at its
   * start, when it takes the lead, and every sweep. `approvedBefore`: only
   * approved requests decided before then are started here (a sweep leaves a
   * fresh approval to the replica that took it).
   */
  async recover(onRequestSettled: (requestId: number) => Promise<void>, opts: { approvedBefore?: string } = {}): Promise<void> {
    const deadBefore = this.watchers.deadBefore();
    // This replica cannot tell who is alive (its own beats fail): it takes nothing over.
    if (deadBefore === undefined) return;
    const orphaned = await this.orphanedDeploys(deadBefore);
    const approved = (await this.deps.approvals.approved()).filter((r) => opts.approvedBefore === undefined || (r.decided_at ?? r.updated_at) < opts.approvedBefore);
    const executing = (await this.deps.approvals.executing()).filter((r) => !this.executingHere.has(r.id));
    const services = new Set([...orphaned.map((d) => d.service), ...approved.map((r) => r.service), ...executing.map((r) => r.service)]);
    await Promise.all([...services].map((name) => this.recoverService(name, onRequestSettled, deadBefore, opts).catch((err: unknown) => this.deps.logger.error({ err, service: name }, 'recovery failed'))));
  }

  /** Running deploys (not a canary's) that no live replica watches, this process included. */
  private async orphanedDeploys(deadBefore: string): Promise<DeployRow[]> {
    const out: DeployRow[] = [];
    for (const d of await this.rows.orphanedRunning(this.watchers.replica, deadBefore)) if (!this.watching.has(d.id) && !(await this.strategy?.owns(d.id))) out.push(d);
    return out;
  }

  /** Makes this process the rollout's watcher, if no live replica is; marked before the compare-and-set, so two recoveries here never both take it. */
  private async claim(d: DeployRow, deadBefore: string): Promise<boolean> {
    if (this.watching.has(d.id)) return false;
    this.watching.add(d.id);
    const ok = await this.rows.takeOver(d.id, this.watchers.replica, deadBefore).catch(() => false);
    if (!ok) this.watching.delete(d.id);
    else if (d.watched_by && d.watched_by !== this.watchers.replica) this.deps.logger.info({ deploy: d.id, service: d.service, from: d.watched_by }, 'taking over a rollout whose replica is no longer running');
    return ok;
  }

  private async recoverService(name: string, onRequestSettled: (requestId: number) => Promise<void>, deadBefore: string, opts: { approvedBefore?: string }): Promise<void> {
    const { approvals, clock } = this.deps;
    const service = this.deps.runbook.services.find((s) => s.name === name);
    for (const d of (await this.orphanedDeploys(deadBefore)).filter((x) => x.service === name)) {
      if (!(await this.claim(d, deadBefore))) continue;
      try {
        await this.recoverDeploy(d, service);
      } finally {
        this.watching.delete(d.id);
      }
    }
    for (const r of (await approvals.executing()).filter((x) => x.service === name)) {
      if (this.executingHere.has(r.id)) continue;
      const linked = await this.rows.deployOfRequest(r.id);
      // Its rollout goes on, watched by a live replica (this one included): that one settles the request after, or
      // whoever takes the rollout over does, here, once it has ended. (A canary's is settled as it always was.)
      if (linked?.outcome === 'running' && !(await this.strategy?.owns(linked.id)) && (this.watching.has(linked.id) || !(await this.orphanedDeploys(deadBefore)).some((d) => d.id === linked.id))) continue;
      if (!(await approvals.takeOverExecution(r.id, deadBefore))) continue;
      await approvals.finish(r.id, linked?.outcome === 'succeeded', linked ? (linked.reason ?? linked.outcome) : 'golive restarted before the change started; nothing was changed in ECS');
      await onRequestSettled(r.id);
    }
    for (const r of (await this.deps.approvals.approved()).filter((x) => x.service === name && (opts.approvedBefore === undefined || (x.decided_at ?? x.updated_at) < opts.approvedBefore))) {
      // Approved but never started: run it if the approval is still fresh, otherwise say so rather than act on an old decision.
      const freshUntil = Date.parse(r.decided_at ?? r.updated_at) + (service?.approval_expires_minutes ?? 30) * 60_000;
      if (service && clock.now().getTime() < freshUntil) {
        const running = this.executeApproved(r);
        await onRequestSettled(r.id);
        await running;
      } else {
        await approvals.abandon(r.id, 'golive restarted before the approved change started, and the approval is now too old; nothing was changed in ECS. Ask again if it is still needed.');
      }
      await onRequestSettled(r.id);
    }
  }

  /** Finishes one rollout a previous process (or a dead replica) left running, once. */
  private async recoverDeploy(d: DeployRow, service: Service | undefined): Promise<void> {
    if (!service) {
      await this.rows.finishDeploy(d.id, 'failed', 'the service is no longer in the runbook', this.deps.clock.now().toISOString());
    } else if (d.update_sent_at === null) {
      await this.fail(d.id, service, new Error('golive restarted before ECS was asked to change the service; nothing was changed in ECS'));
    } else {
      await this.resumeRollout(d, service).catch((err) => this.fail(d.id, service, err));
    }
  }

  /**
   * A rollout whose UpdateService was about to be sent when golive stopped.
   * If ECS never took it (the service still runs what the change started
   * from) it is sent now, while the decision is fresh; otherwise the rollout
   * is watched to its end. Either way ECS is asked to change once.
   */
  private async resumeRollout(d: DeployRow, service: Service): Promise<DeployRow> {
    const state = await this.aws(() => this.deps.ecs.describeService(this.ref(service)));
    const took = state.taskDefinition === d.to_task_def || state.deployments.some((x) => x.taskDefinition === d.to_task_def);
    if (!took && state.taskDefinition === d.from_task_def) {
      // Fresh from when the change was sent: a canary's promotion is decided long after its deploy started.
      const freshUntil = Date.parse(d.update_sent_at ?? d.started_at) + service.approval_expires_minutes * 60_000;
      if (this.deps.clock.now().getTime() >= freshUntil) {
        return this.fail(d.id, service, new Error(`golive restarted before ECS took the change, and the ${d.kind} is now too old to send; nothing was changed in ECS. Ask again if it is still needed.`));
      }
      return this.rollOut(d.id, service, d.to_task_def, `golive restarted before ECS took the change; updating the service from ${shortTaskDef(state.taskDefinition)} to ${shortTaskDef(d.to_task_def)} now`);
    }
    await this.report(d.id, 'rolling_out', 'golive restarted; checking what ECS is running');
    return this.rollOut(d.id, service, d.to_task_def, null);
  }

  private async executeRollback(request: ChangeRequestRow, service: Service): Promise<DeployRow> {
    const { store, clock, ecs } = this.deps;
    const to = String(request.params.to);
    const from = String(request.params.from);
    // The service may have moved since the request was filed; rolling "back" from something else would be a blind deploy.
    const now = (await this.aws(() => ecs.describeService(this.ref(service)))).taskDefinition;
    if (now !== from) {
      throw new GoliveError('deploy_in_progress', `the service now runs ${shortTaskDef(now)}, not ${shortTaskDef(from)} as when the rollback was requested; nothing was changed. Ask again if a rollback is still needed.`);
    }
    const at = clock.now().toISOString();
    const id = await store.transaction(async () => {
      const deployId = await this.rows.startDeploy({ service: service.name, kind: 'rollback', from_task_def: from, to_task_def: to, image: null, requested_by: request.requested_by, request_id: request.id, started_at: at, channel: request.channel, watched_by: this.watchers.replica });
      if (deployId === undefined) throw await this.anotherChange(service);
      this.watching.add(deployId);
      await this.audit.record({ actor: request.decided_by ?? 'golive', action: 'rollback.start', target: service.name, detail: { deploy: deployId, request: request.id, from, to }, source: 'system', channel: request.channel }, at);
      return deployId;
    });
    return this.watched(id, async () => {
      await this.safely(async () => this.observer?.started((await this.rows.deploy(id))!, service));
      try {
        return await this.rollOut(id, service, to, `Rolling back from ${shortTaskDef(from)} to ${shortTaskDef(to)}`);
      } catch (err) {
        return this.fail(id, service, err);
      }
    });
  }

  private async rollOut(id: number, service: Service, to: string, updating: string | null): Promise<DeployRow> {
    const { ecs, clock } = this.deps;
    if (updating !== null) {
      await this.rows.markUpdateSent(id, clock.now().toISOString());
      await this.aws(() => ecs.updateService(this.ref(service), to));
      await this.report(id, 'updating', updating);
    }
    const row = (await this.rows.deploy(id))!;
    const result = await watchRollout(ecs, this.ref(service), to, {
      clock,
      pollMs: this.deps.rolloutPollMs,
      timeoutMs: service.rollout_timeout_minutes * 60_000,
      // The rollout's time starts when ECS was asked (a canary's deploy started a bake earlier).
      startedAt: new Date(row.update_sent_at ?? row.started_at),
      onProgress: (running, desired) => this.report(id, 'rolling_out', `Rolling out: ${running}/${desired} tasks running`),
      onTransientError: (err) => this.deps.logger.warn({ err, deploy: id }, 'could not read the service; still watching'),
    });
    if (!result.ok) return this.fail(id, service, new Error(result.reason));
    if (service.smoke_check && row.kind === 'deploy') {
      await this.report(id, 'smoke_check', `Rollout complete (${result.running}/${result.desired} running); smoke check GET ${service.smoke_check.url}`);
      const smoke = await runHttpCheck(service.smoke_check);
      if (!smoke.ok) return this.fail(id, service, new Error(`smoke check failed: ${smoke.reason}`));
      return this.finish(id, service, 'succeeded', `${shortTaskDef(to)} is live: ${result.running}/${result.desired} tasks running, smoke check passed (${smoke.status} in ${smoke.ms} ms)`);
    }
    return this.finish(id, service, 'succeeded', `${shortTaskDef(to)} is live: ${result.running}/${result.desired} tasks running`);
  }

  private async fail(id: number, service: Service, err: unknown): Promise<DeployRow> {
    this.deps.logger.warn({ err, deploy: id, service: service.name }, 'deploy failed');
    return this.finish(id, service, 'failed', describeFailure(err));
  }

  private async finish(id: number, service: Service, outcome: 'succeeded' | 'failed', detail: string): Promise<DeployRow> {
    const { store, clock } = this.deps;
    const at = clock.now().toISOString();
    const changed = await store.transaction(async () => {
      const ok = await this.rows.finishDeploy(id, outcome, detail, at);
      if (ok) {
        const d = (await this.rows.deploy(id))!;
        await this.audit.record({ actor: 'golive', action: `${d.kind}.${outcome}`, target: service.name, detail: { deploy: id, to: d.to_task_def, reason: detail }, source: 'system', channel: d.channel }, at);
      }
      return ok;
    });
    const row = (await this.rows.deploy(id))!;
    if (changed) {
      await this.report(id, outcome, detail);
      await this.safely(async () => this.observer?.finished(row, service));
    }
    return row;
  }

  /** Reporting must never break a deploy that is half done; a failed Slack update is logged. */
  private async safely(fn: () => Promise<void | undefined> | undefined): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not report deploy progress');
    }
  }

  /** The deploy table allows one running rollout per service: another change got there first (read inside the refused insert's transaction). */
  private async anotherChange(service: Service): Promise<GoliveError> {
    const running = await this.rows.runningDeployFor(service.name);
    return new GoliveError('deploy_in_progress', running ? this.stillRunning(running) : `Another change of \`${service.name}\` started a moment ago; wait for it to finish. Nothing was changed.`);
  }

  private async requireDeployer(userId: string, service: Service): Promise<void> {
    if ((await this.deps.roles.rolesOf(userId, service.deployers)).length > 0) return;
    const who = service.deployers.map((r) => this.deps.runbook.roles[r]?.name ?? r).join(' or ');
    throw new GoliveError('not_permitted', `Only ${who} can deploy \`${service.name}\`.`);
  }

  private aws<T>(fn: () => Promise<T>, notFound?: () => GoliveError): Promise<T> {
    return asUserError(fn, notFound);
  }
}

/** Where the plan's alarm state came from, for the audit row. */
function alarmsRead(plan: DeployPlan): { alarms_read?: string } {
  return plan.alarms ? { alarms_read: plan.alarms.source } : {};
}

/** `…task-definition/govisax-prod:42` → `govisax-prod`. */
function familyOf(arnOrName: string): string {
  return shortTaskDef(arnOrName).replace(/:[^:]*$/, '');
}


function revisionOf(arn: string): number | undefined {
  const m = /:(\d+)$/.exec(arn);
  return m ? Number(m[1]) : undefined;
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function clean(s: string): string {
  const t = s.replace(/[`<>&\n]/g, '');
  return t.length > 60 ? `${t.slice(0, 59)}…` : t;
}
