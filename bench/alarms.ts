// Measure 3: alarm watching at 100, 1,000 and 10,000 alarms under one prefix.
// (a) moto_server: real HTTP, real SDK serialisation, the real adapter and AlarmService.
//     moto 5.x ignores MaxRecords/NextToken on DescribeAlarms and answers with every
//     alarm in one page, so the calls-per-poll goal cannot be observed on moto.
// (b) a client whose DescribeAlarms answers in memory, paging 100 alarms a page as AWS
//     does: the same adapter and service, which shows the calls per poll golive makes
//     against real CloudWatch.
// The SQLite work is real in both (file database, WAL).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, type DescribeAlarmsCommandInput, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { createCloudWatchAdapter } from '../src/platform/aws/cloudwatch-adapter.js';
import { createLogger } from '../src/platform/logger.js';
import { parseRunbook } from '../src/platform/runbook/load-runbook.js';
import { AlarmService } from '../src/alarms/alarm-service.js';
import { SlackAlarmNotifier } from '../src/alarms/alarm-notifier.js';
import { openDatabase } from '../src/platform/store/open-database.js';
import { SqliteStore } from '../src/platform/store/sqlite-store.js';
import type { Store } from '../src/platform/store/store.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../test/support/moto.js';
import { forceGc, mib, ms, table } from './support/stats.js';

const PREFIX = 'Bench-';
const STEADY_POLLS = 5;

const parsed = parseRunbook(
  `version: 1
launch: { name: Bench, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms: { region: ${TEST_REGION}, prefixes: [${PREFIX}], rules: [{ match: "${PREFIX}*", severity: critical }] }
`,
  'bench-alarms.yml',
);
if (!parsed.ok) throw new Error('bench runbook invalid');
const runbook = parsed.runbook;

const alarmName = (i: number) => `${PREFIX}${String(i).padStart(5, '0')}`;

/** Counts the DescribeAlarms requests a client sends (each page is one). */
function countCalls(client: CloudWatchClient): { describe: number } {
  const counter = { describe: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DescribeAlarmsCommand') counter.describe += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return counter;
}

export interface PollFigures {
  calls: number;
  baselineMs: number;
  changedMs: number;
  transitions: number;
  steadyMs: number[];
  /** Heap used / RSS after a forced GC, after the first steady poll and after the last. */
  heapFirst: number;
  heapLast: number;
  rssFirst: number;
  rssLast: number;
}

/** Polls a fresh golive database: a baseline poll, one with 1% of the alarms changed, then steady polls. */
async function pollSeries(client: CloudWatchClient, counter: { describe: number }, change: (indexes: number[]) => Promise<void>, n: number, open: () => Promise<Store>): Promise<PollFigures> {
  const store = await open();
  try {
    const clock = { now: () => new Date() };
    const service = new AlarmService({ runbook, store, cloudwatch: createCloudWatchAdapter({ clientFor: () => client }), clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {} });
    service.notify(new SlackAlarmNotifier({ runbook, store, clock }));
    let t = performance.now();
    const before = counter.describe;
    await service.poll();
    const baselineMs = performance.now() - t;
    const calls = counter.describe - before;
    const changed = Array.from({ length: Math.max(1, n / 100) }, (_, i) => i * 100);
    await change(changed);
    t = performance.now();
    const r = await service.poll();
    const changedMs = performance.now() - t;
    const steadyMs: number[] = [];
    const heap: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < STEADY_POLLS; i++) {
      t = performance.now();
      await service.poll();
      steadyMs.push(performance.now() - t);
      forceGc();
      const m = process.memoryUsage();
      heap.push(m.heapUsed);
      rss.push(m.rss);
    }
    return { calls, baselineMs, changedMs, transitions: r.transitions, steadyMs, heapFirst: heap[0]!, heapLast: heap.at(-1)!, rssFirst: rss[0]!, rssLast: rss.at(-1)! };
  } finally {
    await store.close();
  }
}

/** A fresh SQLite file database for one series (WAL, as golive runs it): measure 3's figures are the embedded store's, the default GOLIVE_DB; measure 7 runs the same series on PostgreSQL. */
const sqliteIn = (dir: string, n: number) => async (): Promise<Store> => new SqliteStore(openDatabase(path.join(dir, `alarms-${n}-${Date.now()}.db`)));

async function putAlarms(client: CloudWatchClient, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < to) {
        const i = next++;
        await client.send(
          new PutMetricAlarmCommand({
            AlarmName: alarmName(i),
            Namespace: 'AWS/ECS',
            MetricName: 'CPUUtilization',
            Statistic: 'Average',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 80,
            ComparisonOperator: 'GreaterThanThreshold',
          }),
        );
      }
    }),
  );
}

