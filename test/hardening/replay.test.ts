import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_ALARMS, writeAlarmRunbook } from '../support/alarm-fixture.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { query, sleep, until } from '../support/golive-client.js';
import { blockActionPayload, blockActionsBody, signSlackRequest, slashCommandBody } from '../support/sign.js';
import { PROJECT_ROOT, SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp | undefined;
let pd: FakePagerDuty | undefined;
afterEach(async () => {
  await t?.close();
  await pd?.close();
  t = undefined;
  pd = undefined;
});

const now = () => Math.floor(Date.now() / 1000);

/** Sends exactly these bytes with exactly these headers: what an attacker who captured a request can do. */
async function replay(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(url, { method: 'POST', body, headers })).status;
}

const count = async (sql: string) => ((await query<{ n: number }>(t!, sql))[0]!.n);

describe('forged and stale requests', () => {
  it.each([
    ['a slash command', () => slashCommandBody({ text: 'check secrets-manager', user_id: 'U0DEVOPS', response_url: t!.slack.responseUrl() }), 'application/x-www-form-urlencoded'],
    ['a button click', () => blockActionsBody(blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_check_item', value: 'secrets-manager', messageTs: '1.000001', responseUrl: t!.slack.responseUrl() })), 'application/x-www-form-urlencoded'],
    ['an event', () => JSON.stringify({ type: 'event_callback', event_id: 'Ev0FORGED', team_id: 'T111', event: { type: 'app_home_opened', user: 'U0DEVOPS', tab: 'home' } }), 'application/json'],
  ])('refuses %s signed with another secret, stale, without a timestamp, or changed after signing', async (_what, build, type) => {
    t = await startTestApp();
    const url = `${t.url}/slack/events`;
    const body = build();
    const signed = (secret: string, ts: number) => ({ ...signSlackRequest(secret, body, ts), 'Content-Type': type }) as Record<string, string>;
    const statuses = {
      otherSecret: await replay(url, body, signed('another-secret-entirely', now())),
      stale: await replay(url, body, signed(SIGNING_SECRET, now() - 5 * 60 - 30)),
      noTimestamp: await replay(url, body, { 'X-Slack-Signature': signed(SIGNING_SECRET, now())['X-Slack-Signature']!, 'Content-Type': type }),
      changed: await replay(url, `${body}x`, signed(SIGNING_SECRET, now())),
      signatureOfAnotherBody: await replay(url, body, { ...signed(SIGNING_SECRET, now()), 'X-Slack-Signature': signSlackRequest(SIGNING_SECRET, 'text=help', now())['X-Slack-Signature'] }),
    };
    expect(statuses).toEqual({ otherSecret: 401, stale: 401, noTimestamp: 401, changed: 401, signatureOfAnotherBody: 401 });
    await sleep(100);
    expect(await count('SELECT COUNT(*) AS n FROM audit')).toBe(0);
    expect(t.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(t.slack.responses).toEqual([]);
  });
});

describe('the same signed request twice', () => {
  it('a replayed click and a replayed command change state once, also when the replay comes after a restart', async () => {
    t = await startTestApp();
    const url = `${t.url}/slack/events`;
    const click = blockActionsBody(blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_check_item', value: 'secrets-manager', messageTs: '1.000001', responseUrl: t.slack.responseUrl('click') }));
    const clickHeaders = signSlackRequest(SIGNING_SECRET, click) as unknown as Record<string, string>;
    // Side by side, then again: four copies of one signed click.
    expect(await Promise.all([replay(url, click, clickHeaders), replay(url, click, clickHeaders)])).toEqual([200, 200]);
    expect(await replay(url, click, clickHeaders)).toBe(200);
    const command = slashCommandBody({ text: 'uncheck secrets-manager', user_id: 'U0DEVOPS', response_url: t.slack.responseUrl('cmd') });
    const commandHeaders = signSlackRequest(SIGNING_SECRET, command) as unknown as Record<string, string>;
    await until('the check to be recorded', async () => await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check'") === 1);
    expect(await replay(url, command, commandHeaders)).toBe(200);
    await until('the uncheck to be recorded', async () => await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.uncheck'") === 1);

    t = await t.restart();
    const again = `${t.url}/slack/events`;
    expect(await replay(again, click, clickHeaders)).toBe(200);
    expect(await replay(again, command, commandHeaders)).toBe(200);
    await sleep(300);
    expect(await query(t, 'SELECT action FROM audit ORDER BY id')).toEqual([{ action: 'item.check' }, { action: 'item.uncheck' }]);
    expect(await query(t, 'SELECT checked FROM item_state')).toEqual([{ checked: 0 }]);
  });

  it('a replayed EventBridge push posts and pages once', async () => {
    pd = await startFakePagerDuty();
    const secret = 'eventbridge-secret-0123456789';
    t = await startTestApp({ runbook: writeAlarmRunbook(), env: { GOLIVE_EVENTBRIDGE_SECRET: secret, PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdef012345', PAGERDUTY_EVENTS_URL: pd.url }, appOptions: { alarmPolling: false } });
    const event = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/aws/eventbridge/metric_alarm_single_metric.json'), 'utf8')) as { detail: { alarmName: string }; region: string };
    event.detail.alarmName = SEED_ALARMS.fiveXx;
    event.region = 'ap-south-1';
    const push = () => fetch(`${t!.url}/hooks/eventbridge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-golive-secret': secret }, body: JSON.stringify(event) }).then((r) => r.status);
    expect(await Promise.all([push(), push(), push()])).toEqual([200, 200, 200]);
    await pd.waitFor((e) => e.status === 202);
    await t.slack.waitForCall('chat.postMessage');
    expect(await push()).toBe(200);
    await sleep(300);
    expect(pd.accepted().map((e) => e.event_action)).toEqual(['trigger']);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(await count('SELECT COUNT(*) AS n FROM alarm_transition')).toBe(1);
  });
});
