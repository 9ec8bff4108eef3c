import { describe, expect, it } from 'vitest';
import { CallScheduler, PERSON_PATIENCE_MS } from '../../../src/platform/slack/call-scheduler.js';
import { SLACK_METHOD_LIMITS, type MethodLimit } from '../../../src/platform/slack/rate-limits.js';
import { SlackCallError } from '../../../src/platform/slack/slack-port.js';

/** Two calls a method per 200 ms, posts also two per channel per 200 ms. */
const SMALL: MethodLimit = { tier: 'test', perWorkspace: { limit: 2, windowMs: 200 } };
const smallLimits = (method: string): MethodLimit | undefined =>
  method === 'chat.postMessage' ? { ...SMALL, perWorkspace: { limit: 100, windowMs: 200 }, perChannel: { limit: 2, windowMs: 200 } } : method === 'views.open' ? SMALL : method === 'chat.update' ? SMALL : undefined;

/** Records the order calls are sent in; each answers after a tick, or as `answer` says. */
function recorder(answer?: (label: string, attempt: number) => Error | undefined) {
  const sent: string[] = [];
  const attempts = new Map<string, number>();
  const send = (label: string) => async () => {
    const n = (attempts.get(label) ?? 0) + 1;
    attempts.set(label, n);
    sent.push(label);
    await new Promise((r) => setImmediate(r));
    const e = answer?.(label, n);
    if (e) throw e;
    return { ok: true, label };
  };
  return { sent, send };
}

