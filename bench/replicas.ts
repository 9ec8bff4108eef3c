// Measure 7: golive on PostgreSQL. (a) Ack latency of the three measured requests on
// SQLite, on PostgreSQL with one replica, and on PostgreSQL with two replicas taking
// requests in turn (a round-robin load balancer), each next to the ack-only Bolt app.
// (b) Leader takeover after SIGKILL of the leader. (c) Alarm polls of 1,000 and 10,000
// alarms (AWS-like paging, in memory) with the alarm state in PostgreSQL vs SQLite.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PostgresStore } from '../src/platform/store/postgres-store.js';
import { openDatabase } from '../src/platform/store/open-database.js';
import { SqliteStore } from '../src/platform/store/sqlite-store.js';
import { startPostgresCluster, type PostgresCluster } from '../test/support/postgres.js';
import { mockSeries, type PollFigures } from './alarms.js';
import { requestRollback, Requests, BENCH_ITEMS } from './latency.js';
import { BOT_TOKEN, count, ensureEcs, goliveEnv, SIGNING_SECRET } from './support/env.js';
import { runLoad, type LoadResult } from './support/load.js';
import { spawnBaseline, spawnGolive, spawnSlack, type BenchProcess, type SlackProcess } from './support/processes.js';
import { writeSyntheticRunbook } from './support/runbook.js';
import { ms, ratio, summarize, table } from './support/stats.js';

/** One number from a database golive wrote, SQLite file or PostgreSQL URL. */
async function countIn(db: string, sql: string): Promise<number> {
  if (!db.startsWith('postgres')) return count(db, sql);
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return Number(Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0]);
  } finally {
    await client.end();
  }
}

async function healthOf(p: BenchProcess): Promise<{ replica?: { name: string; leading: boolean } }> {
  const res = await fetch(`${p.url}/healthz`);
  return (await res.json()) as { replica?: { name: string; leading: boolean } };
}

interface Setup {
  name: string;
  db: (cluster: PostgresCluster, dir: string, i: number) => Promise<string>;
  replicas: number;
}

const SETUPS: Setup[] = [
  { name: 'SQLite, 1 process', db: async (_c, dir, i) => path.join(dir, `replicas-${i}.db`), replicas: 1 },
  { name: 'PostgreSQL, 1 replica', db: (c) => c.createDatabase(), replicas: 1 },
  { name: 'PostgreSQL, 2 replicas (round-robin)', db: (c) => c.createDatabase(), replicas: 2 },
];

const KINDS: { name: string; body: (r: Requests) => string }[] = [
  { name: '`/golive status`', body: (r) => r.status() },
  { name: '`/golive check`/`uncheck`', body: (r) => r.checkOrUncheck() },
  { name: 'approval click', body: (r) => r.approve() },
];

function merge(into: LoadResult, from: LoadResult): void {
  into.latencies.push(...from.latencies);
  into.errors += from.errors;
  into.wallMs += from.wallMs;
}

export async function replicasBench(opts: { moto: string; dir: string; requests: number; concurrency: number[]; kills: number; alarmSizes: number[]; log: (s: string) => void }): Promise<string> {
  const cluster = await startPostgresCluster({ settings: { synchronous_commit: 'on', fsync: 'on' } });
  const out: string[] = [];
  try {
    out.push('**(a) Ack latency** (ms; golive next to the ack-only Bolt app, in alternating chunks)', await ackTable(cluster, opts));
    out.push('**(b) Leader takeover after SIGKILL of the leader** (two replicas on one PostgreSQL)', await takeoverTable(cluster, opts));
    out.push('**(c) Alarm poll, alarm state in PostgreSQL vs SQLite** (AWS-like paging, in memory)', await pollTable(cluster, opts));
  } finally {
    await cluster.stop();
  }
  return out.join('\n\n');
}

