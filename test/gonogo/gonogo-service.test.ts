import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmState, CloudWatchPort, MetricQuery } from '../../src/platform/aws/cloudwatch-port.js';
import { createLogger } from '../../src/platform/logger.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { ChecklistService } from '../../src/checklist/checklist-service.js';
import { GoNoGoService } from '../../src/gonogo/gonogo-service.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import type { FiringAlarms } from '../../src/alarms/index.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import { TimelineService } from '../../src/timeline/timeline-service.js';
import { SlackGoNoGoNotifier } from '../../src/gonogo/gonogo-notifier.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const parsed = parseRunbook(
  `version: 1
launch: { name: Launch, channel: C0OPS, timezone: UTC, t0: "2026-12-01T08:00:00Z" }
roles:
  ops: { name: Ops, users: [U0OPS] }
  cto: { name: CTO, users: [U0CTO] }
  pm: { name: Product Lead, users: [U0PM] }
gates:
  - id: pre-flight
    title: Pre-flight
    signoff: [cto]
    items:
      - { id: dns, title: DNS, level: blocker, owner: ops }
      - { id: docs, title: Docs, level: info, owner: ops }
gonogo:
  voters: [cto, pm]
  votes_required: 2
  criteria:
    - { type: blockers_done }
    - { type: gates_signed, gates: [pre-flight] }
    - { type: no_firing_alarms, prefixes: [Prod-] }
    - type: metric
      label: p95 latency < 800 ms
      region: ap-south-1
      namespace: AWS/ApplicationELB
      metric: TargetResponseTime
      dimensions: { LoadBalancer: app/prod/123 }
      stat: p95
      period_seconds: 3600
      window: 2h
      op: "<"
      threshold: 0.8
      unit: seconds
    - type: metric
      label: Error rate < 0.5 %
      expression: 100 * errors / requests
      metrics:
        errors: { namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count }
        requests: { namespace: AWS/ApplicationELB, metric: RequestCount }
      period_seconds: 7200
      window: 2h
      op: "<"
      threshold: 0.5
      unit: percent
    - { type: no_incidents, severity: P1, since: T+90m }
`,
  'a.yml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const runbook = parsed.runbook;

async function setup(world: { alarms?: AlarmState[] | Error; latency?: number[]; errorRate?: number[] } = {}) {
  const store = await openTestStore();
  const clock = clockAt('2026-12-03T08:00:00Z');
  const queries: { region: string; query: MetricQuery; start: string; end: string }[] = [];
  const cloudwatch: CloudWatchPort = {
    describeAlarms: async () => {
      if (world.alarms instanceof Error) throw world.alarms;
      return world.alarms ?? [];
    },
    describeAlarmHistory: async () => [],
    getMetricData: async (region, query, start, end) => {
      queries.push({ region, query, start: start.toISOString(), end: end.toISOString() });
      const values = 'metric' in query ? (world.latency ?? [0.42]) : (world.errorRate ?? [0.1]);
      return { values, timestamps: values.map((_, i) => new Date(start.getTime() + i * 3600_000).toISOString()) };
    },
  };
  const roles = new RoleDirectory(runbook, {} as SlackPort, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const logger = createLogger({ level: 'silent' });
  const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit: () => {} });
  await timeline.syncRunbookT0();
  const alarms = new AlarmService({ runbook, store, cloudwatch, clock, logger, defaultRegion: 'eu-west-1', afterCommit: () => {} });
  const gonogo = new GoNoGoService({ runbook, store, cloudwatch, alarms, checklist, timeline, roles, clock, logger, defaultRegion: 'eu-west-1', afterCommit: () => {}, incidents: new IncidentRepository(store) });
  gonogo.notify(new SlackGoNoGoNotifier({ runbook, store, clock, voters: () => gonogo.voterLabel() }));
  const ready = async () => {
    await checklist.check('dns', { userId: 'U0OPS', source: 'command' }, null);
    await checklist.signoff('pre-flight', { userId: 'U0CTO', source: 'command' });
  };
  const outbox = async () => (await store.all<{ method: string; args: string; depends_on: number | null }>('SELECT method, args, depends_on FROM outbox ORDER BY id')).map((r) => ({ ...r, args: JSON.parse(r.args) as Record<string, unknown> }));
  return { store, clock, gonogo, checklist, queries, ready, outbox };
}

const operator = { userId: 'U0OPS', source: 'command' as const, channel: 'C0OPS' };

