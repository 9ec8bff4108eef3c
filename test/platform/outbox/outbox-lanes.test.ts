import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { Outbox, PAGER_THROTTLE_MS, PARENT_CHANNEL, PARENT_TS } from '../../../src/platform/outbox/outbox.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { createPagerDutyAdapter } from '../../../src/platform/pager/pagerduty-adapter.js';
import type { SlackPort } from '../../../src/platform/slack/slack-port.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import { startFakePagerDuty, type FakePagerDuty } from '../../support/fake-pagerduty.js';

/* The outbox under a storm: lanes per target, the urgent first, coalesced edits, threads, PagerDuty's throttling. */

const T0 = '2026-12-01T00:00:00.000Z';

/** A SlackPort with only `call`, which the outbox uses: records calls, and can hold them in flight. */
function fakeSlack() {
  const calls: { method: string; args: Record<string, unknown> }[] = [];
  let held: (() => void)[] | undefined;
  let n = 0;
  const port = {
    async call(method: string, args: Record<string, unknown>) {
      calls.push({ method, args });
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      else await new Promise((resolve) => setImmediate(resolve));
      n++;
      return { ok: true, channel: args.channel, ts: `1700000000.${String(n).padStart(6, '0')}` };
    },
  };
  return {
    port: port as unknown as SlackPort,
    calls,
    texts: () => calls.map((c) => String(c.args.text)),
    hold: () => {
      held = [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
  };
}

let pd: FakePagerDuty;
beforeAll(async () => {
  pd = await startFakePagerDuty();
});
afterAll(async () => {
  await pd.close();
});
beforeEach(() => pd.reset());

function setup() {
  const store = new SqliteStore(openDatabase(':memory:'));
  let now = Date.parse(T0);
  const clock = { now: () => new Date(now) };
  const slack = fakeSlack();
  const pager = createPagerDutyAdapter({ routingKey: 'R0UT1NGKEY0123456789abcdefABCDEF', eventsUrl: pd.url });
  const outbox = new Outbox(store, slack.port, clock, createLogger({ level: 'silent' }), 60_000, pager);
  const rows = new OutboxRepository(store);
  const trigger = (key: string) => rows.enqueue('trigger', { dedupKey: key, summary: `${key} is in ALARM`, source: 'golive', severity: 'critical' }, clock.now().toISOString(), { target: 'pagerduty' });
  return { store, rows, slack, outbox, trigger, advance: (ms: number) => (now += ms), iso: () => clock.now().toISOString() };
}

describe('PagerDuty throttling a storm of pages', () => {
  it('backs every page off together on a 429 without Retry-After (2 s, 4 s, 8 s…), sends nothing while it lasts, and delivers each page once', async () => {
    const { outbox, trigger, advance, store } = setup();
    const keys = Array.from({ length: 20 }, (_, i) => `golive/alarm/ap-south-1/App-${i}`);
    for (const k of keys) await trigger(k);
    pd.failNext(429, { times: 3 });

    await outbox.flush();
    // One request met the throttle; the other 19 pages were held back without being sent.
    expect(pd.events.map((e) => e.status)).toEqual([429]);
    advance(PAGER_THROTTLE_MS.first - 1);
    await outbox.flush();
    expect(pd.events).toHaveLength(1);
    advance(1);
    await outbox.flush();
    expect(pd.events.map((e) => e.status)).toEqual([429, 429]);
    advance(2 * PAGER_THROTTLE_MS.first);
    await outbox.flush();
    expect(pd.events.map((e) => e.status)).toEqual([429, 429, 429]);
    advance(4 * PAGER_THROTTLE_MS.first);
    await outbox.flush();

    // Every page arrived once, in the order they were stored, and none was given up on.
    expect(pd.accepted().map((b) => b.dedup_key)).toEqual(keys);
    expect(pd.events.filter((e) => e.status === 202)).toHaveLength(20);
    expect(pd.events.every((e) => e.valid)).toBe(true);
    expect(await store.get<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL OR failed_at IS NOT NULL")).toEqual({ n: 0 });
  });

  it("honours PagerDuty's Retry-After when it sends one, and never gives up on a young page however long the throttle lasts", async () => {
    const { outbox, trigger, advance, store, iso } = setup();
    await trigger('golive/alarm/ap-south-1/App-1');
    await trigger('golive/alarm/ap-south-1/App-2');
    pd.failNext(429, { retryAfter: 7 });
    await outbox.flush();
    advance(6_999);
    await outbox.flush();
    expect(pd.events).toHaveLength(1);
    advance(1);
    await outbox.flush();
    expect(pd.accepted().map((b) => b.dedup_key)).toEqual(['golive/alarm/ap-south-1/App-1', 'golive/alarm/ap-south-1/App-2']);

    // An hour of throttling: the waits stop growing at a minute, and the page is still there to send.
    await trigger('golive/alarm/ap-south-1/App-3');
    pd.failNext(429, { times: 1000 });
    const waits: number[] = [];
    for (let i = 0; i < 70; i++) {
      await outbox.flush();
      const next = (await store.get<{ next_attempt_at: string }>("SELECT next_attempt_at FROM outbox WHERE args LIKE '%App-3%'"))!.next_attempt_at;
      waits.push((Date.parse(next) - Date.parse(iso())) / 1000);
      advance(PAGER_THROTTLE_MS.max);
    }
    expect(waits.slice(0, 7)).toEqual([2, 4, 8, 16, 32, 60, 60]);
    expect(new Set(waits.slice(5))).toEqual(new Set([60]));
    const row = (await store.get<{ attempts: number; failed_at: string | null; delivered_at: string | null }>("SELECT attempts, failed_at, delivered_at FROM outbox WHERE args LIKE '%App-3%'"))!;
    expect(row).toEqual({ attempts: 70, failed_at: null, delivered_at: null });
    pd.reset();
    await outbox.flush();
    expect(pd.accepted().map((b) => b.dedup_key)).toEqual(['golive/alarm/ap-south-1/App-3']);
  });
});

describe('lanes', () => {
  it('sends pages while Slack holds a post, and an alarm post while PagerDuty does not answer', async () => {
    const store = new SqliteStore(openDatabase(':memory:'));
    const slack = fakeSlack();
    const sent: string[] = [];
    let answer: (() => void) | undefined;
    const pager = {
      send: async (e: { dedupKey: string }) => {
        sent.push(e.dedupKey);
        if (e.dedupKey === 'slow') await new Promise<void>((resolve) => (answer = resolve));
        return { dedupKey: e.dedupKey };
      },
    };
    const outbox = new Outbox(store, slack.port, { now: () => new Date(T0) }, createLogger({ level: 'silent' }), 60_000, pager as never);
    const rows = new OutboxRepository(store);
    const page = (key: string) => rows.enqueue('trigger', { dedupKey: key, summary: 's', source: 'golive', severity: 'critical' }, T0, { target: 'pagerduty' });
    await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'slow post' }, T0, { priority: 'urgent' });
    await page('fast');
    slack.hold();
    const flushing = outbox.flush();
    await expect.poll(() => sent).toEqual(['fast']);
    expect(slack.texts()).toEqual(['slow post']);
    slack.release();
    await flushing;

    await page('slow');
    await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'CRITICAL alarm' }, T0, { priority: 'urgent' });
    const second = outbox.flush();
    await expect.poll(() => slack.texts()).toEqual(['slow post', 'CRITICAL alarm']);
    expect(sent).toEqual(['fast', 'slow']);
    answer!();
    await second;
    expect(await rows.pendingCount()).toBe(0);
  });

  it('sends an urgent post stored while a pass works through a thread of replies next, not after the thread', async () => {
    const { outbox, rows, slack, iso } = setup();
    const parent = await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'storm' }, iso(), { priority: 'urgent' });
    await outbox.flush();
    for (let i = 1; i <= 10; i++) await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: `reply ${i}` }, iso(), { dependsOn: parent });
    slack.hold();
    const flushing = outbox.flush();
    // "reply 1" is on its way when the alarm is stored.
    await expect.poll(() => slack.texts().length).toBe(2);
    await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'CRITICAL alarm' }, iso(), { priority: 'urgent' });
    const again = outbox.flush();
    slack.release();
    await Promise.all([flushing, again]);
    expect(slack.texts().slice(0, 4)).toEqual(['storm', 'reply 1', 'CRITICAL alarm', 'reply 2']);
    expect(slack.texts()).toHaveLength(12);
  });
});

