import type { CloudWatchPort } from '../aws/cloudwatch-port.js';
import { AwsCallError, type EcsPort, type ServiceRef } from '../aws/ecs-port.js';
import { imageWithTag } from '../aws/ecs-adapter.js';
import type { Clock } from '../clock.js';
import { GoliveError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Runbook, Service } from '../runbook/schema.js';
import type { AuditSource, ChangeRequestRow, DeployRow, Store } from '../../store/store.js';
import { closestNames } from '../suggest.js';
import type { ApprovalService } from './approvals.js';
import type { ChecklistService } from './checklist.js';
import { runHttpCheck } from './http-check.js';
import type { RoleDirectory } from './resolve-roles.js';
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
  /** For a tag: the image the new revision will use. For a revision: its task definition ARN. */
  image?: string;
  revisionArn?: string;
  /** Why the deploy may not go ahead now (open blockers, firing alarms); empty when clear. */
  blockedBy: string[];
}

/** A rollback target and why it was chosen. */
export interface RollbackTarget {
  current: string;
  to: string;
  why: string;
}

/** Steps a deploy reports as it goes. */
export type DeployStep = 'registered' | 'updating' | 'rolling_out' | 'smoke_check' | 'succeeded' | 'failed';

/**
 * Receives deploy progress. The Slack layer turns it into the deploy message,
 * its thread, and the outcome in the channel; the service knows nothing of Slack.
 */
export interface DeployObserver {
  started(deploy: DeployRow, service: Service): Promise<void>;
  progress(deploy: DeployRow, step: DeployStep, detail: string): Promise<void>;
  finished(deploy: DeployRow, service: Service): Promise<void>;
}

