// Measure 4: start-up time of the production entry (node dist/src/main.js) until
// /healthz answers, and its memory (after a forced GC inside the process) after
// start and after each 10,000 requests of a command mix.
import path from 'node:path';
import { BENCH_ITEMS, Requests, requestRollback } from './latency.js';
import { ensureEcs, goliveEnv, SIGNING_SECRET } from './support/env.js';
import { runLoad } from './support/load.js';
import { spawnGolive, spawnSlack, type BenchProcess } from './support/processes.js';
import { writeSyntheticRunbook } from './support/runbook.js';
import { mib, ms, summarize, table } from './support/stats.js';

const STARTS = 3;
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 3);
const CONCURRENCY = 10;

/** The mix: status, check/uncheck, approval click, help, history, in turn. */
function mixed(r: Requests, n: number): string[] {
  const kinds = [() => r.status(), () => r.checkOrUncheck(), () => r.approve(), () => r.command('help'), () => r.command('history')];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!());
}

export async function memoryBench(opts: { moto: string; dir: string; requests: number; log: (s: string) => void }): Promise<string> {
  const { dir, log } = opts;
  const slack = await spawnSlack(path.join(dir, 'slack-memory.log'));
  await ensureEcs(opts.moto);
  const runbook = writeSyntheticRunbook(dir, { items: BENCH_ITEMS, service: true });
  const db = path.join(dir, 'memory.db');
  const env = goliveEnv({ slack, runbook, db, moto: opts.moto });
  const logFile = path.join(dir, 'golive-memory.log');
  const starts: string[][] = [];
  let golive: BenchProcess | undefined;
  try {
    for (let i = 0; i < STARTS; i++) {
      golive = await spawnGolive(env, logFile);
      starts.push([i === 0 ? 'first start (creates and migrates the database)' : `restart ${i} (existing database)`, `${ms(golive.startupMs)} ms`]);
      log(`start ${i}: ${ms(golive.startupMs)} ms`);
      if (i < STARTS - 1) await golive.stop();
    }
    const app = golive!;
    const card = await requestRollback(app, slack);
    const requests = new Requests(slack, card);
    await slack.settle();
    const mem: { label: string; m: NodeJS.MemoryUsage; p99?: number }[] = [{ label: 'after start', m: await app.memory() }];
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await runLoad(`${app.url}/slack/events`, mixed(requests, opts.requests), CONCURRENCY, SIGNING_SECRET);
      if (r.errors > 0) throw new Error(`${r.errors} requests failed`);
      await slack.settle();
      mem.push({ label: `after ${(round * opts.requests).toLocaleString('en')} requests`, m: await app.memory(), p99: summarize(r.latencies).p99 });
      log(`memory round ${round}: rss ${mib(mem.at(-1)!.m.rss)} MiB`);
    }
    const memTable = table(
      ['when', 'RSS MiB', 'heap used MiB', 'heap total MiB', 'external + array buffers MiB', 'ack p99 of the round (ms)'],
      mem.map(({ label, m, p99 }) => [label, mib(m.rss), mib(m.heapUsed), mib(m.heapTotal), mib(m.external + m.arrayBuffers), p99 === undefined ? '–' : ms(p99)]),
    );
    // The first round includes warm-up (JIT, SQLite's page cache, Bolt's and undici's pools); a leak shows as a trend after it.
    const after = mem.slice(1).map(({ m }) => m);
    const range = (f: (m: NodeJS.MemoryUsage) => number) => `${mib(Math.min(...after.map(f)))}–${mib(Math.max(...after.map(f)))}`;
    const growth = `After each ${opts.requests.toLocaleString('en')} requests: heap used ${after.map((m) => mib(m.heapUsed)).join(', ')} MiB (range ${range((m) => m.heapUsed)}); RSS ${after.map((m) => mib(m.rss)).join(', ')} MiB (range ${range((m) => m.rss)}).`;
    return [table(['start', 'spawn → /healthz 200'], starts), memTable, growth].join('\n\n');
  } finally {
    await golive?.stop();
    await slack.close();
  }
}

