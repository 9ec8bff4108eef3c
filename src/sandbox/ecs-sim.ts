import { AwsCallError, type EcsDeployment, type EcsPort, type EcsServiceState, type ServiceRef, type TaskDefinitionRevision } from '../platform/aws/ecs-port.js';
import type { Service } from '../platform/runbook/schema.js';
import { shortTaskDef } from '../deploys/index.js';

/** The account id in every simulated ARN: plainly not a real AWS account. */
export const SANDBOX_ACCOUNT = '000000000000';

interface SimDeployment {
  id: string;
  taskDefinition: string;
  /** Epoch ms the rollout started; running tasks are worked out from it. */
  startedAt: number;
  /** Set when the rollout will fail (the world's "fail the next rollout" switch was on when it started). */
  failing: boolean;
  /** Set once the rollout ended. */
  outcome?: 'COMPLETED' | 'FAILED';
}

interface SimService {
  region: string;
  cluster: string;
  service: string;
  /** The runbook's name for it (`api`). */
  name: string;
  taskDefinition: string;
  desiredCount: number;
  /** The deployment golive is rolling out, newest last; the first is what ran before. */
  deployments: SimDeployment[];
  events: { at: string; message: string }[];
  failNext: boolean;
}

/** The ECS world, saved with the session. */
export interface EcsSimSnapshot {
  version: 1;
  services: SimService[];
  revisions: TaskDefinitionRevision[];
  deploymentCounter: number;
}

/** What the page shows of one simulated service. */
export interface EcsSimServiceView {
  name: string;
  cluster: string;
  service: string;
  region: string;
  taskDefinition: string;
  image?: string;
  desiredCount: number;
  runningCount: number;
  failNext: boolean;
  rollout?: { taskDefinition: string; state: string; running: number; desired: number; reason?: string };
  revisions: { revision: number; image?: string; status: string }[];
}

const FAILURE_REASON = 'SANDBOX: tasks failed their health checks (simulated failure); the deployment circuit breaker stopped the rollout';

/**
 * Amazon ECS, simulated for the sandbox behind the same {@link EcsPort} the
 * real adapter implements: each runbook service starts on revision 3 of its
 * family (revisions 1–3 ACTIVE), a rollout brings tasks up one by one over
 * `rolloutMs`, and a rollout started while `failNext` is set fails partway
 * the way the deployment circuit breaker reports it (rolloutState FAILED).
 */
export class EcsSim implements EcsPort {
  private readonly services: SimService[];
  private readonly revisions: TaskDefinitionRevision[];
  private deploymentCounter: number;
  private readonly listeners: (() => void)[] = [];

  constructor(
    runbookServices: readonly Service[],
    private readonly opts: { rolloutMs?: number; now?: () => number; snapshot?: EcsSimSnapshot } = {},
  ) {
    const s = opts.snapshot;
    this.services = s?.services ?? [];
    this.revisions = s?.revisions ?? [];
    this.deploymentCounter = s?.deploymentCounter ?? 0;
    for (const svc of runbookServices) {
      if (this.services.some((x) => x.name === svc.name)) continue;
      const tags = ['v0.9.0', 'v0.9.1', 'v1.0.0-rc1'];
      let revisionNo = this.revisions.filter((r) => r.family === svc.family).length;
      let arn = '';
      for (const tag of tags) {
        revisionNo += 1;
        arn = taskDefArn(svc.region, svc.family, revisionNo);
        this.revisions.push({ arn, family: svc.family, revision: revisionNo, status: 'ACTIVE', images: { [svc.container]: `${SANDBOX_ACCOUNT}.dkr.ecr.${svc.region}.amazonaws.com/${svc.family}:${tag}` } });
      }
      this.deploymentCounter += 1;
      this.services.push({
        region: svc.region,
        cluster: svc.cluster,
        service: svc.service,
        name: svc.name,
        taskDefinition: arn,
        desiredCount: 2,
        deployments: [{ id: `ecs-svc/sandbox-${this.deploymentCounter}`, taskDefinition: arn, startedAt: 0, failing: false, outcome: 'COMPLETED' }],
        events: [{ at: new Date(this.now()).toISOString(), message: `(service ${svc.service}) has reached a steady state. (SANDBOX)` }],
        failNext: false,
      });
    }
    for (const svc of runbookServices) {
      const main = this.services.find((x) => x.name === svc.name);
      if (!svc.canary || !main || this.services.some((x) => x.name === `${svc.name}-canary`)) continue;
      // The canary service beside it: same family, same revision, no tasks until a canary deploy starts.
      this.deploymentCounter += 1;
      this.services.push({
        region: svc.region,
        cluster: svc.cluster,
        service: svc.canary.service,
        name: `${svc.name}-canary`,
        taskDefinition: main.taskDefinition,
        desiredCount: 0,
        deployments: [{ id: `ecs-svc/sandbox-${this.deploymentCounter}`, taskDefinition: main.taskDefinition, startedAt: 0, failing: false, outcome: 'COMPLETED' }],
        events: [{ at: new Date(this.now()).toISOString(), message: `(service ${svc.canary.service}) has reached a steady state. (SANDBOX)` }],
        failNext: false,
      });
    }
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): EcsSimSnapshot {
    return { version: 1, services: this.services, revisions: this.revisions, deploymentCounter: this.deploymentCounter };
  }