describe('GoNoGoService.evaluate', () => {
  it('shows each criterion with its measured value and where it came from', async () => {
    const s = await setup({ alarms: [{ name: 'Prod-5xx', state: 'OK', reason: '', updatedAt: '', kind: 'metric' }] });
    const e = await s.gonogo.evaluate();
    expect(e.allPass).toBe(false);
    expect(e.results).toEqual([
      { type: 'blockers_done', hard: true, label: 'All blockers done', pass: false, value: '1 open: dns', source: 'golive checklist' },
      { type: 'gates_signed', hard: false, label: 'Gates signed off: pre-flight', pass: false, value: 'waiting for pre-flight (CTO)', source: 'golive sign-offs' },
      { type: 'no_firing_alarms', hard: false, label: 'No alarm firing under Prod-', pass: true, value: '0 of 1 in ALARM', source: 'CloudWatch DescribeAlarms, eu-west-1, "Prod-*", read now (the alarm watcher does not watch "Prod-*" in eu-west-1)' },
      {
        type: 'metric',
        hard: false,
        label: 'p95 latency < 800 ms',
        pass: true,
        value: '0.42 s (one datapoint; needs < 0.8 s)',
        source: 'CloudWatch GetMetricData, ap-south-1: AWS/ApplicationELB TargetResponseTime p95 per 3600 s over the last 2 h',
      },
      {
        type: 'metric',
        hard: false,
        label: 'Error rate < 0.5 %',
        pass: true,
        value: '0.1 % (one datapoint; needs < 0.5 %)',
        source: 'CloudWatch GetMetricData, eu-west-1: 100 * errors / requests per 7200 s over the last 2 h',
      },
      { type: 'no_incidents', hard: false, label: 'No P1 incident since T+90m', pass: true, value: '0 P1', source: 'golive incidents since T+90m (1 Dec 09:30 UTC)' },
    ]);
    expect(s.queries).toEqual([
      {
        region: 'ap-south-1',
        query: { period: 3600, metric: { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: { LoadBalancer: 'app/prod/123' }, stat: 'p95' } },
        start: '2026-12-03T06:00:00.000Z',
        end: '2026-12-03T08:00:00.000Z',
      },
      {
        region: 'eu-west-1',
        query: {
          period: 7200,
          expression: '100 * errors / requests',
          metrics: { errors: { namespace: 'AWS/ApplicationELB', metric: 'HTTPCode_Target_5XX_Count', dimensions: {}, stat: 'Sum' }, requests: { namespace: 'AWS/ApplicationELB', metric: 'RequestCount', dimensions: {}, stat: 'Sum' } },
        },
        start: '2026-12-03T06:00:00.000Z',
        end: '2026-12-03T08:00:00.000Z',
      },
    ]);
  });

  it('fails a metric on its worst datapoint, and counts firing alarms and incidents', async () => {
    const s = await setup({ latency: [0.5, 0.93, 0.61], alarms: [{ name: 'Prod-5xx', state: 'ALARM', reason: 'high', updatedAt: '', kind: 'metric' }, { name: 'Prod-cpu', state: 'OK', reason: '', updatedAt: '', kind: 'metric' }] });
    await s.store.run("INSERT INTO incident (severity, summary, commander, declared_by, declared_at, channel_id, channel_name) VALUES ('P1', 'down', 'U0OPS', 'U0OPS', '2026-12-01T10:00:00.000Z', 'C0INC', 'inc')");
    await s.store.run("INSERT INTO incident (severity, summary, commander, declared_by, declared_at, channel_id, channel_name) VALUES ('P1', 'before', 'U0OPS', 'U0OPS', '2026-12-01T09:00:00.000Z', 'C0INC2', 'inc2')");
    const e = await s.gonogo.evaluate();
    expect(e.results.find((r) => r.label === 'p95 latency < 800 ms')).toMatchObject({ pass: false, value: '0.93 s (worst of 3 datapoints; needs < 0.8 s)' });
    expect(e.results.find((r) => r.type === 'no_firing_alarms')).toMatchObject({ pass: false, value: '1 of 2 in ALARM: Prod-5xx' });
    expect(e.results.find((r) => r.type === 'no_incidents')).toMatchObject({ pass: false, value: '1 P1: INC-1 P1 (1 Dec 10:00 UTC)' });
  });

  it('counts worse incidents for a milder severity, and an unsigned gate by its items', async () => {
    const s = await setup();
    await s.store.run("INSERT INTO incident (severity, summary, commander, declared_by, declared_at, channel_id, channel_name) VALUES ('P1', 'down', 'U0OPS', 'U0OPS', '2026-12-02T10:00:00.000Z', 'C0INC', 'inc')");
    await s.store.run("INSERT INTO incident (severity, summary, commander, declared_by, declared_at, channel_id, channel_name) VALUES ('P3', 'slow', 'U0OPS', 'U0OPS', '2026-12-02T11:00:00.000Z', 'C0INC2', 'inc2')");
    const rb = { ...runbook, gates: [{ ...runbook.gates[0]!, signoff: [] }], gonogo: { ...runbook.gonogo!, criteria: [{ type: 'no_incidents' as const, severity: 'P2' as const, since: 'T+90m' }, { type: 'gates_signed' as const, gates: ['pre-flight'] }] } };
    const store = s.store;
    const clock = s.clock;
    const roles = new RoleDirectory(rb, {} as SlackPort, clock);
    const checklist = new ChecklistService(rb, store, roles, clock);
    const logger = createLogger({ level: 'silent' });
    const timeline = new TimelineService({ runbook: rb, store, clock, roles, afterCommit: () => {} });
    const service = new GoNoGoService({ runbook: rb, store, cloudwatch: {} as CloudWatchPort, alarms: {} as FiringAlarms, checklist, timeline, roles, clock, logger, afterCommit: () => {}, incidents: new IncidentRepository(store) });
    expect((await service.evaluate()).results.map((r) => [r.label, r.pass, r.value])).toEqual([
      ['No P2 or worse incident since T+90m', false, '1 P2 or worse: INC-1 P1 (2 Dec 10:00 UTC)'],
      ['Gates signed off: pre-flight', false, 'waiting for pre-flight (2 of 2 items open)'],
    ]);
  });

  it('marks a criterion unknown (never a pass) when its evidence cannot be read or there is no data', async () => {
    const s = await setup({ alarms: new Error('AWS refused DescribeAlarms (eu-west-1): the bot\'s IAM role lacks cloudwatch:DescribeAlarms.'), errorRate: [] });
    await s.ready();
    const e = await s.gonogo.evaluate();
    expect(e.results.map((r) => r.pass)).toEqual([true, true, null, true, null, true]);
    expect(e.results[2]).toMatchObject({ value: 'could not be read', source: "AWS refused DescribeAlarms (eu-west-1): the bot's IAM role lacks cloudwatch:DescribeAlarms." });
    expect(e.results[4]).toMatchObject({ value: 'no data in the window' });
    expect(e.allPass).toBe(false);
  });
});

