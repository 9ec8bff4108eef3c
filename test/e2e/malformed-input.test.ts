import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { click, golive, privateReply, query, sleep } from '../support/golive-client.js';
import { postSigned } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ODD_INPUTS = [
  'check',
  'check nope',
  "check '; DROP TABLE item_state; --",
  'check `secrets-manager`',
  'check <@U0BDLEAD>',
  'uncheck 🚀🚀🚀',
  'signoff',
  'signoff pre-flight extra words',
  'status pre-flight soft-launch',
  'history -5',
  'history 1e9',
  'STATUS nonexistent',
  'ｃｈｅｃｋ secrets-manager',
  '*bold* _it_ ~s~',
  'check \u0000\u0007',
  `check ${'ü'.repeat(1600)}`,
];

describe('malformed input', () => {
  it('answers every odd command privately, changes nothing and posts nothing', async () => {
    for (const text of ODD_INPUTS) {
      const reply = await privateReply(t, text);
      expect(reply, text).toMatch(/^:warning: /);
      expect(reply, text).not.toContain('<@U0BDLEAD>`');
    }
    expect(await query(t, 'SELECT COUNT(*) AS n FROM item_state')).toEqual([{ n: 0 }]);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM audit')).toEqual([{ n: 0 }]);
    expect(t.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('survives broken interaction payloads and unknown buttons', async () => {
    const bad = await postSigned(`${t.url}/slack/events`, 'payload=%7Bnot-json', SIGNING_SECRET);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    const id = await click(t, 'golive_check_item', 'x'.repeat(1900), 'U0DEVOPS');
    const reply = await t.slack.waitForResponse((r) => r.id === id);
    expect(reply.body.text).toMatch(/^:warning: There is no checklist item `x+…`\./);
    await click(t, 'golive_status_page_next', '{"g":"nope","p":"x"}', 'U0DEVOPS');
    await sleep(100);
    // A button golive does not have (an older message's) is answered at once, privately, not left to Slack's error.
    const stale = await click(t, 'golive_check_item_v0', 'secrets-manager', 'U0DEVOPS');
    expect((await t.slack.waitForResponse((r) => r.id === stale)).body).toMatchObject({
      response_type: 'ephemeral',
      text: 'golive does not know that button (it may be from an older message); nothing was changed.\nRun `/golive status` for the current state, or `/golive help`.',
    });
    // A known button gets only its own handler's answer, not this one as well.
    expect(t.slack.responses.filter((r) => String(r.body.text).startsWith('golive does not know that button'))).toHaveLength(1);
    // Still serving.
    const { status } = await golive(t, 'help');
    expect(status).toBe(200);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM audit')).toEqual([{ n: 0 }]);
  });

  it('answers 400 to the seven signed envelope shapes Slack never sends, never 500', async () => {
    const user = { id: 'U0DEVOPS', team_id: 'T111' };
    const button = { type: 'button', action_id: 'golive_check_item', value: 'secrets-manager', block_id: 'b', action_ts: '1.2' };
    const base = { team: { id: 'T111' }, api_app_id: 'A0GOLIVE', token: 'x', trigger_id: '1.2.abc' };
    const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const shapes: [string, string, string][] = [
      ['actions: null', form({ ...base, type: 'block_actions', user, actions: null }), 'application/x-www-form-urlencoded'],
      ['a known button without user', form({ ...base, type: 'block_actions', actions: [button] }), 'application/x-www-form-urlencoded'],
      ['a known button with user: null', form({ ...base, type: 'block_actions', user: null, actions: [button] }), 'application/x-www-form-urlencoded'],
      ['view: null', form({ ...base, type: 'view_submission', user, view: null }), 'application/x-www-form-urlencoded'],
      ['a known form without state', form({ ...base, type: 'view_submission', user, view: { id: 'V1', callback_id: 'golive_incident_declare', private_metadata: '' } }), 'application/x-www-form-urlencoded'],
      ['a known form with state.values: null', form({ ...base, type: 'view_submission', user, view: { id: 'V1', callback_id: 'golive_incident_declare', private_metadata: '', state: { values: null } } }), 'application/x-www-form-urlencoded'],
      ['event: null', JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: 'Ev0NULL', event_time: 1, event: null }), 'application/json'],
    ];
    const statuses: [string, number][] = [];
    for (const [what, body, type] of shapes) statuses.push([what, (await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET, { extraHeaders: { 'Content-Type': type } })).status]);
    expect(statuses).toEqual(shapes.map(([what]) => [what, 400]));
    expect(await query(t, 'SELECT COUNT(*) AS n FROM audit')).toEqual([{ n: 0 }]);
  });
});
