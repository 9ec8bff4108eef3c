// Measure 1: ack latency of /golive status, /golive check|uncheck and an approval
// click against the real app over HTTP, next to an ack-only Bolt app (the baseline):
// a closed loop at 1, 10 and 50 in flight over reused and over new connections,
// then an open loop at fixed arrival rates.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTION_APPROVE } from '../src/deploys/render-changes.js';
import { blockActionPayload, blockActionsBody, postSigned, slashCommandBody } from '../test/support/sign.js';
import { BOT_TOKEN, count, ensureEcs, goliveEnv, SIGNING_SECRET } from './support/env.js';
import { runAtRate, runLoad, type Connections, type LoadResult } from './support/load.js';
import { spawnBaseline, spawnGolive, spawnSlack, type BenchProcess, type SlackProcess } from './support/processes.js';
import { writeSyntheticRunbook } from './support/runbook.js';
import { ms, ratio, summarize, table } from './support/stats.js';

/** Items in the runbook the HTTP benchmarks use (realserv.yml, the largest example, has 195). */
export const BENCH_ITEMS = 200;

/** Builds signed-request bodies of each kind golive is measured on, against one app and its database. */
export class Requests {
  private item = 0;
  constructor(
    private readonly slack: Pick<SlackProcess, 'responseUrl'>,
    private readonly card: { id: number; ts: string; blocks: unknown[] },
  ) {}

  command(text: string): string {
    return slashCommandBody({ text, user_id: 'U0DEVOPS', response_url: this.slack.responseUrl() });
  }

  status(): string {
    return this.command('status');
  }

  /** Request k signs item k mod 200 off on even passes and takes it back on odd ones, so each one is a change. */
  checkOrUncheck(): string {
    const k = this.item++;
    const id = `item-${String(k % BENCH_ITEMS).padStart(4, '0')}`;
    return this.command(`${Math.floor(k / BENCH_ITEMS) % 2 === 0 ? 'check' : 'uncheck'} ${id}`);
  }

  /** U0CTO clicks Approve on the pending rollback card (the whole card travels in the payload, as from Slack). */
  approve(): string {
    const { id, ts, blocks } = this.card;
    return blockActionsBody(blockActionPayload({ user: 'U0CTO', channel: 'C0OPS', actionId: ACTION_APPROVE, value: String(id), messageTs: ts, responseUrl: this.slack.responseUrl(), buttonText: 'Approve', messageBlocks: blocks }));
  }
}

/** Files `/golive rollback api` as U0DEVOPS; returns the pending request and its card. */
export async function requestRollback(golive: BenchProcess, slack: SlackProcess): Promise<{ id: number; ts: string; blocks: unknown[] }> {
  await postSigned(`${golive.url}/slack/events`, slashCommandBody({ text: 'rollback api bench', user_id: 'U0DEVOPS', response_url: slack.responseUrl('rollback-request') }), SIGNING_SECRET);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const t = await slack.tally();
    if (t.rollbackReply && t.card) {
      const id = Number(/#(\d+)/.exec(t.rollbackReply)?.[1]);
      if (!id) throw new Error(`rollback was not requested: ${t.rollbackReply}`);
      return { id, ...t.card };
    }
    await sleep(50);
  }
  throw new Error('no rollback card within 30 s');
}

interface Kind {
  name: string;
  body(r: Requests): string;
  /** What golive did for the requests since the last call (read after it settled). */
  done(): Promise<string>;
}

