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

describe('/golive signoff', () => {
  it('explains privately which blockers are still open', async () => {
    expect(await privateReply(t, 'signoff pre-flight', 'U0CTO')).toBe(
      ':warning: Gate `pre-flight` cannot be signed off yet: 2 blockers are still open.\n• `v2f-agreement` Visa2Fly B2B API agreement signed (owner: BD Lead)\n• `secrets-manager` AWS Secrets Manager populated (owner: DevOps)',
    );
    expect(await query(t, 'SELECT * FROM gate_signoff')).toEqual([]);
  });

  it('refuses someone in none of the sign-off roles', async () => {
    expect(await privateReply(t, 'signoff pre-flight', 'U0BDLEAD')).toBe(':warning: Only DevOps or CTO can sign off gate `pre-flight`, and you are not in any of those roles.');
  });

  it('records each role once the blockers are done, and says when the gate is complete', async () => {
    await golive(t, 'check v2f-agreement', 'U0BDLEAD');
    await golive(t, 'check secrets-manager', 'U0DEVOPS');
    await t.slack.waitFor(() => t.slack.callsTo('chat.postMessage').length === 2);
    await golive(t, 'signoff pre-flight', 'U0CTO');
    const first = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('🖊️'));
    expect(first.args.text).toBe('🖊️ <@U0CTO> signed off gate `pre-flight` for CTO.\nPre-flight gates: 2/4 done. 🔴 *1 blocker open — NO-GO until resolved*');
    expect(await privateReply(t, 'signoff pre-flight', 'U0CTO')).toBe('Gate `pre-flight` is already signed off for CTO (by <@U0CTO>); nothing changed. Still missing: DevOps.');
    await golive(t, 'signoff pre-flight', 'U0DEVOPS');
    const second = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('fully signed off'));
    expect(second.args.text).toBe('🖊️ <@U0DEVOPS> signed off gate `pre-flight` for DevOps — the gate is fully signed off.\nPre-flight gates: 2/4 done. 🔴 *1 blocker open — NO-GO until resolved*');
    expect(await query(t, 'SELECT gate_id, role, user_id FROM gate_signoff ORDER BY role')).toEqual([
      { gate_id: 'pre-flight', role: 'cto', user_id: 'U0CTO' },
      { gate_id: 'pre-flight', role: 'devops', user_id: 'U0DEVOPS' },
    ]);
  });

  it('explains a gate without sign-off roles', async () => {
    expect(await privateReply(t, 'signoff soft-launch', 'U0CTO')).toBe(
      ':warning: Gate `soft-launch` has no sign-off roles in the runbook, so there is nothing to sign.\nAdd `signoff: [role, …]` to the gate in the runbook.',
    );
  });

  it('suggests the closest gate', async () => {
    expect(await privateReply(t, 'signoff preflight', 'U0CTO')).toBe(':warning: There is no gate `preflight`.\nDid you mean `pre-flight`?');
  });
});
