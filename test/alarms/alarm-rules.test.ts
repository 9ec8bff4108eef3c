import { afterEach, describe, expect, it } from 'vitest';
import { alarmRegion, alarmRuleFor, flappingRule, isNewTransition } from '../../src/alarms/index.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { ChecklistService } from '../../src/checklist/checklist-service.js';
import type { ApprovalService } from '../../src/deploys/approval-service.js';
import { DeployService } from '../../src/deploys/deploy-service.js';
import { GoNoGoService } from '../../src/gonogo/gonogo-service.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import type { AlarmState, CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import type { EcsPort } from '../../src/platform/aws/ecs-port.js';
import { createLogger } from '../../src/platform/logger.js';
import type { PageNotifier } from '../../src/platform/outbox/outbox-pages.js';
import { PAGER_SEVERITIES, type PagerEvent } from '../../src/platform/pager/pager-port.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { FLAPPING_DEFAULTS, pagerSeverityOf, SEVERITIES, type Runbook } from '../../src/platform/runbook/schema.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { CloudWatchSim } from '../../src/sandbox/cloudwatch-sim.js';
import { TimelineService } from '../../src/timeline/timeline-service.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

function runbookOf(yaml: string): Runbook {
  const parsed = parseRunbook(yaml, 'a.yml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.runbook;
}

// Two services in two regions, alarms without a region: the case where the rules used to part.
const runbook = runbookOf(`version: 1
launch: { name: Launch, channel: C0OPS, timezone: UTC, t0: "2026-12-01T08:00:00Z" }
roles:
  ops: { name: Ops, users: [U0OPS] }
gates:
  - id: pre-flight
    title: Pre-flight
    items: [{ id: dns, title: DNS, level: info, owner: ops }]
services:
  - { name: web, cluster: C, service: Web, region: ap-south-1, family: web, container: web, deployers: [ops], rollback_approvers: [ops] }
  - { name: api, cluster: C, service: Api, region: us-west-2, family: api, container: api, deployers: [ops], rollback_approvers: [ops] }
alarms:
  prefixes: [Prod-]
  rules:
    - { match: Prod-5xx, severity: critical, page: true, incident: P2 }
    - { match: "Prod-*", severity: error }
incidents:
  severities:
    P2: { name: Major, page: true, response_minutes: 15 }
gonogo:
  voters: [ops]
  criteria:
    - { type: no_firing_alarms }
`);

async function world(defaultRegion: string | undefined) {
  const store = await openTestStore();
  const clock = clockAt('2026-12-01T09:00:00Z');
  const logger = createLogger({ level: 'silent' });
  const asked: string[] = [];
  const firing: AlarmState = { name: 'Prod-5xx', state: 'ALARM', reason: 'Threshold crossed', updatedAt: '2026-12-01T08:59:00.000Z', kind: 'metric' };
  const cloudwatch: CloudWatchPort = {
    describeAlarms: async (region) => {
      asked.push(region);
      return [firing];
    },
    describeAlarmHistory: async () => [],
    getMetricData: async () => ({ values: [], timestamps: [] }),
  };
  const roles = new RoleDirectory(runbook, {} as SlackPort, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const alarms = new AlarmService({ runbook, store, cloudwatch, clock, logger, defaultRegion, afterCommit: () => {} });
  // ECS as far as planning a deploy of `api` reads it.
  const ecs = {
    describeService: async (ref) => ({ cluster: ref.cluster, service: ref.service, taskDefinition: 'arn:aws:ecs:us-west-2:1:task-definition/api:3', desiredCount: 1, runningCount: 1, deployments: [], events: [] }),
    describeTaskDefinition: async (_region, td) => ({ arn: td, family: 'api', revision: 3, status: 'ACTIVE', images: { api: 'repo/api:v1' } }),
  } as Pick<EcsPort, 'describeService' | 'describeTaskDefinition'> as EcsPort;
  const approvals = { active: async () => [] } as Pick<ApprovalService, 'active'> as ApprovalService;
  const deploys = new DeployService({ runbook, store, ecs, alarms, checklist, roles, approvals, clock, logger, rolloutPollMs: 1000 });
  const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit: () => {} });
  const gonogo = new GoNoGoService({ runbook, store, cloudwatch, alarms, checklist, timeline, roles, clock, logger, defaultRegion, afterCommit: () => {}, incidents: new IncidentRepository(store) });
  return { store, asked, firing, alarms, deploys, gonogo };
}

describe('one alarm-region rule', () => {
  it('is alarms.region, else AWS_REGION, else the first service, else us-east-1', () => {
    expect(alarmRegion({ ...runbook, alarms: { ...runbook.alarms!, region: 'eu-west-1' } }, 'eu-central-1')).toBe('eu-west-1');
    expect(alarmRegion(runbook, 'eu-central-1')).toBe('eu-central-1');
    expect(alarmRegion(runbook, undefined)).toBe('ap-south-1');
    expect(alarmRegion({ ...runbook, services: [] }, undefined)).toBe('us-east-1');
  });

  it.each([['eu-central-1'], [undefined]])('the watcher, the deploy gate of any service and go/no-go read one region and one state (AWS_REGION %s)', async (defaultRegion) => {
    const w = await world(defaultRegion);
    await w.alarms.poll();
    const plan = await w.deploys.plan('api', 'v2', 'U0OPS');
    const evidence = await w.gonogo.evaluate();
    const expected = defaultRegion ?? 'ap-south-1';
    // One DescribeAlarms, the watcher's: the gate and go/no-go answer from what it stored.
    expect(w.asked).toEqual([expected]);
    expect(plan.blockedBy).toEqual(['🚨 alarm `Prod-5xx` is in ALARM since 2026-12-01T08:59:00.000Z']);
    expect(plan.alarms?.source).toBe(`CloudWatch DescribeAlarms, ${expected}, "Prod-*", as of the alarm watcher's poll 0 s ago`);
    expect(evidence.results[0]).toMatchObject({ pass: false, value: '1 of 1 in ALARM: Prod-5xx', source: `CloudWatch DescribeAlarms, ${expected}, "Prod-*", as of the alarm watcher's poll 0 s ago` });
  });

  it('the sandbox keeps its alarms where the rule puts them without AWS_REGION', async () => {
    const sim = new CloudWatchSim(runbook);
    expect((await sim.describeAlarms(alarmRegion(runbook, undefined), ['Prod-'])).map((a) => a.name)).toEqual(['Prod-5xx', 'Prod-Sample']);
  });
});

