import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PagerError } from '../../src/platform/pager/pager-port.js';
import { loadRunbookFile } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { CloudWatchSim } from '../../src/sandbox/cloudwatch-sim.js';
import { EcsSim } from '../../src/sandbox/ecs-sim.js';
import { PagerSim } from '../../src/sandbox/pager-sim.js';
import { sandboxDirectory } from '../../src/sandbox/people.js';
import { assessRollout } from '../../src/deploys/watch-rollout.js';
import { PROJECT_ROOT } from '../support/start-app.js';

function govisax(): Runbook {
  const loaded = loadRunbookFile(path.join(PROJECT_ROOT, 'runbooks/govisax.yml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.runbook;
}

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-12-01T02:30:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('sandbox people', () => {
  it('names the runbook users and gives each user group two invented members, in runbook order', () => {
    const dir = sandboxDirectory(govisax());
    expect(dir.people.map((p) => `${p.id} ${p.name}: ${p.roleNames.join(', ')}`)).toEqual([
      'U0BDLEAD01 Priya: BD Lead',
      'U0SANDBOX01 Arjun: DevOps',
      'U0SANDBOX02 Meera: DevOps',
      'U0SANDBOX03 Rahul: DevOps On-Call',
      'U0SANDBOX04 Kavya: DevOps On-Call',
      'U0BACKEND1 Sam: Backend Lead',
      'U0QALEAD01 Lena: QA Lead',
      'U0MOBILE01 Kiran: Mobile Lead',
      'U0PRODUCT1 Nisha: Product Lead',
      'U0CTO00001 Vikram: CTO',
      'U0LEGAL001 Dana: Legal',
    ]);
    expect(dir.usergroups.get('S0DEVOPS01')).toEqual({ id: 'S0DEVOPS01', handle: 'devops', name: 'DevOps', users: ['U0SANDBOX01', 'U0SANDBOX02'] });
    expect(dir.people[1]!.email).toBe('arjun@sandbox.golive.invalid');
  });
});

describe('simulated ECS', () => {
  const api = { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', region: 'ap-south-1' };
  const arn = (n: number) => `arn:aws:ecs:ap-south-1:000000000000:task-definition/govisax-prod:${n}`;

  it('starts each service on revision 3 of its family, with 1–3 ACTIVE', async () => {
    const ecs = new EcsSim(govisax().services, { now: manualClock().now });
    const state = await ecs.describeService(api);
    expect(state.taskDefinition).toBe(arn(3));
    expect(assessRollout(state, arn(3))).toEqual({ done: true, ok: true, running: 2, desired: 2 });
    expect((await ecs.listRevisions('ap-south-1', 'govisax-prod')).map((r) => `${r.revision} ${r.images['govisax-api']}`)).toEqual([
      '3 000000000000.dkr.ecr.ap-south-1.amazonaws.com/govisax-prod:v1.0.0-rc1',
      '2 000000000000.dkr.ecr.ap-south-1.amazonaws.com/govisax-prod:v0.9.1',
      '1 000000000000.dkr.ecr.ap-south-1.amazonaws.com/govisax-prod:v0.9.0',
    ]);
    await expect(ecs.describeTaskDefinition('ap-south-1', 'govisax-prod:9')).rejects.toMatchObject({ name: 'AwsCallError', kind: 'not_found' });
    await expect(ecs.describeService({ ...api, service: 'nope' })).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('rolls a new revision out over rolloutMs, as watch-rollout reads it', async () => {
    const clock = manualClock();
    const ecs = new EcsSim(govisax().services, { rolloutMs: 3000, now: clock.now });
    const td = await ecs.registerWithImage('ap-south-1', arn(3), 'govisax-api', 'repo/govisax-prod:v1.0.1');
    expect(td).toMatchObject({ arn: arn(4), revision: 4, images: { 'govisax-api': 'repo/govisax-prod:v1.0.1' } });
    await ecs.updateService(api, td.arn);
    expect(assessRollout(await ecs.describeService(api), td.arn)).toEqual({ done: false, running: 0, desired: 2 });
    clock.advance(1000);
    expect(assessRollout(await ecs.describeService(api), td.arn)).toEqual({ done: false, running: 1, desired: 2 });
    clock.advance(2000);
    expect(assessRollout(await ecs.describeService(api), td.arn)).toEqual({ done: true, ok: true, running: 2, desired: 2 });
    expect(ecs.view()[0]).toMatchObject({ taskDefinition: 'govisax-prod:4', runningCount: 2, image: 'repo/govisax-prod:v1.0.1' });
  });

  it('fails the next rollout when told to, and only that one; the service can then be rolled back', async () => {
    const clock = manualClock();
    const ecs = new EcsSim(govisax().services, { rolloutMs: 1000, now: clock.now });
    ecs.setFailNext('api', true);
    expect(ecs.view()[0]!.failNext).toBe(true);
    const td = await ecs.registerWithImage('ap-south-1', arn(3), 'govisax-api', 'repo/govisax-prod:broken');
    await ecs.updateService(api, td.arn);
    expect(ecs.view()[0]!.failNext).toBe(false);
    clock.advance(1000);
    const failed = assessRollout(await ecs.describeService(api), td.arn);
    expect(failed).toEqual({ done: true, ok: false, reason: 'ECS reports the rollout FAILED: SANDBOX: tasks failed their health checks (simulated failure); the deployment circuit breaker stopped the rollout' });
    // The failed revision is still what the service is set to run; the old tasks keep serving.
    expect((await ecs.describeService(api)).taskDefinition).toBe(arn(4));
    expect((await ecs.describeService(api)).runningCount).toBe(2);

    await ecs.updateService(api, arn(3));
    clock.advance(1000);
    expect(assessRollout(await ecs.describeService(api), arn(3))).toEqual({ done: true, ok: true, running: 2, desired: 2 });
  });

  it('comes back from its snapshot', async () => {
    const clock = manualClock();
    const first = new EcsSim(govisax().services, { rolloutMs: 1000, now: clock.now });
    await first.registerWithImage('ap-south-1', arn(3), 'govisax-api', 'repo/govisax-prod:v2');
    const again = new EcsSim(govisax().services, { now: clock.now, snapshot: JSON.parse(JSON.stringify(first.snapshot())) });
    expect((await again.listRevisions('ap-south-1', 'govisax-prod')).map((r) => r.revision)).toEqual([4, 3, 2, 1]);
  });
});

describe('simulated CloudWatch', () => {
  it('has one OK alarm per runbook rule and reports flips and their history', async () => {
    const clock = manualClock();
    const cw = new CloudWatchSim(govisax(), { now: clock.now });
    const alarms = await cw.describeAlarms('ap-south-1', ['GoVisaX-Prod']);
    expect(alarms.map((a) => `${a.name} ${a.state}`)).toEqual([
      'GoVisaX-Prod-API-5XX-Rate OK',
      'GoVisaX-Prod-ECS-TaskStopped OK',
      'GoVisaX-Prod-V2F-Circuit-Open OK',
      'GoVisaX-Prod-HealthCheck OK',
      'GoVisaX-Prod-RDS-CPU OK',
      'GoVisaX-Prod-API-Latency-P95 OK',
      'GoVisaX-Prod-Redis-Memory OK',
    ]);
    expect(await cw.describeAlarms('us-east-1', ['GoVisaX-Prod'])).toEqual([]);
    expect(await cw.describeAlarms('ap-south-1', ['Other'])).toEqual([]);

    clock.advance(60_000);
    cw.setState('GoVisaX-Prod-HealthCheck', 'ALARM');
    const [health] = (await cw.describeAlarms('ap-south-1', ['GoVisaX-Prod-Health']));
    expect(health).toEqual({ name: 'GoVisaX-Prod-HealthCheck', state: 'ALARM', reason: 'Threshold Crossed (SANDBOX: set from the sandbox page)', updatedAt: '2026-12-01T02:31:00.000Z', kind: 'metric' });
    expect(await cw.describeAlarmHistory('ap-south-1', 'GoVisaX-Prod-HealthCheck', '2026-12-01T02:30:00.000Z')).toEqual([
      { name: 'GoVisaX-Prod-HealthCheck', from: 'OK', to: 'ALARM', at: '2026-12-01T02:31:00.000Z', reason: 'Threshold Crossed (SANDBOX: set from the sandbox page)' },
    ]);
    expect(() => cw.setState('GoVisaX-Prod-Nope', 'ALARM')).toThrow('the sandbox has no alarm "GoVisaX-Prod-Nope"');
  });

  it('serves go/no-go metrics, healthy until an alarm fires', async () => {
    const cw = new CloudWatchSim(govisax(), { now: manualClock().now });
    const latency = { period: 3600, metric: { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: {}, stat: 'p95' } };
    const ratio = { period: 7200, expression: '100 * errors / requests', metrics: {} };
    const start = new Date('2026-12-01T00:00:00Z');
    const end = new Date('2026-12-01T02:00:00Z');
    expect(await cw.getMetricData('ap-south-1', latency, start, end)).toEqual({ values: [0.38, 0.38], timestamps: ['2026-12-01T00:00:00.000Z', '2026-12-01T01:00:00.000Z'] });
    expect((await cw.getMetricData('ap-south-1', ratio, start, end)).values).toEqual([0.12]);
    cw.setState('GoVisaX-Prod-API-5XX-Rate', 'ALARM');
    expect((await cw.getMetricData('ap-south-1', latency, start, end)).values).toEqual([1.4, 1.4]);
    expect((await cw.getMetricData('ap-south-1', ratio, start, end)).values).toEqual([3.1]);
  });
});

describe('simulated PagerDuty', () => {
  it('records the events it accepts and refuses what the Events API would refuse', async () => {
    const pager = new PagerSim({ now: manualClock().now });
    await expect(pager.send({ action: 'trigger', dedupKey: 'golive/alarm/x', summary: 'x is in ALARM', source: 'govisax-prod', severity: 'critical' })).resolves.toEqual({ dedupKey: 'golive/alarm/x' });
    await pager.send({ action: 'resolve', dedupKey: 'golive/alarm/x' });
    expect(pager.events).toEqual([
      { at: '2026-12-01T02:30:00.000Z', action: 'trigger', dedupKey: 'golive/alarm/x', summary: 'x is in ALARM', severity: 'critical', source: 'govisax-prod' },
      { at: '2026-12-01T02:30:00.000Z', action: 'resolve', dedupKey: 'golive/alarm/x' },
    ]);
    const refused = pager.send({ action: 'trigger', dedupKey: 'k', source: 's', severity: 'info' });
    await expect(refused).rejects.toBeInstanceOf(PagerError);
    await expect(refused).rejects.toMatchObject({ retryable: false, message: 'Cannot send this page: a trigger needs summary' });
    expect(pager.events).toHaveLength(2);
  });
});
