import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signSlackRequest } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

async function sendEvent(eventId: string, event: Record<string, unknown>, retryNum?: number) {
  const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: eventId, event_time: 1700000000, event });
  const headers: Record<string, string> = { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' };
  if (retryNum !== undefined) headers['X-Slack-Retry-Num'] = String(retryNum);
  return fetch(`${t.url}/slack/events`, { method: 'POST', body, headers }).then((r) => r.status);
}

describe('App Home', () => {
  it('publishes the launch dashboard when the Home tab is opened, once per event', async () => {
    const event = { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'home', event_ts: '1700000000.000100' };
    expect(await sendEvent('Ev0HOME1', event)).toBe(200);
    const publish = await t.slack.waitForCall('views.publish');
    expect(publish.result).toMatchObject({ ok: true });
    expect(publish.args.user_id).toBe('U0DEVOPS');
    const view = publish.args.view as { type: string; blocks: { type: string; text?: { text: string } }[] };
    expect(view.type).toBe('home');
    expect(view.blocks[0]!.text!.text).toBe('🚀 Test launch');
    expect(view.blocks[1]!.text!.text).toBe('🔴 *3 blockers open — NO-GO until resolved*');
    expect(await sendEvent('Ev0HOME1', event, 1)).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    expect(t.slack.callsTo('views.publish')).toHaveLength(1);
  });

  it('posts the launch report in the ops channel from its "Launch report" button', async () => {
    const { blockActionPayload, blockActionsBody, postSigned } = await import('../support/sign.js');
    const payload = { ...blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_post_report', value: '', messageTs: '1.1', responseUrl: t.slack.responseUrl() }), container: { type: 'view', view_id: 'V0HOME' }, channel: undefined, message: undefined };
    expect((await postSigned(`${t.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET)).status).toBe(200);
    const share = await t.slack.waitForCall('files.completeUploadExternal', undefined, 10_000);
    expect(share.args.channel_id).toBe('C0OPS');
    expect(String(share.args.initial_comment)).toMatch(/^📄 \*Launch report — Test launch\*, as of .+ \(asked for by <@U0DEVOPS>\)/);
    expect((share.args.files as { title: string }[]).map((f) => f.title)).toEqual(['Launch report — Test launch', 'Timeline — Test launch']);
  });

  it('republishes the Home tab after a sign-off clicked there', async () => {
    const { blockActionPayload, blockActionsBody, postSigned } = await import('../support/sign.js');
    const payload = { ...blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_check_item', value: 'secrets-manager', messageTs: '1.1', responseUrl: t.slack.responseUrl() }), container: { type: 'view', view_id: 'V0HOME' }, channel: undefined, message: undefined };
    expect((await postSigned(`${t.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET)).status).toBe(200);
    const publish = await t.slack.waitForCall('views.publish');
    const view = publish.args.view as { blocks: { text?: { text: string } }[] };
    expect(view.blocks[1]!.text!.text).toBe('🔴 *2 blockers open — NO-GO until resolved*');
    const announce = await t.slack.waitForCall('chat.postMessage');
    expect(announce.args.channel).toBe('C0OPS');
  });

  it('ignores the Messages tab', async () => {
    expect(await sendEvent('Ev0MSGS', { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'messages', event_ts: '1.2' })).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    expect(t.slack.callsTo('views.publish')).toHaveLength(0);
  });
});

describe('App Home kept current', () => {
  it('republishes for people who opened it when the launch changes, once per burst', async () => {
    const { golive } = await import('../support/golive-client.js');
    await t.close();
    t = await startTestApp({ appOptions: { homeDebounceMs: 400 } });
    // With PostgreSQL the app starts as the new leader, which redraws App Home once (debounced): let that
    // pass go by while nobody has the tab open, so the republish below is the one for the two sign-offs.
    await new Promise((r) => setTimeout(r, 500));
    expect(await sendEvent('Ev0HOME2', { type: 'app_home_opened', user: 'U0CTO', channel: 'D0HOME', tab: 'home', event_ts: '1.3' })).toBe(200);
    await t.slack.waitForCall('views.publish');
    // Two sign-offs in one burst: one republish with both.
    await Promise.all([golive(t, 'check secrets-manager', 'U0DEVOPS'), golive(t, 'check e2e-transaction', 'U0DEVOPS')]);
    const republished = await t.slack.waitForCall('views.publish', (c) => c !== t.slack.callsTo('views.publish')[0]);
    expect(republished.args.user_id).toBe('U0CTO');
    const blocks = (republished.args.view as { blocks: { text?: { text: string } }[] }).blocks;
    expect(blocks[1]!.text!.text).toBe('🔴 *1 blocker open — NO-GO until resolved*');
    await new Promise((r) => setTimeout(r, 600));
    expect(t.slack.callsTo('views.publish')).toHaveLength(2);
  });

  it('republishes only for people who opened it in the last 30 minutes; anyone else gets a fresh tab when they open it again', async () => {
    const { golive } = await import('../support/golive-client.js');
    await t.close();
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    t = await startTestApp({ appOptions: { homeDebounceMs: 20 }, clock: { now: () => new Date(now) } });
    await sendEvent('Ev0HOME5', { type: 'app_home_opened', user: 'U0CTO', channel: 'D0HOME', tab: 'home', event_ts: '1.5' });
    await t.slack.waitForCall('views.publish', (c) => c.args.user_id === 'U0CTO');
    now += 31 * 60_000;
    await sendEvent('Ev0HOME6', { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'home', event_ts: '1.6' });
    await t.slack.waitForCall('views.publish', (c) => c.args.user_id === 'U0DEVOPS');
    await golive(t, 'check secrets-manager', 'U0DEVOPS');
    await t.slack.waitForCall('views.publish', (c) => c.args.user_id === 'U0DEVOPS' && c !== t.slack.callsTo('views.publish')[1]);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.slack.callsTo('views.publish').map((c) => c.args.user_id)).toEqual(['U0CTO', 'U0DEVOPS', 'U0DEVOPS']);
    // Back after the sign-off: drawn fresh on opening.
    await sendEvent('Ev0HOME7', { type: 'app_home_opened', user: 'U0CTO', channel: 'D0HOME', tab: 'home', event_ts: '1.7' });
    const fresh = await t.slack.waitForCall('views.publish', (c) => c.args.user_id === 'U0CTO' && c !== t.slack.callsTo('views.publish')[0]);
    expect((fresh.args.view as { blocks: { text?: { text: string } }[] }).blocks[1]!.text!.text).toBe('🔴 *2 blockers open — NO-GO until resolved*');
  });

  it("paces its passes to Slack's views.publish budget: a pass for 3 viewers is followed by the next no sooner than 3 × 0.6 s", async () => {
    const { golive } = await import('../support/golive-client.js');
    await t.close();
    t = await startTestApp({ appOptions: { homeDebounceMs: 20 } });
    for (const [i, user] of ['U0CTO', 'U0DEVOPS', 'U0SRE'].entries()) {
      await sendEvent(`Ev0PACE${i}`, { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', event_ts: `2.${i}` });
      await t.slack.waitForCall('views.publish', (c) => c.args.user_id === user);
    }
    await golive(t, 'check secrets-manager', 'U0DEVOPS');
    await t.slack.waitForCall('views.publish', () => t.slack.callsTo('views.publish').length === 6);
    const firstPass = Date.now();
    await golive(t, 'check e2e-transaction', 'U0DEVOPS');
    await t.slack.waitForCall('views.publish', () => t.slack.callsTo('views.publish').length === 9, 10_000);
    // A lower bound only: a slow machine makes the gap longer, never shorter.
    expect(Date.now() - firstPass).toBeGreaterThanOrEqual(1600);
    const last = (t.slack.callsTo('views.publish').at(-1)!.args.view as { blocks: { text?: { text: string } }[] }).blocks[1]!.text!.text;
    expect(last).toBe('🔴 *1 blocker open — NO-GO until resolved*');
  });

  it('republishes when T-0 is moved', async () => {
    const { golive } = await import('../support/golive-client.js');
    await t.close();
    t = await startTestApp({ appOptions: { homeDebounceMs: 20 } });
    await sendEvent('Ev0HOME3', { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'home', event_ts: '1.4' });
    await t.slack.waitForCall('views.publish');
    await golive(t, 't0 +1h', 'U0DEVOPS');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('🕗'));
    await t.slack.waitForCall('views.publish', (c) => c !== t.slack.callsTo('views.publish')[0]);
  });
});