describe('threads and edits', () => {
  it('puts a reply to a reply in the same thread (Slack threads are one level deep)', async () => {
    const { outbox, rows, slack, iso } = setup();
    const post = await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'storm' }, iso());
    const reply = await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: 'alarms 1–25' }, iso(), { dependsOn: post });
    await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: 'acknowledged' }, iso(), { dependsOn: reply });
    await rows.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: 'alarms 1–25, one acknowledged' }, iso(), { dependsOn: reply });
    await outbox.flush();
    const [root, first, second, edit] = slack.calls;
    expect(first!.args.thread_ts).toBe('1700000000.000001');
    expect(second!.args).toMatchObject({ channel: 'C0OPS', thread_ts: '1700000000.000001', text: 'acknowledged' });
    expect(edit).toMatchObject({ method: 'chat.update', args: { channel: 'C0OPS', ts: '1700000000.000002' } });
    expect(root!.args.thread_ts).toBeUndefined();
  });

  it('keeps one pending edit per message: a newer one replaces it, unless it is on its way', async () => {
    const { outbox, rows, slack, store, iso } = setup();
    const post = await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'storm' }, iso());
    const edit = (text: string) => rows.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text }, iso(), { dependsOn: post, coalesce: true });
    const a = await edit('12 firing');
    expect(await edit('15 firing')).toBe(a);
    expect(await edit('15 firing, 2 recovered')).toBe(a);
    // Replies to the post are other rows: they are never replaced.
    await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: 'reply' }, iso(), { dependsOn: post, coalesce: true });
    await outbox.flush();
    expect(slack.texts()).toEqual(['storm', '15 firing, 2 recovered', 'reply']);

    // While an edit is being sent, the next one waits behind it in a row of its own.
    slack.hold();
    const b = await edit('16 firing');
    const flushing = outbox.flush();
    await expect.poll(() => slack.texts().length).toBe(4);
    const c = await edit('17 firing');
    expect(c).not.toBe(b);
    expect(await edit('18 firing')).toBe(c);
    slack.release();
    await flushing;
    await outbox.flush();
    expect(slack.texts().slice(3)).toEqual(['16 firing', '18 firing']);
    expect((await store.all('SELECT id FROM outbox WHERE delivered_at IS NULL'))).toEqual([]);
  });

  it('lets an edit of a post go before a thread of replies queued ahead of it', async () => {
    const { outbox, rows, slack, iso } = setup();
    const post = await rows.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'storm' }, iso(), { priority: 'urgent' });
    for (let i = 1; i <= 3; i++) await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: `reply ${i}` }, iso(), { dependsOn: post, priority: 'people' });
    await rows.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: 'storm, edited' }, iso(), { dependsOn: post, priority: 'urgent' });
    await outbox.flush();
    expect(slack.texts()).toEqual(['storm', 'storm, edited', 'reply 1', 'reply 2', 'reply 3']);
  });
});

