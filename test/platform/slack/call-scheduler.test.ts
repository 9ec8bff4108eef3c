import { describe, expect, it } from 'vitest';
import { CallScheduler } from '../../../src/platform/slack/call-scheduler.js';
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
    const calls = ['a', 'b', 'c'].map((l) => s.run('chat.update', { channel: 'C1', ts: l }, 'refresh', send(l)));
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
      s.run('chat.update', { channel: 'C1', ts: '1' }, 'refresh', send('refresh 1')),
      s.run('chat.update', { channel: 'C1', ts: '2' }, 'refresh', send('refresh 2')),
      s.run('chat.update', { channel: 'C1', ts: '3' }, 'refresh', send('refresh 3')),
      s.run('chat.update', { channel: 'C1', ts: '4' }, 'people', send('a person paging')),
      s.run('chat.update', { channel: 'C1', ts: '5' }, 'urgent', send('alarm card')),
    ];
    await Promise.all(calls);
    expect(sent).toEqual(['refresh 1', 'refresh 2', 'alarm card', 'a person paging', 'refresh 3']);
  });

  it('never queues views.open behind board refreshes: budgets are per method', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder();
    const refreshes = [1, 2, 3, 4].map((i) => s.run('chat.update', { channel: 'C1', ts: String(i) }, 'refresh', send(`refresh ${i}`)));
    await s.run('views.open', { trigger_id: 't' }, 'urgent', send('modal'));
    // The modal went while two refreshes still wait for chat.update's window.
    expect(sent).toEqual(['refresh 1', 'refresh 2', 'modal']);
    await Promise.all(refreshes);
  });

  it("keeps one channel's posts in order, even when the first is rate-limited; another channel is not held up", async () => {
    const s = new CallScheduler({ limits: smallLimits, scale: 0.05 });
    const { sent, send } = recorder((label, attempt) => (label === 'first' && attempt === 1 ? new SlackCallError('chat.postMessage', 'ratelimited', 2) : undefined));
    const started = Date.now();
    const calls = [
      s.run('chat.postMessage', { channel: 'C1' }, 'people', send('first')),
      s.run('chat.postMessage', { channel: 'C1' }, 'people', send('second')),
      s.run('chat.postMessage', { channel: 'C2' }, 'people', send('other channel')),
    ];
    await expect(calls[0]).resolves.toEqual({ ok: true, label: 'first' });
    // Retry-After 2 s at this scale is 100 ms: the retry waited for it to end.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    await Promise.all(calls);
    expect(sent).toEqual(['first', 'other channel', 'first', 'second']);
  });

  it('hands the 429 to its caller after waiting out a few of them, and keeps nothing queued', async () => {
    const s = new CallScheduler({ limits: smallLimits, scale: 0.001, maxRateLimitRetries: 2 });
    const { sent, send } = recorder(() => new SlackCallError('chat.update', 'ratelimited', 1));
    const e = await s.run('chat.update', { channel: 'C1', ts: '1' }, 'refresh', send('refused')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SlackCallError);
    expect((e as SlackCallError).retryAfterSeconds).toBe(1);
    expect(sent).toEqual(['refused', 'refused', 'refused']);
    expect(s.queued).toBe(0);
  });

  it('passes other errors straight to the caller, without a retry', async () => {
    const s = new CallScheduler({ limits: smallLimits });
    const { sent, send } = recorder(() => new SlackCallError('chat.postMessage', 'channel_not_found'));
    await expect(s.run('chat.postMessage', { channel: 'C1' }, 'people', send('gone'))).rejects.toThrow('channel_not_found');
    expect(sent).toEqual(['gone']);
  });

  it('schedules by the published table by default: every method golive calls has a budget', () => {
    expect(SLACK_METHOD_LIMITS['chat.update'].perWorkspace).toEqual({ limit: 50, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['views.publish'].perWorkspace).toEqual({ limit: 100, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['conversations.create'].perWorkspace).toEqual({ limit: 20, windowMs: 60_000 });
    expect(SLACK_METHOD_LIMITS['chat.postMessage'].perChannel).toEqual({ limit: 5, windowMs: 5_000 });
  });
});
