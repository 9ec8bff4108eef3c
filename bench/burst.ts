// Measure 9: the launch-hour burst. 10 `/golive status` boards in #ops, 5 people with App Home open, 100
// sign-offs and take-backs by owners over 20 s, then 20 alarms into ALARM in one poll — through the real app
// over HTTP (signed requests, in-process), against the fake Slack with Slack's rate limits on at `scale` (1 is
// Slack's own pace), golive's call scheduler at the same scale.
//
// Which change a board or Home tab shows is read from it, not guessed from timing: the 100 changes are
// 25 sign-offs in gate 0, 25 in gate 1, 25 take-backs in gate 0, 25 sign-offs in gate 2, so the gates'
// done counts name the last change a rendering includes.
import { parse, stringify } from 'yaml';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { golive } from '../test/support/golive-client.js';
import { signSlackRequest } from '../test/support/sign.js';
import { startFakeSlack, type RecordedCall } from '../test/support/fake-slack.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../test/support/start-app.js';
import { memoryCloudWatch } from '../test/support/storm-fixture.js';
import { syntheticRunbookYaml } from './support/runbook.js';
import { table } from './support/stats.js';

const BOARDS = 10;
const VIEWERS = ['U0DEVOPS', 'U0BACK1', 'U0QA1', 'U0BDLEAD', 'U0CTO'];
const CHANGES = 100;
const OVER_MS = 20_000;
const ALARMS = 20;

/** Change k: which item, and whether it is signed off or taken back. */
function change(k: number): { item: string; check: boolean } {
  const phase = Math.floor(k / 25);
  const i = k % 25;
  const index = phase === 0 ? i : phase === 1 ? 25 + i : phase === 2 ? i : 50 + i;
  return { item: `item-${String(index).padStart(4, '0')}`, check: phase !== 2 };
}

/** The done counts of gates 0, 1 and 2 after change k (k = -1: before the burst). */
function doneAfter(k: number): [number, number, number] {
  if (k < 25) return [k + 1, 0, 0];
  if (k < 50) return [25, k - 24, 0];
  if (k < 75) return [74 - k, 25, 0];
  return [0, 25, k - 74];
}

/** The last change a rendering shows, from its gates' done counts ("Gate 0: … 7/25"); undefined if unreadable. */
function shownChange(text: string): number | undefined {
  const counts = [0, 1, 2].map((g) => {
    const m = new RegExp(`Gate ${g}: readiness of area ${g}\\*[^—]*— (\\d+)/25 done`).exec(text);
    return m ? Number(m[1]) : undefined;
  });
  if (counts.some((c) => c === undefined)) return undefined;
  for (let k = -1; k < CHANGES; k++) if (doneAfter(k).every((d, g) => d === counts[g])) return k;
  return undefined;
}

function textOf(value: unknown): string {
  return JSON.stringify(value ?? '');
}

function writeBurstRunbook(): string {
  const doc = parse(syntheticRunbookYaml({ items: CHANGES })) as Record<string, unknown>;
  doc.alarms = { region: 'ap-south-1', prefixes: ['Burst-'], rules: [{ match: 'Burst-API-*', severity: 'critical' }, { match: 'Burst-*', severity: 'warning' }] };
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-burst-')), 'burst.yml');
  writeFileSync(file, stringify(doc));
  return file;
}

