// Alarm polling at scale: DescribeAlarms calls per poll and poll time for 100, 1,000 and
// 10,000 watched alarms. CloudWatch is simulated with aws-sdk-client-mock (100 alarms a page,
// as AWS pages them); the SQLite work is real (file database, WAL). Prints numbers only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { createCloudWatchAdapter } from '../src/aws/cloudwatch-adapter.js';
import { createLogger } from '../src/logger.js';
import { parseRunbook } from '../src/runbook/load-runbook.js';
import { AlarmService } from '../src/services/alarms.js';
import { SlackAlarmNotifier } from '../src/slack/alarm-notifier.js';
import { openDatabase } from '../store/open-database.js';
import { Store } from '../store/store.js';

const parsed = parseRunbook(
  `version: 1
launch: { name: Bench, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms: { region: ap-south-1, prefixes: [Bench-], rules: [{ match: "Bench-*", severity: critical, page: true }] }
`,
  'bench.yml',
);
if (!parsed.ok) throw new Error('bench runbook invalid');

const rows: string[] = ['| alarms | DescribeAlarms calls / poll | baseline poll | steady poll (1% changed) |', '|---|---|---|---|'];
for (const count of [100, 1_000, 10_000]) {
  const cw = mockClient(CloudWatchClient);
  let changed = new Set<number>();
  const alarms = () =>
    Array.from({ length: count }, (_, i): MetricAlarm => ({
      AlarmName: `Bench-${String(i).padStart(5, '0')}`,
      StateValue: changed.has(i) ? 'ALARM' : 'OK',
      StateReason: 'bench',
      StateUpdatedTimestamp: new Date(changed.has(i) ? '2026-12-01T00:05:00Z' : '2026-12-01T00:00:00Z'),
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/ECS',
    }));
  cw.on(DescribeAlarmsCommand).callsFake((input: { NextToken?: string; MaxRecords?: number }) => {
    const all = alarms();
    const start = Number(input.NextToken ?? 0);
    const end = start + (input.MaxRecords ?? 100);
    return { MetricAlarms: all.slice(start, end), NextToken: end < all.length ? String(end) : undefined };
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-bench-alarms-'));
  const store = new Store(openDatabase(path.join(dir, 'bench.db')));
  const clock = { now: () => new Date('2026-12-01T00:10:00Z') };
  const service = new AlarmService({
    runbook: parsed.runbook,
    store,
    cloudwatch: createCloudWatchAdapter({ clientFor: () => new CloudWatchClient({ region: 'ap-south-1' }) }),
    clock,
    logger: createLogger({ level: 'silent' }),
    afterCommit: () => {},
  });
  service.notify(new SlackAlarmNotifier({ runbook: parsed.runbook, store, clock }));

  let t = performance.now();
  await service.poll();
  const baselineMs = performance.now() - t;
  const calls = cw.commandCalls(DescribeAlarmsCommand).length;
  changed = new Set(Array.from({ length: Math.max(1, count / 100) }, (_, i) => i * 100));
  t = performance.now();
  const r = await service.poll();
  const steadyMs = performance.now() - t;
  if (r.transitions !== changed.size) throw new Error(`expected ${changed.size} transitions, got ${r.transitions}`);
  rows.push(`| ${count.toLocaleString('en')} | ${calls} | ${baselineMs.toFixed(0)} ms | ${steadyMs.toFixed(0)} ms (${r.transitions} transitions) |`);
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
  cw.restore();
}
console.log(rows.join('\n'));
