import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { Outbox, PARENT_CHANNEL, PARENT_TS } from '../../../src/platform/outbox/outbox.js';
import { PagerError } from '../../../src/platform/pager/pager-port.js';
import { SlackCallError, type SlackMessage, type SlackPort } from '../../../src/platform/slack/slack-port.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { DatabaseUnavailableError } from '../../../src/platform/store/database-unavailable.js';
import { until } from '../../support/golive-client.js';
import { WatchHealth } from '../../../src/platform/health/watch-health.js';
import { parseRunbook } from '../../../src/platform/runbook/load-runbook.js';
import { closeTestStores, openTestStore } from '../../support/test-store.js';
import { checklistGathering } from '../../../src/checklist/index.js';

const T0 = '2026-12-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/** A hand-written SlackPort: records calls, fails them as scripted, and can hold them in flight. */
class FakeSlack implements SlackPort {
  readonly calls: { method: string; args: Record<string, unknown> }[] = [];
  private readonly posted: { channel: string; ts: string; text: unknown; metadata: unknown }[] = [];
  private readonly failures = new Map<string, Error[]>();
  private held: (() => void)[] | undefined;
  private inFlight = 0;
  maxInFlight = 0;

  /** The next calls whose `text` is `text` throw these errors, in order. */
  failNext(text: string, ...errors: Error[]): void {
    this.failures.set(text, [...(this.failures.get(text) ?? []), ...errors]);
  }

  /** Calls wait until `release()`. */
  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }

  async call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.calls.push({ method, args });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
      else await new Promise((resolve) => setImmediate(resolve));
      const error = this.failures.get(String(args.text))?.shift();
      if (error) throw error;
      // The channel's history as Slack keeps it: the posts, newest first, with their metadata.
      if (method === 'conversations.history') return { ok: true, has_more: false, messages: this.posted.filter((p) => p.channel === args.channel).reverse() };
      const ts = `1700000000.${String(this.calls.length).padStart(6, '0')}`;
      if (method === 'chat.postMessage') this.posted.push({ channel: String(args.channel), ts, text: args.text, metadata: args.metadata });
      return { ok: true, channel: args.channel, ts };
    } finally {
      this.inFlight--;
    }
  }

  texts(): string[] {
    return this.calls.map((c) => String(c.args.text));
  }

  async usergroupMembers(): Promise<string[]> {
    throw new Error('not used by the outbox');
  }
  async postMessage(_channel: string, _message: SlackMessage): Promise<{ channel: string; ts: string }> {
    throw new Error('not used by the outbox');
  }
  async postOnce(): Promise<{ channel: string; ts: string }> {
    throw new Error('not used by the outbox');
  }
  async updateMessage(): Promise<void> {
    throw new Error('not used by the outbox');
  }
  async publishHome(): Promise<void> {
    throw new Error('not used by the outbox');
  }
  async userByEmail(): Promise<string | undefined> {
    throw new Error('not used by the outbox');
  }
  async openView(): Promise<void> {
    throw new Error('not used by the outbox');
  }
  async postEphemeral(): Promise<void> {
    throw new Error('not used by the outbox');
  }
  async createChannel(): Promise<{ id: string; name: string }> {
    throw new Error('not used by the outbox');
  }
  async setTopic(): Promise<void> {
    throw new Error('not used by the outbox');
  }
  async invite(): Promise<{ user: string; error: string }[]> {
    throw new Error('not used by the outbox');
  }
  async shareFiles(): Promise<{ fileIds: string[] }> {
    throw new Error('not used by these tests');
  }
  async userName(): Promise<string | undefined> {
    throw new Error('not used by the outbox');
  }
}

interface OutboxRowInDb {
  attempts: number;
  next_attempt_at: string;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
  result: string | null;
}

afterEach(closeTestStores);

async function setup(options: { logger?: ReturnType<typeof createLogger> } = {}) {
  const store = await openTestStore();
  let current = new Date(T0);
  const clock = { now: () => current };
  const slack = new FakeSlack();
  const outbox = new Outbox(store, slack, clock, options.logger ?? createLogger({ level: 'silent' }), 60_000);
  return {
    store,
    rows: new OutboxRepository(store),
    slack,
    outbox,
    /** Moves the clock to T0 + ms. */
    setTime: (ms: number) => {
      current = new Date(Date.parse(T0) + ms);
    },
    enqueue: (text: string, channel = 'C_OPS') => new OutboxRepository(store).enqueue('chat.postMessage', { channel, text }, current.toISOString()),
    row: async (id: number) => (await store.get<OutboxRowInDb>('SELECT attempts, next_attempt_at, delivered_at, failed_at, last_error, result FROM outbox WHERE id = ?', id))!,
  };
}