async function ackTable(cluster: PostgresCluster, opts: { moto: string; dir: string; requests: number; concurrency: number[]; log: (s: string) => void }): Promise<string> {
  const { dir, log } = opts;
  await ensureEcs(opts.moto);
  const runbook = writeSyntheticRunbook(dir, { items: BENCH_ITEMS, service: true });
  const rows: string[][] = [];
  let n = 0;
  for (const setup of SETUPS) {
    const slack = await spawnSlack(path.join(dir, `slack-replicas-${n}.log`));
    const db = await setup.db(cluster, dir, n++);
    const replicas: BenchProcess[] = [];
    const baseline = await spawnBaseline({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: slack.url }, path.join(dir, 'baseline-replicas.log'));
    try {
      for (let i = 0; i < setup.replicas; i++) replicas.push(await spawnGolive({ ...goliveEnv({ slack, runbook, db, moto: opts.moto }), GOLIVE_REPLICA: `bench-${i}` }, path.join(dir, `golive-replicas-${n}-${i}.log`)));
      const card = await requestRollback(replicas[0]!, slack);
      const forGolive = new Requests(slack, card);
      const forBaseline = new Requests(slack, card);
      const urls = replicas.map((r) => `${r.url}/slack/events`);
      const load = (target: string | string[], r: Requests, kind: (typeof KINDS)[number], count: number, c: number) => runLoad(target, Array.from({ length: count }, () => kind.body(r)), c, SIGNING_SECRET);
      for (const kind of KINDS) {
        await load(`${baseline.url}/slack/events`, forBaseline, kind, 200, 10);
        await load(urls, forGolive, kind, 200, 10);
        await slack.settle();
        for (const c of opts.concurrency) {
          const base: LoadResult = { latencies: [], errors: 0, wallMs: 0 };
          const app: LoadResult = { latencies: [], errors: 0, wallMs: 0 };
          for (let chunk = 0; chunk < 4; chunk++) {
            const per = Math.ceil(opts.requests / 4);
            merge(base, await load(`${baseline.url}/slack/events`, forBaseline, kind, per, c));
            merge(app, await load(urls, forGolive, kind, per, c));
            await slack.settle();
          }
          const a = summarize(app.latencies);
          const b = summarize(base.latencies);
          rows.push([setup.name, kind.name, String(c), `${ms(a.p50)} / ${ms(a.p99)}`, `${ms(b.p50)} / ${ms(b.p99)}`, ratio(a.p99, b.p99), (app.latencies.length / (app.wallMs / 1000)).toFixed(0), (base.latencies.length / (base.wallMs / 1000)).toFixed(0), String(app.errors + base.errors)]);
          log(`replicas ${setup.name} ${kind.name} c=${c}: golive p99 ${ms(a.p99)} ms, baseline ${ms(b.p99)} ms`);
        }
      }
      await slack.settle(1500);
      const changes = await countIn(db, "SELECT COUNT(*) FROM audit WHERE action IN ('item.check', 'item.uncheck')");
      rows.push([setup.name, '(after the rows)', '', `${changes} item changes recorded`, '', '', '', '', '']);
    } finally {
      for (const r of replicas) await r.stop();
      await baseline.stop();
      await slack.close();
    }
  }
  return table(['store', 'request', 'concurrent', 'golive p50 / p99', 'baseline p50 / p99', 'p99 ratio', 'golive req/s', 'baseline req/s', 'non-200'], rows);
}

/** SIGKILLs whichever replica leads, times until the other says it leads, restarts the dead one; `kills` times. */
async function takeoverTable(cluster: PostgresCluster, opts: { moto: string; dir: string; kills: number; log: (s: string) => void }): Promise<string> {
  const { dir, log } = opts;
  const slack: SlackProcess = await spawnSlack(path.join(dir, 'slack-takeover.log'));
  const runbook = writeSyntheticRunbook(dir, { items: 20, service: true });
  const db = await cluster.createDatabase();
  const env = (i: number) => ({ ...goliveEnv({ slack, runbook, db, moto: opts.moto }), GOLIVE_REPLICA: `takeover-${i}` });
  const replicas: (BenchProcess | undefined)[] = [await spawnGolive(env(0), path.join(dir, 'takeover-0.log')), await spawnGolive(env(1), path.join(dir, 'takeover-1.log'))];
  const times: number[] = [];
  try {
    for (let k = 0; k < opts.kills; k++) {
      const states = await Promise.all(replicas.map((r) => healthOf(r!)));
      const leader = states.findIndex((s) => s.replica?.leading);
      if (leader < 0) throw new Error('no replica leads');
      const other = 1 - leader;
      const t0 = performance.now();
      process.kill(replicas[leader]!.pid, 'SIGKILL');
      replicas[leader] = undefined;
      for (;;) {
        if ((await healthOf(replicas[other]!)).replica?.leading) break;
        if (performance.now() - t0 > 60_000) throw new Error('no takeover within 60 s');
        await sleep(20);
      }
      times.push(performance.now() - t0);
      log(`takeover ${k + 1}: ${ms(times.at(-1)!)} ms`);
      replicas[leader] = await spawnGolive(env(leader), path.join(dir, `takeover-${leader}.log`));
      // A different moment of the 5-second leader check each time.
      await sleep(700 + 900 * k);
    }
  } finally {
    for (const r of replicas) await r?.stop();
    await slack.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return table(['kills', 'min ms', 'median ms', 'max ms', 'every kill (ms)'], [[String(times.length), ms(sorted[0]!), ms(sorted[Math.floor(sorted.length / 2)]!), ms(sorted.at(-1)!), times.map((t) => ms(t)).join(', ')]]);
}

async function pollTable(cluster: PostgresCluster, opts: { dir: string; alarmSizes: number[]; log: (s: string) => void }): Promise<string> {
  const rows: string[][] = [];
  for (const n of opts.alarmSizes) {
    const series: [string, PollFigures][] = [
      ['SQLite', await mockSeries(n, async () => new SqliteStore(openDatabase(path.join(opts.dir, `poll-${n}-${Date.now()}.db`))))],
      [
        'PostgreSQL',
        await mockSeries(n, async () => {
          const store = new PostgresStore({ url: await cluster.createDatabase() });
          await store.ready();
          return store;
        }),
      ],
    ];
    for (const [store, f] of series) {
      const steady = [...f.steadyMs].sort((a, b) => a - b);
      rows.push([n.toLocaleString('en'), store, ms(f.baselineMs), `${ms(f.changedMs)} (${f.transitions} transitions)`, `${ms(steady[Math.floor(steady.length / 2)]!)} / ${ms(steady.at(-1)!)}`]);
      opts.log(`poll ${n} on ${store}: first ${ms(f.baselineMs)} ms`);
    }
  }
  return table(['alarms', 'store', 'first poll (baseline) ms', 'poll with 1% changed ms', 'steady poll median / max ms (5 polls)'], rows);
}
