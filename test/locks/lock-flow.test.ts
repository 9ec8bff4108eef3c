import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clockAt } from '../support/clock.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { golive, privateReply, query, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedEcs, startMoto, type Moto } from '../support/moto.js';
import { signSlackRequest } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

let moto: Moto;
let smoke: SmokeServer;
let t: TestApp;
let clock: ReturnType<typeof clockAt>;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  // 06:30 in Asia/Kolkata, the runbook's timezone.
  clock = clockAt('2026-12-02T01:00:00.000Z');
});
afterEach(async () => {
  await t?.close();
});

const FREEZE = `freezes:
  - { id: hypercare, title: Launch hypercare, from: T+0, until: T+2h }
`;

async function start(extra = '') {
  t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: smoke.url, deployRequires: [], extra }), env: { AWS_ENDPOINT_URL: moto.endpoint }, clock, appOptions: { alarmPolling: false, expirySweepMs: 50 } });
}

const channelPosts = () => t.slack.callsTo('chat.postMessage').map((c) => String(c.args.text));

async function homeFor(user: string): Promise<string> {
  const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: `Ev${Math.random().toString(36).slice(2)}`, event_time: 1700000000, event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', event_ts: '1.1' } });
  const headers = { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' };
  const before = t.slack.callsTo('views.publish').length;
  await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers });
  await until('the Home tab', () => t.slack.callsTo('views.publish').length > before);
  return JSON.stringify(t.slack.callsTo('views.publish').at(-1)!.args.view);
}

describe('deploy locks', () => {
  it('refuses deploys while locked, naming who, why and until when; lets a rollback through; shows it on status and App Home; unlock lifts it; all in the history', async () => {
    await start();
    expect(await privateReply(t, 'lock api db migration running for 1h', 'U0DEVOPS')).toBe('🔒 Locked `api` until 2 Dec 07:30 GMT+5:30. It is announced in <#C0OPS>.');
    await until('the announcement', () => channelPosts().some((p) => p.startsWith('🔒')));
    expect(channelPosts()).toContain('🔒 <@U0DEVOPS> locked `api` until 2 Dec 07:30 GMT+5:30: “db migration running”. Deploys are refused until then; rollbacks are still allowed. `/golive unlock api` lifts it.');

    expect(await privateReply(t, 'deploy api v9', 'U0DEVOPS')).toBe(
      ':warning: Deploy of `api` refused: it is held. Nothing was changed.\n• 🔒 `api` is locked by <@U0DEVOPS>: “db migration running” — until 2 Dec 07:30 GMT+5:30 (in 1 h)\nRollbacks are still allowed. To lift the lock: `/golive unlock api`.',
    );
    expect(await query(t, 'SELECT id FROM deploy')).toEqual([]);
    // Someone else may not take over the lock, and is told whose it is.
    expect(await privateReply(t, 'lock api my own reason', 'U0DEVOPS2')).toMatch(/^:warning: `api` is already locked by <@U0DEVOPS>: “db migration running” — until 2 Dec 07:30 GMT\+5:30\. Nothing was changed\./);

    expect(await privateReply(t, 'rollback api bad deploy', 'U0DEVOPS')).toBe('Rollback request #1 is posted for approval. You cannot approve it yourself; you can cancel it on the card.');

    await golive(t, 'status', 'U0DEVOPS');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => JSON.stringify(c.args.blocks ?? []).includes('Deploy holds'));
    expect(JSON.stringify(status.args.blocks)).toContain('*Deploy holds* (rollbacks are always allowed)\\n🔒 `api` is locked by <@U0DEVOPS>: “db migration running” — until 2 Dec 07:30 GMT+5:30 (in 1 h)');
    expect(await homeFor('U0DEVOPS')).toContain('*🔒 Deploy holds* (1)\\n🔒 `api` is locked by <@U0DEVOPS>');

    clock.at = Date.parse('2026-12-02T01:20:00.000Z');
    expect(await privateReply(t, 'unlock api', 'U0DEVOPS2')).toBe('🔓 Unlocked `api`.');
    await until('the unlock announcement', () => channelPosts().some((p) => p.startsWith('🔓')));
    expect(channelPosts()).toContain('🔓 <@U0DEVOPS2> unlocked `api` (locked by <@U0DEVOPS>: “db migration running”) after 20 min. Deploys are allowed again.');
    expect(await homeFor('U0DEVOPS')).not.toContain('Deploy holds');
    // Now only the rollback request waiting for approval holds the service.
    expect(await privateReply(t, 'deploy api v9', 'U0DEVOPS')).toBe(':warning: A rollback of `api` requested by <@U0DEVOPS> is waiting for approval (request #1); approve, reject or cancel it on its card first.');

    const history = await privateReply(t, 'history 20', 'U0DEVOPS');
    expect(history).toContain('<@U0DEVOPS> locked deploys of `api` — “db migration running” · until 2 Dec 07:30 GMT+5:30 _(command in <#C0OPS>)_');
    expect(history).toContain('<@U0DEVOPS2> unlocked deploys of `api` — “db migration running” _(command in <#C0OPS>)_');
  });

  it('expires by itself when its time is up: announced once, and deploys are allowed again', async () => {
    await start();
    await privateReply(t, 'lock all release train paused for 30m', 'U0DEVOPS');
    expect(await privateReply(t, 'deploy api v9 --dry-run', 'U0DEVOPS')).toContain('🔒 All services are locked by <@U0DEVOPS>: “release train paused”');
    clock.at = Date.parse('2026-12-02T01:31:00.000Z');
    await until('the expiry announcement', () => channelPosts().some((p) => p.includes('expired')));
    expect(channelPosts().filter((p) => p.includes('expired'))).toEqual(['🔓 The lock on all services by <@U0DEVOPS> (“release train paused”) expired at 2 Dec 07:00 GMT+5:30 after 31 min. Deploys are allowed again.']);
    expect(await query(t, "SELECT release_kind FROM deploy_lock")).toEqual([{ release_kind: 'expired' }]);
    expect(await privateReply(t, 'deploy api v9 --dry-run', 'U0DEVOPS')).not.toContain('refused');
  });

  it('refuses an unknown service, and someone who neither deploys nor approves rollbacks', async () => {
    await start();
    expect(await privateReply(t, 'lock apj typo', 'U0DEVOPS')).toMatch(/^:warning: There is no service `apj`\.\nDid you mean `api`\?/);
    expect(await privateReply(t, 'lock api because', 'U0BDLEAD')).toBe(':warning: Only DevOps, CTO can lock or unlock `api`.');
    expect(await privateReply(t, 'unlock api', 'U0DEVOPS')).toBe(':warning: `api` is not locked; nothing was changed.');
  });
});

