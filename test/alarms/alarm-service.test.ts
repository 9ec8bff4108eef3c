import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmHistoryItem, AlarmState, CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import { createLogger } from '../../src/platform/logger.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { SlackAlarmNotifier } from '../../src/alarms/alarm-notifier.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const parsed = parseRunbook(
  `version: 1
launch: { name: A, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms:
  region: ap-south-1
  prefixes: [App-]
  rules:
    - { match: App-5xx, severity: critical, page: true }
    - { match: "App-DB-*", severity: error }
`,
  'a.yml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const runbook = parsed.runbook;

async function setup(history: AlarmHistoryItem[] | Error = new Error('not implemented')) {
  const store = await openTestStore();
  let alarms: AlarmState[] = [];
  const cloudwatch: CloudWatchPort = {
    describeAlarms: async () => alarms,
    describeAlarmHistory: async () => {
      if (history instanceof Error) throw history;
      return history;
    },
    getMetricData: async () => ({ values: [], timestamps: [] }),
  };
  const clock = { now: () => new Date('2026-12-01T00:10:00Z') };
  const service = new AlarmService({ runbook, store, cloudwatch, clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {} });
  service.notify(new SlackAlarmNotifier({ runbook, store, clock }));
  const set = (a: (Partial<AlarmState> & { name: string })[]) => {
    alarms = a.map((x) => ({ state: 'OK', reason: '', updatedAt: '2026-12-01T00:00:00.000Z', kind: 'metric', ...x }) as AlarmState);
  };
  const outbox = () => store.all('SELECT target, method FROM outbox ORDER BY id');
  return { store, service, set, outbox };
}

describe('AlarmService', () => {
  it('matches rules by exact name or prefix*, first match wins, default warning', async () => {
    const { service } = await setup();
    expect(service.ruleFor('App-5xx')).toEqual({ severity: 'critical', page: true, incident: undefined, description: undefined });
    expect(service.ruleFor('App-DB-CPU').severity).toBe('error');
    expect(service.ruleFor('App-Other')).toEqual({ severity: 'warning', page: false });
    expect(service.watches('App-x')).toBe(true);
    expect(service.watches('Other')).toBe(false);
  });

  it('asks DescribeAlarmHistory when the state looks unchanged but its time moved, and posts the missed transitions', async () => {
    const { service, set, outbox } = await setup([
      { name: 'App-5xx', from: 'ALARM', to: 'OK', at: '2026-12-01T00:02:00.000Z', reason: 'ok' },
      { name: 'App-5xx', from: 'OK', to: 'ALARM', at: '2026-12-01T00:03:00.000Z', reason: 'again' },
    ]);
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:01:00.000Z' }]);
    await service.poll(); // baseline
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:03:00.000Z' }]);
    expect(await service.poll()).toEqual({ alarms: 1, transitions: 2, baseline: false });
    expect(await outbox()).toEqual([
      { target: 'slack', method: 'chat.postMessage' }, // baseline summary
      { target: 'pagerduty', method: 'trigger' }, // firing when watching started
      { target: 'slack', method: 'chat.postMessage' }, // ALARM → OK, no firing post of ours to thread under
      { target: 'pagerduty', method: 'resolve' },
      { target: 'slack', method: 'chat.postMessage' }, // OK → ALARM
      { target: 'pagerduty', method: 'trigger' },
    ]);
  });

  it('tolerates a CloudWatch without DescribeAlarmHistory: records the new time, posts nothing', async () => {
    const { service, set, outbox, store } = await setup(new Error('not implemented'));
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:01:00.000Z' }]);
    await service.poll();
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:03:00.000Z' }]);
    expect((await service.poll()).transitions).toBe(0);
    expect(await outbox()).toEqual([
      { target: 'slack', method: 'chat.postMessage' },
      { target: 'pagerduty', method: 'trigger' },
    ]);
    expect((await store.get<{ state_at: string }>('SELECT state_at FROM alarm_state'))?.state_at).toBe('2026-12-01T00:03:00.000Z');
  });

  it('records a late push about an older transition as history without posting', async () => {
    const { service, set, outbox } = await setup();
    set([{ name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:05:00.000Z' }]);
    await service.poll();
    const n = await service.ingest([{ alarmName: 'App-DB-CPU', to: 'ALARM', from: 'OK', reason: 'old', at: '2026-12-01T00:04:00.000Z', kind: 'metric', source: 'eventbridge' }]);
    expect(n).toBe(1);
    expect(await outbox()).toHaveLength(1);
    expect((await service.row('App-DB-CPU'))!.state).toBe('OK');
  });

  it('ignores a push dated more than 5 minutes ahead, so it cannot silence the alarm for good; the poll decides', async () => {
    const { service, set, outbox } = await setup();
    set([{ name: 'App-5xx', state: 'OK', updatedAt: '2026-12-01T00:00:00.000Z' }]);
    await service.poll();
    // A few seconds of clock skew are fine (the clock says 00:10).
    expect(await service.ingest([{ alarmName: 'App-DB-CPU', to: 'ALARM', from: 'OK', reason: 'skewed', at: '2026-12-01T00:14:00.000Z', kind: 'metric', source: 'eventbridge' }])).toBe(1);
    // Dated 2099 (needs the EventBridge secret, or an SNS message with that StateChangeTime): nothing recorded.
    for (const source of ['eventbridge', 'sns'] as const) {
      expect(await service.ingest([{ alarmName: 'App-5xx', to: 'ALARM', from: 'OK', reason: 'from the future', at: '2099-01-01T00:00:00.000Z', kind: 'metric', source }])).toBe(0);
    }
    expect(await service.row('App-5xx')).toMatchObject({ state: 'OK', state_at: '2026-12-01T00:00:00.000Z' });
    // Real news afterwards is news: posted and paged.
    const before = (await outbox()).length;
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:09:00.000Z' }]);
    await service.poll();
    expect(await service.row('App-5xx')).toMatchObject({ state: 'ALARM', state_at: '2026-12-01T00:09:00.000Z' });
    expect((await outbox()).slice(before)).toEqual([{ target: 'slack', method: 'chat.postMessage' }, { target: 'pagerduty', method: 'trigger' }]);
  });

  it('lets the present win over a state dated in the future that an older golive stored', async () => {
    const { store, service, set, outbox } = await setup();
    set([{ name: 'App-5xx', state: 'OK', updatedAt: '2026-12-01T00:00:00.000Z' }, { name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:00:00.000Z' }]);
    await service.poll();
    // Written before pushes were bounded: one alarm "in ALARM since 2099", one "OK since 2099".
    await store.run("UPDATE alarm_state SET state = 'ALARM', state_at = '2099-01-01T00:00:00.000Z' WHERE name = 'App-5xx'");
    await store.run("UPDATE alarm_state SET state_at = '2099-01-01T00:00:00.000Z' WHERE name = 'App-DB-CPU'");
    const before = (await outbox()).length;

    set([{ name: 'App-5xx', state: 'OK', updatedAt: '2026-12-01T00:08:00.000Z' }, { name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:00:00.000Z' }]);
    await service.poll();
    expect(await service.row('App-5xx')).toMatchObject({ state: 'OK', state_at: '2026-12-01T00:08:00.000Z' });
    expect(await service.row('App-DB-CPU')).toMatchObject({ state: 'OK', state_at: '2026-12-01T00:00:00.000Z' });
    // The stored ALARM ends as a recovery would (its page, if the older golive sent one, is resolved); the OK one changes nothing.
    expect((await outbox()).slice(before)).toEqual([{ target: 'slack', method: 'chat.postMessage' }, { target: 'pagerduty', method: 'resolve' }]);

    // From then on real news is news again: posted and paged.
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:09:00.000Z' }, { name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:00:00.000Z' }]);
    await service.poll();
    expect(await service.row('App-5xx')).toMatchObject({ state: 'ALARM', state_at: '2026-12-01T00:09:00.000Z' });
    expect((await outbox()).slice(before + 2)).toEqual([{ target: 'slack', method: 'chat.postMessage' }, { target: 'pagerduty', method: 'trigger' }]);
  });

  it('ignores alarms outside the prefixes and treats +0000 times like Z', async () => {
    const { service, outbox } = await setup();
    expect(await service.ingest([{ alarmName: 'Other', to: 'ALARM', reason: '', at: '2026-12-01T00:04:00.000Z', kind: 'metric', source: 'sns' }])).toBe(0);
    expect(await service.ingest([{ alarmName: 'App-DB-X', to: 'ALARM', reason: '', at: '2026-12-01T00:04:00.000+0000', kind: 'metric', source: 'sns' }])).toBe(1);
    expect(await service.ingest([{ alarmName: 'App-DB-X', to: 'ALARM', reason: '', at: '2026-12-01T00:04:00.000Z', kind: 'metric', source: 'poll' }])).toBe(0);
    expect(await outbox()).toHaveLength(1);
  });

  it('treats losing data after ALARM as a transition, not a recovery: no resolve', async () => {
    const { service, set, outbox } = await setup();
    set([{ name: 'App-5xx', state: 'OK', updatedAt: '2026-12-01T00:01:00.000Z' }]);
    await service.poll();
    set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:02:00.000Z' }]);
    await service.poll();
    set([{ name: 'App-5xx', state: 'INSUFFICIENT_DATA', updatedAt: '2026-12-01T00:03:00.000Z' }]);
    await service.poll();
    expect(await outbox()).toEqual([
      { target: 'slack', method: 'chat.postMessage' },
      { target: 'slack', method: 'chat.postMessage' },
      { target: 'pagerduty', method: 'trigger' },
      { target: 'slack', method: 'chat.postMessage' }, // threaded under the ALARM post
    ]);
  });

  it('does not let a poll that read CloudWatch earlier overwrite a newer pushed state', async () => {
    const { service, set } = await setup();
    set([{ name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:01:00.000Z' }]);
    await service.poll();
    await service.ingest([{ alarmName: 'App-DB-CPU', to: 'ALARM', from: 'OK', reason: 'pushed', at: '2026-12-01T00:05:00.000Z', kind: 'metric', source: 'eventbridge' }]);
    set([{ name: 'App-DB-CPU', state: 'OK', updatedAt: '2026-12-01T00:01:00.000Z' }]);
    await service.poll();
    expect(await service.row('App-DB-CPU')).toMatchObject({ state: 'ALARM', state_at: '2026-12-01T00:05:00.000Z' });
  });

  it('forgets an alarm deleted in CloudWatch and remembers when the last poll succeeded', async () => {
    const { service, set } = await setup();
    set([{ name: 'App-DB-CPU' }, { name: 'App-DB-Mem' }]);
    await service.poll();
    set([{ name: 'App-DB-CPU' }]);
    await service.poll();
    expect((await service.list()).map((r) => r.name)).toEqual(['App-DB-CPU']);
    expect(await service.lastPollAt()).toBe('2026-12-01T00:10:00.000Z');
  });
});

describe('a flapping alarm that pages', () => {
  it('keeps one page open while it flaps and resolves it once it has stayed OK for the window', async () => {
    const { service, store, set } = await setup();
    const clock = (service as unknown as { deps: { clock: { now: () => Date } } }).deps.clock;
    let now = Date.parse('2026-12-01T00:10:00Z');
    clock.now = () => new Date(now);
    set([{ name: 'App-5xx', state: 'OK', updatedAt: '2026-12-01T00:05:00.000Z' }]);
    await service.poll(); // baseline: OK
    const pd = async () => (await store.all<{ method: string }>("SELECT method FROM outbox WHERE target = 'pagerduty' ORDER BY id")).map((r) => r.method).join(' ');
    const flip = (to: 'OK' | 'ALARM', minute: number) => {
      // Each push arrives when it happens (a push dated ahead of the clock is ignored).
      const at = `2026-12-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
      now = Date.parse(at);
      return service.ingest([{ alarmName: 'App-5xx', to, reason: to, at, kind: 'metric', source: 'sns' }]);
    };
    // Default flapping: more than 4 transitions in 30 min.
    for (const [i, to] of (['ALARM', 'OK', 'ALARM', 'OK', 'ALARM', 'OK', 'ALARM', 'OK'] as const).entries()) await flip(to, 11 + i);
    expect(await pd()).toBe('trigger resolve trigger resolve trigger trigger');
    expect(await service.row('App-5xx')).toMatchObject({ state: 'OK', page_held_since: '2026-12-01T00:18:00.000Z' });
    now = Date.parse('2026-12-01T00:47:00Z'); // OK since 00:18, 29 min: not yet
    expect(await service.releaseHeldPages()).toBe(0);
    now = Date.parse('2026-12-01T00:48:00Z');
    expect(await service.releaseHeldPages()).toBe(1);
    expect(await service.releaseHeldPages()).toBe(0);
    expect(await pd()).toBe('trigger resolve trigger resolve trigger trigger resolve');
    expect(await service.row('App-5xx')).toMatchObject({ page_held_since: null, flapping_since: null });
    const last = JSON.parse((await store.get<{ args: string }>("SELECT args FROM outbox WHERE target = 'slack' ORDER BY id DESC LIMIT 1"))!.args) as { text: string };
    expect(last.text).toBe('🟢 `App-5xx` has stayed OK since 1 Dec 00:18 UTC (30 min): it has stopped flapping, and its page is resolved.');
  });

  it('resolves a held page when the alarm fires again steadily and then recovers normally', async () => {
    const { service, store } = await setup();
    const pd = async () => (await store.all<{ method: string }>("SELECT method FROM outbox WHERE target = 'pagerduty' ORDER BY id")).map((r) => r.method).join(' ');
    const flip = (to: 'OK' | 'ALARM', at: string) => service.ingest([{ alarmName: 'App-5xx', to, reason: to, at, kind: 'metric', source: 'sns' }]);
    for (const [i, to] of (['ALARM', 'OK', 'ALARM', 'OK', 'ALARM', 'OK'] as const).entries()) await flip(to, `2026-12-01T00:0${i}:00.000Z`);
    expect((await service.row('App-5xx'))!.page_held_since).toBe('2026-12-01T00:05:00.000Z');
    await flip('ALARM', '2026-12-01T00:06:00.000Z');
    expect((await service.row('App-5xx'))!.page_held_since).toBeNull();
    const clock = (service as unknown as { deps: { clock: { now: () => Date } } }).deps.clock;
    clock.now = () => new Date('2026-12-01T02:00:00Z');
    await flip('OK', '2026-12-01T02:00:00.000Z'); // long after: no longer flapping
    expect(await pd()).toBe('trigger resolve trigger resolve trigger trigger resolve');
  });
});