const internalError = () => new SlackCallError('chat.postMessage', 'internal_error');
const rateLimited = (seconds: number) => new SlackCallError('chat.postMessage', 'ratelimited', seconds);

describe('Outbox', () => {
  it('delivers a stored call once, records the result, and never sends it again', async () => {
    const { outbox, slack, row, setTime, rows } = await setup();
    const id = await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'v2f-agreement signed off by <@U1>', blocks: [{ type: 'divider' }] }, T0);
    setTime(1500);
    await outbox.flush();
    // The metadata lets a retry find the post in Slack if this process dies before recording the delivery.
    expect(slack.calls).toEqual([
      {
        method: 'chat.postMessage',
        args: { channel: 'C_OPS', text: 'v2f-agreement signed off by <@U1>', blocks: [{ type: 'divider' }], metadata: { event_type: 'golive_outbox', event_payload: { outbox_id: id, created_at: T0 } } },
      },
    ]);
    expect(await row(id)).toEqual({
      attempts: 1,
      next_attempt_at: T0,
      delivered_at: at(1500),
      failed_at: null,
      last_error: null,
      result: '{"ts":"1700000000.000001","channel":"C_OPS"}',
    });

    setTime(3_600_000);
    await outbox.flush();
    await outbox.flush();
    expect(slack.calls).toHaveLength(1);
    expect(await rows.pendingCount()).toBe(0);
  });

  it('delivers rows in the order they were stored', async () => {
    const { outbox, slack, enqueue } = await setup();
    await enqueue('first');
    await enqueue('second', 'C_INC');
    await enqueue('third');
    await outbox.flush();
    expect(slack.texts()).toEqual(['first', 'second', 'third']);
    expect(slack.calls[1]!.args.channel).toBe('C_INC');
  });

  it('does nothing before a row is due', async () => {
    const { outbox, slack, rows } = await setup();
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'later' }, at(10_000));
    await outbox.flush();
    expect(slack.calls).toEqual([]);
  });

  it('retries a transient error after 2 s, then 4 s, and delivers once the clock passes', async () => {
    const { outbox, slack, enqueue, row, setTime } = await setup();
    slack.failNext('retry me', internalError(), internalError());
    const id = await enqueue('retry me');

    await outbox.flush();
    expect(await row(id)).toEqual({ attempts: 1, next_attempt_at: at(2000), delivered_at: null, failed_at: null, last_error: 'internal_error', result: null });

    setTime(1999);
    await outbox.flush();
    expect(slack.calls).toHaveLength(1);

    setTime(2000);
    await outbox.flush();
    expect(slack.calls).toHaveLength(2);
    expect(await row(id)).toMatchObject({ attempts: 2, next_attempt_at: at(2000 + 4000), last_error: 'internal_error', delivered_at: null });

    setTime(5999);
    await outbox.flush();
    expect(slack.calls).toHaveLength(2);

    setTime(6000);
    await outbox.flush();
    expect(slack.texts()).toEqual(['retry me', 'retry me', 'retry me']);
    expect(await row(id)).toMatchObject({ attempts: 3, delivered_at: at(6000), failed_at: null, last_error: null });
  });

  it('doubles the wait up to 5 minutes, and gives up only once the post is 48 hours old', async () => {
    const { outbox, slack, enqueue, row, setTime } = await setup();
    slack.failNext('down', ...Array.from({ length: 13 }, internalError));
    const id = await enqueue('down');
    const waits: number[] = [];
    let now = 0;
    for (let attempt = 1; attempt <= 12; attempt++) {
      setTime(now);
      await outbox.flush();
      const next = Date.parse((await row(id)).next_attempt_at) - Date.parse(T0);
      waits.push((next - now) / 1000);
      now = next;
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
    expect(await row(id)).toMatchObject({ attempts: 12, failed_at: null });

    const fortyEightHours = 48 * 3600_000;
    setTime(fortyEightHours);
    await outbox.flush();
    expect(await row(id)).toMatchObject({ attempts: 13, failed_at: at(fortyEightHours), last_error: 'internal_error', delivered_at: null });
    setTime(fortyEightHours + 86_400_000);
    await outbox.flush();
    expect(slack.calls).toHaveLength(13);
  });

  it('retries an error that is not a Slack error (network) with the same backoff', async () => {
    const { outbox, slack, enqueue, row } = await setup();
    slack.failNext('offline', new Error('connect ECONNREFUSED 127.0.0.1:443'));
    const id = await enqueue('offline');
    await outbox.flush();
    expect(await row(id)).toMatchObject({ attempts: 1, next_attempt_at: at(2000), last_error: 'connect ECONNREFUSED 127.0.0.1:443', failed_at: null });
  });

  it("honours Slack's Retry-After instead of the backoff, and keeps the channel's posts in order", async () => {
    const { outbox, slack, enqueue, row, setTime } = await setup();
    slack.failNext('slow down', rateLimited(30), rateLimited(7));
    const first = await enqueue('slow down');
    const second = await enqueue('behind it');
    const elsewhere = await enqueue('another channel', 'C_DEV');

    await outbox.flush();
    expect(await row(first)).toMatchObject({ attempts: 1, next_attempt_at: at(30_000), last_error: 'ratelimited', failed_at: null });
    // Slack paces posts per channel: another channel's post still goes in this pass; the one behind the
    // rate-limited post waits for it.
    expect(slack.texts()).toEqual(['slow down', 'another channel']);
    expect(await row(elsewhere)).toMatchObject({ delivered_at: at(0) });
    expect(await row(second)).toMatchObject({ attempts: 0, delivered_at: null });

    setTime(10_000);
    await outbox.flush();
    expect(slack.texts()).toEqual(['slow down', 'another channel']);
    expect(await row(second)).toMatchObject({ attempts: 0, delivered_at: null });

    setTime(30_000);
    await outbox.flush();
    expect(await row(first)).toMatchObject({ attempts: 2, next_attempt_at: at(37_000), last_error: 'ratelimited' }); // 7 s, not the 4 s backoff

    setTime(37_000);
    await outbox.flush();
    expect(await row(first)).toMatchObject({ attempts: 3, delivered_at: at(37_000), last_error: null });
    expect(slack.texts()).toEqual(['slow down', 'another channel', 'slow down', 'slow down', 'behind it']);
  });

  it('after a 429 holds back, for the rest of the pass, only the rows that count against the same budget', async () => {
    const { outbox, slack, rows } = await setup();
    slack.failNext('edit 1', rateLimited(30));
    await rows.enqueue('chat.update', { channel: 'C_OPS', ts: '1.1', text: 'edit 1' }, T0);
    await rows.enqueue('chat.update', { channel: 'C_OPS', ts: '1.2', text: 'edit 2' }, T0);
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'a post' }, T0);
    await outbox.flush();
    // chat.update is paused (Slack's budget is per method); a post is not.
    expect(slack.texts()).toEqual(['edit 1', 'a post']);
  });

  it('wakes when a Retry-After ends instead of waiting for its next poll', async () => {
    const store = await openTestStore();
    const slack = new FakeSlack();
    // A poll an hour apart, the system clock: only the wake can deliver within the test.
    const outbox = new Outbox(store, slack, { now: () => new Date() }, createLogger({ level: 'silent' }), 3_600_000);
    slack.failNext('wait for it', rateLimited(0.2));
    const id = await new OutboxRepository(store).enqueue('chat.postMessage', { channel: 'C_OPS', text: 'wait for it' }, new Date().toISOString());
    outbox.start();
    try {
      await expect.poll(async () => (await store.get<{ delivered_at: string | null }>('SELECT delivered_at FROM outbox WHERE id = ?', id))?.delivered_at, { timeout: 3000 }).not.toBeNull();
      expect(slack.texts()).toEqual(['wait for it', 'wait for it']);
    } finally {
      await outbox.stop();
    }
  });

  it('still wakes for a wait that ends later when a sooner one fired first (a held announcement behind a Retry-After elsewhere)', async () => {
    const store = await openTestStore();
    const slack = new FakeSlack();
    const outbox = new Outbox(store, slack, { now: () => new Date() }, createLogger({ level: 'silent' }), 3_600_000);
    // A 300 ms gathering window; a 429 of 0.1 s in another channel sets the sooner wake-up.
    outbox.gather(checklistGathering, 0.03);
    const rows = new OutboxRepository(store);
    const announce = (n: number) => rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: `item-${n}` }, new Date().toISOString(), { gather: { key: 'checklist', part: { line: `item-${n}`, status: '' } } });
    await announce(1);
    outbox.start();
    await until('the first announcement is delivered', async () => (await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NOT NULL'))!.n === 1);
    try {
      slack.failNext('elsewhere', rateLimited(0.1));
      await rows.enqueue('chat.postMessage', { channel: 'C_OTHER', text: 'elsewhere' }, new Date().toISOString());
      await outbox.flush();
      const held = await announce(2);
      await outbox.flush();
      await expect.poll(async () => (await store.get<{ delivered_at: string | null }>('SELECT delivered_at FROM outbox WHERE id = ?', held))?.delivered_at, { timeout: 3000 }).not.toBeNull();
      expect(slack.texts()).toEqual(['item-1', 'elsewhere', 'elsewhere', 'item-2']);
    } finally {
      await outbox.stop();
    }
  });

  it('a flush asked for while a pass is setting its wake-up still delivers what was stored just before it', async () => {
    const { outbox, slack, enqueue } = await setup();
    const rows = (outbox as unknown as { rows: OutboxRepository }).rows;
    const nextAttemptAfter = rows.nextAttemptAfter.bind(rows);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked = 0;
    rows.nextAttemptAfter = async (...args) => {
      asked++;
      await gate;
      return nextAttemptAfter(...args);
    };
    outbox.start();
    try {
      await until('the first pass asks when the next row is due', () => asked > 0);
      await enqueue('stored meanwhile');
      const flushed = outbox.flush();
      release();
      await flushed;
      expect(slack.texts()).toEqual(['stored meanwhile']);
    } finally {
      await outbox.stop();
    }
  });

  it('delivers an urgent post (an alarm, a page) before the announcements queued ahead of it', async () => {
    const { outbox, slack, rows } = await setup();
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'announcement 1' }, T0);
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'announcement 2' }, T0);
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'CRITICAL alarm' }, T0, { priority: 'urgent' });
    await outbox.flush();
    expect(slack.texts()).toEqual(['CRITICAL alarm', 'announcement 1', 'announcement 2']);
  });

  it.each(['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'missing_scope', 'invalid_blocks', 'msg_too_long'])(
    'marks a row failed on the permanent error %s and never retries it',
    async (slackError) => {
      const { outbox, slack, enqueue, row, setTime } = await setup();
      slack.failNext('nowhere', new SlackCallError('chat.postMessage', slackError));
      const id = await enqueue('nowhere');
      const next = await enqueue('next one');
      setTime(500);
      await outbox.flush();
      expect(await row(id)).toEqual({ attempts: 1, next_attempt_at: T0, delivered_at: null, failed_at: at(500), last_error: slackError, result: null });
      expect((await row(next)).delivered_at).toBe(at(500)); // one bad row does not block the others

      setTime(86_400_000);
      await outbox.flush();
      expect(slack.texts()).toEqual(['nowhere', 'next one']);
    },
  );

  it('tells the operator when it retries and when it gives up', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const { outbox, slack, enqueue } = await setup({ logger: createLogger({ level: 'info', destination }) });
    slack.failNext('flaky', internalError());
    slack.failNext('lost', new SlackCallError('chat.postMessage', 'channel_not_found'));
    const flaky = await enqueue('flaky');
    const lost = await enqueue('lost', 'C_GONE');
    await outbox.flush();
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({ level: 40, msg: 'Slack delivery failed; will retry', outboxId: flaky, target: 'slack', method: 'chat.postMessage', error: 'internal_error', attempts: 1, retryInMs: 2000 }),
      expect.objectContaining({ level: 50, msg: 'gave up delivering a Slack message', outboxId: lost, target: 'slack', method: 'chat.postMessage', channel: 'C_GONE', error: 'channel_not_found', attempts: 1 }),
    ]);
  });

  it('delivers each row exactly once when flush() is called concurrently', async () => {
    const { outbox, slack, enqueue, rows } = await setup();
    for (let i = 0; i < 20; i++) await enqueue(`m${i}`);
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush(), outbox.flush(), outbox.flush()]);
    expect(slack.texts()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(slack.maxInFlight).toBe(1);
    expect(await rows.pendingCount()).toBe(0);
  });

  it('a post made just before the database went away is recorded once it is back, and the posts behind it follow at once, not when its claim runs out', async () => {
    const { outbox, slack, store, row, enqueue } = await setup();
    const first = await enqueue('posted, then the database went away');
    const second = await enqueue('behind it in the channel');
    // The database goes away between Slack's answer and the mark that records it.
    const run = store.run.bind(store);
    let down = false;
    store.run = async (sql, ...params) => {
      if (down) throw new DatabaseUnavailableError(store.target, 'connect ECONNREFUSED 127.0.0.1:5432');
      return run(sql, ...params);
    };
    slack.hold();
    const pass = outbox.flush();
    await until('the first post is with Slack', () => slack.calls.length === 1);
    down = true;
    slack.release();
    await pass;
    expect(await row(first)).toMatchObject({ delivered_at: null, attempts: 0 });

    down = false;
    // The same moment (no claim has run out): the post is found in the channel, not made again, and the next goes.
    await outbox.flush();
    expect(slack.calls.map((c) => [c.method, c.args.text ?? null])).toEqual([
      ['chat.postMessage', 'posted, then the database went away'],
      ['conversations.history', null],
      ['chat.postMessage', 'behind it in the channel'],
    ]);
    expect(await row(first)).toMatchObject({ delivered_at: T0, result: '{"ts":"1700000000.000001","channel":"C_OPS"}' });
    expect(await row(second)).toMatchObject({ delivered_at: T0, attempts: 1 });
  });

  it('a flush requested while one is in flight also delivers what was stored meanwhile', async () => {
    const { outbox, slack, enqueue, row } = await setup();
    await enqueue('a');
    slack.hold();
    const first = outbox.flush();
    // "a" is in flight (on PostgreSQL its claim takes a few round trips first).
    await expect.poll(() => slack.texts()).toEqual(['a']);
    const b = await enqueue('b');
    const second = outbox.flush();
    const third = outbox.flush();
    slack.release();
    await Promise.all([first, second, third]);
    expect(slack.texts()).toEqual(['a', 'b']);
    expect((await row(b)).delivered_at).toBe(T0);
  });

  it('start() delivers at once and stop() waits for the pass in flight', async () => {
    const { outbox, slack, enqueue, rows } = await setup();
    await enqueue('on start');
    outbox.start();
    await outbox.stop();
    expect(slack.texts()).toEqual(['on start']);
    expect(await rows.pendingCount()).toBe(0);
  });

  it('does not give up on a message that Slack only rate-limited', async () => {
    const { outbox, slack, enqueue, row, setTime } = await setup();
    slack.failNext('busy incident', ...Array.from({ length: 12 }, () => rateLimited(1)));
    const id = await enqueue('busy incident');
    for (let i = 0; i < 12; i++) {
      setTime(i * 1000);
      await outbox.flush();
    }
    expect((await row(id)).failed_at).toBeNull();
    setTime(12_000);
    await outbox.flush();
    expect((await row(id)).delivered_at).toBe(at(12_000));
  });
});

