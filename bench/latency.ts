// Measure 1: ack latency of /golive status, /golive check|uncheck and an approval
// click against the real app over HTTP, next to an ack-only Bolt app (the baseline).
import path from 'node:path';
import { ACTION_APPROVE } from '../src/slack/render-changes.js';
import type { FakeSlack, RecordedEntry } from '../test/support/fake-slack.js';
import { blockActionPayload, blockActionsBody, postSigned, slashCommandBody } from '../test/support/sign.js';
import { benchSlack, BOT_TOKEN, count, ensureEcs, goliveEnv, Recorder, settle, SIGNING_SECRET } from './support/env.js';
import { runLoad, type LoadResult } from './support/load.js';
import { spawnBaseline, spawnGolive, type BenchProcess } from './support/processes.js';
import { writeSyntheticRunbook } from './support/runbook.js';
import { ms, ratio, summarize, table } from './support/stats.js';

/** Items in the runbook the HTTP benchmarks use (realserv.yml, the largest example, has 195). */
export const BENCH_ITEMS = 200;

/** Builds signed-request bodies of each kind golive is measured on, against one app and its database. */
export class Requests {
  private item = 0;
  constructor(
    private readonly slack: FakeSlack,
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
export async function requestRollback(golive: BenchProcess, slack: FakeSlack): Promise<{ id: number; ts: string; blocks: unknown[] }> {
  const responseId = 'rollback-request';
  await postSigned(`${golive.url}/slack/events`, slashCommandBody({ text: 'rollback api bench', user_id: 'U0DEVOPS', response_url: slack.responseUrl(responseId) }), SIGNING_SECRET);
  const reply = await slack.waitForResponse((r) => r.id === responseId, 30_000);
  const id = Number(/#(\d+)/.exec(String(reply.body.text))?.[1]);
  if (!id) throw new Error(`rollback was not requested: ${String(reply.body.text)}`);
  const posted = await slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'));
  const ts = (posted.result as { ts: string }).ts;
  return { id, ts, blocks: slack.messages.get(`C0OPS:${ts}`)?.blocks ?? [] };
}

const isStatusPost = (e: RecordedEntry) => e.kind === 'call' && e.method === 'chat.postMessage' && Array.isArray(e.args.blocks) && JSON.stringify(e.args.blocks[0]).includes('🚀');
const isDuplicateApproval = (e: RecordedEntry) => e.kind === 'response' && String(e.body?.text).includes('already approved this request');

interface Kind {
  name: string;
  body(r: Requests): string;
  /** How many requests of the last run did their work (read after golive settled). */
  done(): number;
  workLabel: string;
}

export async function latencyBench(opts: { moto: string; dir: string; requests: number; concurrency: number[]; log: (s: string) => void }): Promise<string> {
  const { dir, log } = opts;
  const slack = await benchSlack();
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
    const recorder = new Recorder(slack, { status: isStatusPost, approvals: isDuplicateApproval });
    const changes = () => count(db, "SELECT COUNT(*) FROM audit WHERE action IN ('item.check', 'item.uncheck')");
    let changesBefore = 0;
    const kinds: Kind[] = [
      { name: '`/golive status`', body: (r) => r.status(), done: () => recorder.take('status'), workLabel: 'boards posted' },
      {
        name: '`/golive check`/`uncheck`',
        body: (r) => r.checkOrUncheck(),
        done: () => {
          const now = changes();
          const n = now - changesBefore;
          changesBefore = now;
          return n;
        },
        workLabel: 'items changed',
      },
      { name: 'approval click', body: (r) => r.approve(), done: () => recorder.take('approvals'), workLabel: 'clicks answered' },
    ];
    const drain = { requests: 250, run: () => recorder.drain() };
    const load = (p: BenchProcess, r: Requests, kind: Kind, n: number, c: number) =>
      runLoad(`${p.url}/slack/events`, Array.from({ length: n }, () => kind.body(r)), c, SIGNING_SECRET, drain);
    const rows: string[][] = [];
    for (const kind of kinds) {
      // Warm both processes up on this kind (JIT, SQLite statements, sockets).
      await load(baseline, forBaseline, kind, 200, 10);
      await load(golive, forGolive, kind, 200, 10);
      await settle(slack);
      kind.done();
      for (const c of opts.concurrency) {
        const base = await load(baseline, forBaseline, kind, opts.requests, c);
        const app = await load(golive, forGolive, kind, opts.requests, c);
        await settle(slack);
        rows.push(row(kind, c, app, base, kind.done()));
        log(`latency ${kind.name} c=${c}: golive p99 ${ms(summarize(app.latencies).p99)} ms, baseline p99 ${ms(summarize(base.latencies).p99)} ms`);
      }
    }
    return table(['request', 'concurrent', 'golive p50 / p99 / max (ms)', 'baseline p50 / p99 / max (ms)', 'p99 ratio', 'golive req/s', 'baseline req/s', 'work done by golive'], rows);
  } finally {
    await golive.stop();
    await baseline.stop();
    await slack.close();
  }
}

function row(kind: Kind, c: number, app: LoadResult, base: LoadResult, done: number): string[] {
  const a = summarize(app.latencies);
  const b = summarize(base.latencies);
  const errors = app.errors + base.errors;
  return [
    kind.name,
    String(c),
    `${ms(a.p50)} / ${ms(a.p99)} / ${ms(a.max)}`,
    `${ms(b.p50)} / ${ms(b.p99)} / ${ms(b.max)}`,
    ratio(a.p99, b.p99),
    (app.latencies.length / (app.wallMs / 1000)).toFixed(0),
    (base.latencies.length / (base.wallMs / 1000)).toFixed(0),
    `${done} ${kind.workLabel}${errors ? ` · ${errors} non-200` : ''}`,
  ];
}
