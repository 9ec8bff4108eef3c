import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { golive, privateReply, query, sleep } from '../support/golive-client.js';
import { clockAt } from '../support/clock.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('/golive check', () => {
  it('refuses someone outside the owner role privately, naming who can', async () => {
    const reply = await privateReply(t, 'check v2f-agreement signed', 'U0DEVOPS');
    expect(reply).toBe(':warning: Only BD Lead: <@U0BDLEAD> can sign off `v2f-agreement` (Visa2Fly B2B API agreement signed).\nAsk one of them, or ask to be added to the role in the runbook.');
    await sleep(50);
    expect(await query(t, 'SELECT * FROM item_state')).toEqual([]);
    expect(t.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('lets a member of the role through its Slack user group', async () => {
    await golive(t, 'check secrets-manager', 'U0DEVOPS2');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.text).toBe('✅ <@U0DEVOPS2> signed off `secrets-manager` (AWS Secrets Manager populated)\nPre-flight gates: 1/4 done, 1 blocker open. 🔴 *2 blockers open — NO-GO until resolved*');
    expect(await query(t, 'SELECT changed_by, note FROM item_state')).toEqual([{ changed_by: 'U0DEVOPS2', note: null }]);
  });

  it('lets anyone sign an item whose role is "anyone"', async () => {
    await golive(t, 'check s3-bucket-names', 'U0STRANGER');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.text).toContain('✅ <@U0STRANGER> signed off `s3-bucket-names`');
  });

  it('suggests the closest item for a typo and changes nothing', async () => {
    const reply = await privateReply(t, 'check secrets-manger', 'U0DEVOPS');
    expect(reply).toBe(':warning: There is no checklist item `secrets-manger`.\nDid you mean `secrets-manager`?');
  });

  it('says so when the item is already signed off', async () => {
    await golive(t, 'check secrets-manager first', 'U0DEVOPS');
    await t.slack.waitForCall('chat.postMessage');
    const reply = await privateReply(t, 'check secrets-manager again', 'U0DEVOPS2');
    expect(reply).toBe('`secrets-manager` was already signed off by <@U0DEVOPS> (“first”); nothing changed.');
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check'")).toEqual([{ n: 1 }]);
  });

  it('gives the usage when the item is missing', async () => {
    const reply = await privateReply(t, 'check', 'U0DEVOPS');
    expect(reply).toBe(
      ':warning: `/golive check` is missing an argument. Nothing was changed.\nUsage: `/golive check <item> [note]` — Sign a checklist item off, with an optional note. Recorded with who and when; announced in the channel.',
    );
  });

  it('escapes a note so it cannot ping the channel or forge links', async () => {
    await golive(t, 'check secrets-manager <!channel> see <https://evil.example|docs> & more', 'U0DEVOPS');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.text).toContain('“&lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more”');
    expect(await query(t, 'SELECT note FROM item_state')).toEqual([{ note: '<!channel> see <https://evil.example|docs> & more' }]);
  });

  it("stores what was typed when Slack sends the text HTML-encoded", async () => {
    await golive(t, 'check secrets-manager p95 &lt; 800ms &amp; no 5xx', 'U0DEVOPS');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.text).toContain('“p95 &lt; 800ms &amp; no 5xx”');
    expect(await query(t, 'SELECT note FROM item_state')).toEqual([{ note: 'p95 < 800ms & no 5xx' }]);
  });
});

describe('/golive check by a user group member whose membership changes', () => {
  let r: TestApp;
  const clock = clockAt('2026-12-01T02:00:00Z');
  beforeEach(async () => {
    r = await startTestApp({ clock });
  });
  afterEach(async () => {
    await r.close();
  });

  it('refuses someone removed from the group a few seconds after their last sign-off', async () => {
    await golive(r, 'check secrets-manager', 'U0DEVOPS2');
    await r.slack.waitForCall('chat.postMessage');
    r.slack.setUsergroupMembers('S0DEVOPS', []);
    clock.at += 6_000;
    const reply = await privateReply(r, 'check acm-certificate', 'U0DEVOPS2');
    expect(reply).toBe(':warning: Only DevOps: <@U0DEVOPS> can sign off `acm-certificate` (ACM wildcard certificate issued).\nAsk one of them, or ask to be added to the role in the runbook.');
    expect(await query(r, 'SELECT item_id FROM item_state')).toEqual([{ item_id: 'secrets-manager' }]);
  });

  it('refuses, and changes nothing, when Slack cannot say whether they are still in the group', async () => {
    await golive(r, 'check secrets-manager', 'U0DEVOPS2');
    await r.slack.waitForCall('chat.postMessage');
    clock.at += 6_000;
    r.slack.failNext('usergroups.users.list', { error: 'ratelimited' });
    const reply = await privateReply(r, 'check acm-certificate', 'U0DEVOPS2');
    expect(reply).toBe(":warning: I couldn't check with Slack that you are in user group <!subteam^S0DEVOPS> (ratelimited), so I did not do it.\nNothing was changed. Try again in a minute.");
    expect(await query(r, 'SELECT item_id FROM item_state')).toEqual([{ item_id: 'secrets-manager' }]);
    expect(r.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
