import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { click, golive, privateReply, query, until } from '../support/golive-client.js';
import { clockAt } from '../support/clock.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

type Block = { type: string; text?: { text: string }; accessory?: { value: string; action_id: string }; elements?: { action_id?: string; value?: string; text?: unknown }[] };

let t: TestApp;
afterEach(async () => {
  await t.close();
});

function bigRunbook(items: number): string {
  const lines = [
    'version: 1',
    'launch: { name: Big launch, channel: C0OPS, timezone: UTC }',
    'roles:',
    '  devops: { name: DevOps, users: [U0DEVOPS] }',
    'gates:',
  ];
  for (let g = 0; g < 4; g++) {
    lines.push(`  - id: gate-${g}`, `    title: Gate ${g} ${'with a long title '.repeat(5)}`, '    signoff: [devops]', '    items:');
    for (let i = 0; i < items / 4; i++) {
      const level = ['blocker', 'warning', 'info'][i % 3];
      lines.push(`      - { id: item-${g}-${i}, title: "Item ${i} of gate ${g} ${'lorem ipsum '.repeat(12)}", level: ${level}, owner: devops }`);
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-big-'));
  const file = path.join(dir, 'big.yml');
  writeFileSync(file, lines.join('\n'));
  return file;
}

describe('/golive status', () => {
  it('shows one gate in full, done items with who and note', async () => {
    t = await startTestApp({ clock: { now: () => new Date('2026-12-01T02:30:00Z') } });
    await golive(t, 'check secrets-manager verified');
    await t.slack.waitForCall('chat.postMessage');
    await golive(t, 'status pre-flight');
    const post = await t.slack.waitForCall('chat.postMessage', (c) => Array.isArray(c.args.blocks) && JSON.stringify(c.args.blocks).includes('Done'));
    const blocks = post.args.blocks as Block[];
    expect(blocks[0]!.text!.text).toBe('🚀 Test launch — Pre-flight gates');
    expect(blocks[2]!.text!.text).toBe('🔴 *Pre-flight gates* `pre-flight` — 1/4 done · 1 blocker open · sign-off: ⏳ DevOps, ⏳ CTO');
    const texts = blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
    expect(texts).toContain('✅ `secrets-manager` AWS Secrets Manager populated\nSigned off by <@U0DEVOPS> · 1 Dec 08:00 GMT+5:30 — “verified”');
    expect(texts).toContain('🔴 `v2f-agreement` Visa2Fly B2B API agreement signed\nOwner: BD Lead (<@U0BDLEAD>)');
    expect(texts).toContain('⚠️ `acm-certificate` ACM wildcard certificate issued\nOwner: DevOps (<@U0DEVOPS>, <@U0DEVOPS2>)');
  });

  it('is the same board for everyone: a Sign off button on every open item, the click decides who may sign', async () => {
    t = await startTestApp();
    await golive(t, 'status pre-flight', 'U0DEVOPS');
    const post = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Test launch'));
    const ts = (post.result as { ts: string }).ts;
    const buttons = () => (t.slack.messages.get(`C0OPS:${ts}`)!.blocks as Block[]).filter((b) => b.accessory?.action_id === 'golive_check_item').map((b) => b.accessory!.value);
    // DevOps posted it, and the BD Lead's blocker has its button too.
    expect(buttons()).toEqual(['v2f-agreement', 'secrets-manager', 'acm-certificate', 's3-bucket-names']);

    // Someone else's click on an item they do not own is refused privately; the board does not change.
    const refused = await click(t, 'golive_check_item', 'v2f-agreement', 'U0DEVOPS', ts);
    expect((await t.slack.waitForResponse((r) => r.id === refused)).body.text).toBe(':warning: Only BD Lead: <@U0BDLEAD> can sign off `v2f-agreement` (Visa2Fly B2B API agreement signed).\nAsk one of them, or ask to be added to the role in the runbook.');
    expect(await query(t, 'SELECT * FROM item_state')).toEqual([]);

    // The BD Lead signs their item off from the board DevOps posted; the board, refreshed, keeps the other buttons.
    await click(t, 'golive_check_item', 'v2f-agreement', 'U0BDLEAD', ts);
    await until('the sign-off', async () => (await query<{ checked: number }>(t, "SELECT checked FROM item_state WHERE item_id = 'v2f-agreement'"))[0]?.checked === 1);
    await t.slack.waitFor(() => !buttons().includes('v2f-agreement'));
    expect(buttons()).toEqual(['secrets-manager', 'acm-certificate', 's3-bucket-names']);
  });

  it('suggests a gate for a typo', async () => {
    t = await startTestApp();
    expect(await privateReply(t, 'status preflight')).toBe(':warning: There is no gate `preflight`.\nDid you mean `pre-flight`?');
  });

  it('paginates a long runbook within Slack limits and pages in place with the buttons', async () => {
    t = await startTestApp({ runbook: bigRunbook(200) });
    await golive(t, 'status');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.result).toMatchObject({ ok: true });
    const blocks = post.args.blocks as Block[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    const pager = blocks[blocks.length - 1]!;
    expect(pager.type).toBe('actions');
    expect(pager.elements!.map((e) => e.action_id)).toEqual(['golive_status_page_next']);
    expect(JSON.stringify(blocks)).toContain('page 1 of 5');
    const ts = (post.result as { ts: string }).ts;
    await click(t, 'golive_status_page_next', pager.elements![0]!.value!, 'U0DEVOPS', ts);
    const update = await t.slack.waitForCall('chat.update');
    expect(update.result).toMatchObject({ ok: true });
    expect(update.args.ts).toBe(ts);
    const page2 = update.args.blocks as Block[];
    expect(JSON.stringify(page2)).toContain('page 2 of 5');
    expect(page2[page2.length - 1]!.elements!.map((e) => e.action_id)).toEqual(['golive_status_page_prev', 'golive_status_page_next']);
  });
});

describe('/golive status when Slack answers the post but the answer is lost', () => {
  it('posts one board (found by its mark in the channel), not a second one with live Sign off buttons', async () => {
    t = await startTestApp();
    let dropped = 0;
    t.slack.beforeReply = (call) => (call.method === 'chat.postMessage' && dropped++ === 0 ? 'drop' : undefined);
    await golive(t, 'status');
    await until('the board is remembered', async () => (await query(t, 'SELECT * FROM status_message')).length === 1);
    const boards = [...t.slack.messages.values()].filter((m) => m.channel === 'C0OPS');
    expect(boards).toHaveLength(1);
    expect(await query(t, 'SELECT channel, ts FROM status_message')).toEqual([{ channel: 'C0OPS', ts: boards[0]!.ts }]);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(t.slack.callsTo('conversations.history')).toHaveLength(1);
    expect(boards[0]!.metadata).toEqual({ event_type: 'golive_post', event_payload: { key: expect.stringMatching(/^status\//) } });
  });
});

describe('a newer /golive status in the channel', () => {
  it('turns the older board, once, into a link to the newest, and only the newest is refreshed after that', async () => {
    const clock = clockAt('2026-12-01T02:00:00Z');
    t = await startTestApp({ clock });
    for (let i = 0; i < 2; i++) {
      clock.at += 1000;
      await golive(t, 'status');
      await until(`board ${i + 1}`, async () => t.slack.callsTo('chat.postMessage').length === i + 1);
    }
    const [oldest, newest] = t.slack.callsTo('chat.postMessage').map((c) => (c.result as { ts: string }).ts);
    // Only the newest is kept (the newest's own row may be recorded a moment after its post: wait for it, not for any one row).
    await until('the old board is pointed and forgotten', async () => JSON.stringify(await query(t, 'SELECT ts FROM status_message')) === JSON.stringify([{ ts: newest }]));
    expect(await query(t, 'SELECT ts FROM status_message')).toEqual([{ ts: newest }]);
    const old = t.slack.messages.get(`C0OPS:${oldest}`)!;
    expect(old.text).toBe(`This status is out of date — the current one is here: <https://golive-test.slack.com/archives/C0OPS/p${newest!.replace('.', '')}>`);
    expect(JSON.stringify(old.blocks)).not.toContain('golive_check_item');
    expect(old.updates).toBe(1);
    // A sign-off refreshes the newest board; the old one is an ordinary message now.
    await click(t, 'golive_check_item', 'secrets-manager', 'U0DEVOPS', newest);
    await t.slack.waitFor(() => !JSON.stringify(t.slack.messages.get(`C0OPS:${newest}`)!.blocks).includes('"secrets-manager"'));
    expect(t.slack.messages.get(`C0OPS:${newest}`)!.text).not.toContain('out of date');
    expect(old.updates).toBe(1);
  });
});

describe('a Sign off click on a status message golive no longer keeps current', () => {
  it('is answered as any sign-off, and the old message says it is out of date instead of keeping its buttons', async () => {
    const clock = clockAt('2026-12-01T02:00:00Z');
    t = await startTestApp({ clock });
    await golive(t, 'status');
    await until('the board', async () => (await query(t, 'SELECT * FROM status_message')).length === 1);
    const ts = (await query<{ ts: string }>(t, 'SELECT ts FROM status_message'))[0]!.ts;
    // Kept current for a day.
    clock.at += 25 * 60 * 60 * 1000;
    await click(t, 'golive_check_item', 'secrets-manager', 'U0DEVOPS', ts);
    await until('the old board is replaced and forgotten', async () => (await query(t, 'SELECT * FROM status_message')).length === 0);
    const old = t.slack.messages.get(`C0OPS:${ts}`)!;
    expect(old.text).toBe('This status is out of date: golive keeps only the newest status message of a channel current, for a day, in at most 10 channels. Run `/golive status` for the current one.');
    expect(JSON.stringify(old.blocks)).not.toContain('golive_check_item');
    expect(await query(t, 'SELECT item_id, changed_by FROM item_state')).toEqual([{ item_id: 'secrets-manager', changed_by: 'U0DEVOPS' }]);
    expect(old.updates).toBe(1);
  });
});