describe('one rule lookup', () => {
  it('the first matching rule wins; exact names and `*` prefixes; unmatched alarms are warnings that do not page', () => {
    expect(alarmRuleFor(runbook, 'Prod-5xx')).toEqual({ severity: 'critical', page: true, incident: 'P2', description: undefined });
    expect(alarmRuleFor(runbook, 'Prod-DB-CPU')).toMatchObject({ severity: 'error', page: false });
    expect(alarmRuleFor(runbook, 'Other')).toEqual({ severity: 'warning', page: false });
  });

  it('the watcher and the page it sends use the same rule as the lookup', async () => {
    const w = await world(undefined);
    const sent: Omit<PagerEvent, 'action'>[] = [];
    const pages: PageNotifier = { trigger: async (e) => void sent.push(e), acknowledge: async () => {}, resolve: async () => {} };
    const alarms = new AlarmService({ runbook, store: w.store, cloudwatch: { describeAlarms: async () => [{ name: 'Prod-5xx', state: 'ALARM', reason: 'r', updatedAt: '2026-12-01T08:59:00.000Z', kind: 'metric' }], describeAlarmHistory: async () => [], getMetricData: async () => ({ values: [], timestamps: [] }) }, clock: clockAt('2026-12-01T09:00:00Z'), logger: createLogger({ level: 'silent' }), afterCommit: () => {}, pages });
    expect(alarms.ruleFor('Prod-5xx')).toEqual(alarmRuleFor(runbook, 'Prod-5xx'));
    await alarms.poll();
    expect(sent.map((e) => [e.dedupKey, e.severity])).toEqual([['golive/alarm/ap-south-1/Prod-5xx', alarmRuleFor(runbook, 'Prod-5xx').severity]]);
  });
});

describe('one flapping default', () => {
  it('the schema fills in the same defaults the watcher falls back to', () => {
    expect(runbook.alarms!.flapping).toEqual(FLAPPING_DEFAULTS);
    expect(flappingRule({ ...runbook, alarms: undefined })).toEqual(FLAPPING_DEFAULTS);
    expect(flappingRule(runbookOf(`version: 1
launch: { name: L, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms: { prefixes: [P-], flapping: { transitions: 6 } }
`))).toEqual({ transitions: 6, minutes: FLAPPING_DEFAULTS.minutes });
  });
});

describe('one severity list', () => {
  it('incident severities map onto PagerDuty severities by rank, and incident pages use that map', async () => {
    expect(SEVERITIES.map(pagerSeverityOf)).toEqual([...PAGER_SEVERITIES]);
    const store = await openTestStore();
    const clock = clockAt('2026-12-01T09:00:00Z');
    const sent: Omit<PagerEvent, 'action'>[] = [];
    const pages: PageNotifier = { trigger: async (e) => void sent.push(e), acknowledge: async () => {}, resolve: async () => {} };
    const slack = { createChannel: async (name: string) => ({ id: 'C0INC', name }), setTopic: async () => {}, invite: async () => [], call: async () => ({ ok: true }) } as unknown as SlackPort;
    const incidents = new IncidentService({ runbook, store, slack, roles: new RoleDirectory(runbook, slack, clock), clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {}, canPage: true, pages });
    await incidents.declare({ severity: 'P2', summary: 'API down', userId: 'U0OPS', source: 'command' });
    expect(sent.map((e) => e.severity)).toEqual([pagerSeverityOf('P2')]);
  });
});

describe('one "is this a new transition"', () => {
  const known = { state: 'ALARM', state_at: '2026-12-01T08:59:00.000Z' };
  it('a different state, or the same state later, is news; the same state at the same time or earlier is not', () => {
    expect(isNewTransition(known, 'OK', '2026-12-01T08:59:00.000Z')).toBe(true);
    expect(isNewTransition(known, 'ALARM', '2026-12-01T09:00:00.000Z')).toBe(true);
    expect(isNewTransition(known, 'ALARM', '2026-12-01T08:59:00.000Z')).toBe(false);
    expect(isNewTransition(known, 'ALARM', '2026-12-01T08:00:00.000Z')).toBe(false);
  });

  it('a push of what a poll already recorded is not recorded again, and a poll of what a push recorded finds nothing new', async () => {
    const w = await world(undefined);
    await w.alarms.poll(); // the baseline: Prod-5xx in ALARM since 08:59
    const push = { alarmName: 'Prod-5xx', region: 'ap-south-1', to: 'ALARM' as const, reason: 'Threshold crossed', at: '2026-12-01T08:59:00.000Z', kind: 'metric' as const, source: 'sns' as const };
    expect(await w.alarms.ingest([push])).toBe(0);
    expect(await w.alarms.ingest([{ ...push, to: 'OK', at: '2026-12-01T09:01:00.000Z' }])).toBe(1);
    Object.assign(w.firing, { state: 'OK', updatedAt: '2026-12-01T09:01:00.000Z' });
    expect((await w.alarms.poll()).transitions).toBe(0);
  });
});