describe('CallScheduler', () => {
  it('stays inside a method\'s window: the third call waits for the window to pass', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder();
    const calls = ['a', 'b', 'c'].map((l) => s.run('chat.update', { channel: 'C1', ts: l }, { priority: 'refresh' }, send(l)));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual(['a', 'b']);
    expect(s.queued).toBe(1);
    await Promise.all(calls);
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('gives a freed budget to the most urgent waiting call first', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder();
    const calls = [
      s.run('chat.update', { channel: 'C1', ts: '1' }, { priority: 'refresh' }, send('refresh 1')),
      s.run('chat.update', { channel: 'C1', ts: '2' }, { priority: 'refresh' }, send('refresh 2')),
      s.run('chat.update', { channel: 'C1', ts: '3' }, { priority: 'refresh' }, send('refresh 3')),
      s.run('chat.update', { channel: 'C1', ts: '4' }, { priority: 'people' }, send('a person paging')),
      s.run('chat.update', { channel: 'C1', ts: '5' }, { priority: 'urgent' }, send('alarm card')),
    ];
    await Promise.all(calls);
    expect(sent).toEqual(['refresh 1', 'refresh 2', 'alarm card', 'a person paging', 'refresh 3']);
  });

  it('never queues views.open behind board refreshes: budgets are per method', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder();
    const refreshes = [1, 2, 3, 4].map((i) => s.run('chat.update', { channel: 'C1', ts: String(i) }, { priority: 'refresh' }, send(`refresh ${i}`)));
    await s.run('views.open', { trigger_id: 't' }, { priority: 'urgent' }, send('modal'));
    // The modal went while two refreshes still wait for chat.update's window.
    expect(sent).toEqual(['refresh 1', 'refresh 2', 'modal']);
    await Promise.all(refreshes);
  });

  it("answers a person at once on a 429 and pauses the method for the calls after it; a refresh waits the pause out", async () => {
    const s = new CallScheduler({ limits: smallLimits, scale: 0.1 });
    const { sent, send } = recorder((label, attempt) => (label === 'page 1' && attempt === 1 ? new SlackCallError('chat.update', 'ratelimited', 21) : undefined));
    const person = { priority: 'people' } as const;
    await expect(s.run('chat.update', { channel: 'C1', ts: '1' }, person, send('page 1'))).rejects.toMatchObject({ slackError: 'ratelimited', retryAfterSeconds: 21 });
    const limitedAt = Date.now();
    // Retry-After 21 s at this scale is 2.1 s, more than a person waits: the next one is told without a call to Slack.
    const second = (await s.run('chat.update', { channel: 'C1', ts: '2' }, person, send('page 2')).catch((x: unknown) => x)) as SlackCallError;
    expect(second.slackError).toBe('ratelimited');
    expect([20, 21]).toContain(second.retryAfterSeconds);
    await s.run('chat.update', { channel: 'C1', ts: '3' }, {}, send('board'));
    expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(2050);
    expect(sent).toEqual(['page 1', 'board']);
  });

  it("tells a person to try again rather than hold them past their patience for a spent budget; a refresh waits for it", async () => {
    // chat.update: 2 calls per 4 s here, longer than a person waits.
    const s = new CallScheduler({ limits: smallLimits, scale: 20 });
    const { sent, send } = recorder();
    await Promise.all(['a', 'b'].map((l) => s.run('chat.update', { channel: 'C1', ts: l }, {}, send(l))));
    const started = Date.now();
    await expect(s.run('chat.update', { channel: 'C1', ts: 'c' }, { priority: 'people' }, send('a person paging'))).rejects.toMatchObject({ slackError: 'ratelimited', retryAfterSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(PERSON_PATIENCE_MS);
    const refresh = s.run('chat.update', { channel: 'C1', ts: 'd' }, {}, send('refresh'));
    expect(s.queued).toBe(1);
    s.stop();
    await expect(refresh).rejects.toMatchObject({ slackError: 'golive_stopping' });
    expect(sent).toEqual(['a', 'b']);
    expect(s.queued).toBe(0);
  });

  it("hands the outbox's post back on a 429 and while its channel is paused, so the outbox waits it out; another channel posts", async () => {
    const s = new CallScheduler({ limits: smallLimits, scale: 0.05 });
    const { sent, send } = recorder((label, attempt) => (label === 'first' && attempt === 1 ? new SlackCallError('chat.postMessage', 'ratelimited', 2) : undefined));
    const outbox = { waiter: 'outbox' } as const;
    await expect(s.run('chat.postMessage', { channel: 'C1' }, outbox, send('first'))).rejects.toMatchObject({ retryAfterSeconds: 2 });
    await expect(s.run('chat.postMessage', { channel: 'C1' }, outbox, send('second'))).rejects.toMatchObject({ slackError: 'ratelimited' });
    await s.run('chat.postMessage', { channel: 'C2' }, outbox, send('other channel'));
    await new Promise((r) => setTimeout(r, 110));
    await s.run('chat.postMessage', { channel: 'C1' }, outbox, send('first'));
    expect(sent).toEqual(['first', 'other channel', 'first']);
  });

  it("holds the outbox's posts for a channel's pace instead of handing them back", async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder();
    const started = Date.now();
    await Promise.all(['1', '2', '3'].map((l) => s.run('chat.postMessage', { channel: 'C1' }, { waiter: 'outbox' }, send(l))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(sent).toEqual(['1', '2', '3']);
  });

  it('hands the 429 to its caller after waiting out a few of them, and keeps nothing queued', async () => {
    const s = new CallScheduler({ limits: smallLimits, scale: 0.001, maxRateLimitRetries: 2 });
    const { sent, send } = recorder(() => new SlackCallError('chat.update', 'ratelimited', 1));
    const e = await s.run('chat.update', { channel: 'C1', ts: '1' }, { priority: 'refresh' }, send('refused')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SlackCallError);
    expect((e as SlackCallError).retryAfterSeconds).toBe(1);
    expect(sent).toEqual(['refused', 'refused', 'refused']);
    expect(s.queued).toBe(0);
  });

  it('passes other errors straight to the caller, without a retry', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder(() => new SlackCallError('chat.postMessage', 'channel_not_found'));
    await expect(s.run('chat.postMessage', { channel: 'C1' }, { priority: 'people' }, send('gone'))).rejects.toThrow('channel_not_found');
    expect(sent).toEqual(['gone']);
  });

  it('schedules by the published table by default: every method golive calls has a budget', () => {
    expect(SLACK_METHOD_LIMITS['chat.update'].perWorkspace).toEqual({ limit: 50, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['views.publish'].perWorkspace).toEqual({ limit: 100, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['conversations.create'].perWorkspace).toEqual({ limit: 20, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['chat.postMessage'].perChannel).toEqual({ limit: 5, windowMs: 5_000 });
  });
});
