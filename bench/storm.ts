// Measure 8: an alarm storm. 20, 200 and 2,000 alarms go to ALARM in one poll, through the real app
// in-process, against the fake Slack with Slack's rate limits on and a fake PagerDuty throttling at its
// 120 events a minute (both at `scale`, golive's call scheduler too), with storm summaries on (per_alarm and
// by_rule paging) and off (threshold 1,000,000: one post per alarm, the baseline). Timed from the moment
// the poll starts: the first post that names a critical alarm (the storm post, or the first critical
// alarm's own post), the last post (the storm's thread complete, or every alarm's post), the last page.
import { performance } from 'node:perf_hooks';
import { startFakePagerDuty, PAGERDUTY_EVENTS_PER_MINUTE } from '../test/support/fake-pagerduty.js';
import { startFakeSlack } from '../test/support/fake-slack.js';
import { startTestApp } from '../test/support/start-app.js';
import { memoryCloudWatch, stormAlarmNames, writeStormRunbook } from '../test/support/storm-fixture.js';
import { ms, table } from './support/stats.js';

const MODES = [
  { label: 'storms off (baseline)', storm: '{ threshold: 1000000 }' },
  { label: 'storm, paging per_alarm', storm: '{ threshold: 10, paging: per_alarm }' },
  { label: 'storm, paging by_rule', storm: '{ threshold: 10, paging: by_rule }' },
] as const;

interface Run {
  size: number;
  mode: string;
  pollMs: number;
  firstCriticalMs: number;
  completeMs: number;
  posts: number;
  updates: number;
  slack429: number;
  pages: number;
  pd429: number;
  pagedMs: number;
  undelivered: number;
}

const seconds = (v: number) => (Number.isFinite(v) ? (v / 1000).toFixed(v < 10_000 ? 2 : 1) : '–');

async function run(size: number, mode: (typeof MODES)[number], scale: number, log: (s: string) => void): Promise<Run> {
  const slack = await startFakeSlack({ rateLimits: { scale } });
  const pd = await startFakePagerDuty({ rateLimit: { perMinute: PAGERDUTY_EVENTS_PER_MINUTE, scale } });
  const cloudwatch = memoryCloudWatch();
  const t = await startTestApp({
    runbook: writeStormRunbook(mode.storm),
    slack,
    env: { PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdefABCDEF', PAGERDUTY_EVENTS_URL: pd.url, LOG_LEVEL: 'info' },
    appOptions: { cloudwatch, alarmPolling: false, outboxPollMs: 50, slackLimitScale: scale },
  });
  try {
    const alarms = stormAlarmNames(size);
    cloudwatch.set(alarms.all, 'OK');
    await t.app.services.alarms.poll(); // the baseline: one summary
    await t.app.outbox.flush();
    const pending = async () => (await t.app.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL'))!.n;
    while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 50));
    const slackFrom = slack.calls.length;
    const pdFrom = pd.events.length;

    cloudwatch.set(alarms.all, 'ALARM');
    const t0 = Date.now();
    const p0 = performance.now();
    await t.app.services.alarms.poll();
    const pollMs = performance.now() - p0;
    log(`storm: ${size} alarms, ${mode.label}: poll ${ms(pollMs)} ms, delivering`);
    const deadline = Date.now() + 60 * 60_000;
    while ((await pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    const calls = slack.calls.slice(slackFrom).filter((c) => c.kind === 'call');
    const posted = calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200 && c.result?.ok === true);
    const critical = new Set(alarms.critical);
    const names = (text: string) => /^🔴 ALARM (\S+) /.exec(text)?.[1];
    const first = posted.find((c) => String(c.args.text).startsWith('🌩️') || critical.has(names(String(c.args.text)) ?? ''));
    const pages = pd.events.slice(pdFrom);
    const accepted = pages.filter((e) => e.status === 202);
    return {
      size,
      mode: mode.label,
      pollMs,
      firstCriticalMs: first ? first.at - t0 : Number.NaN,
      completeMs: posted.length > 0 ? Math.max(...posted.map((c) => c.at)) - t0 : Number.NaN,
      posts: posted.length,
      updates: calls.filter((c) => c.method === 'chat.update' && c.status === 200 && c.result?.ok === true).length,
      slack429: calls.filter((c) => c.status === 429).length,
      pages: accepted.length,
      pd429: pages.filter((e) => e.status === 429).length,
      pagedMs: accepted.length > 0 ? Math.max(...accepted.map((e) => e.at)) - t0 : Number.NaN,
      undelivered: await pending(),
    };
  } finally {
    await t.close();
    await slack.close();
    await pd.close();
  }
}

export async function stormBench(opts: { sizes: number[]; scale: number; stormsOnly?: boolean; log: (s: string) => void }): Promise<string> {
  const runs: Run[] = [];
  const modes = opts.stormsOnly ? MODES.slice(1) : MODES;
  for (const size of opts.sizes) for (const mode of modes) runs.push(await run(size, mode, opts.scale, opts.log));
  const note = `Slack's limits and PagerDuty's throttle at ${opts.scale}× their windows (a minute's budget renews in ${(60 * opts.scale).toFixed(opts.scale < 0.1 ? 1 : 0)} s), golive's scheduler at the same scale: times spent waiting for Slack's pace are ${opts.scale}× Slack's, the rest (recording the poll, rendering, the database) is real. A tenth of the alarms are critical and page, a fifth are errors and page, the rest warnings.`;
  return [
    note,
    table(
      ['alarms', 'mode', 'poll (ms)', 'first critical post (s)', 'last post: thread or every alarm (s)', 'Slack posts', 'edits', 'Slack 429s', 'pages', 'PagerDuty 429s', 'last page (s)', 'undelivered'],
      runs.map((r) => [String(r.size), r.mode, ms(r.pollMs), seconds(r.firstCriticalMs), seconds(r.completeMs), String(r.posts), String(r.updates), String(r.slack429), String(r.pages), String(r.pd429), seconds(r.pagedMs), String(r.undelivered)]),
    ),
  ].join('\n\n');
}