/** Deploys and rollbacks of the runbook's ECS services. */
export class DeployService {
  private observer?: DeployObserver;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      ecs: EcsPort;
      cloudwatch: CloudWatchPort;
      checklist: ChecklistService;
      roles: RoleDirectory;
      approvals: ApprovalService;
      clock: Clock;
      logger: Logger;
      rolloutPollMs: number;
    },
  ) {}

  observe(observer: DeployObserver): void {
    this.observer = observer;
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
    if (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(arg)) return { kind: 'tag', tag: arg };
    throw new GoliveError('usage', `\`${clean(arg)}\` is neither an image tag (letters, digits, \`_.-\`, at most 128) nor a revision like \`:42\`.`);
  }

  /** Reasons a deploy of the service must wait: open blockers of its gates, firing alarms. */
  async blockers(service: Service): Promise<string[]> {
    const out: string[] = [];
    const snapshot = this.deps.checklist.snapshot();
    for (const gateId of service.deploy_requires) {
      const gate = snapshot.gates.find((g) => g.gate.id === gateId);
      for (const s of gate?.items ?? []) if (!s.done && s.item.level === 'blocker') out.push(`🔴 blocker \`${s.item.id}\` ${s.item.title} (gate \`${gateId}\`, owner: ${this.deps.checklist.roleLabel(s.item.owner)})`);
    }
    const alarms = this.deps.runbook.alarms;
    if (alarms) {
      const firing = (await this.deps.cloudwatch.describeAlarms(alarms.region ?? service.region, alarms.prefixes)).filter((a) => a.state === 'ALARM');
      for (const a of firing) out.push(`🚨 alarm \`${a.name}\` is in ALARM since ${a.updatedAt}`);
    }
    return out;
  }

  /** Checks permission and state, reads ECS, and works out what a deploy would do. */
  async plan(serviceName: string, targetArg: string, userId: string): Promise<DeployPlan> {
    const service = this.findService(serviceName);
    const target = this.parseTarget(targetArg);
    await this.requireDeployer(userId, service);
    const running = this.deps.store.runningDeployFor(service.name);
    if (running) throw new GoliveError('deploy_in_progress', `A ${running.kind} of \`${service.name}\` started by <@${running.requested_by}> is still running; wait for it to finish.`);
    const state = await this.aws(() => this.deps.ecs.describeService(this.ref(service)));
    const currentDef = await this.aws(() => this.deps.ecs.describeTaskDefinition(service.region, state.taskDefinition));
    const plan: DeployPlan = { service, target, current: state.taskDefinition, currentImage: currentDef.images[service.container], blockedBy: await this.blockers(service) };
    if (target.kind === 'tag') {
      if (!plan.currentImage) throw new GoliveError('not_configured', `The running task definition ${shortTaskDef(state.taskDefinition)} has no container \`${service.container}\` (it has: ${Object.keys(currentDef.images).join(', ')}).`, 'Fix `container` for this service in the runbook.');
      plan.image = imageWithTag(plan.currentImage, target.tag);
    } else {
      const rev = await this.aws(() => this.deps.ecs.describeTaskDefinition(service.region, `${service.family}:${target.revision}`), () => new GoliveError('unknown_revision', `Revision \`${service.family}:${target.revision}\` does not exist.`, 'See the revisions with `aws ecs list-task-definitions --family-prefix ' + service.family + '`.'));
      if (rev.status !== 'ACTIVE') throw new GoliveError('unknown_revision', `Revision \`${service.family}:${target.revision}\` is ${rev.status}; only ACTIVE revisions can be deployed.`);
      plan.revisionArn = rev.arn;
      plan.image = rev.images[service.container];
    }
    return plan;
  }

  /** Runs a planned deploy to the end; never throws (failures are recorded and reported). */
  async execute(plan: DeployPlan, userId: string, requestId: number | null = null): Promise<DeployRow> {
    const { store, clock, ecs } = this.deps;
    // Deploys are announced in the launch's ops channel, wherever the command was typed.
    const channel = this.deps.runbook.launch.channel;
    const service = plan.service;
    const at = clock.now().toISOString();
    const id = store.transaction(() => {
      const deployId = store.startDeploy({ service: service.name, kind: 'deploy', from_task_def: plan.current, to_task_def: plan.revisionArn ?? `${service.family}:(registering)`, image: plan.image ?? null, requested_by: userId, request_id: requestId, started_at: at, channel });
      store.audit({ actor: userId, action: 'deploy.start', target: service.name, detail: { deploy: deployId, from: plan.current, to: plan.revisionArn ?? null, image: plan.image ?? null, override: requestId !== null, blocked_by: plan.blockedBy }, source: requestId ? 'system' : 'command', channel }, at);
      return deployId;
    });
    await this.safely(() => this.observer?.started(store.deploy(id)!, service));
    try {
      let to = plan.revisionArn;
      if (!to) {
        const registered = await this.aws(() => ecs.registerWithImage(service.region, plan.current, service.container, plan.image!));
        to = registered.arn;
        store.setDeployTarget(id, to);
        await this.report(id, 'registered', `Registered ${shortTaskDef(to)} with \`${plan.image}\``);
      }
      return await this.rollOut(id, service, to, `Updating the service from ${shortTaskDef(plan.current)} to ${shortTaskDef(to)}`);
    } catch (err) {
      return this.fail(id, service, err);
    }
  }

  /** Picks the rollback target: the named revision, else the last good deploy before the current one, else the newest older ACTIVE revision. */
  async rollbackTarget(service: Service, revisionArg: string | undefined): Promise<RollbackTarget> {
    const { ecs, store } = this.deps;
    const state = await this.aws(() => ecs.describeService(this.ref(service)));
    const current = state.taskDefinition;
    if (revisionArg !== undefined) {
      const m = /^:?(\d{1,7})$/.exec(revisionArg);
      if (!m) throw new GoliveError('usage', `\`${clean(revisionArg)}\` is not a revision; give a number like \`41\` or \`:41\`.`);
      const rev = await this.aws(() => ecs.describeTaskDefinition(service.region, `${service.family}:${m[1]}`), () => new GoliveError('unknown_revision', `Revision \`${service.family}:${m[1]}\` does not exist.`));
      if (rev.arn === current) throw new GoliveError('usage', `\`${service.name}\` already runs ${shortTaskDef(current)}; there is nothing to roll back to.`);
      return { current, to: rev.arn, why: 'the revision you named' };
    }
    const currentRevision = revisionOf(current);
    const lastGood = store.successfulDeploys(service.name).find((d) => d.to_task_def !== current && (currentRevision === undefined || (revisionOf(d.to_task_def) ?? 0) < currentRevision));
    if (lastGood) return { current, to: lastGood.to_task_def, why: `the last successful ${lastGood.kind} before the current one (#${lastGood.id}, by <@${lastGood.requested_by}>)` };
    const revisions = await this.aws(() => ecs.listRevisions(service.region, service.family));
    const older = revisions.find((r) => currentRevision !== undefined && r.revision < currentRevision);
    if (!older) throw new GoliveError('unknown_revision', `There is no ACTIVE revision of \`${service.family}\` older than ${shortTaskDef(current)} to roll back to.`, 'Name one: `/golive rollback ' + service.name + ' <revision>`.');
    return { current, to: older.arn, why: 'the newest ACTIVE revision below the current one' };
  }

  /** Files a rollback request for approval. */
  async proposeRollback(serviceName: string, revisionArg: string | undefined, reason: string | null, userId: string, source: AuditSource): Promise<ChangeRequestRow> {
    const service = this.findService(serviceName);
    const open = this.deps.approvals.active(service.name).find((r) => r.kind === 'rollback');
    if (open) throw new GoliveError('deploy_in_progress', `A rollback of \`${service.name}\` requested by <@${open.requested_by}> is already ${open.state}.`, 'Approve, reject or cancel it on its card first.');
    const target = await this.rollbackTarget(service, revisionArg);
    return this.deps.approvals.create({ kind: 'rollback', service, params: { from: target.current, to: target.to, why: target.why, reason }, requester: userId, channel: this.deps.runbook.launch.channel, source });
  }

  /** Files a request to deploy despite blockers (only where the runbook allows it). */
  proposeOverride(plan: DeployPlan, targetArg: string, userId: string): ChangeRequestRow {
    if (!plan.service.allow_override) throw new GoliveError('not_permitted', `The runbook does not allow overriding the deploy gate of \`${plan.service.name}\`.`);
    return this.deps.approvals.create({ kind: 'deploy_override', service: plan.service, params: { target: targetArg, from: plan.current, image: plan.image ?? null, blocked_by: plan.blockedBy }, requester: userId, channel: this.deps.runbook.launch.channel, source: 'command' });
  }

  /** Runs an approved request once: only the caller that wins the approved → executing step executes. */
  async executeApproved(request: ChangeRequestRow): Promise<void> {
    const { approvals } = this.deps;
    if (!approvals.beginExecution(request.id)) return;
    const service = this.findService(request.service);
    let deploy: DeployRow;
    if (request.kind === 'rollback') {
      deploy = await this.executeRollback(request, service);
    } else {
      try {
        const plan = await this.plan(service.name, String(request.params.target), request.requested_by);
        deploy = await this.execute(plan, request.requested_by, request.id);
      } catch (err) {
        approvals.finish(request.id, false, describeFailure(err));
        return;
      }
    }
    approvals.finish(request.id, deploy.outcome === 'succeeded', deploy.reason ?? deploy.outcome);
  }

  /**
   * After a restart: deploys and rollbacks that were running are checked
   * against what ECS really runs, then watched to the end or recorded.
   */
  async recover(): Promise<void> {
    const { store, approvals } = this.deps;
    for (const d of store.runningDeploys()) {
      const service = this.deps.runbook.services.find((s) => s.name === d.service);
      if (!service) {
        store.finishDeploy(d.id, 'failed', 'the service is no longer in the runbook', this.deps.clock.now().toISOString());
        continue;
      }
      if (d.to_task_def.endsWith(':(registering)')) {
        await this.fail(d.id, service, new Error('golive restarted before the new revision was registered; nothing was changed in ECS'));
      } else {
        await this.safely(() => this.observer?.progress(d, 'rolling_out', 'golive restarted; checking what ECS is running'));
        await this.rollOut(d.id, service, d.to_task_def, null).catch((err) => this.fail(d.id, service, err));
      }
    }
    for (const r of store.requestsInState('approved')) {
      // Approved but never started: run it if the approval is still fresh, otherwise say so rather than act on an old decision.
      const service = this.deps.runbook.services.find((s) => s.name === r.service);
      const freshUntil = Date.parse(r.decided_at ?? r.updated_at) + (service?.approval_expires_minutes ?? 30) * 60_000;
      if (service && this.deps.clock.now().getTime() < freshUntil) {
        await this.executeApproved(r);
      } else if (approvals.beginExecution(r.id)) {
        approvals.finish(r.id, false, 'golive restarted before the approved change started, and the approval is now too old; nothing was changed in ECS');
      }
    }
    for (const r of approvals.executing()) {
      const linked = store.db.prepare('SELECT * FROM deploy WHERE request_id = ? ORDER BY id DESC LIMIT 1').get(r.id) as DeployRow | undefined;
      if (linked && linked.outcome !== 'running') approvals.finish(r.id, linked.outcome === 'succeeded', linked.reason ?? linked.outcome);
      else if (!linked) approvals.finish(r.id, false, 'golive restarted before the change started; nothing was changed in ECS');
    }
  }

  private async executeRollback(request: ChangeRequestRow, service: Service): Promise<DeployRow> {
    const { store, clock } = this.deps;
    const to = String(request.params.to);
    const from = String(request.params.from);
    const at = clock.now().toISOString();
    const id = store.transaction(() => {
      const deployId = store.startDeploy({ service: service.name, kind: 'rollback', from_task_def: from, to_task_def: to, image: null, requested_by: request.requested_by, request_id: request.id, started_at: at, channel: request.channel });
      store.audit({ actor: request.decided_by ?? 'golive', action: 'rollback.start', target: service.name, detail: { deploy: deployId, request: request.id, from, to }, source: 'system', channel: request.channel }, at);
      return deployId;
    });
    await this.safely(() => this.observer?.started(store.deploy(id)!, service));
    try {
      return await this.rollOut(id, service, to, `Rolling back from ${shortTaskDef(from)} to ${shortTaskDef(to)}`);
    } catch (err) {
      return this.fail(id, service, err);
    }
  }

  private async rollOut(id: number, service: Service, to: string, updating: string | null): Promise<DeployRow> {
    const { ecs, clock, store } = this.deps;
    if (updating !== null) {
      await this.aws(() => ecs.updateService(this.ref(service), to));
      await this.report(id, 'updating', updating);
    }
    const row = store.deploy(id)!;
    const result = await watchRollout(ecs, this.ref(service), to, {
      clock,
      pollMs: this.deps.rolloutPollMs,
      timeoutMs: service.rollout_timeout_minutes * 60_000,
      startedAt: new Date(row.started_at),
      onProgress: (running, desired) => this.report(id, 'rolling_out', `Rolling out: ${running}/${desired} tasks running`),
    });
    if (!result.ok) return this.fail(id, service, new Error(result.reason));
    if (service.smoke_check && row.kind === 'deploy') {
      await this.report(id, 'smoke_check', `Rollout complete (${result.running}/${result.desired} running); smoke check GET ${service.smoke_check.url}`);
      const smoke = await runHttpCheck(service.smoke_check);
      if (!smoke.ok) return this.fail(id, service, new Error(`smoke check failed: ${smoke.reason}`));
      return this.succeed(id, service, `${shortTaskDef(to)} is live: ${result.running}/${result.desired} tasks running, smoke check passed (${smoke.status} in ${smoke.ms} ms)`);
    }
    return this.succeed(id, service, `${shortTaskDef(to)} is live: ${result.running}/${result.desired} tasks running`);
  }

  private async succeed(id: number, service: Service, detail: string): Promise<DeployRow> {
    return this.finish(id, service, 'succeeded', detail);
  }

  private async fail(id: number, service: Service, err: unknown): Promise<DeployRow> {
    this.deps.logger.warn({ err, deploy: id, service: service.name }, 'deploy failed');
    return this.finish(id, service, 'failed', describeFailure(err));
  }

  private async finish(id: number, service: Service, outcome: 'succeeded' | 'failed', detail: string): Promise<DeployRow> {
    const { store, clock } = this.deps;
    const at = clock.now().toISOString();
    const changed = store.transaction(() => {
      const ok = store.finishDeploy(id, outcome, detail, at);
      if (ok) {
        const d = store.deploy(id)!;
        store.audit({ actor: 'golive', action: `${d.kind}.${outcome}`, target: service.name, detail: { deploy: id, to: d.to_task_def, reason: detail }, source: 'system', channel: d.channel }, at);
      }
      return ok;
    });
    const row = store.deploy(id)!;
    if (changed) {
      await this.report(id, outcome, detail);
      await this.safely(() => this.observer?.finished(row, service));
    }
    return row;
  }

  private async report(id: number, step: DeployStep, detail: string): Promise<void> {
    await this.safely(() => this.observer?.progress(this.deps.store.deploy(id)!, step, detail));
  }

  /** Reporting must never break a deploy that is half done; a failed Slack update is logged. */
  private async safely(fn: () => Promise<void> | undefined): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not report deploy progress');
    }
  }

  private async requireDeployer(userId: string, service: Service): Promise<void> {
    if ((await this.deps.roles.rolesOf(userId, service.deployers)).length > 0) return;
    const who = service.deployers.map((r) => this.deps.runbook.roles[r]?.name ?? r).join(' or ');
    throw new GoliveError('not_permitted', `Only ${who} can deploy \`${service.name}\`.`);
  }

  /** Runs an AWS call, turning not-found into `notFound()` when given and any AWS failure into a GoliveError for the user. */
  private async aws<T>(fn: () => Promise<T>, notFound?: () => GoliveError): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AwsCallError && err.kind === 'not_found' && notFound) throw notFound();
      if (err instanceof AwsCallError) throw new GoliveError('aws_failed', err.message);
      throw err;
    }
  }
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