  /** Makes the next rollout of the runbook service `name` fail (or not). */
  setFailNext(name: string, fail: boolean): void {
    const svc = this.services.find((s) => s.name === name);
    if (!svc) throw new Error(`the sandbox has no service "${name}"`);
    svc.failNext = fail;
    this.changed();
  }

  /** The services as the page shows them. */
  view(): EcsSimServiceView[] {
    return this.services.map((svc) => {
      const state = this.stateOf(svc);
      const rollout = svc.deployments.length > 1 || svc.deployments[0]?.outcome === 'FAILED' ? state.deployments.find((d) => d.status === 'PRIMARY') : undefined;
      const family = familyOf(svc.taskDefinition);
      return {
        name: svc.name,
        cluster: svc.cluster,
        service: svc.service,
        region: svc.region,
        taskDefinition: shortTaskDef(svc.taskDefinition),
        image: Object.values(this.revisions.find((r) => r.arn === svc.taskDefinition)?.images ?? {})[0],
        desiredCount: state.desiredCount,
        runningCount: state.runningCount,
        failNext: svc.failNext,
        ...(rollout ? { rollout: { taskDefinition: shortTaskDef(rollout.taskDefinition), state: rollout.rolloutState ?? 'IN_PROGRESS', running: rollout.runningCount, desired: rollout.desiredCount, ...(rollout.rolloutStateReason ? { reason: rollout.rolloutStateReason } : {}) } } : {}),
        revisions: this.revisions
          .filter((r) => r.family === family)
          .sort((a, b) => b.revision - a.revision)
          .map((r) => ({ revision: r.revision, image: Object.values(r.images)[0], status: r.status })),
      };
    });
  }

  async describeService(ref: ServiceRef): Promise<EcsServiceState> {
    return this.stateOf(this.find(ref, 'DescribeServices'));
  }

  async describeTaskDefinition(region: string, taskDefinition: string): Promise<TaskDefinitionRevision> {
    return { ...this.revision(region, taskDefinition, 'DescribeTaskDefinition') };
  }

  async registerWithImage(region: string, from: string, container: string, image: string): Promise<TaskDefinitionRevision> {
    const base = this.revision(region, from, 'RegisterTaskDefinition');
    if (!(container in base.images)) throw new AwsCallError('RegisterTaskDefinition', 'invalid', `Task definition ${shortTaskDef(base.arn)} has no container "${container}".`);
    const revision = Math.max(...this.revisions.filter((r) => r.family === base.family).map((r) => r.revision)) + 1;
    const created: TaskDefinitionRevision = { arn: taskDefArn(region, base.family, revision), family: base.family, revision, status: 'ACTIVE', images: { ...base.images, [container]: image } };
    this.revisions.push(created);
    this.changed();
    return { ...created };
  }

  async updateService(ref: ServiceRef, taskDefinition: string, desiredCount?: number): Promise<EcsServiceState> {
    const svc = this.find(ref, 'UpdateService');
    const td = this.revision(ref.region, taskDefinition, 'UpdateService');
    if (td.status !== 'ACTIVE') throw new AwsCallError('UpdateService', 'invalid', `TaskDefinition is inactive (${shortTaskDef(td.arn)}).`, 'ClientException');
    this.settle(svc);
    // What runs now is the base of the new rollout: after a failed rollout that is the deployment before it.
    const latest = svc.deployments[svc.deployments.length - 1]!;
    const current = latest.outcome === 'FAILED' && svc.deployments.length > 1 ? svc.deployments[0]! : latest;
    this.deploymentCounter += 1;
    const failing = svc.failNext;
    svc.failNext = false;
    svc.deployments = [{ ...current, outcome: 'COMPLETED' }, { id: `ecs-svc/sandbox-${this.deploymentCounter}`, taskDefinition: td.arn, startedAt: this.now(), failing }];
    svc.taskDefinition = td.arn;
    if (desiredCount !== undefined) svc.desiredCount = desiredCount;
    svc.events.unshift({ at: new Date(this.now()).toISOString(), message: `(service ${svc.service}) has started 1 tasks: (SANDBOX ${shortTaskDef(td.arn)})` });
    this.changed();
    return this.stateOf(svc);
  }

