import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../src/platform/outbox/outbox-repository.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { click, golive, query, until } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';
import { memoryCloudWatch, stormAlarmNames, writeStormRunbook } from '../support/storm-fixture.js';
import type { FakeMessage } from '../support/fake-slack.js';
import { formatTime } from '../../src/platform/format-time.js';

/*
 * A storm through the real app, against the fake Slack with Slack's rate limits on (the tests' scale) and the
 * fake PagerDuty: what reaches the channel, in what order, and every page once even while PagerDuty throttles.
 */

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
let pd: FakePagerDuty;
let t: TestApp | undefined;

beforeAll(async () => {
  pd = await startFakePagerDuty();
});
afterAll(async () => {
  await pd.close();
});
beforeEach(() => pd.reset());
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(storm = '{}') {
  const cloudwatch = memoryCloudWatch();
  t = await startTestApp({
    runbook: writeStormRunbook(storm),
    env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url },
    appOptions: { cloudwatch, alarmPolling: false, outboxPollMs: 50 },
  });
  return { app: t, cloudwatch };
}

const accepted = (app: TestApp) => app.slack.callsTo('chat.postMessage').filter((c) => c.status === 200 && c.result?.ok === true);
const inChannel = (app: TestApp) => [...app.slack.messages.values()].filter((m) => m.channel === 'C0OPS');
const sectionTexts = (m: Pick<FakeMessage, 'blocks'>) => (m.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section').map((b) => b.text!.text);

describe('a storm of 200 alarms in one poll, through Slack’s rate limits', () => {
  it('goes out as one storm post before everything queued ahead of it, then a thread with every alarm; each page once though PagerDuty throttles', async () => {
    const { app, cloudwatch } = await start();
    const alarms = stormAlarmNames(200);
    cloudwatch.set(alarms.all, 'OK');
    await app.app.services.alarms.poll(); // the baseline
    await app.app.outbox.flush();

    // 120 announcements queued in the channel before the storm; PagerDuty throttles the first three events.
    const outbox = new OutboxRepository(app.app.store);
    for (let i = 1; i <= 120; i++) await outbox.enqueue('chat.postMessage', { channel: 'C0OPS', text: `announcement ${i}` }, new Date().toISOString());
    pd.failNext(429, { times: 3, retryAfter: 1 });
    void app.app.outbox.flush();
    cloudwatch.set(alarms.all, 'ALARM');
    await app.app.services.alarms.poll();
    const polledAt = Date.now();

    // The storm post overtakes the announcements still waiting: it is the first post after the poll.
    const storm = await app.slack.waitForCall('chat.postMessage', (c) => c.status === 200 && String(c.args.text).startsWith('🌩️'), 10_000);
    expect(storm.at - polledAt).toBeLessThan(2_000);
    const before = accepted(app).filter((c) => c.at <= storm.at && String(c.args.text).startsWith('announcement')).length;
    expect(before).toBeLessThan(120);
    expect(storm.args.text).toBe('🌩️ Alarm storm: 200 alarms in ALARM (20 critical), 200 firing, 0 recovered');
    const stormTs = String(storm.result!.ts);

    // Every alarm is in the storm's thread, in 8 replies; none was posted on its own.
    await until('the thread', () => inChannel(app).filter((m) => m.thread_ts === stormTs).length === 8, 20_000);
    const thread = inChannel(app).filter((m) => m.thread_ts === stormTs);
    const threaded = thread.flatMap((m) => sectionTexts(m).map((s) => /`([^`]+)`/.exec(s)![1]!));
    expect(threaded).toEqual([...alarms.critical, ...alarms.error, ...alarms.warning]);
    await until('the announcements', () => accepted(app).filter((c) => String(c.args.text).startsWith('announcement')).length === 120, 20_000);
    expect(accepted(app).filter((c) => c.args.thread_ts === undefined).map((c) => String(c.args.text).slice(0, 2)).filter((s) => s === '🔴')).toEqual([]);
    expect(app.slack.callsTo('chat.postMessage').filter((c) => c.rateLimited)).toEqual([]);

    // The storm post as Slack shows it.
    const post = app.slack.messages.get(`C0OPS:${stormTs}`)!;
    const since = formatTime((await query<{ started_at: string }>(app, 'SELECT started_at FROM alarm_storm'))[0]!.started_at, 'Asia/Kolkata');
    expect(sectionTexts(post)[0]).toBe(`🌩️ *Alarm storm*: 200 alarms went to ALARM since ${since}: *200 firing*, 0 recovered.\nBy severity: 20 critical · 40 error · 140 warning`);
    expect(sectionTexts(post)[1]).toBe(`🔴 *Critical, firing (20):* ${alarms.critical.map((n) => `\`${n}\``).join(', ')}`);

    // Pages: one trigger per paging alarm (per_alarm), each accepted exactly once after PagerDuty's throttling.
    await until('every page', () => pd.accepted().length === 60, 20_000);
    expect(pd.events.filter((e) => e.status === 429)).toHaveLength(3);
    const keys = pd.accepted().map((b) => String(b.dedup_key));
    expect(new Set(keys).size).toBe(60);
    expect(keys.sort()).toEqual([...alarms.critical, ...alarms.error].map((n) => `golive/alarm/ap-south-1/${n}`).sort());
    expect(pd.events.every((e) => e.valid)).toBe(true);

    // Acknowledge on an alarm in the thread: its page is acknowledged and its line redrawn, in that reply.
    const name = alarms.critical[4]!;
    const reply = thread.find((m) => sectionTexts(m).some((s) => s.includes(`\`${name}\``)))!;
    await click(app, 'golive_alarm_ack', name, 'U0DEVOPS', reply.ts);
    await pd.waitFor((e) => e.body.event_action === 'acknowledge' && e.body.dedup_key === `golive/alarm/ap-south-1/${name}`);
    await until('the line redrawn', () => sectionTexts(app.slack.messages.get(`C0OPS:${reply.ts}`)!).some((s) => s.includes(`\`${name}\``) && s.includes('👀 Acknowledged by <@U0DEVOPS>')));
    await until('said in the thread', () => inChannel(app).some((m) => m.thread_ts === stormTs && m.text === `👀 <@U0DEVOPS> acknowledged \`${name}\` (and its PagerDuty incident).`));

    // The storm evolves: 30 recover, the post is edited in place.
    cloudwatch.set(alarms.warning.slice(0, 30), 'OK');
    await app.app.services.alarms.poll();
    await until('the post edited', () => String(app.slack.messages.get(`C0OPS:${stormTs}`)!.text) === '🌩️ Alarm storm: 200 alarms in ALARM (20 critical), 170 firing, 30 recovered', 10_000);
    expect((await query<{ n: number }>(app, 'SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL'))[0]!.n).toBeLessThanOrEqual(2);
    // Slack took every call it was sent (nothing invalid; only, perhaps, a rate-limited edit waiting its turn).
    expect(app.slack.calls.filter((c) => c.result?.ok === false && c.result.error !== 'ratelimited').map((c) => [c.method, c.result!.error])).toEqual([]);
    expect(await query(app, 'SELECT method, last_error FROM outbox WHERE failed_at IS NOT NULL')).toEqual([]);
  }, 60_000);
});