describe('GoNoGoService decisions', () => {
  it('opens one decision at a time with its evidence and card', async () => {
    const s = await setup();
    await s.ready();
    const first = await s.gonogo.open(operator);
    expect(first).toMatchObject({ created: true, decision: { id: 1, state: 'open', opened_by: 'U0OPS', votes_required: 2, channel: 'C0OPS', card_outbox_id: 1 } });
    expect(first.decision.evidence.allPass).toBe(true);
    const second = await s.gonogo.open({ ...operator, userId: 'U0CTO' });
    expect(second).toMatchObject({ created: false, decision: { id: 1 } });
    const card = (await s.outbox())[0]!;
    expect(card.method).toBe('chat.postMessage');
    expect(card.args.text).toBe('Go/No-Go #1: 6 of 6 criteria pass; vote Go or No-Go.');
    await expect(s.gonogo.open({ ...operator, userId: 'U0STRANGER' })).rejects.toThrow('Only people named in one of the runbook’s roles may call a go/no-go decision.');
  });

  it('decides GO on the required Go votes, refusing non-voters, second votes and votes after the decision', async () => {
    const s = await setup();
    await s.ready();
    const { decision } = await s.gonogo.open(operator);
    await expect(s.gonogo.vote(decision.id, 'U0OPS', 'go', null)).rejects.toThrow('Only CTO, Product Lead vote on go/no-go.');
    const one = await s.gonogo.vote(decision.id, 'U0CTO', 'go', ' ship it ');
    expect(one.decision.state).toBe('open');
    await expect(s.gonogo.vote(decision.id, 'U0CTO', 'no_go', null)).rejects.toThrow('You already voted Go on decision #1 at 3 Dec 08:00 UTC; a vote cannot be changed.');
    const two = await s.gonogo.vote(decision.id, 'U0PM', 'go', null);
    expect(two.decision).toMatchObject({ state: 'go', decided_at: '2026-12-03T08:00:00.000Z' });
    expect(two.votes).toEqual([
      { user_id: 'U0CTO', vote: 'go', note: 'ship it', at: '2026-12-03T08:00:00.000Z' },
      { user_id: 'U0PM', vote: 'go', note: null, at: '2026-12-03T08:00:00.000Z' },
    ]);
    await expect(s.gonogo.vote(decision.id, 'U0PM', 'no_go', null)).rejects.toThrow('Go/no-go decision #1 is already decided: GO at 3 Dec 08:00 UTC. Your vote was not recorded.');
    const updates = (await s.outbox()).filter((r) => r.depends_on === 1);
    expect(updates.map((r) => [r.method, r.args.text, r.args.reply_broadcast ?? null])).toEqual([
      ['chat.update', 'Go/No-Go #1: 6 of 6 criteria pass; vote Go or No-Go.', null],
      ['chat.postMessage', '🟢 Go — <@U0CTO> at 3 Dec 08:00 UTC: “ship it”', false],
      ['chat.update', 'Go/No-Go #1: GO.', null],
      ['chat.postMessage', '🟢 Go — <@U0PM> at 3 Dec 08:00 UTC\n🟢 *GO* — go/no-go decision #1, decided 3 Dec 08:00 UTC.', true],
    ]);
    expect(await s.store.all("SELECT actor, action, target FROM audit WHERE action LIKE 'gonogo.%' ORDER BY id")).toEqual([
      { actor: 'U0OPS', action: 'gonogo.open', target: 'decision #1' },
      { actor: 'U0CTO', action: 'gonogo.vote', target: 'decision #1' },
      { actor: 'U0PM', action: 'gonogo.vote', target: 'decision #1' },
      { actor: 'golive', action: 'gonogo.decide', target: 'decision #1' },
    ]);
  });

  it('decides NO-GO on a single No-Go, and a new decision can be called after it', async () => {
    const s = await setup();
    await s.ready();
    const { decision } = await s.gonogo.open(operator);
    const out = await s.gonogo.vote(decision.id, 'U0PM', 'no_go', 'error budget');
    expect(out.decision.state).toBe('no_go');
    expect((await s.gonogo.latest())?.state).toBe('no_go');
    const next = await s.gonogo.open(operator);
    expect(next).toMatchObject({ created: true, decision: { id: 2, state: 'open' } });
  });

  it('needs a note for a Go vote against failing overridable criteria', async () => {
    const s = await setup();
    await s.checklist.check('dns', { userId: 'U0OPS', source: 'command' }, null);
    const { decision } = await s.gonogo.open(operator);
    expect(decision.evidence.allPass).toBe(false);
    await expect(s.gonogo.vote(decision.id, 'U0CTO', 'go', '  ')).rejects.toThrow('A Go vote against failing or unknown criteria needs a note saying why.');
    expect((await s.gonogo.vote(decision.id, 'U0CTO', 'go', 'the CTO signs the gate by hand')).votes).toHaveLength(1);
  });

  it('refuses a Go vote, note or not, while a hard criterion fails on the card or again now', async () => {
    const s = await setup();
    const { decision } = await s.gonogo.open(operator);
    await expect(s.gonogo.vote(decision.id, 'U0CTO', 'go', 'dns is done by hand')).rejects.toThrow('A Go vote is refused while a hard criterion fails or is unknown: ❌ All blockers done: 1 open: dns. Your vote was not recorded.');
    await s.ready();
    const fresh = await s.gonogo.open(operator);
    expect(fresh.refreshed).toBe(true);
    await s.checklist.uncheck('dns', { userId: 'U0OPS', source: 'command' }, 'rolled back');
    await expect(s.gonogo.vote(decision.id, 'U0CTO', 'go', null)).rejects.toThrow('A Go vote is refused while a hard criterion fails or is unknown (measured again now): ❌ All blockers done: 1 open: dns. Your vote was not recorded.');
    expect(await s.gonogo.votes(decision.id)).toEqual([]);
    // No-Go is never refused.
    expect((await s.gonogo.vote(decision.id, 'U0CTO', 'no_go', null)).decision.state).toBe('no_go');
  });

  it('records exactly one vote when the same voter submits twice at once', async () => {
    const s = await setup();
    await s.ready();
    const { decision } = await s.gonogo.open(operator);
    const results = await Promise.allSettled([s.gonogo.vote(decision.id, 'U0CTO', 'go', null), s.gonogo.vote(decision.id, 'U0CTO', 'go', null)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await s.gonogo.votes(decision.id)).toHaveLength(1);
  });
});