describe('Outbox dependencies and PagerDuty', () => {
  it('delivers a thread reply only after its parent post, with the parent ts filled in', async () => {
    const { outbox, slack, setTime, rows } = await setup();
    const parent = await rows.enqueue('chat.postMessage', { channel: 'C1', text: 'parent' }, T0);
    const child = await rows.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: 'child' }, T0, { dependsOn: parent });
    slack.failNext('parent', internalError());
    await outbox.flush();
    expect(slack.texts()).toEqual(['parent']);
    expect(await rows.pendingCount()).toBe(2);
    setTime(2000);
    await outbox.flush();
    // Delivered in the same pass, right after its parent.
    expect(slack.texts()).toEqual(['parent', 'parent', 'child']);
    const parentTs = (await rows.outcome(parent))!.result!.ts;
    expect(slack.calls[2]!.args).toEqual({ channel: 'C1', thread_ts: parentTs, text: 'child', metadata: { event_type: 'golive_outbox', event_payload: { outbox_id: child, created_at: T0 } } });
    expect((await rows.outcome(child))!.delivered_at).toBe(at(2000));
  });

  it('fails a child whose parent failed for good', async () => {
    const { outbox, slack, rows } = await setup();
    const parent = await rows.enqueue('chat.postMessage', { channel: 'C1', text: 'gone' }, T0);
    const child = await rows.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: 'upd' }, T0, { dependsOn: parent });
    slack.failNext('gone', new SlackCallError('chat.postMessage', 'channel_not_found'));
    await outbox.flush();
    await outbox.flush();
    expect(await rows.outcome(child)).toMatchObject({ last_error: 'the message it belongs to could not be delivered' });
  });
});