function rowFor(source: string, n: number, setup: string, f: PollFigures): string[] {
  const expected = Math.ceil(n / 100);
  const steady = [...f.steadyMs].sort((a, b) => a - b);
  return [
    source,
    n.toLocaleString('en'),
    setup,
    `${f.calls} (goal ${expected})`,
    ms(f.baselineMs),
    `${ms(f.changedMs)} (${f.transitions} transitions)`,
    `${ms(steady[Math.floor(steady.length / 2)]!)} / ${ms(steady.at(-1)!)}`,
    `${mib(f.heapFirst)} → ${mib(f.heapLast)} (${signed(f.heapLast - f.heapFirst)})`,
    `${mib(f.rssFirst)} → ${mib(f.rssLast)}`,
  ];
}

const signed = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;

export async function alarmsBench(opts: { moto: string; dir: string; sizes: number[]; log: (s: string) => void }): Promise<string> {
  const rows: string[][] = [];
  const motoClient = new CloudWatchClient({ endpoint: opts.moto, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const dir = opts.dir;
  let put = 0;
  try {
    for (const n of opts.sizes) {
      const t = performance.now();
      await putAlarms(motoClient, put, n);
      const setupMs = performance.now() - t;
      const added = n - put;
      put = n;
      // Each size starts from OK, so its 1% change is a real transition.
      const reset = Array.from({ length: n / 100 }, (_, i) => i * 100);
      for (const i of reset) await motoClient.send(new SetAlarmStateCommand({ AlarmName: alarmName(i), StateValue: 'OK', StateReason: 'bench reset' }));
      const client = new CloudWatchClient({ endpoint: opts.moto, region: TEST_REGION, credentials: TEST_CREDENTIALS });
      const figures = await pollSeries(
        client,
        countCalls(client),
        async (indexes) => {
          for (const i of indexes) await motoClient.send(new SetAlarmStateCommand({ AlarmName: alarmName(i), StateValue: 'ALARM', StateReason: 'bench: threshold crossed' }));
        },
        n,
        sqliteIn(dir, n),
      );
      client.destroy();
      rows.push(rowFor('moto', n, `${added.toLocaleString('en')} PutMetricAlarm in ${(setupMs / 1000).toFixed(1)} s`, figures));
      opts.log(`alarms moto ${n}: ${figures.calls} calls, steady ${ms(figures.steadyMs[0]!)} ms`);

      rows.push(rowFor('AWS-like paging (100/page, in memory)', n, 'in memory', await mockSeries(n, sqliteIn(dir, n))));
      opts.log(`alarms mock ${n} done`);
    }
  } finally {
    motoClient.destroy();
  }
  return table(
    ['CloudWatch', 'alarms', 'setup', 'DescribeAlarms calls / poll', 'first poll (baseline) ms', 'poll with 1% changed ms', `steady poll median / max ms (${STEADY_POLLS} polls)`, 'heap MiB, first → last steady poll', 'RSS MiB'],
    rows,
  );
}

/**
 * The same series against a client that pages like AWS (MaxRecords ≤ 100, NextToken),
 * answered by a middleware instead of HTTP. (aws-sdk-client-mock would do, but its
 * sinon stub keeps every call's result, which would show up as heap growth here.)
 */
export async function mockSeries(n: number, open: () => Promise<Store>): Promise<PollFigures> {
  const client = new CloudWatchClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const counter = countCalls(client);
  const changed = new Map<number, Date>();
  const base = new Date(Date.now() - 60_000);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DescribeAlarmsCommand') return next(args);
      const input = args.input as DescribeAlarmsCommandInput;
      const start = Number(input.NextToken ?? 0);
      const end = Math.min(n, start + Math.min(100, input.MaxRecords ?? 50));
      const page: MetricAlarm[] = [];
      for (let i = start; i < end; i++) {
        page.push({ AlarmName: alarmName(i), StateValue: changed.has(i) ? 'ALARM' : 'OK', StateReason: 'bench', StateUpdatedTimestamp: changed.get(i) ?? base, MetricName: 'CPUUtilization', Namespace: 'AWS/ECS' });
      }
      return { output: { MetricAlarms: page, NextToken: end < n ? String(end) : undefined, $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'benchPagingCloudWatch', priority: 'low' },
  );
  try {
    return await pollSeries(
      client,
      counter,
      async (indexes) => {
        const at = new Date();
        for (const i of indexes) changed.set(i, at);
      },
      n,
      open,
    );
  } finally {
    client.destroy();
  }
}
