import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAlarmRunbook, SEED_ALARMS } from '../support/alarm-fixture.js';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { postSigned, slashCommandBody } from '../support/sign.js';
import { PROJECT_ROOT } from '../support/start-app.js';
import { until } from '../support/golive-client.js';

/** Distinctive values for every secret golive is given: none may show up anywhere but where it is used. */
const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-SECRETbotTOKENq7w9',
  SLACK_SIGNING_SECRET: 'SECRETsigning0f3a9c7e5b1d',
  SLACK_APP_TOKEN: 'xapp-1-A0GOLIVE-3333-SECRETappTOKENz8x6',
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEYSECRET0123456789abcdef',
  PAGERDUTY_API_TOKEN: 'SECRETpdApiTok_u+6a9Q',
  GOLIVE_EVENTBRIDGE_SECRET: 'SECRETeventbridge-7c1d2e9f4b',
  AWS_SECRET_ACCESS_KEY: 'SECRETawsAccessKey/9b8c7d6e5f',
};

let slack: FakeSlack;
let pd: FakePagerDuty;
let dir: string;
let runbook: string;

beforeAll(async () => {
  slack = await startFakeSlack({ token: SECRETS.SLACK_BOT_TOKEN, appToken: SECRETS.SLACK_APP_TOKEN });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  pd = await startFakePagerDuty();
  dir = mkdtempSync(path.join(tmpdir(), 'golive-secrets-'));
  // The alarm runbook, with an escalation policy so declaring a P1 also asks PagerDuty's REST API who is on call.
  runbook = path.join(dir, 'secrets.yml');
  writeFileSync(runbook, readFileSync(writeAlarmRunbook(), 'utf8').replace('pagerduty: { source: govisax-prod }', 'pagerduty: { source: govisax-prod, escalation_policy: P0POLICY }'));
});
afterAll(async () => {
  await slack.close();
  await pd.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(level: string, extra: Record<string, string> = {}): Record<string, string> {
  const { SLACK_APP_TOKEN: _app, ...httpSecrets } = SECRETS;
  return {
    ...httpSecrets,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: runbook,
    GOLIVE_DB: path.join(dir, `${level}-${Date.now()}.db`),
    LOG_LEVEL: level,
    PAGERDUTY_EVENTS_URL: pd.url,
    // The REST API's /oncalls is not served by the fake: the lookup fails, and its failure is logged.
    PAGERDUTY_API_URL: pd.url.replace('/v2/enqueue', ''),
    AWS_ACCESS_KEY_ID: 'AKIATESTING',
    AWS_REGION: 'ap-south-1',
    // Nothing listens there: every alarm poll fails, and its failure is logged.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    GOLIVE_TEST_OUTBOX_POLL_MS: '100',
    ...extra,
  };
}

/** Where each secret turned up, if anywhere. */
function leaks(haystacks: { where: string; text: string }[], secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const { where, text } of haystacks) {
    for (const [name, value] of Object.entries(secrets)) {
      if (text.includes(value)) found.push(`${name} in ${where}: …${text.slice(Math.max(0, text.indexOf(value) - 80), text.indexOf(value) + value.length + 40)}…`);
    }
  }
  return found;
}

/** A flow through everything that logs: commands, failures of Slack, PagerDuty and AWS, bad signatures, both push hooks. */
async function exercise(proc: AppProcess): Promise<void> {
  const cmd = (text: string, secret = SECRETS.SLACK_SIGNING_SECRET, timestamp?: number) =>
    postSigned(`${proc.url}/slack/events`, slashCommandBody({ text, user_id: 'U0DEVOPS', response_url: slack.responseUrl() }), secret, { timestamp });
  slack.failNext('chat.postMessage', { status: 500 });
  slack.failNext('chat.postMessage', { retryAfter: 1 });
  pd.failNext(500);
  pd.failNext(429, { retryAfter: 1 });
  await cmd('help');
  await cmd('check a done');
  await cmd('status');
  await cmd('check a', 'not-the-secret');
  await cmd('check a', SECRETS.SLACK_SIGNING_SECRET, Math.floor(Date.now() / 1000) - 3600);
  await cmd('incident declare P1 checkout is down');
  const event = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/aws/eventbridge/metric_alarm_single_metric.json'), 'utf8')) as { detail: { alarmName: string }; resources: string[]; region: string };
  event.detail.alarmName = SEED_ALARMS.fiveXx;
  event.resources = [`arn:aws:cloudwatch:ap-south-1:123456789012:alarm:${SEED_ALARMS.fiveXx}`];
  event.region = 'ap-south-1';
  const hook = (secret: string) => fetch(`${proc.url}/hooks/eventbridge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-golive-secret': secret }, body: JSON.stringify(event) });
  expect((await hook('wrong-secret-0123456789')).status).toBe(401);
  expect((await hook(SECRETS.GOLIVE_EVENTBRIDGE_SECRET)).status).toBe(200);
  // Everything queued gets through the injected failures.
  await until('the incident page and the alarm page', () => pd.accepted().length >= 2, 20_000);
  await until('the announcements', () => slack.callsTo('chat.postMessage').filter((c) => c.result?.ok === true).length >= 3, 20_000);
}

describe('no secret in any log line, Slack message or PagerDuty event', () => {
  it.each(['trace', 'debug', 'info'])('at LOG_LEVEL=%s', async (level) => {
    slack.reset();
    pd.reset();
    const proc = await startAppProcess(env(level));
    try {
      await exercise(proc);
    } finally {
      await proc.stop();
    }
    expect(proc.lines.length).toBeGreaterThan(level === 'info' ? 5 : 20);
    const pdBodies = pd.events.map((e, i) => {
      // The routing key belongs in exactly one place: the event's routing_key.
      const { routing_key: key, ...rest } = (typeof e.body === 'object' && e.body !== null ? e.body : { raw: e.body }) as Record<string, unknown>;
      expect(key).toBe(SECRETS.PAGERDUTY_ROUTING_KEY);
      return { where: `PagerDuty event ${i}`, text: JSON.stringify(rest) };
    });
    const found = leaks(
      [
        ...proc.lines.map((l, i) => ({ where: `log line ${i}`, text: l })),
        ...slack.calls.map((c) => ({ where: `Slack ${c.method}`, text: JSON.stringify(c.args) })),
        ...slack.responses.map((r) => ({ where: `Slack response_url post`, text: JSON.stringify(r.body) })),
        ...pdBodies,
      ],
      SECRETS,
    );
    expect(found).toEqual([]);
    const problems = proc.lines.filter((l) => /"level":(40|50)/.test(l)).length;
    process.stderr.write(`secrets at ${level}: ${proc.lines.length} log lines (${problems} warn/error), ${slack.calls.length} Slack calls, ${pd.events.length} PagerDuty events, no secret found\n`);
  }, 60_000);

  it('in Socket Mode, while Slack refuses to open the connection and golive keeps retrying, no line names a token', async () => {
    slack.reset();
    const proc = await startAppProcess(env('trace', { SLACK_APP_TOKEN: SECRETS.SLACK_APP_TOKEN }), { waitForListening: false });
    try {
      await until('a retried apps.connections.open', () => slack.callsTo('apps.connections.open').length >= 2, 20_000);
    } finally {
      await proc.kill();
    }
    expect(proc.lines.length).toBeGreaterThan(0);
    expect(leaks(proc.lines.map((l, i) => ({ where: `log line ${i}`, text: l })), SECRETS)).toEqual([]);
  }, 30_000);
});
