import { afterEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { SlackAlarmNotifier } from '../../src/alarms/alarm-notifier.js';
import { describeFiringSource, firingRead, watcherFreshForMs } from '../../src/alarms/index.js';
import type { AlarmState, CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import { shortestCronGapMs } from '../../src/platform/cron-gap.js';
import { createLogger } from '../../src/platform/logger.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

function runbookWith(alarms: string): Runbook {
  const parsed = parseRunbook(
    `version: 1
launch: { name: A, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
${alarms}`,
    'a.yml',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.runbook;
}

const runbook = runbookWith('alarms: { region: ap-south-1, prefixes: [App-] }');

async function setup() {
  const store = await openTestStore();
  let alarms: AlarmState[] = [];
  const asked: { region: string; prefixes: readonly string[] }[] = [];
  const cloudwatch: CloudWatchPort = {
    describeAlarms: async (region, prefixes) => {
      asked.push({ region, prefixes });
      return alarms.filter((a) => prefixes.some((p) => a.name.startsWith(p)));
    },
    describeAlarmHistory: async () => {
      throw new Error('not implemented');
    },
    getMetricData: async () => ({ values: [], timestamps: [] }),
  };
  const clock = clockAt('2026-12-01T00:10:00Z');
  const service = new AlarmService({ runbook, store, cloudwatch, clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {} });
  service.notify(new SlackAlarmNotifier({ runbook, store, clock }));
  const set = (a: (Partial<AlarmState> & { name: string })[]) => {
    alarms = a.map((x) => ({ state: 'OK', reason: 'r', updatedAt: '2026-12-01T00:00:00.000Z', kind: 'metric', ...x }) as AlarmState);
  };
  return { store, service, set, asked, clock };
}

describe('the poll interval a schedule gives', () => {
  it('is the shortest gap between two runs within a day', () => {
    expect(shortestCronGapMs('* * * * *')).toBe(60_000);
    expect(shortestCronGapMs('*/5 * * * *')).toBe(300_000);
    expect(shortestCronGapMs('*/20 * * * * *')).toBe(20_000);
    expect(shortestCronGapMs('0 9-17 * * *')).toBe(3_600_000);
    expect(shortestCronGapMs('0 3 * * *')).toBe(86_400_000);
    expect(shortestCronGapMs('0,1 * * * *')).toBe(60_000);
  });

  it('makes the watcher fresh for two of them (2 min by default)', () => {
    expect(watcherFreshForMs(runbook)).toBe(120_000);
    expect(watcherFreshForMs(runbookWith('alarms: { prefixes: [App-], schedule: "*/5 * * * *" }'))).toBe(600_000);
  });
});

describe('where "what is firing" is read from', () => {
  const watcher = (lastPollAt?: string) => ({ region: 'ap-south-1', lastPollAt });
  const now = new Date('2026-12-01T00:10:00Z');
  const ask = (prefixes: string[], region = 'ap-south-1') => ({ region, prefixes });

  it('the stored state while the last poll is younger than two intervals, a poll now after that or before the first', () => {
    expect(firingRead(runbook, ask(['App-']), watcher('2026-12-01T00:08:00.001Z'), now)).toEqual({ from: 'watcher' });
    expect(firingRead(runbook, ask(['App-']), watcher('2026-12-01T00:08:00.000Z'), now)).toEqual({ from: 'poll', why: 'stale' });
    expect(firingRead(runbook, ask(['App-']), watcher(undefined), now)).toEqual({ from: 'poll', why: 'never_polled' });
  });

  it('a prefix under a watched one is the watcher\'s; any other prefix, another region or no alarms section is read from CloudWatch', () => {
    expect(firingRead(runbook, ask(['App-DB-']), watcher('2026-12-01T00:09:00Z'), now)).toEqual({ from: 'watcher' });
    expect(firingRead(runbook, ask(['App-DB-', 'Other-']), watcher('2026-12-01T00:09:00Z'), now)).toEqual({ from: 'live', why: 'unwatched' });
    expect(firingRead(runbook, ask(['Ap']), watcher('2026-12-01T00:09:00Z'), now)).toEqual({ from: 'live', why: 'unwatched' });
    expect(firingRead(runbook, ask(['App-'], 'eu-west-1'), watcher('2026-12-01T00:09:00Z'), now)).toEqual({ from: 'live', why: 'unwatched' });
    expect(firingRead(runbookWith(''), ask(['']), watcher(undefined), now)).toEqual({ from: 'live', why: 'unwatched' });
  });
});

describe('AlarmService.firing', () => {
  it('answers from the watcher while its poll is fresh, without asking CloudWatch, and says how old the state is', async () => {
    const s = await setup();
    s.set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:05:00.000Z' }, { name: 'App-DB-CPU' }]);
    await s.service.poll();
    s.asked.length = 0;
    s.set([]); // CloudWatch moved on; the watcher's state still counts for 2 min
    s.clock.at += 95_000;
    const answer = await s.service.firing();
    expect(s.asked).toEqual([]);
    expect(answer).toEqual({
      region: 'ap-south-1',
      prefixes: ['App-'],
      alarms: [
        { name: 'App-5xx', state: 'ALARM', since: '2026-12-01T00:05:00.000Z' },
        { name: 'App-DB-CPU', state: 'OK', since: '2026-12-01T00:00:00.000Z' },
      ],
      firing: [{ name: 'App-5xx', since: '2026-12-01T00:05:00.000Z' }],
      source: { from: 'watcher', polledAt: '2026-12-01T00:10:00.000Z' },
    });
    expect(describeFiringSource(answer, s.clock.now())).toBe('CloudWatch DescribeAlarms, ap-south-1, "App-*", as of the alarm watcher\'s poll 1 min 35 s ago');
    const db = await s.service.firing(['App-DB-']);
    expect(db.alarms.map((a) => a.name)).toEqual(['App-DB-CPU']);
    expect(db.firing).toEqual([]);
  });

  it('when the last poll is too old, polls now: the store and its posts follow what was read', async () => {
    const s = await setup();
    s.set([{ name: 'App-5xx' }]);
    await s.service.poll();
    s.clock.at += 7 * 60_000;
    s.set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:16:00.000Z' }]);
    s.asked.length = 0;
    const answer = await s.service.firing();
    expect(s.asked).toEqual([{ region: 'ap-south-1', prefixes: ['App-'] }]);
    expect(answer.firing).toEqual([{ name: 'App-5xx', since: '2026-12-01T00:16:00.000Z' }]);
    expect(answer.source).toEqual({ from: 'cloudwatch', readAt: '2026-12-01T00:17:00.000Z', why: 'stale', lastPollAt: '2026-12-01T00:10:00.000Z', freshForMs: 120_000 });
    expect(describeFiringSource(answer, s.clock.now())).toBe('CloudWatch DescribeAlarms, ap-south-1, "App-*", read now (the alarm watcher\'s last poll was 7 min ago, past its 2 min limit)');
    // One picture: the watcher recorded the transition (and posted it), and the next question is answered from it.
    expect((await s.service.row('App-5xx'))?.state).toBe('ALARM');
    expect(await s.store.all("SELECT action, target FROM audit WHERE action = 'alarm.transition'")).toEqual([{ action: 'alarm.transition', target: 'App-5xx' }]);
    s.asked.length = 0;
    expect((await s.service.firing()).source.from).toBe('watcher');
    expect(s.asked).toEqual([]);
  });

  it('before the first poll, the first poll answers (and records its baseline)', async () => {
    const s = await setup();
    s.set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:05:00.000Z' }]);
    const answer = await s.service.firing();
    expect(answer.firing).toEqual([{ name: 'App-5xx', since: '2026-12-01T00:05:00.000Z' }]);
    expect(describeFiringSource(answer, s.clock.now())).toBe('CloudWatch DescribeAlarms, ap-south-1, "App-*", read now (the alarm watcher had not polled yet)');
    expect(await s.service.lastPollAt()).toBe('2026-12-01T00:10:00.000Z');
  });

  it('reads prefixes the watcher does not watch from CloudWatch, and records what it does watch in that read', async () => {
    const s = await setup();
    s.set([{ name: 'App-5xx' }, { name: 'Other-Queue', state: 'ALARM', updatedAt: '2026-12-01T00:07:00.000Z' }]);
    await s.service.poll();
    s.set([{ name: 'App-5xx', state: 'ALARM', updatedAt: '2026-12-01T00:09:30.000Z' }, { name: 'Other-Queue', state: 'ALARM', updatedAt: '2026-12-01T00:07:00.000Z' }]);
    s.asked.length = 0;
    const answer = await s.service.firing(['']);
    expect(s.asked).toEqual([{ region: 'ap-south-1', prefixes: [''] }]);
    expect(answer.firing).toEqual([
      { name: 'App-5xx', since: '2026-12-01T00:09:30.000Z' },
      { name: 'Other-Queue', since: '2026-12-01T00:07:00.000Z' },
    ]);
    expect(describeFiringSource(answer, s.clock.now())).toBe('CloudWatch DescribeAlarms, ap-south-1, every alarm, read now (the alarm watcher does not watch every alarm in ap-south-1)');
    // The watcher's own alarm in that read is recorded; the other is not its to keep.
    expect((await s.service.row('App-5xx'))?.state).toBe('ALARM');
    expect(await s.service.row('Other-Queue')).toBeUndefined();
    const other = await s.service.firing(['Other-']);
    expect(describeFiringSource(other, s.clock.now())).toBe('CloudWatch DescribeAlarms, ap-south-1, "Other-*", read now (the alarm watcher does not watch "Other-*" in ap-south-1)');
  });

  it('throws when CloudWatch had to be read and could not be', async () => {
    const s = await setup();
    const failing = new AlarmService({
      runbook,
      store: s.store,
      cloudwatch: { describeAlarms: async () => Promise.reject(new Error('CloudWatch is unreachable')), describeAlarmHistory: async () => [], getMetricData: async () => ({ values: [], timestamps: [] }) },
      clock: s.clock,
      logger: createLogger({ level: 'silent' }),
      afterCommit: () => {},
    });
    await expect(failing.firing()).rejects.toThrow('CloudWatch is unreachable');
  });
});
