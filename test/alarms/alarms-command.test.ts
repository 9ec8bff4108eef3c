import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSnsVerifier } from '../../src/alarms/verify-sns.js';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SEED_ALARMS, SNS_CERT, signedSnsMessages, writeAlarmRunbook } from '../support/alarm-fixture.js';
import { signed, testSigner } from '../support/sns-signer.js';
import { PROJECT_ROOT } from '../support/start-app.js';
import { click, golive, privateReply, query, sleep, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, startMoto, type Moto } from '../support/moto.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';
import { startAwsTap } from '../support/aws-tap.js';
import { signSlackRequest } from '../support/sign.js';
import { formatTime } from '../../src/platform/format-time.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const SECRET = 'eventbridge-shared-secret-0123';
const ALARM_TOPIC = 'arn:aws:sns:ap-south-1:123456789012:govisax-prod-alarms';
let moto: Moto;
let pd: FakePagerDuty;
let t: TestApp;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  pd = await startFakePagerDuty();
});
afterAll(async () => {
  await pd.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  pd.reset();
  await seedAlarms(moto.endpoint, [
    { name: SEED_ALARMS.fiveXx, state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [2.3] was greater than the threshold (1.0).' },
    { name: SEED_ALARMS.rdsCpu, state: 'OK' },
    { name: SEED_ALARMS.health, state: 'INSUFFICIENT_DATA' },
    { name: 'Other-Service-Alarm', state: 'ALARM' },
  ]);
});
afterEach(async () => {
  await t?.close();
});

const confirmed: string[] = [];
const signer = testSigner();
const TEST_CERT_URL = 'https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-test.pem';

async function start(opts: { flapping?: { transitions: number; minutes: number }; keepBaseline?: boolean; health?: string; endpoint?: string } = {}) {
  t = await startTestApp({
    runbook: writeAlarmRunbook({ ...opts, extraTopics: [ALARM_TOPIC] }),
    env: { AWS_ENDPOINT_URL: opts.endpoint ?? moto.endpoint, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, GOLIVE_EVENTBRIDGE_SECRET: SECRET },
    appOptions: {
      alarmPolling: false,
      outboxPollMs: 50,
      // The fixtures' real certificate for their URLs; a throwaway one for messages this test signs itself.
      snsVerifier: createSnsVerifier({ fetchCert: async (url) => (url === TEST_CERT_URL ? signer.pem : SNS_CERT()) }),
      snsConfirm: async (url) => {
        confirmed.push(url);
        return 200;
      },
    },
  });
  // The first poll records the baseline.
  await t.app.services.alarms.poll();
  if (!opts.keepBaseline) {
    await t.app.outbox.flush();
    pd.reset();
  }
}

const cw = () => new CloudWatchClient({ endpoint: moto.endpoint, region: 'ap-south-1' });
async function setState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason = `test ${state}`) {
  await cw().send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }));
  // CloudWatch timestamps have millisecond resolution; keep transitions apart.
  await sleep(5);
}
async function pollAndDeliver() {
  await t.app.services.alarms.poll();
  await t.app.outbox.flush();
}
const posts = () => t.slack.callsTo('chat.postMessage').filter((c) => !c.faulted);