describe('freeze windows', () => {
  it('refuse deploys from T+0 to T+2h (rollbacks allowed), on the timeline, and lift by themselves', async () => {
    await start(FREEZE);
    expect(await privateReply(t, 'timeline', 'U0DEVOPS')).toBe('Launch timeline: freeze windows');
    const before = t.slack.responses.at(-1)!.body as { blocks: unknown[] };
    expect(JSON.stringify(before.blocks)).toContain('❔ `T+0 → T+2h` *Freeze: Launch hypercare* — waits for T-0; rollbacks allowed');
    await privateReply(t, 't0 06:20', 'U0DEVOPS');
    const timeline = await (async () => {
      await privateReply(t, 'timeline', 'U0DEVOPS');
      return JSON.stringify((t.slack.responses.at(-1)!.body as { blocks: unknown[] }).blocks);
    })();
    expect(timeline).toContain('🧊 `T+0 → T+2h (2 Dec 06:20 GMT+5:30 – 2 Dec 08:20 GMT+5:30)` *Freeze: Launch hypercare* — deploys held now, ends in 1 h 50 min; rollbacks allowed');

    expect(await privateReply(t, 'deploy api v9', 'U0DEVOPS')).toBe(
      ':warning: Deploy of `api` refused: it is held. Nothing was changed.\n• 🧊 Freeze *Launch hypercare* T+0 → T+2h (2 Dec 06:20 GMT+5:30 – 2 Dec 08:20 GMT+5:30) holds deploys of every service — ends in 1 h 50 min\nRollbacks are still allowed.',
    );
    expect(await privateReply(t, 'rollback api bad deploy', 'U0DEVOPS')).toBe('Rollback request #1 is posted for approval. You cannot approve it yourself; you can cancel it on the card.');
    expect(await homeFor('U0DEVOPS')).toContain('🧊 Freeze *Launch hypercare*');

    clock.at = Date.parse('2026-12-02T02:51:00.000Z');
    expect(await privateReply(t, 'deploy api v9 --dry-run', 'U0DEVOPS')).not.toContain('refused');
    expect(await homeFor('U0DEVOPS')).not.toContain('Deploy holds');
  });
});
