import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { golive, privateReply, query } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

async function signAllPreflightBlockers() {
  await golive(t, 'check v2f-agreement', 'U0BDLEAD');
  await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('v2f-agreement'));
  await golive(t, 'check secrets-manager', 'U0DEVOPS');
  await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('secrets-manager'));
}

describe('/golive uncheck', () => {
  it('reopens an item with a reason and announces it', async () => {
    await signAllPreflightBlockers();
    await golive(t, 'uncheck secrets-manager razorpay key was for test mode', 'U0DEVOPS');
    const post = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('↩️'));
    expect(post.args.text).toBe(
      '↩️ <@U0DEVOPS> reopened `secrets-manager` (AWS Secrets Manager populated) — “razorpay key was for test mode”\nPre-flight gates: 1/4 done, 1 blocker open. 🔴 *2 blockers open — NO-GO until resolved*',
    );
    expect(await query(t, "SELECT checked, note FROM item_state WHERE item_id = 'secrets-manager'")).toEqual([{ checked: 0, note: 'razorpay key was for test mode' }]);
  });

  it("withdraws the gate's sign-offs when a blocker is reopened", async () => {
    await signAllPreflightBlockers();
    await golive(t, 'signoff pre-flight', 'U0CTO');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('🖊️'));
    await golive(t, 'uncheck v2f-agreement keys revoked', 'U0BDLEAD');
    const post = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('↩️'));
    expect(post.args.text).toContain('The sign-off of gate `pre-flight` by CTO (<@U0CTO>) is withdrawn: a blocker it vouched for is open again.');
    expect(await query(t, 'SELECT * FROM gate_signoff')).toEqual([]);
  });

  it('says nothing changed for an item that is not signed off', async () => {
    expect(await privateReply(t, 'uncheck acm-certificate', 'U0DEVOPS')).toBe('`acm-certificate` is not signed off; nothing changed.');
  });

  it('refuses someone outside the owner role', async () => {
    await signAllPreflightBlockers();
    expect(await privateReply(t, 'uncheck v2f-agreement', 'U0DEVOPS')).toBe(
      ':warning: Only BD Lead: <@U0BDLEAD> can take back `v2f-agreement` (Visa2Fly B2B API agreement signed).\nAsk one of them, or ask to be added to the role in the runbook.',
    );
  });
});