describe('alarm watching', () => {
  it('records a baseline on the first poll, posts one summary, and pages what already fires', async () => {
    await start({ keepBaseline: true });
    await t.app.outbox.flush();
    expect(posts().map((c) => c.args.text)).toEqual([
      '👀 Watching 3 alarms under `GoVisaX-Prod`. 1 firing now:\n🔴 `GoVisaX-Prod-API-5XX-Rate` (critical): Threshold Crossed: 1 datapoint [2.3] was greater than the threshold (1.0).\n⚪ 1 without data yet.',
    ]);
    expect(pd.accepted().map((b) => [b.event_action, b.dedup_key])).toEqual([['trigger', 'golive/alarm/ap-south-1/GoVisaX-Prod-API-5XX-Rate']]);
    expect(await privateReply(t, 'alarms')).toMatch(/^\*Alarms — 1 firing of 3 watched\* \(last poll [^)]+\)\n🔴 `GoVisaX-Prod-API-5XX-Rate` ALARM since .* · critical, pages\n⚪ `GoVisaX-Prod-HealthCheck` INSUFFICIENT DATA since .* · critical, pages\n✅ `GoVisaX-Prod-RDS-CPU` OK since .* · warning$/);
  });

  it('posts a firing alarm once, threads its recovery, and updates the post', async () => {
    await start();
    await t.app.outbox.flush();
    t.slack.reset();
    await setState(SEED_ALARMS.rdsCpu, 'ALARM', 'Threshold Crossed: 2 datapoints [91.0, 88.5] were greater than the threshold (80.0).');
    await pollAndDeliver();
    await pollAndDeliver();
    const fired = posts();
    expect(fired).toHaveLength(1);
    const text = (fired[0]!.args.blocks as { text?: { text: string } }[])[0]!.text!.text;
    expect(text.split('\n').slice(0, 3)).toEqual([
      '🔴 *ALARM* `GoVisaX-Prod-RDS-CPU` · severity *warning*',
      'Reason: Threshold Crossed: 2 datapoints [91.0, 88.5] were greater than the threshold (80.0).',
      'Metric: AWS/ECS CPUUtilization Average 60s &gt; 80',
    ]);
    expect(text).toContain('<https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#alarmsV2:alarm/GoVisaX-Prod-RDS-CPU|Open in the AWS console>');
    expect(JSON.stringify(fired[0]!.args.blocks)).toContain('"action_id":"golive_alarm_ack"');
    expect(pd.events).toEqual([]); // a warning does not page

    await setState(SEED_ALARMS.rdsCpu, 'OK', 'Threshold Crossed: 1 datapoint [41.0] was not greater than the threshold (80.0).');
    await pollAndDeliver();
    const ts = (fired[0]!.result as { ts: string }).ts;
    const reply = posts().find((c) => c.args.thread_ts === ts)!;
    expect(reply.args.text).toMatch(/^✅ `GoVisaX-Prod-RDS-CPU` is OK again at .*, after firing for under a minute: Threshold Crossed: 1 datapoint \[41\.0\]/);
    const update = t.slack.callsTo('chat.update').find((c) => c.args.ts === ts)!;
    expect(update.args.text).toBe('✅ GoVisaX-Prod-RDS-CPU recovered after under a minute');
    expect(JSON.stringify(update.args.blocks)).not.toContain('golive_alarm_ack');
    expect(posts()).toHaveLength(2);
  });

  it('pages PagerDuty on ALARM and resolves on OK with one stable dedup key; Acknowledge acknowledges', async () => {
    await start();
    await t.app.outbox.flush();
    await setState(SEED_ALARMS.health, 'ALARM', 'Healthy host count 0');
    await pollAndDeliver();
    const trigger = await pd.waitFor((e) => e.body.event_action === 'trigger');
    expect(trigger.valid).toBe(true);
    expect(trigger.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'golive/alarm/ap-south-1/GoVisaX-Prod-HealthCheck',
      payload: { summary: 'GoVisaX-Prod-HealthCheck is in ALARM: Healthy host count 0', source: 'govisax-prod', severity: 'critical' },
      links: [{ href: 'https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#alarmsV2:alarm/GoVisaX-Prod-HealthCheck', text: 'CloudWatch alarm' }],
    });
    const post = posts().find((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-HealthCheck'))!;
    const ts = (post.result as { ts: string }).ts;
    // Acknowledging stops PagerDuty paging: someone the runbook names in no role is refused, and nothing is sent.
    const stranger = await click(t, 'golive_alarm_ack', SEED_ALARMS.health, 'U0CTO', ts);
    expect((await t.slack.waitForResponse((r) => r.id === stranger)).body.text).toBe(
      ':warning: Only people named in one of the runbook’s roles may acknowledge an alarm: acknowledging it stops PagerDuty paging on-call.\nAsk the on-call, or anyone in the launch’s roles.',
    );
    expect(pd.events.filter((e) => e.body.event_action === 'acknowledge')).toEqual([]);
    await click(t, 'golive_alarm_ack', SEED_ALARMS.health, 'U0DEVOPS', ts);
    const acked = await pd.waitFor((e) => e.body.event_action === 'acknowledge');
    expect(acked.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: trigger.body.dedup_key });
    await t.slack.waitFor(() => JSON.stringify(t.slack.messages.get(`C0OPS:${ts}`)?.blocks ?? []).includes('👀 Acknowledged by <@U0DEVOPS>'));
    const again = await click(t, 'golive_alarm_ack', SEED_ALARMS.health, 'U0DEVOPS', ts);
    expect((await t.slack.waitForResponse((r) => r.id === again)).body.text).toBe('`GoVisaX-Prod-HealthCheck` was already acknowledged by <@U0DEVOPS>. Nothing changed.');

    await setState(SEED_ALARMS.health, 'OK', 'Healthy host count 2');
    await pollAndDeliver();
    const resolve = await pd.waitFor((e) => e.body.event_action === 'resolve');
    expect(resolve.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: trigger.body.dedup_key });
    expect(pd.events.every((e) => e.valid)).toBe(true);
  });

  it('pages once for an alarm whose rule also opens a paging incident: the incident takes over the alarm page, and recovery resolves it', async () => {
    await start();
    await t.app.outbox.flush();
    await setState(SEED_ALARMS.health, 'ALARM', 'Healthy host count 0');
    await pollAndDeliver();
    await until('an open incident', async () => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM incident WHERE state = 'open'"))[0]?.n === 1);
    await t.app.outbox.flush();
    const key = 'golive/alarm/ap-south-1/GoVisaX-Prod-HealthCheck';
    // The incident's trigger lands on the alarm's open alert (PagerDuty folds it in): one PagerDuty incident, with the incident's details added.
    expect(pd.accepted().map((b) => [b.event_action, b.dedup_key, (b.payload as { summary?: string } | undefined)?.summary])).toEqual([
      ['trigger', key, 'GoVisaX-Prod-HealthCheck is in ALARM: Healthy host count 0'],
      ['trigger', key, 'INC-1 P1: GoVisaX-Prod-HealthCheck: Healthy host count 0'],
    ]);
    const channel = (await query<{ channel_id: string }>(t, 'SELECT channel_id FROM incident'))[0]!.channel_id;
    const ack = posts().find((c) => c.args.channel === channel && JSON.stringify(c.args.blocks ?? []).includes('golive_incident_ack'))!;
    await click(t, 'golive_incident_ack', '1', 'U0DEVOPS', (ack.result as { ts: string }).ts);
    await pd.waitFor((e) => e.body.event_action === 'acknowledge');
    await setState(SEED_ALARMS.health, 'OK', 'Healthy host count 2');
    await pollAndDeliver();
    await pd.waitFor((e) => e.body.event_action === 'resolve');
    await golive(t, 'incident resolve Health check target group emptied | Re-registered the targets', 'U0DEVOPS', channel);
    await until('the incident resolved', async () => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM incident WHERE state = 'resolved'"))[0]?.n === 1);
    await t.app.outbox.flush();
    expect(pd.accepted().slice(2).map((b) => [b.event_action, b.dedup_key])).toEqual([['acknowledge', key], ['resolve', key], ['resolve', key]]);
    expect(pd.accepted().some((b) => String(b.dedup_key).startsWith('golive/incident/'))).toBe(false);
  });

  it('resolving the incident an alarm opened resolves the one page', async () => {
    await start();
    await t.app.outbox.flush();
    await setState(SEED_ALARMS.health, 'ALARM', 'Healthy host count 0');
    await pollAndDeliver();
    await until('an open incident', async () => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM incident WHERE state = 'open'"))[0]?.n === 1);
    const channel = (await query<{ channel_id: string }>(t, 'SELECT channel_id FROM incident'))[0]!.channel_id;
    await golive(t, 'incident resolve Health check target group emptied', 'U0DEVOPS', channel);
    await until('the incident resolved', async () => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM incident WHERE state = 'resolved'"))[0]?.n === 1);
    await t.app.outbox.flush();
    const key = 'golive/alarm/ap-south-1/GoVisaX-Prod-HealthCheck';
    expect(pd.accepted().map((b) => [b.event_action, b.dedup_key])).toEqual([
      ['trigger', key],
      ['trigger', key],
      ['resolve', key],
    ]);
  });

  it('never double-posts a transition that arrives by push and by poll', async () => {
    await start();
    await t.app.outbox.flush();
    t.slack.reset();
    await setState(SEED_ALARMS.rdsCpu, 'ALARM', 'pushed');
    const described = await cw().send(new DescribeAlarmsCommand({ AlarmNames: [SEED_ALARMS.rdsCpu] }));
    const stamp = described.MetricAlarms![0]!.StateUpdatedTimestamp!;
    const event = {
      version: '0',
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: stamp.toISOString(),
      region: 'ap-south-1',
      resources: [`arn:aws:cloudwatch:ap-south-1:123456789012:alarm:${SEED_ALARMS.rdsCpu}`],
      detail: {
        alarmName: SEED_ALARMS.rdsCpu,
        state: { value: 'ALARM', reason: 'pushed', timestamp: stamp.toISOString().replace('Z', '+0000') },
        previousState: { value: 'OK', reason: 'earlier', timestamp: '2026-01-01T00:00:00.000+0000' },
        configuration: { metrics: [] },
      },
    };
    const refused = await fetch(`${t.url}/hooks/eventbridge`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json', 'x-golive-secret': 'wrong-secret-0123456789' } });
    expect(refused.status).toBe(401);
    const res = await fetch(`${t.url}/hooks/eventbridge`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json', 'x-golive-secret': SECRET } });
    expect(await res.json()).toEqual({ accepted: true, recorded: 1 });
    await pollAndDeliver();
    const again = await fetch(`${t.url}/hooks/eventbridge`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json', 'x-golive-secret': SECRET } });
    expect(await again.json()).toEqual({ accepted: true, recorded: 0 });
    await t.app.outbox.flush();
    expect(posts()).toHaveLength(1);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM alarm_transition')).toEqual([{ n: 1 }]);
  });

  it('accepts the real signed SNS messages and refuses tampered copies, posting nothing for either', async () => {
    await start();
    await t.app.outbox.flush();
    t.slack.reset();
    for (const m of signedSnsMessages()) {
      const ok = await fetch(`${t.url}/hooks/sns`, { method: 'POST', body: m.text, headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' } });
      expect(ok.status, m.file).toBe(200);
      expect(await ok.json()).toEqual({ accepted: true, ignored: 'not a CloudWatch alarm message' });
      const tampered = m.text.replace('"Message": "', '"Message": "X');
      const bad = await fetch(`${t.url}/hooks/sns`, { method: 'POST', body: tampered, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
      expect(bad.status, m.file).toBe(403);
      expect(await bad.json()).toEqual({ error: 'signature does not match' });
    }
    await t.app.outbox.flush();
    expect(posts()).toEqual([]);
  });

  it('collapses flapping into the thread with one notice', async () => {
    await start({ flapping: { transitions: 2, minutes: 30 } });
    await t.app.outbox.flush();
    t.slack.reset();
    for (const state of ['ALARM', 'OK', 'ALARM', 'OK', 'ALARM', 'OK'] as const) {
      await setState(SEED_ALARMS.rdsCpu, state);
      await pollAndDeliver();
    }
    const channelPosts = posts().filter((c) => !c.args.thread_ts);
    expect(channelPosts).toHaveLength(1);
    const threaded = posts().filter((c) => c.args.thread_ts).map((c) => String(c.args.text));
    expect(threaded.filter((x) => x.includes('is flapping'))).toEqual(['🔁 `GoVisaX-Prod-RDS-CPU` is flapping: 3 state changes in 30 min. Further changes go in this thread only until it settles.']);
    expect(threaded.length).toBeGreaterThanOrEqual(5);
  });

  it('delivers every post and page exactly once through Slack 429s and a PagerDuty outage', async () => {
    await start();
    await t.app.outbox.flush();
    t.slack.reset();
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    pd.failNext(503, { times: 2 });
    await setState(SEED_ALARMS.fiveXx, 'OK');
    await pollAndDeliver();
    await setState(SEED_ALARMS.fiveXx, 'ALARM', 'back');
    await pollAndDeliver();
    await t.slack.waitFor(() => posts().some((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-API-5XX-Rate')), 10000);
    await pd.waitFor((e) => e.status === 202 && e.body.event_action === 'trigger', 15000);
    await sleep(300);
    await t.app.outbox.flush();
    expect(posts().filter((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-API-5XX-Rate'))).toHaveLength(1);
    expect(pd.accepted().map((b) => b.event_action)).toEqual(['resolve', 'trigger']);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL')).toEqual([{ n: 0 }]);
  });

  it('confirms a subscription only for a topic the runbook allows, and takes alarm notifications over SNS', async () => {
    await start();
    await t.app.outbox.flush();
    t.slack.reset();
    const subscribeUrl = 'https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc';
    const confirmation = signed(signer.key, { Type: 'SubscriptionConfirmation', TopicArn: ALARM_TOPIC, SubscribeURL: subscribeUrl, Token: 'abc', Message: 'You have chosen to subscribe', SigningCertURL: TEST_CERT_URL });
    const ok = await fetch(`${t.url}/hooks/sns`, { method: 'POST', body: JSON.stringify(confirmation) });
    expect([ok.status, await ok.json()]).toEqual([200, { confirmed: true }]);
    expect(confirmed).toEqual([subscribeUrl]);
    const stranger = signed(signer.key, { Type: 'SubscriptionConfirmation', TopicArn: 'arn:aws:sns:ap-south-1:999999999999:someone-else', SubscribeURL: subscribeUrl, Token: 'abc', Message: 'x', SigningCertURL: TEST_CERT_URL });
    const refused = await fetch(`${t.url}/hooks/sns`, { method: 'POST', body: JSON.stringify(stranger) });
    expect([refused.status, await refused.json()]).toEqual([403, { error: 'topic is not in the runbook’s alarms.sns_topics' }]);
    expect(confirmed).toHaveLength(1);

    const alarmMessage = {
      AlarmName: SEED_ALARMS.latency,
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      NewStateReason: 'Threshold Crossed: p95 1.4 s > 1.0 s',
      StateChangeTime: '2026-12-01T03:00:00.000+0000',
      Region: 'Asia Pacific (Mumbai)',
      AlarmArn: `arn:aws:cloudwatch:ap-south-1:123456789012:alarm:${SEED_ALARMS.latency}`,
      Trigger: { MetricName: 'TargetResponseTime', Namespace: 'AWS/ApplicationELB', ExtendedStatistic: 'p95', Period: 300, ComparisonOperator: 'GreaterThanThreshold', Threshold: 1 },
    };
    const note = signed(signer.key, { TopicArn: ALARM_TOPIC, Message: JSON.stringify(alarmMessage), Subject: 'ALARM: latency', SigningCertURL: TEST_CERT_URL });
    const pushed = await fetch(`${t.url}/hooks/sns`, { method: 'POST', body: JSON.stringify(note) });
    expect(await pushed.json()).toEqual({ accepted: true, recorded: 1 });
    await t.app.outbox.flush();
    expect(posts().map((c) => c.args.text)).toEqual(['🔴 ALARM GoVisaX-Prod-API-Latency-P95 (warning): Threshold Crossed: p95 1.4 s &gt; 1.0 s']);
  });

  it('understands every EventBridge sample or refuses it with a reason', async () => {
    await start();
    const dir = path.join(PROJECT_ROOT, 'test/fixtures/aws/eventbridge');
    const answers: Record<string, unknown> = {};
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const res = await fetch(`${t.url}/hooks/eventbridge`, { method: 'POST', body: readFileSync(path.join(dir, file), 'utf8'), headers: { 'x-golive-secret': SECRET } });
      answers[file] = [res.status, await res.json()];
    }
    expect(answers).toEqual({
      'composite_alarm_configuration_change_create.json': [400, { error: 'not a state change' }],
      'composite_alarm_configuration_change_create_with_suppressor.json': [400, { error: 'not a state change' }],
      'composite_alarm_state_change_with_suppressor.json': [200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' }],
      'metric_alarm_anomaly_detection.json': [200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' }],
      'metric_alarm_metric_math.json': [200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' }],
      'metric_alarm_single_metric.json': [200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' }],
    });
  });

  it('delivers, once, what was recorded before a stop that came before sending', async () => {
    await start();
    await t.app.outbox.flush();
    await setState(SEED_ALARMS.fiveXx, 'OK');
    await pollAndDeliver();
    t.slack.reset();
    // Slack is down when the transition is recorded; the process then stops with the post still in the outbox.
    t.slack.failNext('chat.postMessage', { status: 503 });
    t.slack.failNext('chat.postMessage', { status: 503 });
    t.slack.failNext('chat.postMessage', { status: 503 });
    await setState(SEED_ALARMS.fiveXx, 'ALARM', 'after restart');
    await t.app.services.alarms.poll();
    await t.slack.waitFor(() => t.slack.callsTo('chat.postMessage').some((c) => c.faulted));
    t = await t.restart();
    await t.slack.waitFor(() => posts().some((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-API-5XX-Rate')), 15000);
    await t.app.services.alarms.poll();
    await sleep(200);
    await t.app.outbox.flush();
    expect(posts().filter((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-API-5XX-Rate'))).toHaveLength(1);
  }, 30_000); // the restarted outbox's retry backoff alone brings the post ~12 s after the restart

  it('opens the incident an alarm rule asks for, once per firing, and the button points to it', async () => {
    await start();
    await setState(SEED_ALARMS.health, 'ALARM', 'Healthy host count 0');
    await pollAndDeliver();
    await t.slack.waitFor(() => t.slack.callsTo('conversations.create').length === 1);
    await until('an open incident', async () => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM incident WHERE state = 'open'"))[0]?.n === 1);
    await t.app.outbox.flush();
    const post = posts().find((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-HealthCheck'))!;
    const ts = (post.result as { ts: string }).ts;
    expect(await query(t, 'SELECT severity, commander, alarm_name FROM incident')).toEqual([{ severity: 'P1', commander: 'U0DEVOPS', alarm_name: SEED_ALARMS.health }]);
    expect(posts().some((c) => c.args.thread_ts === ts && String(c.args.text).startsWith('🚨 Incident INC-1 declared for this alarm'))).toBe(true);
    const channelId = (await query<{ channel_id: string }>(t, 'SELECT channel_id FROM incident'))[0]!.channel_id;
    // The rule names what the alarm is about.
    expect(String(posts().find((c) => c.args.channel === channelId)!.args.text).split('\n')).toContain('• Affected services: api, checkout');
    const click1 = await click(t, 'golive_alarm_declare', SEED_ALARMS.health, 'U0CTO', ts);
    expect((await t.slack.waitForResponse((r) => r.id === click1)).body.text).toMatch(/^:warning: This alarm already has incident INC-1 in <#C\w+>\.$/);
    // Firing again while the incident is open does not open a second one.
    await setState(SEED_ALARMS.health, 'OK', 'Healthy host count 2');
    await pollAndDeliver();
    await setState(SEED_ALARMS.health, 'ALARM', 'Healthy host count 0 again');
    await pollAndDeliver();
    await sleep(200);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM incident')).toEqual([{ n: 1 }]);
    const timeline = await t.app.services.incidents.timeline(await t.app.services.incidents.get(1));
    expect(timeline.filter((e) => e.kind === 'alarm').map((e) => [e.detail.from, e.detail.to])).toEqual([
      ['INSUFFICIENT_DATA', 'ALARM'],
      ['ALARM', 'OK'],
      ['OK', 'ALARM'],
    ]);
    expect(timeline[0]!.kind).toBe('alarm');
  });

  it('declares an incident from the alarm post when the rule does not open one itself', async () => {
    await start();
    await setState(SEED_ALARMS.rdsCpu, 'ALARM', 'CPU 91%');
    await pollAndDeliver();
    const post = posts().find((c) => String(c.args.text).startsWith('🔴 ALARM GoVisaX-Prod-RDS-CPU'))!;
    const ts = (post.result as { ts: string }).ts;
    const first = await click(t, 'golive_alarm_declare', SEED_ALARMS.rdsCpu, 'U0DEVOPS', ts);
    expect((await t.slack.waitForResponse((r) => r.id === first)).body.text).toMatch(/^INC-1 \(P2\) is open in <#C\w+>; you are its commander\.$/);
    // Its rule names no services: the incident says what the alarm watches rather than nothing.
    await t.app.outbox.flush();
    const channelId = (await query<{ channel_id: string }>(t, 'SELECT channel_id FROM incident'))[0]!.channel_id;
    expect(String(posts().find((c) => c.args.channel === channelId)!.args.text).split('\n')).toContain('• Affected services: what alarm GoVisaX-Prod-RDS-CPU watches');
    const second = await click(t, 'golive_alarm_declare', SEED_ALARMS.rdsCpu, 'U0CTO', ts);
    expect((await t.slack.waitForResponse((r) => r.id === second)).body.text).toMatch(/^:warning: This alarm already has incident INC-1 in <#C\w+>\.$/);
  });


  it('records a page PagerDuty refuses for good as failed, and shows it in /golive alarms', async () => {
    await start();
    await t.app.outbox.flush();
    pd.failNext(400, { body: { status: 'invalid event', message: 'Event object is invalid', errors: ['Routing key is not valid'] } });
    await setState(SEED_ALARMS.health, 'ALARM', 'no healthy hosts');
    await pollAndDeliver();
    await pd.waitFor((e) => e.status === 400);
    await t.app.outbox.flush();
    const reply = await privateReply(t, 'alarms');
    expect(reply).toContain('*Deliveries that failed for good:*');
    expect(reply).toMatch(/❌ PagerDuty trigger at .*: .*Routing key is not valid/);
  });
});

describe('when golive cannot see, page or deliver', () => {
  type Health = { status: string; alarms?: { ok: boolean; since?: string; error?: string; failed_polls: number }; pagerduty?: { ok: boolean; since?: string; error?: string; failed_deliveries: number } };
  const healthz = async () => {
    const res = await fetch(`${t.url}/healthz`);
    return { code: res.status, body: (await res.json()) as Health };
  };
  const openHome = async () => {
    const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: `Ev${Math.random().toString(36).slice(2)}`, event_time: 1700000000, event: { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'home', event_ts: '1.1' } });
    t.slack.reset();
    await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers: { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' } });
    const view = (await t.slack.waitForCall('views.publish')).args.view as { blocks: { text?: { text: string } }[] };
    return view.blocks.map((b) => b.text?.text ?? '');
  };
  const TZ = 'Asia/Kolkata';

  it('says once in #ops that CloudWatch cannot be reached after the runbook’s number of failed polls, shows it everywhere, and says once when it sees again', async () => {
    const tap = await startAwsTap(moto.endpoint);
    try {
      await start({ endpoint: tap.endpoint, health: '{ failed_alarm_polls: 2 }' });
      await t.app.outbox.flush();
      await golive(t, 'status');
      await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Alarm test:'));
      await sleep(50);
      t.slack.reset();

      await tap.unplug();
      await expect(t.app.services.alarms.poll()).rejects.toThrow('Could not reach AWS CloudWatch for DescribeAlarms (ap-south-1): connection refused.');
      await t.app.outbox.flush();
      // One failed poll is not yet blindness: nothing is said, and /healthz counts it.
      expect(posts()).toEqual([]);
      const first = await healthz();
      expect(first).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok', alarms: { ok: true, since: expect.any(String), error: 'Could not reach AWS CloudWatch for DescribeAlarms (ap-south-1): connection refused.', failed_polls: 1 } }) });
      const since = first.body.alarms!.since!;

      await expect(t.app.services.alarms.poll()).rejects.toThrow();
      await t.app.outbox.flush();
      const notice = `🙈 *golive is not watching alarms.* 2 CloudWatch polls in a row failed, since ${formatTime(since, TZ)}: Could not reach AWS CloudWatch for DescribeAlarms (ap-south-1): connection refused.\nUntil this clears, an alarm that fires may be neither posted nor paged by golive: watch the CloudWatch console. golive keeps polling and says here when it can see the alarms again.`;
      expect(posts().map((c) => [c.args.channel, c.args.text])).toEqual([['C0OPS', notice]]);
      expect(await healthz()).toEqual({
        code: 200,
        body: expect.objectContaining({ status: 'degraded', alarms: { ok: false, since, error: 'Could not reach AWS CloudWatch for DescribeAlarms (ap-south-1): connection refused.', failed_polls: 2 }, pagerduty: { ok: true, failed_deliveries: 0 }, outbox: { ok: true } }),
      });
      const line = `🙈 *Not watching alarms* since ${formatTime(since, TZ)}: CloudWatch polls are failing — Could not reach AWS CloudWatch for DescribeAlarms (ap-south-1): connection refused.`;
      // The status board in #ops is redrawn with it, under the verdict line.
      const board = await t.slack.waitForCall('chat.update');
      expect((board.args.blocks as { text?: { text: string } }[]).slice(1, 3).map((b) => b.text?.text)).toEqual(['🟢 *All blockers done and every gate signed off — ready for go/no-go*', line]);
      expect((await privateReply(t, 'alarms')).split('\n').slice(0, 2)).toEqual([line, expect.stringMatching(/^\*Alarms — 1 firing of 3 watched\* \(last poll .+\)$/)]);
      expect((await openHome()).slice(1, 3)).toEqual(['🟢 *All blockers done and every gate signed off — ready for go/no-go*', line]);

      // Still blind: said once, not once per poll.
      t.slack.reset();
      await expect(t.app.services.alarms.poll()).rejects.toThrow();
      await t.app.outbox.flush();
      expect(posts()).toEqual([]);
      expect((await healthz()).body.alarms).toMatchObject({ ok: false, since, failed_polls: 3 });

      await tap.plugIn();
      await t.app.services.alarms.poll();
      await t.app.outbox.flush();
      const back = posts().map((c) => String(c.args.text));
      expect(back).toHaveLength(1);
      expect(back[0]).toMatch(new RegExp(`^👀 \\*golive is watching alarms again:\\* CloudWatch answered at .+, after 3 failed polls since ${formatTime(since, TZ).replace(/[+]/g, '\\+')} \\(under a minute\\)\\. Alarms that changed meanwhile are posted as usual\\.$`));
      const healthy = await healthz();
      expect(healthy).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok', alarms: { ok: true, failed_polls: 0 } }) });
      expect((await openHome())[2]).not.toContain('Not watching alarms');
      expect((await privateReply(t, 'alarms')).split('\n')[0]).toMatch(/^\*Alarms — 1 firing of 3 watched\*/);
    } finally {
      await tap.close();
    }
  }, 60_000);

  it('says once in #ops when PagerDuty deliveries keep failing, and once when a page gets through', async () => {
    await start({ health: '{ failed_page_deliveries: 2 }' });
    await t.app.outbox.flush();
    t.slack.reset();
    pd.failNext(503, { times: 2 });
    await setState(SEED_ALARMS.fiveXx, 'OK', 'back to normal');
    await pollAndDeliver();
    await pd.waitFor((e) => e.status === 202, 30_000);
    // The "takes pages again" notice is stored once the page's delivery is recorded, in the PagerDuty lane, which a
    // flush started before then does not wait for: flush until it is out.
    const notices = () => posts().map((c) => String(c.args.text)).filter((x) => x.startsWith('📟'));
    await until('both PagerDuty notices', async () => {
      await t.app.outbox.flush();
      return notices().length >= 2;
    });
    const texts = notices();
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/^📟 \*Pages are not reaching PagerDuty\.\* 2 deliveries in a row failed, since .+: PagerDuty failed to take the resolve for "golive\/alarm\/ap-south-1\/GoVisaX-Prod-API-5XX-Rate" \(503\).*\ngolive keeps retrying them, but on-call may not have been paged: if something is firing, call them\. golive says here when PagerDuty takes pages again\.$/);
    expect(texts[1]).toMatch(/^📟 \*PagerDuty takes pages again:\* one was delivered at .+, after 2 failed deliveries since .+ \(under a minute\)\. Pages still waiting go out at their next retry\.$/);
    expect((await healthz()).body).toMatchObject({ status: 'ok', pagerduty: { ok: true, failed_deliveries: 0 } });
  }, 60_000);
});