async function appHomeOpened(t: TestApp, user: string, n: number): Promise<void> {
  const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: `Ev0BURST${n}`, event_time: 1700000000, event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', event_ts: `3.${n}` } });
  await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers: { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' } });
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const seconds = (v: number) => (Number.isFinite(v) ? (v / 1000).toFixed(1) : '–');

/** One run of the burst; what the side-by-side table reports. */
export interface BurstRun {
  calls: number;
  byMethod: Record<string, number>;
  slack429: number;
  announcements: { p50: number; max: number; missing: number };
  boards: { live: number; p50: number; max: number; stale: number };
  home: { p50: number; max: number; stale: number };
  alarms: { firstMs: number; lastMs: number; posts: number };
  undelivered: number;
  quietAfterMs: number;
}

export async function runBurst(scale: number, log: (s: string) => void): Promise<BurstRun> {
  const slack = await startFakeSlack({ rateLimits: { scale } });
  const cloudwatch = memoryCloudWatch();
  const t = await startTestApp({ runbook: writeBurstRunbook(), slack, env: { LOG_LEVEL: 'info' }, appOptions: { cloudwatch, alarmPolling: false, slackLimitScale: scale } });
  const pending = async () => (await t.app.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL'))!.n;
  const quiet = async (forMs: number, deadlineMs: number) => {
    const deadline = Date.now() + deadlineMs;
    let seen = slack.calls.length;
    let since = Date.now();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (slack.calls.length !== seen || (await pending()) > 0) {
        seen = slack.calls.length;
        since = Date.now();
      } else if (Date.now() - since >= forMs) return;
    }
  };
  try {
    const alarmNames = Array.from({ length: ALARMS }, (_, i) => `Burst-${i % 5 === 4 ? 'API' : 'Web'}-${String(i + 1).padStart(2, '0')}`);
    cloudwatch.set(alarmNames, 'OK');
    await t.app.services.alarms.poll();
    const boardsFrom = slack.calls.length;
    for (let b = 0; b < BOARDS; b++) await golive(t, 'status', VIEWERS[b % VIEWERS.length]);
    await quiet(1000, 120_000);
    const boards = slack.calls.slice(boardsFrom).filter((c) => c.method === 'chat.postMessage' && c.result?.ok === true && textOf(c.args.blocks).includes('Gate 0')).map((c) => String(c.result!.ts));
    for (const [n, user] of VIEWERS.entries()) await appHomeOpened(t, user, n);
    await quiet(1000, 120_000);
    log(`burst: ${boards.length} boards, ${VIEWERS.length} Home tabs; ${CHANGES} changes over ${OVER_MS / 1000} s`);

    const from = slack.calls.length;
    const t0 = Date.now();
    const sends: Promise<unknown>[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const wait = t0 + (k * OVER_MS) / CHANGES - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const c = change(k);
      sends.push(golive(t, `${c.check ? 'check' : 'uncheck'} ${c.item}${c.check ? '' : ' bench take-back'}`, 'U0DEVOPS'));
    }
    await Promise.all(sends);
    const audit = await t.app.store.all<{ action: string; target: string; at: string }>("SELECT action, target, at FROM audit WHERE action IN ('item.check', 'item.uncheck') ORDER BY id");
    // Change k committed at its audit row (the k-th of its item and kind).
    const committed = audit.map((r) => Date.parse(r.at));
    cloudwatch.set(alarmNames, 'ALARM');
    const alarmsAt = Date.now();
    await t.app.services.alarms.poll();
    await quiet(Math.max(3000, 5000 * scale), 60 * 60_000);
    const quietAfterMs = Date.now() - t0;

    const calls = slack.calls.slice(from).filter((c): c is RecordedCall => c.kind === 'call');
    const ok = calls.filter((c) => c.status === 200 && c.result?.ok === true);
    const byMethod: Record<string, number> = {};
    for (const c of calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;

    // Announcements: the post that carried change k's outbox row (its metadata lists the rows it covers; a
    // gathered post names only its first 20 changes and counts the rest).
    const stored = await t.app.store.all<{ id: number; args: string }>("SELECT id, args FROM outbox WHERE method = 'chat.postMessage' ORDER BY id");
    const covers = (p: RecordedCall, id: number) => {
      const mark = ((p.args.metadata as { event_payload?: { outbox_id?: number; outbox_ids?: number[] } } | undefined)?.event_payload ?? {});
      return (mark.outbox_ids ?? [mark.outbox_id]).includes(id);
    };
    const posts = ok.filter((c) => c.method === 'chat.postMessage');
    const announceDelays: number[] = [];
    let missing = 0;
    for (let k = 0; k < committed.length; k++) {
      const { item, check } = change(k);
      const word = check ? 'signed off' : 'reopened';
      const row = stored.find((r) => {
        const first = String((JSON.parse(r.args) as { text?: unknown }).text).split('\n')[0]!;
        return first.includes(`\`${item}\``) && first.includes(word);
      });
      const post = row && posts.find((p) => covers(p, row.id));
      if (post) announceDelays.push(post.at - committed[k]!);
      else missing++;
    }

    // Boards and Home tabs: for change k, the first update of each (still live) one whose rendering includes it.
    const last = CHANGES - 1;
    const delaysTo = (updates: RecordedCall[]) => {
      const shown = updates.map((u) => ({ at: u.at, k: shownChange(textOf(u.method === 'views.publish' ? u.args.view : u.args.blocks)) }));
      const out: number[] = [];
      for (let k = 0; k < committed.length; k++) {
        const u = shown.find((s) => s.k !== undefined && s.k >= k && s.at >= committed[k]!);
        out.push(u ? u.at - committed[k]! : Number.POSITIVE_INFINITY);
      }
      return { out, final: shown.filter((s) => s.k !== undefined).at(-1)?.k === last };
    };
    const boardDelays: number[] = [];
    let liveBoards = 0;
    let staleBoards = 0;
    for (const ts of boards) {
      const updates = ok.filter((c) => c.method === 'chat.update' && c.args.ts === ts);
      const rendered = updates.filter((u) => shownChange(textOf(u.args.blocks)) !== undefined);
      // A board whose last edit (then or before the burst) points to a newer one is no longer live.
      const lastEdit = slack.calls.filter((c) => c.kind === 'call' && c.method === 'chat.update' && c.status === 200 && c.result?.ok === true && c.args.ts === ts).at(-1);
      if (lastEdit && shownChange(textOf(lastEdit.args.blocks)) === undefined) continue;
      liveBoards++;
      const { out, final } = delaysTo(rendered);
      if (!final) staleBoards++;
      boardDelays.push(...out);
    }
    const homeDelays: number[] = [];
    let staleHomes = 0;
    for (const user of VIEWERS) {
      const { out, final } = delaysTo(ok.filter((c) => c.method === 'views.publish' && c.args.user_id === user));
      if (!final) staleHomes++;
      homeDelays.push(...out);
    }
    const alarmPosts = posts.filter((p) => p.at >= alarmsAt && /Burst-/.test(String(p.args.text)));
    const finite = (xs: number[]) => xs.filter(Number.isFinite);
    return {
      calls: calls.length,
      byMethod,
      slack429: calls.filter((c) => c.status === 429).length,
      announcements: { p50: quantile(announceDelays, 0.5), max: Math.max(...announceDelays), missing },
      boards: { live: liveBoards, p50: quantile(finite(boardDelays), 0.5), max: Math.max(...boardDelays), stale: staleBoards },
      home: { p50: quantile(finite(homeDelays), 0.5), max: Math.max(...homeDelays), stale: staleHomes },
      alarms: { firstMs: alarmPosts.length > 0 ? alarmPosts[0]!.at - alarmsAt : Number.NaN, lastMs: alarmPosts.length > 0 ? alarmPosts.at(-1)!.at - alarmsAt : Number.NaN, posts: alarmPosts.length },
      undelivered: await pending(),
      quietAfterMs,
    };
  } finally {
    await t.close();
    await slack.close();
  }
}

/** The burst on this build, as a Markdown table (with `before`, a run of an earlier build, beside it). */
export async function burstBench(opts: { scale: number; log: (s: string) => void; before?: BurstRun }): Promise<string> {
  const after = await runBurst(opts.scale, opts.log);
  const runs: [string, BurstRun][] = opts.before ? [['before', opts.before], ['this build', after]] : [['this build', after]];
  const perChange = (r: BurstRun) => (r.calls / (CHANGES + ALARMS)).toFixed(2);
  const methods = (r: BurstRun) =>
    Object.entries(r.byMethod)
      .sort((a, b) => b[1] - a[1])
      .map(([m, n]) => `${m} ${n}`)
      .join(', ');
  const note = `Slack's limits at ${opts.scale}× their windows (golive's scheduler too): ${opts.scale === 1 ? "Slack's own pace" : 'waits for Slack are scaled, the rest is real'}. ${BOARDS} boards, ${VIEWERS.length} Home tabs, ${CHANGES} changes in ${OVER_MS / 1000} s, then ${ALARMS} alarms. Delays are from a change's commit to the first post / board update / Home publish that shows it (read from the gates' counts); "stale" = its last rendering is not the final state; ∞ = never shown.`;
  return [
    note,
    table(
      ['build', 'Slack calls', 'per change', 'Slack 429s', 'announcement p50 / max (s)', 'announcements missing', 'live boards', 'board p50 / max (s)', 'boards stale', 'Home p50 / max (s)', 'Home tabs stale', 'alarm posts: first / last (s), posts', 'undelivered', 'quiet after (s)'],
      runs.map(([label, r]) => [
        label,
        String(r.calls),
        perChange(r),
        String(r.slack429),
        `${seconds(r.announcements.p50)} / ${seconds(r.announcements.max)}`,
        String(r.announcements.missing),
        String(r.boards.live),
        `${seconds(r.boards.p50)} / ${Number.isFinite(r.boards.max) ? seconds(r.boards.max) : '∞'}`,
        String(r.boards.stale),
        `${seconds(r.home.p50)} / ${Number.isFinite(r.home.max) ? seconds(r.home.max) : '∞'}`,
        String(r.home.stale),
        `${seconds(r.alarms.firstMs)} / ${seconds(r.alarms.lastMs)}, ${r.alarms.posts}`,
        String(r.undelivered),
        seconds(r.quietAfterMs),
      ]),
    ),
    runs.map(([label, r]) => `Calls by method (${label}): ${methods(r)}.`).join('\n'),
  ].join('\n\n');
}