describe('Outbox ordering per stream', () => {
  it('never lets a resolve overtake the trigger it belongs to', async () => {
    const { store, setTime, rows } = await setup();
    const sent: string[] = [];
    let fail = 1;
    const pager = {
      send: async (e: { action: string }) => {
        if (e.action === 'trigger' && fail-- > 0) throw new PagerError(503, true, 'PagerDuty answered 503');
        sent.push(e.action);
        return { dedupKey: 'k' };
      },
    };
    const outbox = new Outbox(store, new FakeSlack(), { now: () => new Date(T0) }, createLogger({ level: 'silent' }), 60_000, pager as never);
    await rows.enqueue('trigger', { dedupKey: 'k', summary: 's', source: 'x', severity: 'critical' }, T0, { target: 'pagerduty' });
    await rows.enqueue('resolve', { dedupKey: 'k' }, T0, { target: 'pagerduty' });
    await outbox.flush();
    expect(sent).toEqual([]);
    setTime(2000);
    const later = new Outbox(store, new FakeSlack(), { now: () => new Date(Date.parse(T0) + 2000) }, createLogger({ level: 'silent' }), 60_000, pager as never);
    await later.flush();
    expect(sent).toEqual(['trigger', 'resolve']);
  });
});

describe('a backlog', () => {
  const runbook = () => {
    const parsed = parseRunbook(
      'version: 1\nlaunch: { name: Backlog test, channel: C0OPS }\nroles: { devops: { name: DevOps, users: [U0DEVOPS] } }\ngates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }]\n',
      'backlog.yml',
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return parsed.runbook;
  };

  it('is said once in the ops channel when a delivery has waited over outbox_backlog_minutes, not again after a restart, and once when it clears', async () => {
    const s = await setup();
    let current = new Date(T0);
    const clock = { now: () => current };
    const health = (outbox: Outbox) => {
      const h = new WatchHealth({ runbook: runbook(), store: s.store, clock, logger: createLogger({ level: 'silent' }), afterChange: () => void outbox.flush() });
      outbox.report(h);
      return h;
    };
    const outbox = new Outbox(s.store, s.slack, clock, createLogger({ level: 'silent' }), 60_000);
    const h = health(outbox);
    await s.enqueue('hello');
    s.slack.failNext('hello', internalError(), internalError(), internalError(), internalError());
    const flushAt = async (o: Outbox, ms: number) => {
      current = new Date(Date.parse(T0) + ms);
      await o.flush();
    };
    await flushAt(outbox, 0);
    await flushAt(outbox, 4 * 60_000);
    // Four minutes of waiting is within the default five.
    expect(s.slack.texts()).toEqual(['hello', 'hello']);
    expect((await h.status()).outbox).toEqual({ ok: true, failures: 0 });

    await flushAt(outbox, 6 * 60_000);
    const notice = '📮 *golive’s messages are backing up.* 1 delivery waiting, the oldest since 1 Dec 00:00 UTC (over 5 min): internal_error\nPosts, board updates and emails arrive late until this clears; golive keeps retrying them and says here when they flow again.';
    expect(s.slack.calls.slice(2).map((c) => [c.args.channel, c.args.text])).toEqual([
      ['C_OPS', 'hello'],
      ['C0OPS', notice],
    ]);
    expect((await h.status()).outbox).toEqual({ ok: false, since: T0, error: 'internal_error', failures: 1 });
    expect(await h.lines()).toEqual(['📮 *golive’s messages are backing up* since 1 Dec 00:00 UTC — internal_error']);

    // A restart neither forgets it nor says it again.
    const later = new Outbox(s.store, s.slack, clock, createLogger({ level: 'silent' }), 60_000);
    health(later);
    await flushAt(later, 7 * 60_000);
    expect(s.slack.texts().filter((t) => t.startsWith('📮'))).toEqual([notice]);

    await flushAt(later, 8 * 60_000);
    expect(s.slack.texts().slice(-2)).toEqual(['hello', '📮 *golive’s messages flow again:* at 1 Dec 00:08 UTC nothing had waited over 5 min. They had been backing up since 1 Dec 00:00 UTC (8 min).']);
    expect((await h.status()).outbox).toEqual({ ok: true, failures: 0 });
    expect(await h.lines()).toEqual([]);
  });
});

describe('a burst of checklist announcements', () => {
  const VERDICT = '🔴 *2 blockers open — NO-GO until resolved*';
  /** A checklist announcement of item-n as the checklist stores it: its own post, and its part of a gathered one. */
  const announce = (rows: OutboxRepository, n: number, atMs: number, channel = 'C_OPS') => {
    const line = `✅ <@U1> signed off \`item-${n}\` (Item ${n})`;
    const status = `Pre-flight: ${n}/9 done. ${VERDICT}`;
    return rows.enqueue('chat.postMessage', { channel, text: `${line}\n${status}`, unfurl_links: false }, at(atMs), { gather: { key: 'checklist', part: { line, status } } });
  };
  const posts = (slack: FakeSlack) => slack.calls.filter((c) => c.method === 'chat.postMessage');
  const results = (store: Awaited<ReturnType<typeof openTestStore>>) => store.all<{ id: number; delivered_at: string | null; result: string | null }>('SELECT id, delivered_at, result FROM outbox ORDER BY id');

  it('posts the first at once, and the five stored while it was in flight as one post when the 10 s window after it ends', async () => {
    const { outbox, slack, rows, store, setTime } = await setup();
    outbox.gather(checklistGathering);
    const first = await announce(rows, 1, 0);
    slack.hold();
    const pass = outbox.flush();
    await until('the first announcement is with Slack', () => slack.calls.length === 1);
    const burst = [];
    for (let n = 2; n <= 6; n++) burst.push(await announce(rows, n, 0));
    slack.release();
    await pass;
    expect(slack.texts()).toEqual([`✅ <@U1> signed off \`item-1\` (Item 1)\nPre-flight: 1/9 done. ${VERDICT}`]);

    setTime(9_999);
    await outbox.flush();
    expect(slack.calls).toHaveLength(1);

    setTime(10_000);
    await outbox.flush();
    const text = [
      '📋 5 checklist changes in the last 10 s:',
      '✅ <@U1> signed off `item-2` (Item 2)',
      '✅ <@U1> signed off `item-3` (Item 3)',
      '✅ <@U1> signed off `item-4` (Item 4)',
      '✅ <@U1> signed off `item-5` (Item 5)',
      '✅ <@U1> signed off `item-6` (Item 6)',
      `Pre-flight: 6/9 done. ${VERDICT}`,
    ].join('\n');
    expect(posts(slack).map((c) => c.args)).toEqual([
      expect.objectContaining({ text: `✅ <@U1> signed off \`item-1\` (Item 1)\nPre-flight: 1/9 done. ${VERDICT}` }),
      {
        channel: 'C_OPS',
        text,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
        unfurl_links: false,
        metadata: { event_type: 'golive_outbox', event_payload: { outbox_id: burst[0], created_at: T0, outbox_ids: burst } },
      },
    ]);
    expect(await results(store)).toEqual([
      { id: first, delivered_at: T0, result: '{"ts":"1700000000.000001","channel":"C_OPS"}' },
      ...burst.map((id) => ({ id, delivered_at: at(10_000), result: '{"ts":"1700000000.000002","channel":"C_OPS"}' })),
    ]);

    // After a quiet spell the next one goes at once, as it was stored.
    await announce(rows, 7, 25_000);
    setTime(25_000);
    await outbox.flush();
    expect(slack.texts().at(-1)).toBe(`✅ <@U1> signed off \`item-7\` (Item 7)\nPre-flight: 7/9 done. ${VERDICT}`);
    expect(slack.calls).toHaveLength(3);
  });

  it("keeps the channel's order around other posts, lets an urgent post through at once, and gathers nothing of another channel", async () => {
    const { outbox, slack, rows, setTime } = await setup();
    outbox.gather(checklistGathering);
    await announce(rows, 1, 0);
    await outbox.flush();
    await announce(rows, 2, 1_000);
    await announce(rows, 3, 2_000);
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'deploy of web finished' }, at(3_000));
    await announce(rows, 4, 4_000);
    await announce(rows, 5, 5_000, 'C_DEV');
    await rows.enqueue('chat.postMessage', { channel: 'C_OPS', text: 'CRITICAL alarm' }, at(6_000), { priority: 'urgent' });
    setTime(6_000);
    await outbox.flush();
    expect(slack.texts().slice(1)).toEqual(['CRITICAL alarm', `✅ <@U1> signed off \`item-5\` (Item 5)\nPre-flight: 5/9 done. ${VERDICT}`]);

    setTime(10_000);
    await outbox.flush();
    // 2 and 3 go together; 4 was stored after the deploy's post, so it follows it, 10 s after 2 and 3.
    expect(slack.texts().slice(3)).toEqual(['📋 2 checklist changes in the last 9 s:\n✅ <@U1> signed off `item-2` (Item 2)\n✅ <@U1> signed off `item-3` (Item 3)\n' + `Pre-flight: 3/9 done. ${VERDICT}`, 'deploy of web finished']);
    setTime(19_999);
    await outbox.flush();
    expect(slack.calls).toHaveLength(5);
    setTime(20_000);
    await outbox.flush();
    expect(slack.texts().slice(5)).toEqual([`✅ <@U1> signed off \`item-4\` (Item 4)\nPre-flight: 4/9 done. ${VERDICT}`]);
  });

  it("counts the window from when the last post left for Slack, not from when Slack's answer was recorded", async () => {
    const { outbox, slack, rows, setTime } = await setup();
    outbox.gather(checklistGathering);
    await announce(rows, 1, 0);
    slack.hold();
    const pass = outbox.flush();
    await until('the first announcement is with Slack', () => slack.calls.length === 1);
    // Slack answers 9 s later: the window after the post still ends 10 s after it went, not 10 s after the answer.
    setTime(9_000);
    slack.release();
    await pass;
    await announce(rows, 2, 10_000);
    setTime(10_000);
    await outbox.flush();
    expect(slack.texts()[1]).toBe(`✅ <@U1> signed off \`item-2\` (Item 2)\nPre-flight: 2/9 done. ${VERDICT}`);
  });

  it('still wakes for a held row whose window ended while the pass that held it was finishing', async () => {
    const { outbox, slack, rows, setTime } = await setup();
    outbox.gather(checklistGathering);
    await announce(rows, 1, 0);
    outbox.start();
    try {
      await until('the first announcement is posted', () => slack.calls.length === 1);
      // The pass that holds item-2 until 10 s is slow to finish: by the time it asks what comes due next, the window is over.
      const repo = (outbox as unknown as { rows: OutboxRepository }).rows;
      const holdGathered = repo.holdGathered.bind(repo);
      repo.holdGathered = async (...args) => {
        await holdGathered(...args);
        setTime(10_001);
      };
      await announce(rows, 2, 0);
      await outbox.flush();
      await until('the held announcement is posted', () => slack.calls.length === 2, 2000);
      expect(slack.texts()[1]).toBe(`✅ <@U1> signed off \`item-2\` (Item 2)\nPre-flight: 2/9 done. ${VERDICT}`);
    } finally {
      await outbox.stop();
    }
  });

  it('gives up on each gathered row at its own age: the ones gathered behind a 48-hour-old row are retried without it', async () => {
    const { outbox, slack, rows, store, setTime } = await setup();
    outbox.gather(checklistGathering);
    const old = await announce(rows, 1, 0);
    const young = [await announce(rows, 2, 47 * 3_600_000), await announce(rows, 3, 47 * 3_600_000)];
    const gatheredText = ['📋 3 checklist changes in the last 2880 min:', '✅ <@U1> signed off `item-1` (Item 1)', '✅ <@U1> signed off `item-2` (Item 2)', '✅ <@U1> signed off `item-3` (Item 3)', `Pre-flight: 3/9 done. ${VERDICT}`].join('\n');
    slack.failNext(gatheredText, internalError());
    setTime(48 * 3_600_000);
    await outbox.flush();
    expect(slack.texts()).toEqual([gatheredText]);
    expect(await store.all('SELECT id, failed_at, delivered_at FROM outbox ORDER BY id')).toEqual([
      { id: old, failed_at: at(48 * 3_600_000), delivered_at: null },
      ...young.map((id) => ({ id, failed_at: null, delivered_at: null })),
    ]);

    setTime(48 * 3_600_000 + 2_000);
    await outbox.flush();
    expect(posts(slack).at(-1)!.args.text).toBe(['📋 2 checklist changes in the last 60 min:', '✅ <@U1> signed off `item-2` (Item 2)', '✅ <@U1> signed off `item-3` (Item 3)', `Pre-flight: 3/9 done. ${VERDICT}`].join('\n'));
    expect(await rows.pendingCount()).toBe(0);
    expect((await rows.outcome(old))!.delivered_at).toBeNull();
  });

  it('a gathered post whose delivery was not recorded is found in the channel and adopted for every row it covered, not posted again', async () => {
    const { outbox, slack, rows, store, setTime } = await setup();
    outbox.gather(checklistGathering);
    await announce(rows, 1, 0);
    await outbox.flush();
    const burst = [await announce(rows, 2, 1_000), await announce(rows, 3, 2_000), await announce(rows, 4, 3_000)];
    // The database fails the one mark that records the gathered post's delivery (Slack has it).
    const run = store.run.bind(store);
    let failMark = true;
    store.run = async (sql, ...params) => {
      if (failMark && sql.startsWith('UPDATE outbox SET delivered_at')) {
        failMark = false;
        throw new DatabaseUnavailableError(store.target, 'connect ECONNREFUSED 127.0.0.1:5432');
      }
      return run(sql, ...params);
    };
    setTime(10_000);
    await outbox.flush();
    expect(posts(slack)).toHaveLength(2);
    expect((await results(store)).filter((r) => r.delivered_at !== null)).toHaveLength(1);

    // One more stored before the retry: the post found covers the three it was made for, not this one.
    const late = await announce(rows, 5, 11_000);
    setTime(12_000);
    await outbox.flush();
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage', 'conversations.history']);
    expect((await results(store)).filter((r) => burst.includes(r.id))).toEqual(burst.map((id) => ({ id, delivered_at: at(12_000), result: '{"ts":"1700000000.000002","channel":"C_OPS"}' })));
    expect((await rows.outcome(late))!.delivered_at).toBeNull();

    setTime(22_000);
    await outbox.flush();
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage', 'conversations.history', 'chat.postMessage']);
    expect(slack.texts().at(-1)).toBe(`✅ <@U1> signed off \`item-5\` (Item 5)\nPre-flight: 5/9 done. ${VERDICT}`);
    expect(await rows.pendingCount()).toBe(0);
  });
});