export async function latencyBench(opts: { moto: string; dir: string; requests: number; concurrency: number[]; rates: number[]; rateSeconds: number; log: (s: string) => void }): Promise<string> {
  const { dir, log } = opts;
  const slack = await spawnSlack(path.join(dir, 'slack.log'));
  await ensureEcs(opts.moto);
  const runbook = writeSyntheticRunbook(dir, { items: BENCH_ITEMS, service: true });
  const db = path.join(dir, 'latency.db');
  const golive = await spawnGolive(goliveEnv({ slack, runbook, db, moto: opts.moto }), path.join(dir, 'golive-latency.log'));
  const baseline = await spawnBaseline({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: slack.url }, path.join(dir, 'baseline.log'));
  try {
    const card = await requestRollback(golive, slack);
    const forGolive = new Requests(slack, card);
    // The baseline gets the same kinds of bodies from its own builder, so golive's check/uncheck sequence stays intact.
    const forBaseline = new Requests(slack, card);
    let last = await slack.tally();
    const tallied = async (key: 'statusPosts' | 'duplicateApprovals' | 'unchanged') => {
      const now = await slack.tally();
      const n = now[key] - last[key];
      last = now;
      return n;
    };
    const changes = () => count(db, "SELECT COUNT(*) FROM audit WHERE action IN ('item.check', 'item.uncheck')");
    // With the accepting thread, acks can run ahead of the work: until the inbox is empty and Slack quiet, golive is still busy.
    const unfinished = () => count(db, 'SELECT COUNT(*) FROM inbound_request WHERE done_at IS NULL AND payload IS NOT NULL');
    let lastAck = 0;
    /** Waits for golive to finish what it acknowledged (and Slack to be quiet); the seconds since the last ack it took. */
    const drained = async (quietMs?: number) => {
      const deadline = Date.now() + 600_000;
      while (unfinished() > 0) {
        if (Date.now() > deadline) throw new Error('golive still had acknowledged requests unfinished after 10 minutes');
        await sleep(50);
      }
      await slack.settle(quietMs);
      return (performance.now() - lastAck) / 1000;
    };
    let changesBefore = 0;
    const kinds: Kind[] = [
      { name: '`/golive status`', body: (r) => r.status(), done: async () => `${await tallied('statusPosts')} boards posted` },
      {
        name: '`/golive check`/`uncheck`',
        body: (r) => r.checkOrUncheck(),
        done: async () => {
          const now = changes();
          const n = now - changesBefore;
          changesBefore = now;
          const unchanged = await tallied('unchanged');
          return unchanged > 0 ? `${n} items changed, ${unchanged} “nothing changed”` : `${n} items changed`;
        },
      },
      { name: 'approval click', body: (r) => r.approve(), done: async () => `${await tallied('duplicateApprovals')} clicks answered` },
    ];
    const load = (p: BenchProcess, r: Requests, kind: Kind, n: number, c: number, connections: Connections) =>
      runLoad(`${p.url}/slack/events`, Array.from({ length: n }, () => kind.body(r)), c, SIGNING_SECRET, connections);
    const rows: string[][] = [];
    let busyAfter = 0;
    const rateRows: string[][] = [];
    // BENCH_LATENCY_KINDS=status,check,click runs only those rows.
    const only = process.env.BENCH_LATENCY_KINDS?.split(',');
    const keys = ['status', 'check', 'click'];
    for (const [i, kind] of kinds.entries()) {
      if (only && !only.includes(keys[i]!)) continue;
      // Warm both processes up on this kind (JIT, SQLite statements, sockets).
      await load(baseline, forBaseline, kind, 200, 10, 'reused');
      await load(golive, forGolive, kind, 200, 10, 'reused');
      await drained();
      await kind.done();
      for (const c of opts.concurrency) {
        for (const connections of ['reused', 'new'] as const) {
          // Baseline and golive take turns in chunks, so both see the same background load on a shared machine.
          const base: LoadResult = { latencies: [], errors: 0, wallMs: 0 };
          const app: LoadResult = { latencies: [], errors: 0, wallMs: 0 };
          for (let chunk = 0; chunk < CHUNKS; chunk++) {
            const n = Math.ceil(opts.requests / CHUNKS);
            merge(base, await load(baseline, forBaseline, kind, n, c, connections));
            merge(app, await load(golive, forGolive, kind, n, c, connections));
            lastAck = performance.now();
            // golive's after-ack work finishes before the baseline's next turn.
            busyAfter = Math.max(busyAfter, await drained());
          }
          // A board refresh can be held for up to a second after the last change (StatusBoard): wait it out before counting.
          await slack.settle(1500);
          rows.push(row([kind.name, String(c), connections], app, base, `${await kind.done()} · done ${busyAfter.toFixed(1)} s after the last ack`));
          busyAfter = 0;
          log(`latency ${kind.name} c=${c} ${connections}: golive p99 ${ms(summarize(app.latencies).p99)} ms, baseline p99 ${ms(summarize(base.latencies).p99)} ms`);
        }
      }
      for (const rate of opts.rates) {
        const n = Math.round(rate * opts.rateSeconds);
        const base = await runAtRate(`${baseline.url}/slack/events`, Array.from({ length: n }, () => kind.body(forBaseline)), rate, SIGNING_SECRET);
        const app = await runAtRate(`${golive.url}/slack/events`, Array.from({ length: n }, () => kind.body(forGolive)), rate, SIGNING_SECRET);
        lastAck = performance.now();
        const after = await drained(1500);
        rateRows.push(row([kind.name, `${rate}/s`, `${n}`], app, base, `${await kind.done()} · done ${after.toFixed(1)} s after the last ack`));
        log(`latency ${kind.name} at ${rate}/s: golive p99 ${ms(summarize(app.latencies).p99)} ms, baseline p99 ${ms(summarize(base.latencies).p99)} ms`);
      }
    }
    const columns = ['golive p50 / p99 / max (ms)', 'baseline p50 / p99 / max (ms)', 'p99 ratio', 'golive req/s', 'baseline req/s', 'work done by golive'];
    return [
      table(['request', 'in flight', 'connections', ...columns], rows),
      `At fixed arrival rates (${opts.rateSeconds} s each, reused connections; each latency from when its request was due):`,
      table(['request', 'rate', 'requests', ...columns], rateRows),
    ].join('\n\n');
  } finally {
    await golive.stop();
    await baseline.stop();
    await slack.close();
  }
}

const CHUNKS = 4;

function merge(into: LoadResult, from: LoadResult): void {
  into.latencies.push(...from.latencies);
  into.errors += from.errors;
  into.wallMs += from.wallMs;
}

function row(first: string[], app: LoadResult, base: LoadResult, done: string): string[] {
  const a = summarize(app.latencies);
  const b = summarize(base.latencies);
  const errors = app.errors + base.errors;
  return [
    ...first,
    `${ms(a.p50)} / ${ms(a.p99)} / ${ms(a.max)}`,
    `${ms(b.p50)} / ${ms(b.p99)} / ${ms(b.max)}`,
    ratio(a.p99, b.p99),
    (app.latencies.length / (app.wallMs / 1000)).toFixed(0),
    (base.latencies.length / (base.wallMs / 1000)).toFixed(0),
    `${done}${errors ? ` · ${errors} non-200` : ''}`,
  ];
}
