import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analysisQueries, scoreMetrics } from '../../src/canary/analyse-metrics.js';
import { assessRollout } from '../../src/deploys/watch-rollout.js';
import { loadRunbookFile } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { CloudWatchSim } from '../../src/sandbox/cloudwatch-sim.js';
import { EcsSim } from '../../src/sandbox/ecs-sim.js';
import { PROJECT_ROOT } from '../support/start-app.js';

function zeroDowntime(): Runbook {
  const loaded = loadRunbookFile(path.join(PROJECT_ROOT, 'runbooks/zero-downtime.yml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.runbook;
}

describe('simulated canary service', () => {
  it('sits beside the main service on the same revision with no tasks, and scales to what UpdateService asks', async () => {
    let now = Date.parse('2026-12-03T02:00:00Z');
    const ecs = new EcsSim(zeroDowntime().services, { rolloutMs: 2000, now: () => now });
    const canary = { cluster: 'App-Prod-Cluster', service: 'App-Prod-Service-Canary', region: 'ap-south-1' };
    const before = await ecs.describeService(canary);
    expect([before.desiredCount, before.runningCount, before.taskDefinition]).toEqual([0, 0, 'arn:aws:ecs:ap-south-1:000000000000:task-definition/app-prod:3']);
    expect(ecs.view().map((s) => s.name)).toEqual(['app', 'app-canary']);
    const td = await ecs.registerWithImage('ap-south-1', before.taskDefinition, 'app', 'repo/app:v2');
    await ecs.updateService(canary, td.arn, 1);
    now += 2000;
    expect(assessRollout(await ecs.describeService(canary), td.arn)).toEqual({ done: true, ok: true, running: 1, desired: 1 });
    await ecs.updateService(canary, before.taskDefinition, 0);
    now += 2000;
    expect((await ecs.describeService(canary)).runningCount).toBe(0);
  });
});

describe('simulated canary metrics', () => {
  it('lets the page make the canary pass or fail its analysis', async () => {
    const rb = zeroDowntime();
    const config = rb.services[0]!.canary!;
    const cw = new CloudWatchSim(rb);
    expect(cw.canaryView()).toEqual([{ service: 'app', failing: false }]);
    const start = new Date('2026-12-03T02:00:00Z');
    const end = new Date('2026-12-03T02:03:00Z');
    const read = async () => scoreMetrics(config, (await cw.getMetricDataBatch('ap-south-1', analysisQueries(config), 60, start, end)).series);
    expect((await read()).map((s) => [s.label, s.verdict, s.latest?.canary, s.latest?.stable])).toEqual([
      ['5xx rate', 'pass', 0.2, 0.2],
      ['Error log lines per request', 'pass', 0.2, 0.2],
      ['p95 latency', 'pass', 120, 120],
    ]);
    cw.setCanaryFailing('app', true);
    expect((await read()).map((s) => [s.label, s.verdict, s.failures])).toEqual([
      ['5xx rate', 'fail', 3],
      ['Error log lines per request', 'fail', 3],
      ['p95 latency', 'fail', 3],
    ]);
    expect(cw.snapshot().canaryFailing).toEqual(['app']);
    expect(new CloudWatchSim(rb, { snapshot: cw.snapshot() }).canaryView()).toEqual([{ service: 'app', failing: true }]);
  });
});