/** A storm runbook (threshold 3) whose `Storm-API-*` rule opens a P1 incident owned by U0DEVOPS, and the app on it, every alarm OK. */
async function startIncidentStorm(): Promise<{ cloudwatch: ReturnType<typeof memoryCloudWatch>; api: string[] }> {
  const runbook = path.join(mkdtempSync(path.join(tmpdir(), 'golive-storm-inc-')), 'storm.yml');
  writeFileSync(
    runbook,
    `
version: 1
launch: { name: Storm, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }
alarms:
  region: ap-south-1
  prefixes: [Storm-]
  storm: { threshold: 3 }
  rules:
    - { match: "Storm-API-*", severity: critical, incident: P1 }
    - { match: "Storm-*", severity: warning }
incidents:
  severities:
    P1: { name: Critical, response_minutes: 0, owner: devops }
`,
  );
  const cloudwatch = memoryCloudWatch();
  t = await startTestApp({ runbook, appOptions: { cloudwatch, alarmPolling: false, outboxPollMs: 50 } });
  const api = Array.from({ length: 12 }, (_, i) => `Storm-API-${String(i + 1).padStart(4, '0')}`);
  cloudwatch.set([...api, 'Storm-Web-0001'], 'OK');
  await t.app.services.alarms.poll();
  return { cloudwatch, api };
}

const FIRED = 'Threshold Crossed: 5xx above 1%';
const named = (names: string[]) => names.map((n) => `• \`${n}\`: ${FIRED}`).join('\n');
const channelOf = (call: { result?: Record<string, unknown> }) => (call.result!.channel as { id: string }).id;
/** The storm notices (“🌩️ N more alarms …”) in an incident channel. */
const stormNotices = (channel: string) => [...t!.slack.messages.values()].filter((m) => m.channel === channel && m.text.startsWith('🌩️')).map((m) => m.text);

