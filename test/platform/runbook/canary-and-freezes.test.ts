import { describe, expect, it } from 'vitest';
import { formatProblem, loadRunbookFile, parseRunbook } from '../../../src/platform/runbook/load-runbook.js';
import { fileURLToPath } from 'node:url';

const base = (extra: string, serviceExtra = '') => `
version: 1
launch: { name: Canary, channel: C0OPS }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - id: pre-flight
    title: Pre-flight
    items:
      - { id: one, title: One, level: blocker, owner: devops }
services:
  - name: api
    cluster: Prod
    service: Api
    region: ap-south-1
    family: api
    container: api
    deployers: [devops]
    rollback_approvers: [devops]
${serviceExtra}
alarms:
  prefixes: [Prod-API]
${extra}`;

const problems = (yaml: string) => {
  const r = parseRunbook(yaml, 'rb.yml');
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('service canary', () => {
  it('is read with its defaults', () => {
    const r = parseRunbook(base('', '    canary: { service: Api-Canary, bake_minutes: 5, alarms: [Prod-API-5XX] }'), 'rb.yml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.runbook.services[0]!.canary).toEqual({
      service: 'Api-Canary',
      desired_count: 1,
      always: false,
      bake_minutes: 5,
      interval_seconds: 60,
      failure_limit: 0,
      auto_promote: false,
      allow_override: false,
      decide_within_minutes: 30,
      promoters: [],
      alarms: ['Prod-API-5XX'],
      metrics: [],
    });
    expect(r.runbook.locks).toEqual({ default_duration: '4h', max_duration: '7d', roles: [] });
    expect(r.runbook.freezes).toEqual([]);
  });

  it('refuses an interval CloudWatch cannot use, a bake shorter than one interval, and a metric with no bound', () => {
    const yaml = base(
      '',
      `    canary:
      service: Api-Canary
      bake_minutes: 1
      interval_seconds: 90
      metrics:
        - { label: Errors, namespace: App, metric: E, canary: { V: c }, stable: { V: s } }
        - { label: Latency, namespace: App, metric: L, per: R, stat: Average, canary: { V: c }, stable: { V: s }, max: 1 }`,
    );
    expect(problems(yaml)).toEqual([
      'rb.yml:21: services[0].canary: bake_minutes must last at least one interval_seconds',
      'rb.yml:23: services[0].canary.interval_seconds: must be 10, 30, or a multiple of 60 up to 3600 (the periods CloudWatch accepts)',
      'rb.yml:25: services[0].canary.metrics[0]: a canary metric needs at least one of max, min, max_above_stable, max_times_stable',
      'rb.yml:26: services[0].canary.metrics[1]: a ratio (`per`) adds up counts: use stat Sum or SampleCount',
    ]);
    expect(problems(base('', '    canary: { service: Api-Canary, bake_minutes: 1, interval_seconds: 120, alarms: [Prod-API] }'))).toEqual([
      'rb.yml:20: services[0].canary: bake_minutes must last at least one interval_seconds',
    ]);
  });

  it('checks references: its own service, known roles, alarm prefixes the watcher covers, something to judge by', () => {
    expect(problems(base('', '    canary: { service: Api, bake_minutes: 5, promoters: [qa], alarms: [Other-5XX] }'))).toEqual([
      'rb.yml:20: services[0].canary.service: must be a second ECS service beside "Api", not the same one',
      'rb.yml:20: services[0].canary.promoters[0]: unknown role "qa" (roles: devops)',
      'rb.yml:20: services[0].canary.alarms[0]: "Other-5XX" is not under any of alarms.prefixes (Prod-API), so golive does not watch it',
    ]);
    expect(problems(base('', '    canary: { service: Api-Canary, bake_minutes: 5 }'))).toEqual(['rb.yml:20: services[0].canary: a canary needs something to judge it by: metrics, alarms or a health_check']);
  });
});

describe('freezes and locks', () => {
  it('reads freeze windows and lock settings', () => {
    const r = parseRunbook(base('freezes:\n  - { id: launch, title: Launch hypercare, from: T+0, until: T+2h, services: [api] }\nlocks: { default_duration: 2h, roles: [devops] }'), 'rb.yml');
    expect(r.ok && r.runbook.freezes).toEqual([{ id: 'launch', title: 'Launch hypercare', from: 'T+0', until: 'T+2h', services: ['api'] }]);
    expect(r.ok && r.runbook.locks).toEqual({ default_duration: '2h', max_duration: '7d', roles: ['devops'] });
  });

  it('refuses windows that end before they start, mix relative and absolute times, or name unknown services; and a default longer than the maximum', () => {
    const yaml = base(
      [
        'freezes:',
        '  - { id: a, title: A, from: T+2h, until: T+1h }',
        '  - { id: a, title: B, from: T+0, until: "2026-12-01T10:00:00+05:30", services: [web] }',
        'locks: { default_duration: 2d, max_duration: 1d, roles: [cto] }',
      ].join('\n'),
    );
    expect(problems(yaml)).toEqual([
      'rb.yml:24: freezes[0].until: must be after from (T+2h)',
      'rb.yml:25: freezes[1].id: freeze id "a" is used twice',
      'rb.yml:25: freezes[1].until: from and until must both be relative to T-0 or both absolute',
      'rb.yml:25: freezes[1].services[0]: unknown service "web" (services: api)',
      'rb.yml:26: locks.default_duration: is longer than locks.max_duration (1d)',
      'rb.yml:26: locks.roles[0]: unknown role "cto" (roles: devops)',
    ]);
  });
});

describe('runbooks/zero-downtime.yml (seed 003)', () => {
  const r = loadRunbookFile(fileURLToPath(new URL('../../../runbooks/zero-downtime.yml', import.meta.url)));
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  const rb = r.runbook;

  it('has the seed pre-launch checklist, the launch window, post-launch validation and the first 48 hours', () => {
    expect(rb.gates.map((g) => [g.id, g.items.length])).toEqual([
      ['pre-launch', 7],
      ['launch-window', 4],
      ['post-launch', 5],
      ['monitoring', 4],
    ]);
    expect(rb.steps.map((s) => s.title.split(' · ')[0])).toEqual(['Step 0', 'Step 1', 'Step 2', 'Step 3', 'Step 4', 'Step 5']);
    expect(rb.milestones.map((m) => m.at)).toEqual(['T-24h', 'T-0', 'T+30m', 'T+1h', 'T+6h', 'T+24h', 'T+48h']);
    expect(rb.milestones.map((m) => m.title)).toEqual(expect.arrayContaining(['6-hour sync', '24-hour sync']));
  });

  it('deploys through a canary on one instance, verified for 10 minutes (the seed: 5–10) against the stable version', () => {
    const c = rb.services[0]!.canary!;
    expect([c.desired_count, c.bake_minutes, c.always, c.auto_promote]).toEqual([1, 10, true, false]);
    expect(c.health_check?.url).toMatch(/healthz$/);
    expect(c.metrics.map((m) => [m.label, m.max_above_stable ?? m.max_times_stable])).toEqual([
      ['5xx rate', 0.5],
      ['Error log lines per request', 0.5],
      ['p95 latency', 1.2],
    ]);
    expect(c.alarms).toEqual(['App-Prod-API-5XX', 'App-Prod-ThirdParty']);
  });

  it('states the roll-forward criteria as go/no-go criteria', () => {
    expect(rb.gonogo?.criteria.map((c) => c.type)).toEqual(['gates_signed', 'no_firing_alarms', 'metric']);
  });
});
