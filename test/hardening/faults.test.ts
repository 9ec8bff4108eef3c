import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';
import { writeAlarmRunbook } from '../support/alarm-fixture.js';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { click, golive, privateReply, query, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedEcs, startMoto, type Moto, type SeededEcs } from '../support/moto.js';
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
const row = async () => (await query<Row>(t!, "SELECT attempts, next_attempt_at, delivered_at, failed_at, last_error FROM outbox WHERE method = 'chat.postMessage'"))[0]!;
const announcements = () => [...t!.slack.messages.values()].filter((m) => m.text.includes('secrets-manager'));
const logged = (msg: string) => t!.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

/**
 * A sign-off whose announcement meets the fault; the app's own retry timer is off, so the test moves time.
 * The call scheduler pauses a method after a 429 on the real clock, which these tests do not move:
 * `slackLimitScale: 0` takes its waiting out, so what is tested is the outbox's own wait, on its clock.
 */
async function signOffDuringFault(): Promise<void> {
  clock.at = T0;
  t = await startTestApp({ clock, appOptions: { outboxPollMs: 3_600_000, slackLimitScale: 0 } });
}

describe('Slack faults', () => {
  it("waits out a 429's Retry-After, then posts once", async () => {
    await signOffDuringFault();
    t!.slack.failNext('chat.postMessage', { retryAfter: 7 });
    await golive(t!, 'check secrets-manager');
    await until('the rate-limited post', async () => (await row())?.last_error === 'ratelimited');
    expect(await row()).toMatchObject({ attempts: 1, next_attempt_at: iso(7000), delivered_at: null });
    expect(logged('Slack delivery failed; will retry')).toMatchObject([{ level: 40, error: 'ratelimited', attempts: 1, retryInMs: 7000 }]);

    clock.at = T0 + 6999;
    await t!.app.outbox.flush();
    expect(t!.slack.callsTo('chat.postMessage')).toHaveLength(1);
    clock.at = T0 + 7000;
    await t!.app.outbox.flush();
    expect(await row()).toMatchObject({ attempts: 2, delivered_at: iso(7000), last_error: null });
    expect(announcements()).toHaveLength(1);
    // Slack refused the first try outright, so there was nothing to look for before posting again.
    expect(t!.slack.callsTo('conversations.history')).toEqual([]);
  });

  it('backs off 2 s, 4 s, 8 s through 5xx answers, and posts once when Slack is back', async () => {
    await signOffDuringFault();
    // One failure per outbox attempt: the outbox's client does not retry inside a call (see the next test for why).
    for (let i = 0; i < 3; i++) t!.slack.failNext('chat.postMessage', { status: 503 });
    await golive(t!, 'check secrets-manager');
    await until('the first attempt', async () => (await row())?.attempts === 1);
    const waits: string[] = [(await row()).next_attempt_at];
    for (const at of [2000, 6000]) {
      clock.at = T0 + at;
      await t!.app.outbox.flush();
      waits.push((await row()).next_attempt_at);
    }
    expect(waits).toEqual([iso(2000), iso(2000 + 4000), iso(6000 + 8000)]);
    expect((await row()).last_error).toMatch(/^http_error: /);
    clock.at = T0 + 14_000;
    await t!.app.outbox.flush();
    expect(await row()).toMatchObject({ attempts: 4, delivered_at: iso(14_000) });
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
    await until('the first attempt', async () => (await row())?.attempts === 1);
    clock.at = T0 + 60_000;
    await t!.app.outbox.flush();
    expect((await row()).delivered_at).not.toBeNull();
    expect(announcements()).toHaveLength(1);
    expect(JSON.parse((await query<{ result: string }>(t!, 'SELECT result FROM outbox'))[0]!.result)).toEqual({ channel: 'C0OPS', ts: announcements()[0]!.ts });
  });
});