  async listRevisions(region: string, family: string): Promise<TaskDefinitionRevision[]> {
    return this.revisions
      .filter((r) => r.family === family && r.status === 'ACTIVE' && r.arn.includes(`:${region}:`))
      .sort((a, b) => b.revision - a.revision)
      .map((r) => ({ ...r }));
  }

  /** Ends a rollout whose time is up, so what DescribeServices reports stays put afterwards. */
  private settle(svc: SimService): void {
    const latest = svc.deployments[svc.deployments.length - 1];
    if (!latest || latest.outcome || svc.deployments.length < 2) return;
    const elapsed = this.now() - latest.startedAt;
    const rolloutMs = this.rolloutMs();
    if (latest.failing && elapsed >= rolloutMs * 0.6) {
      latest.outcome = 'FAILED';
      svc.events.unshift({ at: new Date(latest.startedAt + rolloutMs * 0.6).toISOString(), message: `(service ${svc.service}) ${FAILURE_REASON}` });
      this.changed();
    } else if (!latest.failing && elapsed >= rolloutMs) {
      latest.outcome = 'COMPLETED';
      svc.deployments = [latest];
      svc.events.unshift({ at: new Date(latest.startedAt + rolloutMs).toISOString(), message: `(service ${svc.service}) has reached a steady state. (SANDBOX)` });
      this.changed();
    }
  }

  private stateOf(svc: SimService): EcsServiceState {
    this.settle(svc);
    const desired = svc.desiredCount;
    const deployments: EcsDeployment[] = [];
    const latest = svc.deployments[svc.deployments.length - 1]!;
    if (svc.deployments.length === 1) {
      deployments.push({ id: latest.id, status: 'PRIMARY', taskDefinition: latest.taskDefinition, desiredCount: desired, runningCount: latest.outcome === 'FAILED' ? 0 : desired, rolloutState: latest.outcome ?? 'COMPLETED', ...(latest.outcome === 'FAILED' ? { rolloutStateReason: FAILURE_REASON } : {}) });
    } else {
      const previous = svc.deployments[0]!;
      const elapsed = this.now() - latest.startedAt;
      // Tasks come up one by one; a failing rollout never gets past the first and loses it.
      const up = latest.outcome === 'FAILED' ? 0 : latest.failing ? Math.min(1, desired) : Math.min(desired, Math.floor((elapsed / this.rolloutMs()) * (desired + 1)));
      deployments.push({ id: latest.id, status: 'PRIMARY', taskDefinition: latest.taskDefinition, desiredCount: desired, runningCount: up, rolloutState: latest.outcome ?? 'IN_PROGRESS', ...(latest.outcome === 'FAILED' ? { rolloutStateReason: FAILURE_REASON } : {}) });
      deployments.push({ id: previous.id, status: 'ACTIVE', taskDefinition: previous.taskDefinition, desiredCount: latest.outcome === 'FAILED' ? desired : desired - up, runningCount: latest.outcome === 'FAILED' ? desired : desired - up, rolloutState: 'COMPLETED' });
    }
    return {
      cluster: svc.cluster,
      service: svc.service,
      taskDefinition: svc.taskDefinition,
      desiredCount: desired,
      runningCount: deployments.reduce((n, d) => n + d.runningCount, 0),
      deployments,
      events: svc.events.slice(0, 20),
    };
  }

  private find(ref: ServiceRef, operation: string): SimService {
    const svc = this.services.find((s) => s.cluster === ref.cluster && s.service === ref.service && s.region === ref.region);
    if (!svc) throw new AwsCallError(operation, 'not_found', `The sandbox has no ECS service "${ref.service}" in cluster "${ref.cluster}" (${ref.region}).`, 'ServiceNotFoundException');
    return svc;
  }

  /** By ARN, `family:revision`, or bare family (its newest ACTIVE revision), as ECS resolves them. */
  private revision(region: string, ref: string, operation: string): TaskDefinitionRevision {
    const name = shortTaskDef(ref);
    const [family, rev] = name.split(':');
    const inRegion = this.revisions.filter((r) => r.family === family && r.arn.includes(`:${region}:`));
    const hit = rev === undefined ? inRegion.filter((r) => r.status === 'ACTIVE').sort((a, b) => b.revision - a.revision)[0] : inRegion.find((r) => r.revision === Number(rev));
    if (!hit) throw new AwsCallError(operation, 'not_found', `Task definition "${name}" does not exist in the sandbox (${region}).`, 'ClientException');
    return hit;
  }

  private rolloutMs(): number {
    return this.opts.rolloutMs ?? 6000;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function taskDefArn(region: string, family: string, revision: number): string {
  return `arn:aws:ecs:${region}:${SANDBOX_ACCOUNT}:task-definition/${family}:${revision}`;
}

function familyOf(arn: string): string {
  return shortTaskDef(arn).replace(/:[^:]*$/, '');
}
