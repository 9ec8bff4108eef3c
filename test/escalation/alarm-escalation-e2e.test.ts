import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clockAt } from '../support/clock.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { click, query, sleep, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { sentMail } from '../support/ses-shim.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

/**
 * Seed 004's matrix on an alarm rule instead of a severity: levels count from
 * the firing, "not acknowledged" ends with a click on the alarm's post, "not
 * resolved" with the alarm back in OK — which also resolves the page a level
 * sent — and a new firing escalates from the start.
 */
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const ALARM = 'Fivestar-Payments-5xx';
const REGION = 'eu-west-1';
const RUNBOOK = `
version: 1
launch: { name: Fivestar, channel: C0OPS, timezone: Europe/Oslo }
roles:
  oncall: { name: On-call, users: [U0ONCALL] }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: oncall }] }]
email: { from: golive@fivestar.example, region: ${REGION} }
alarms:
  region: ${REGION}
  prefixes: [Fivestar-]
  rules:
    - match: Fivestar-Payments-*
      severity: critical
      escalation:
        - { name: Level 1 — Email, after_minutes: 0, email: [ops@fivestar.example] }
        - { name: Level 2 — Slack, after_minutes: 5, channel: ops, at_channel: true, mention: [oncall] }
        - { name: Level 3 — PagerDuty, after_minutes: 15, if: not_resolved, page: true }
`;

let moto: Moto;
let pd: FakePagerDuty;
let t: TestApp;
let runbookFile: string;
// The firing's time is CloudWatch's (moto's real clock), so the test's clock starts at the real now and moves on from there.
const clock = clockAt(new Date().toISOString());

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  pd = await startFakePagerDuty();
  runbookFile = path.join(mkdtempSync(path.join(tmpdir(), 'golive-alarm-escalation-')), 'fivestar.yml');
  writeFileSync(runbookFile, RUNBOOK);
});
afterAll(async () => {
  await pd.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await new SESv2Client({ endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS }).send(new CreateEmailIdentityCommand({ EmailIdentity: 'fivestar.example' }));
  await seedAlarms(moto.endpoint, [{ name: ALARM, state: 'OK' }], REGION);
  pd.reset();
  clock.at = Date.now();
  t = await startTestApp({
    runbook: runbookFile,
    clock,
    env: { AWS_ENDPOINT_URL: moto.endpoint, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url },
    appOptions: { alarmPolling: false, outboxPollMs: 50, expirySweepMs: 3_600_000 },
  });
  await t.app.services.alarms.poll(); // the baseline: OK
});
afterEach(async () => {
  await t?.close();
});

const minutes = (n: number) => (clock.at += n * 60_000);
const sweep = async () => {
  const r = await t.app.services.escalation.sweep();
  await t.app.outbox.flush();
  return r;
};
const setAlarm = async (state: 'OK' | 'ALARM', reason: string) => {
  await new CloudWatchClient({ endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS }).send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: state, StateReason: reason }));
  await sleep(5);
  if (Date.now() > clock.at) clock.at = Date.now();
  await t.app.services.alarms.poll();
  await t.app.outbox.flush();
};
const levelPosts = () => t.slack.callsTo('chat.postMessage').filter((c) => !c.faulted && String(c.args.text).includes('Level 2'));
const mailTo = async (address: string) => (await sentMail(moto.endpoint)).filter((m) => m.destinations.ToAddresses?.includes(address));

describe('the escalation matrix on an alarm rule, end to end', () => {
  it('escalates a firing level by level, resolves the page when the alarm recovers, and starts again on the next firing', async () => {
    await setAlarm('ALARM', 'Threshold Crossed: 5xx 7.5% > 2%');
    const fired = (await sweep()).fired;
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ subject: expect.stringMatching(new RegExp(`^alarm:${ALARM}@`)), level: 0 });
    const firstFiring = fired[0]!.subject;
    const mail = await mailTo('ops@fivestar.example');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.source).toBe('golive@fivestar.example');
    expect(mail[0]!.subject).toBe(`[ALARM] Fivestar - critical - ${ALARM}`);
    expect(mail[0]!.body.split('\n')[0]).toMatch(new RegExp(`^Escalation Level 1 — Email \\(1 of 3\\): CloudWatch alarm ${ALARM} \\(${REGION}\\) has been in ALARM since \\d+ Dec \\d\\d:\\d\\d CES?T and nobody has acknowledged it\\.$`));
    expect(mail[0]!.body).toContain('Reason: Threshold Crossed: 5xx 7.5% > 2%');

    minutes(5);
    expect((await sweep()).fired).toEqual([{ subject: firstFiring, level: 1 }]);
    expect(levelPosts().map((c) => [c.args.channel, c.args.text])).toEqual([
      ['C0OPS', `<!channel> <@U0ONCALL> ⏫ *Level 2 — Slack* (2 of 3): alarm \`${ALARM}\` (critical) — 5 min since it fired, not acknowledged. Please acknowledge it on its alarm post, or declare an incident.`],
    ]);

    minutes(10);
    expect((await sweep()).fired).toEqual([{ subject: firstFiring, level: 2 }]);
    const page = await pd.waitFor((e) => e.body.event_action === 'trigger');
    expect(page.body.dedup_key).toBe(`golive/alarm/${REGION}/${ALARM}`);
    expect((page.body.payload as { summary: string }).summary).toBe(`Level 3 — PagerDuty (not resolved after 15 min) ${ALARM} in ALARM: Threshold Crossed: 5xx 7.5% > 2%`);

    // Back to OK: the level's page is resolved, and nothing more escalates.
    await setAlarm('OK', 'Threshold Crossed: 5xx 0.1% < 2%');
    expect((await sweep()).pagesResolved).toEqual([firstFiring]);
    await pd.waitFor((e) => e.body.event_action === 'resolve' && e.body.dedup_key === `golive/alarm/${REGION}/${ALARM}`);
    minutes(60);
    expect((await sweep()).fired).toEqual([]);

    // A new firing is a new subject: level 1 again, once. moto stamps it with the real time, so the test's clock,
    // 75 minutes ahead by now, comes back to it (else the firing would look 75 minutes old and owe every level).
    clock.at = Date.now();
    await setAlarm('ALARM', 'Threshold Crossed: 5xx 9.0% > 2%');
    const again = (await sweep()).fired;
    expect(again).toHaveLength(1);
    expect(again[0]!.level).toBe(0);
    expect(again[0]!.subject).not.toBe(firstFiring);
    expect(await mailTo('ops@fivestar.example')).toHaveLength(2);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'escalation.fire'")).toEqual([{ n: 4 }]);
  });

  it('skips a not-acknowledged level once someone clicks Acknowledge on the alarm post', async () => {
    await setAlarm('ALARM', 'Threshold Crossed: 5xx 7.5% > 2%');
    await sweep();
    const post = t.slack.callsTo('chat.postMessage').find((c) => !c.faulted && String(c.args.text).startsWith(`🔴 ALARM ${ALARM}`))!;
    minutes(2);
    await click(t, 'golive_alarm_ack', ALARM, 'U0ONCALL', (post.result as { ts: string }).ts);
    await until('the alarm acknowledged', async () => (await query<{ acked_by: string | null }>(t, 'SELECT acked_by FROM alarm_state WHERE name = ?', ALARM))[0]?.acked_by === 'U0ONCALL');
    minutes(3);
    expect(await sweep()).toMatchObject({ fired: [], skipped: [{ level: 1, reason: expect.stringMatching(/^acknowledged at /) }] });
    expect(levelPosts()).toEqual([]);
  });
});