describe('Slack faults on interactive replies', () => {
  it('a status board Slack rate-limits or fails: the person is told privately what Slack said and what to do', async () => {
    // Slack's own seconds: the pause after a 429 lasts its Retry-After.
    t = await startTestApp({ appOptions: { slackLimitScale: 1 } });
    const rateLimited = (s: number) =>
      `:warning: Slack is rate-limiting golive right now (\`chat.postMessage\`); try again in ${s} seconds.\nCheck \`/golive history\` to see whether your change was recorded before trying again.`;
    t.slack.failNext('chat.postMessage', { retryAfter: 30 });
    // Told at once, not after waiting the 30 s out.
    expect(await privateReply(t, 'status')).toBe(rateLimited(30));
    // Slack's pause holds for the channel's next post too: told the same, without another call to Slack.
    expect([rateLimited(30), rateLimited(29)]).toContain(await privateReply(t, 'status'));
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    // Other failures, in a channel Slack has not paused.
    for (let i = 0; i < 3; i++) t.slack.failNext('chat.postMessage', { status: 503 });
    expect(await privateReply(t, 'status', 'U0DEVOPS', 'C0DEV')).toBe(
      ":warning: Slack did not answer golive's `chat.postMessage` (http_error); try again in a moment.\nCheck `/golive history` to see whether your change was recorded before trying again.",
    );
    t.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    expect(await privateReply(t, 'status', 'U0DEVOPS', 'C0DEV')).toMatch(/^:warning: Slack refused golive's `chat\.postMessage`: `not_in_channel` \(error id `[0-9a-f]{8}`\)\.\n/);
  });
});

describe('Slack faults on refreshes', () => {
  it('a board refresh Slack rate-limits waits out Retry-After and is sent again when it ends', async () => {
    t = await startTestApp({ appOptions: { slackLimitScale: 1 } });
    await golive(t, 'status');
    const board = await t.slack.waitForCall('chat.postMessage', (c) => c.result?.ok === true);
    t.slack.failNext('chat.update', { retryAfter: 1 });
    await golive(t, 'check secrets-manager');
    const updated = await t.slack.waitForCall('chat.update', (c) => c.result?.ok === true, 10_000);
    const edits = t.slack.callsTo('chat.update');
    expect(edits[0]).toMatchObject({ faulted: true, args: { ts: board.result!.ts } });
    expect(updated.args.ts).toBe(board.result!.ts);
    // Sent again once, when the second was over: not at once, and not dropped.
    expect(edits.indexOf(updated)).toBe(1);
    expect(updated.at - edits[0]!.at).toBeGreaterThanOrEqual(1000);
  });
});

describe('Slack faults: a thread reply whose answer was lost', () => {
  it('is looked for in its thread (conversations.replies) and not posted twice', async () => {
    await signOffDuringFault();
    const parent = await t!.app.services.slack.postMessage('C0OPS', { text: 'parent post' });
    for (let i = 0; i < 3; i++) await t!.app.services.slack.postMessage('C0OPS', { text: `reply ${i}` }, parent.ts);
    let dropped = 0;
    t!.slack.beforeReply = (call) => (call.method === 'chat.postMessage' && call.args.text === 'the outcome' && dropped++ === 0 ? 'drop' : undefined);
    const id = await t!.app.outbox.enqueue('chat.postMessage', { channel: 'C0OPS', thread_ts: parent.ts, text: 'the outcome', reply_broadcast: true }, clock.now().toISOString());
    await t!.app.outbox.flush();
    expect((await t!.app.outbox.outcome(id))!.delivered_at).toBeNull();
    clock.at = T0 + 2000;
    await t!.app.outbox.flush();
    const inThread = [...t!.slack.messages.values()].filter((m) => m.text === 'the outcome');
    expect(inThread).toHaveLength(1);
    expect(inThread[0]!.thread_ts).toBe(parent.ts);
    expect((await t!.app.outbox.outcome(id))!.result).toEqual({ ts: inThread[0]!.ts, channel: 'C0OPS' });
    expect(t!.slack.callsTo('conversations.replies').map((c) => c.args.ts)).toEqual([parent.ts]);
  });
});

describe('Slack faults: when the lookup itself fails', () => {
  it('cannot read the channel history (missing_scope): posts again rather than lose the post, and says so', async () => {
    await signOffDuringFault();
    t!.slack.failNext('chat.postMessage', { status: 503 });
    t!.slack.failNext('conversations.history', { error: 'missing_scope' });
    await golive(t!, 'check secrets-manager');
    await until('the first attempt', async () => (await row())?.attempts === 1);
    clock.at = T0 + 2000;
    await t!.app.outbox.flush();
    expect((await row()).delivered_at).toBe(iso(2000));
    expect(announcements()).toHaveLength(1);
    expect(logged('could not check whether an earlier attempt was posted; posting again')).toMatchObject([{ level: 40, error: 'missing_scope', channel: 'C0OPS' }]);
  });

  it('the lookup is rate-limited: waits, and neither posts nor gives up meanwhile', async () => {
    await signOffDuringFault();
    t!.slack.failNext('chat.postMessage', { status: 503 });
    t!.slack.failNext('conversations.history', { retryAfter: 20 });
    await golive(t!, 'check secrets-manager');
    await until('the first attempt', async () => (await row())?.attempts === 1);
    clock.at = T0 + 2000;
    await t!.app.outbox.flush();
    expect(await row()).toMatchObject({ attempts: 2, next_attempt_at: iso(22_000), delivered_at: null, last_error: 'ratelimited' });
    expect(t!.slack.callsTo('chat.postMessage')).toHaveLength(1);
    clock.at = T0 + 22_000;
    await t!.app.outbox.flush();
    expect(announcements()).toHaveLength(1);
  });
});

describe('AWS faults (moto behind a tap that throttles, hangs or passes each call)', () => {
  let moto: Moto;
  let tap: AwsTap;
  let smoke: SmokeServer;
  let seeded: SeededEcs;

  beforeAll(async () => {
    moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
    smoke = await startSmokeServer();
    Object.assign(process.env, awsTestEnv(moto.endpoint));
  });
  afterAll(async () => {
    await smoke.close();
    await moto.stop();
  });
  beforeEach(async () => {
    await resetMoto(moto.endpoint);
    seeded = await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
    tap = await startAwsTap(moto.endpoint);
    // Three attempts of at most 400 ms each instead of five of 10 s: the same code paths, sooner.
    t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: smoke.url }), appOptions: { ecs: createEcsAdapter({ endpoint: tap.endpoint, maxAttempts: 3, requestTimeout: 400 }) } });
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await tap.close();
  });

  const throttle = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };

  it('a rollback request while ECS throttles every call: retried with backoff, then a clear private error, nothing recorded', async () => {
    tap.before = (call) => (call.operation === 'DescribeServices' ? throttle : undefined);
    expect(await privateReply(t!, 'rollback api', 'U0DEVOPS')).toBe(':warning: AWS ECS is throttling DescribeServices (ap-south-1) and still refused after retries; try again in a minute.');
    expect(tap.calls.filter((c) => c.operation === 'DescribeServices')).toHaveLength(3);
    expect(await query(t!, 'SELECT COUNT(*) AS n FROM change_request')).toEqual([{ n: 0 }]);
    expect(t!.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Rollback'))).toEqual([]);
  });

  it('a rollback request while ECS does not answer: a clear private error once the attempts time out', async () => {
    tap.before = (call) => (call.operation === 'DescribeServices' ? 'hang' : undefined);
    expect(await privateReply(t!, 'rollback api', 'U0DEVOPS')).toBe(':warning: AWS ECS did not answer DescribeServices in time (ap-south-1); try again.');
    expect(await query(t!, 'SELECT COUNT(*) AS n FROM change_request')).toEqual([{ n: 0 }]);
  });

  it('an approved rollback whose UpdateService is throttled twice: retried, ECS changes once, one outcome post', async () => {
    const reply = await privateReply(t!, 'rollback api', 'U0DEVOPS');
    const id = /#(\d+)/.exec(reply)![1]!;
    const card = await t!.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'));
    let throttled = 0;
    tap.before = (call) => (call.operation === 'UpdateService' && throttled++ < 2 ? throttle : undefined);
    await click(t!, 'golive_request_approve', id, 'U0CTO', String(card.result!.ts));
    const outcome = await t!.slack.waitForCall('chat.postMessage', (c) => /^(✅|❌) Rollback/.test(String(c.args.text)), 10_000);
    expect(outcome.args.text).toBe('✅ Rollback of `api` to govisax-prod:2 succeeded: govisax-prod:2 is live: 2/2 tasks running');
    expect(tap.calls.filter((c) => c.operation === 'UpdateService').map((c) => c.status)).toEqual([400, 400, 200]);
    expect(tap.forwarded('UpdateService').map((c) => (JSON.parse(c.body) as { taskDefinition: string }).taskDefinition)).toEqual([seeded.taskDefinitionArns[1]]);
    // The outcome is posted when the rollout ends; the request is closed in the transaction after it.
    await until('the request to close', async () => (await query<{ state: string }>(t!, 'SELECT state FROM change_request'))[0]?.state !== 'executing');
    expect(await query(t!, 'SELECT state FROM change_request')).toEqual([{ state: 'succeeded' }]);
  });
});