describe('PagerDuty’s own throttle', () => {
  it('300 pages against 120 a minute (the minute shrunk to 2.4 s): each delivered once, PagerDuty asked again only after a pause', { timeout: 60_000 }, async () => {
    // 2.4 s, not less: a loaded machine must still send 120 within one window for the throttle to be met at all.
    const throttled = await startFakePagerDuty({ rateLimit: { perMinute: 120, scale: 0.04 } });
    const store = new SqliteStore(openDatabase(':memory:'));
    const pager = createPagerDutyAdapter({ routingKey: 'R0UT1NGKEY0123456789abcdefABCDEF', eventsUrl: throttled.url });
    const outbox = new Outbox(store, fakeSlack().port, { now: () => new Date() }, createLogger({ level: 'silent' }), 3_600_000, pager);
    const rows = new OutboxRepository(store);
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `golive/alarm/ap-south-1/App-${String(i).padStart(3, '0')}`);
      for (const k of keys) await rows.enqueue('trigger', { dedupKey: k, summary: `${k} is in ALARM`, source: 'golive', severity: 'warning' }, new Date().toISOString(), { target: 'pagerduty' });
      outbox.start();
      await expect.poll(() => throttled.accepted().length, { timeout: 40_000, interval: 50 }).toBe(300);
      expect(throttled.accepted().map((b) => b.dedup_key)).toEqual(keys);
      // Each throttle costs one refused request, not one per waiting page.
      const refused = throttled.events.filter((e) => e.status === 429).length;
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(10);
    } finally {
      await outbox.stop();
      await throttled.close();
    }
  });
});
