import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { query, until } from '../support/golive-client.js';
import { blockActionPayload, blockActionsBody, postSigned, slashCommandBody } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

async function golive(text: string, user = 'U0DEVOPS', extra: Record<string, string> = {}) {
  const responseUrl = t.slack.responseUrl();
  const res = await postSigned(`${t.url}/slack/events`, slashCommandBody({ text, user_id: user, response_url: responseUrl, ...extra }), SIGNING_SECRET);
  return { res, responseUrl };
}

function texts(blocks: unknown): string {
  return JSON.stringify(blocks);
}

describe('checklist end to end', () => {
  it('posts the status with blockers first and a sign-off button on every open item', async () => {
    const { res } = await golive('status');
    expect(res.status).toBe(200);
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.channel).toBe('C0OPS');
    expect(post.args.text).toBe('Test launch: 3 blockers open — NO-GO until resolved');
    const blocks = post.args.blocks as { type: string; text?: { text: string }; accessory?: { value: string } }[];
    expect(blocks[1]!.text!.text).toBe('🔴 *3 blockers open — NO-GO until resolved*');
    const all = texts(blocks);
    expect(all.indexOf('Open blockers')).toBeLessThan(all.indexOf('Open warnings'));
    expect(all.indexOf('Open warnings')).toBeLessThan(all.indexOf('Open info items'));
    const buttons = blocks.filter((b) => b.accessory).map((b) => b.accessory!.value);
    // The board is the same for everyone in the channel: the BD Lead's item has its button though U0DEVOPS asked.
    expect(buttons.sort()).toEqual(['acm-certificate', 'e2e-transaction', 's3-bucket-names', 'secrets-manager', 'v2f-agreement']);
  });

  it('signs an item off by command, announces it, updates the status in place, and records it', async () => {
    await golive('status');
    const status = await t.slack.waitForCall('chat.postMessage');
    t.slack.calls.length = 0;
    await golive('check secrets-manager all 7 secrets verified');
    const announce = await t.slack.waitForCall('chat.postMessage');
    expect(announce.args.text).toBe(
      '✅ <@U0DEVOPS> signed off `secrets-manager` (AWS Secrets Manager populated) — “all 7 secrets verified”\nPre-flight gates: 1/4 done, 1 blocker open. 🔴 *2 blockers open — NO-GO until resolved*',
    );
    const update = await t.slack.waitForCall('chat.update');
    expect(update.args.ts).toBe((status.result as { ts: string }).ts);
    expect(update.args.text).toBe('Test launch: 2 blockers open — NO-GO until resolved');
    expect(await query(t, 'SELECT item_id, checked, changed_by, note FROM item_state')).toEqual([
      { item_id: 'secrets-manager', checked: 1, changed_by: 'U0DEVOPS', note: 'all 7 secrets verified' },
    ]);
    expect(await query(t, 'SELECT actor, action, target, source, channel FROM audit')).toEqual([
      { actor: 'U0DEVOPS', action: 'item.check', target: 'secrets-manager', source: 'command', channel: 'C0OPS' },
    ]);
  });

  it('signs off with the button on the status message', async () => {
    await golive('status');
    const status = await t.slack.waitForCall('chat.postMessage');
    const ts = (status.result as { ts: string }).ts;
    t.slack.calls.length = 0;
    const payload = blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_check_item', value: 'acm-certificate', messageTs: ts, responseUrl: t.slack.responseUrl() });
    const res = await postSigned(`${t.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET);
    expect(res.status).toBe(200);
    const announce = await t.slack.waitForCall('chat.postMessage');
    expect(announce.args.text).toContain('✅ <@U0DEVOPS> signed off `acm-certificate`');
    const update = await t.slack.waitForCall('chat.update', (c) => c.args.ts === ts);
    expect(texts(update.args.blocks)).not.toContain('"value":"acm-certificate"');
  });
});

describe('a burst of checklist changes', () => {
  it('announces the first at once and the ones made while it was on its way in one post after the window, each change once', async () => {
    // The first announcement stays with Slack until the other three changes are recorded.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    t.slack.beforeReply = async (call) => {
      if (call.method === 'chat.postMessage' && String(call.args.text).includes('`secrets-manager`')) await held;
    };
    const audited = async (n: number) => (await query<{ n: number }>(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check'"))[0]!.n === n;
    await golive('check secrets-manager');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('`secrets-manager`'));
    await golive('check acm-certificate');
    await until('the acm-certificate check', () => audited(2));
    await golive('check s3-bucket-names', 'U0QA');
    await until('the s3-bucket-names check', () => audited(3));
    await golive('check v2f-agreement', 'U0BDLEAD');
    await until('the v2f-agreement check', () => audited(4));
    release();

    const gathered = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('📋'));
    expect(gathered.args.text).toMatch(/^📋 3 checklist changes in the last \d+ s:\n/);
    expect(String(gathered.args.text).split('\n').slice(1)).toEqual([
      '✅ <@U0DEVOPS> signed off `acm-certificate` (ACM wildcard certificate issued)',
      '✅ <@U0QA> signed off `s3-bucket-names` (S3 bucket names reserved)',
      '✅ <@U0BDLEAD> signed off `v2f-agreement` (Visa2Fly B2B API agreement signed)',
      'Pre-flight gates: 4/4 done. 🔴 *1 blocker open — NO-GO until resolved*',
    ]);
    // Two posts for four changes, and nothing is posted again once the outbox settles.
    await until('the outbox to settle', async () => (await query<{ n: number }>(t, 'SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL'))[0]!.n === 0);
    const posts = t.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS');
    expect(posts.map((c) => String(c.args.text).split('\n')[0])).toEqual([
      '✅ <@U0DEVOPS> signed off `secrets-manager` (AWS Secrets Manager populated)',
      String(gathered.args.text).split('\n')[0],
    ]);
  });
});

describe('unexpected failures', () => {
  it('tells the user an error id that is also in the log, and the process keeps serving', async () => {
    const { vi } = await import('vitest');
    const spy = vi.spyOn(t.app.services.checklist, 'snapshot').mockImplementation(() => {
      throw new Error('disk I/O error');
    });
    const { responseUrl } = await golive('status');
    const reply = await t.slack.waitForResponse((r) => responseUrl.endsWith(r.id));
    const match = /^:warning: Something went wrong on golive's side \(error id `([0-9a-f]{8})`\)\.\nCheck `\/golive history` to see whether your change was recorded before trying again, and give the error id to whoever runs golive\.$/.exec(reply.body.text as string);
    expect(match).not.toBeNull();
    expect(reply.body.response_type).toBe('ephemeral');
    const logLine = t.logs.find((l) => l.includes(match![1]!));
    expect(logLine).toContain('disk I/O error');
    spy.mockRestore();
    await golive('status');
    await t.slack.waitForCall('chat.postMessage');
  });
});