describe('PagerDuty down', () => {
  let pd: FakePagerDuty;
  afterEach(async () => {
    await pd.close();
  });

  it('a P1 page meets 503, a dropped connection and a 429: retried with backoff, reported, and triggered once when PagerDuty is back', async () => {
    pd = await startFakePagerDuty();
    clock.at = T0;
    t = await startTestApp({ runbook: writeAlarmRunbook(), clock, env: { PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdef012345', PAGERDUTY_EVENTS_URL: pd.url }, appOptions: { outboxPollMs: 3_600_000, alarmPolling: false } });
    pd.failNext(503);
    pd.failNext('reset');
    pd.failNext(429, { retryAfter: 30 });
    const reply = await privateReply(t!, 'incident declare P1 checkout is down', 'U0DEVOPS');
    expect(reply).toMatch(/^INC-1 is open in <#C\w+>; you are its commander\./);
    const page = async () => (await query<Row>(t!, "SELECT attempts, next_attempt_at, delivered_at, failed_at, last_error FROM outbox WHERE target = 'pagerduty'"))[0]!;
    await pd.waitFor(() => true);
    await until('the first attempt at the page', async () => (await page())?.attempts === 1);
    const steps = [{ ...(await page()) }];
    for (const at of [2000, 6000]) {
      clock.at = T0 + at;
      await t!.app.outbox.flush();
      steps.push({ ...(await page()) });
    }
    expect(steps.map((s) => [s.attempts, s.next_attempt_at, s.delivered_at])).toEqual([
      [1, iso(2000), null],
      [2, iso(6000), null],
      [3, iso(6000 + 30_000), null],
    ]);
    const warnings = logged('PagerDuty delivery failed; will retry');
    expect(warnings.map((w) => w.retryInMs)).toEqual([2000, 4000, 30_000]);
    const health = (await fetch(`${t!.url}/healthz`).then((r) => r.json())) as { database: { outbox_pending: number } };
    expect(health.database.outbox_pending).toBeGreaterThanOrEqual(1);

    clock.at = T0 + 36_000;
    await t!.app.outbox.flush();
    expect(await page()).toMatchObject({ attempts: 4, delivered_at: iso(36_000) });
    expect(pd.accepted().map((e) => [e.event_action, e.dedup_key])).toEqual([['trigger', 'golive/incident/1']]);
    expect(pd.events.map((e) => e.status)).toEqual([503, 0, 429, 202]);
  });
});
