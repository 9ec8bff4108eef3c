import { afterEach, describe, expect, it } from 'vitest';
import { golive, query } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const T0 = Date.parse('2026-12-01T02:30:00.000Z');
const clock = { at: T0, now: () => new Date(clock.at) };
const iso = (ms: number) => new Date(T0 + ms).toISOString();

type Row = { attempts: number; next_attempt_at: string; delivered_at: string | null; failed_at: string | null; last_error: string | null };
const row = () => query<Row>(t!, "SELECT attempts, next_attempt_at, delivered_at, failed_at, last_error FROM outbox WHERE method = 'chat.postMessage'")[0]!;
const announcements = () => [...t!.slack.messages.values()].filter((m) => m.text.includes('secrets-manager'));
const logged = (msg: string) => t!.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

/** A sign-off whose announcement meets the fault; the app's own retry timer is off, so the test moves time. */
async function signOffDuringFault(): Promise<void> {
  clock.at = T0;
  t = await startTestApp({ clock, appOptions: { outboxPollMs: 3_600_000 } });
}

describe('Slack faults', () => {
  it("waits out a 429's Retry-After, then posts once", async () => {
    await signOffDuringFault();
    t!.slack.failNext('chat.postMessage', { retryAfter: 7 });
    await golive(t!, 'check secrets-manager');
    await t!.slack.waitFor(() => row()?.last_error === 'ratelimited');
    expect(row()).toMatchObject({ attempts: 1, next_attempt_at: iso(7000), delivered_at: null });
    expect(logged('Slack delivery failed; will retry')).toMatchObject([{ level: 40, error: 'ratelimited', attempts: 1, retryInMs: 7000 }]);

    clock.at = T0 + 6999;
    await t!.app.outbox.flush();
    expect(t!.slack.callsTo('chat.postMessage')).toHaveLength(1);
    clock.at = T0 + 7000;
    await t!.app.outbox.flush();
    expect(row()).toMatchObject({ attempts: 2, delivered_at: iso(7000), last_error: null });
    expect(announcements()).toHaveLength(1);
    // Slack refused the first try outright, so there was nothing to look for before posting again.
    expect(t!.slack.callsTo('conversations.history')).toEqual([]);
  });

  it('backs off 2 s, 4 s, 8 s through 5xx answers, and posts once when Slack is back', async () => {
    await signOffDuringFault();
    // One failure per outbox attempt: the outbox's client does not retry inside a call (see the next test for why).
    for (let i = 0; i < 3; i++) t!.slack.failNext('chat.postMessage', { status: 503 });
    await golive(t!, 'check secrets-manager');
    await t!.slack.waitFor(() => row()?.attempts === 1);
    const waits: string[] = [row().next_attempt_at];
    for (const at of [2000, 6000]) {
      clock.at = T0 + at;
      await t!.app.outbox.flush();
      waits.push(row().next_attempt_at);
    }
    expect(waits).toEqual([iso(2000), iso(2000 + 4000), iso(6000 + 8000)]);
    expect(row().last_error).toMatch(/^http_error: /);
    clock.at = T0 + 14_000;
    await t!.app.outbox.flush();
    expect(row()).toMatchObject({ attempts: 4, delivered_at: iso(14_000) });
    expect(announcements()).toHaveLength(1);
    expect(t!.slack.callsTo('chat.postMessage').filter((c) => c.result?.ok === true)).toHaveLength(1);
    // A 503 does not prove Slack did nothing, so each retry first looked for the post.
    expect(t!.slack.callsTo('conversations.history')).toHaveLength(3);
  });

  it('does not post twice when Slack took the post but the answer was lost on the way back', async () => {
    await signOffDuringFault();
    let dropped = 0;
    t!.slack.beforeReply = (call) => (call.method === 'chat.postMessage' && dropped++ === 0 ? 'drop' : undefined);
    await golive(t!, 'check secrets-manager');
    await t!.slack.waitFor(() => row()?.delivered_at !== null || row()?.attempts === 1);
    clock.at = T0 + 60_000;
    await t!.app.outbox.flush();
    expect(row().delivered_at).not.toBeNull();
    expect(announcements()).toHaveLength(1);
    expect(JSON.parse(query<{ result: string }>(t!, 'SELECT result FROM outbox')[0]!.result)).toEqual({ channel: 'C0OPS', ts: announcements()[0]!.ts });
  });
});