describe('a storm of alarms whose rule opens incidents', () => {
  it('opens one incident for the rule, not one channel per alarm, and names the others in it — also those that join later', async () => {
    const { cloudwatch, api } = await startIncidentStorm();
    cloudwatch.set([...api.slice(0, 6), 'Storm-Web-0001'], 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    const channel = channelOf(await t!.slack.waitForCall('conversations.create'));
    await until('the other five named in the incident', () => stormNotices(channel).length === 1);
    expect(stormNotices(channel)).toEqual([`🌩️ 5 more alarms under the same rule fired in the storm; INC-1 covers them (no incident of their own):\n${named(api.slice(1, 6))}`]);
    const rows = await query<{ summary: string; alarm_name: string }>(t!, 'SELECT summary, alarm_name FROM incident ORDER BY id');
    expect(rows).toEqual([{ summary: `Storm-API-0001 and 5 more alarms under the same rule: ${FIRED}`, alarm_name: 'Storm-API-0001' }]);

    // Two more join the storm in the next poll: named in the same incident, in one post.
    cloudwatch.set(api.slice(6, 8), 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    await until('the two later ones named', () => stormNotices(channel).length === 2);
    expect(stormNotices(channel)[1]).toBe(`🌩️ 2 more alarms under the same rule fired in the storm; INC-1 covers them (no incident of their own):\n${named(api.slice(6, 8))}`);
    expect(t!.slack.callsTo('conversations.create')).toHaveLength(1);
    expect(await query(t!, 'SELECT id FROM incident')).toHaveLength(1);
  });

  it('once the rule’s incident is resolved, the next firings open one new incident together, and the later ones are named in that one', async () => {
    const { cloudwatch, api } = await startIncidentStorm();
    cloudwatch.set([...api.slice(0, 3), 'Storm-Web-0001'], 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    const first = channelOf(await t!.slack.waitForCall('conversations.create'));
    await until('INC-1 open', async () => (await query<{ state: string }>(t!, 'SELECT state FROM incident WHERE id = 1'))[0]?.state === 'open');
    await golive(t!, 'incident resolve Bad deploy | Rolled back', 'U0DEVOPS', first);
    await until('INC-1 resolved', async () => (await query<{ state: string }>(t!, 'SELECT state FROM incident WHERE id = 1'))[0]?.state === 'resolved');

    // The storm goes on: two more of the rule fire together. One new incident for both, not one each.
    cloudwatch.set(api.slice(3, 5), 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    await until('a second incident channel', () => t!.slack.callsTo('conversations.create').length === 2);
    const second = channelOf(t!.slack.callsTo('conversations.create')[1]!);
    await until('the other one named in INC-2', () => stormNotices(second).length === 1);
    expect(stormNotices(second)).toEqual([`🌩️ Another alarm under the same rule fired in the storm; INC-2 covers it (no incident of its own):\n${named(api.slice(4, 5))}`]);

    // And the next one is named in INC-2, the rule's incident now.
    cloudwatch.set(api.slice(5, 6), 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    await until('the later one named in INC-2', () => stormNotices(second).length === 2);
    expect(stormNotices(second)[1]).toBe(`🌩️ Another alarm under the same rule fired in the storm; INC-2 covers it (no incident of its own):\n${named(api.slice(5, 6))}`);
    expect(t!.slack.callsTo('conversations.create')).toHaveLength(2);
    expect(await query(t!, 'SELECT id, state, alarm_name FROM incident ORDER BY id')).toEqual([
      { id: 1, state: 'resolved', alarm_name: 'Storm-API-0001' },
      { id: 2, state: 'open', alarm_name: 'Storm-API-0004' },
    ]);
  });

  it('a firing that comes while the rule’s incident is still being opened waits for it and is named in it', async () => {
    const { cloudwatch, api } = await startIncidentStorm();
    // Slack is slow to make the incident's channel.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    t!.slack.beforeReply = (call) => (call.method === 'conversations.create' ? released : undefined);
    cloudwatch.set([...api.slice(0, 3), 'Storm-Web-0001'], 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    await t!.slack.waitForCall('conversations.create');
    cloudwatch.set(api.slice(3, 4), 'ALARM', FIRED);
    await t!.app.services.alarms.poll();
    release();
    const channel = channelOf(t!.slack.callsTo('conversations.create')[0]!);
    await until('the later one named in INC-1', () => stormNotices(channel).length === 2);
    expect(stormNotices(channel)).toEqual([
      `🌩️ 2 more alarms under the same rule fired in the storm; INC-1 covers them (no incident of their own):\n${named(api.slice(1, 3))}`,
      `🌩️ Another alarm under the same rule fired in the storm; INC-1 covers it (no incident of its own):\n${named(api.slice(3, 4))}`,
    ]);
    expect(t!.slack.callsTo('conversations.create')).toHaveLength(1);
    expect(await query(t!, 'SELECT id FROM incident')).toHaveLength(1);
  });
});
