import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunbookFile } from '../../src/platform/runbook/load-runbook.js';
import { sandboxDirectory } from '../../src/sandbox/people.js';
import { SANDBOX_BOT, SlackSim } from '../../src/sandbox/slack-sim.js';
import { PROJECT_ROOT } from '../support/start-app.js';

const TOKEN = 'xoxb-sandbox-test';
const OPS = 'C0OPS00001';
const ARJUN = 'U0SANDBOX01';
const VIKRAM = 'U0CTO00001';

function sim(snapshot?: ReturnType<SlackSim['snapshot']>): SlackSim {
  const loaded = loadRunbookFile(path.join(PROJECT_ROOT, 'runbooks/govisax.yml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  let now = Date.parse('2026-12-01T02:30:00Z');
  return new SlackSim({ directory: sandboxDirectory(loaded.runbook), token: TOKEN, opsChannel: { id: OPS, name: 'ops' }, now: () => (now += 1), snapshot });
}

describe('the sandbox Slack Web API', () => {
  it('accepts only the bot token it was given', () => {
    const s = sim();
    expect(s.call('auth.test', {}, undefined)).toEqual({ ok: false, error: 'not_authed' });
    expect(s.call('auth.test', {}, 'xoxb-other')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(s.call('auth.test', {}, TOKEN)).toMatchObject({ ok: true, user_id: SANDBOX_BOT.userId, team: 'golive sandbox' });
    expect(s.call('admin.users.list', {}, TOKEN)).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('posts, threads and updates messages in place, and rejects what Slack rejects', () => {
    const s = sim();
    const posted = s.call('chat.postMessage', { channel: OPS, text: 'status', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Launch' } }] }, TOKEN);
    expect(posted).toMatchObject({ ok: true, channel: OPS });
    const ts = String(posted.ts);
    expect(s.call('chat.postMessage', { channel: OPS, text: 'step 1', thread_ts: ts }, TOKEN)).toMatchObject({ ok: true });
    expect(s.call('chat.update', { channel: OPS, ts, text: 'status, later' }, TOKEN)).toMatchObject({ ok: true, text: 'status, later' });
    const top = s.messages.get(`${OPS}:${ts}`)!;
    // Slack keeps the blocks an update leaves out.
    expect(top).toMatchObject({ text: 'status, later', updates: 1, blocks: [{ type: 'header' }] });
    expect([...s.messages.values()].filter((m) => m.thread_ts === ts).map((m) => m.text)).toEqual(['step 1']);

    expect(s.call('chat.postMessage', { channel: 'C0NOWHERE', text: 'x' }, TOKEN)).toEqual({ ok: false, error: 'channel_not_found' });
    expect(s.call('chat.postMessage', { channel: OPS }, TOKEN)).toEqual({ ok: false, error: 'no_text' });
    expect(s.call('chat.update', { channel: OPS, ts: '1.000001', text: 'x' }, TOKEN)).toEqual({ ok: false, error: 'message_not_found' });
    expect(s.call('chat.postMessage', { channel: OPS, text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }, TOKEN)).toEqual({
      ok: false,
      error: 'invalid_blocks',
      response_metadata: { messages: ['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]'] },
    });
  });

  it('knows the runbook people and groups by name', () => {
    const s = sim();
    expect(s.call('users.info', { user: ARJUN }, TOKEN)).toMatchObject({ ok: true, user: { id: ARJUN, name: 'arjun', real_name: 'Arjun', profile: { display_name: 'arjun', email: 'arjun@sandbox.golive.invalid', title: 'DevOps' } } });
    expect(s.call('users.info', { user: 'U0NOBODY' }, TOKEN)).toEqual({ ok: false, error: 'user_not_found' });
    expect(s.call('usergroups.users.list', { usergroup: 'S0DEVOPS01' }, TOKEN)).toEqual({ ok: true, users: ['U0SANDBOX01', 'U0SANDBOX02'] });
    expect(s.call('usergroups.users.list', { usergroup: 'S0NOPE' }, TOKEN)).toEqual({ ok: false, error: 'no_such_subteam' });
    expect(s.call('users.lookupByEmail', { email: 'vikram@sandbox.golive.invalid' }, TOKEN)).toMatchObject({ ok: true, user: { id: VIKRAM } });
  });

  it('shows ephemeral messages and response_url replies only to their person, and replaces the clicked message when asked', () => {
    const s = sim();
    s.call('chat.postEphemeral', { channel: OPS, user: ARJUN, text: 'just for Arjun' }, TOKEN);
    const card = String(s.call('chat.postMessage', { channel: OPS, text: 'card' }, TOKEN).ts);
    const rid = s.newResponseId({ user: VIKRAM, channel: OPS, messageTs: card });
    expect(s.respond(rid, { response_type: 'ephemeral', replace_original: false, text: 'only Vikram sees this' })).toEqual({ ok: true });
    expect(s.respond(rid, { replace_original: true, text: 'card, replaced' })).toEqual({ ok: true });
    expect(s.respond('0badc0de', { text: 'x' })).toEqual({ ok: false, error: 'invalid_response_url' });
    expect([...s.messages.values()].map((m) => [m.text, m.ephemeralFor ?? 'everyone'])).toEqual([
      ['just for Arjun', ARJUN],
      ['card, replaced', 'everyone'],
      ['only Vikram sees this', VIKRAM],
    ]);
  });

  it('opens modals only with a trigger it handed out, for that trigger’s person', () => {
    const s = sim();
    const view = { type: 'modal', callback_id: 'x', title: { type: 'plain_text', text: 'Declare' }, blocks: [] };
    expect(s.call('views.open', { trigger_id: '123.456.abc', view }, TOKEN)).toEqual({ ok: false, error: 'invalid_trigger_id' });
    const opened = s.call('views.open', { trigger_id: s.newTrigger(VIKRAM), view }, TOKEN);
    expect(opened).toMatchObject({ ok: true, view: { type: 'modal', callback_id: 'x' } });
    expect(s.modalFor(VIKRAM)?.view).toEqual(view);
    expect(s.modalFor(ARJUN)).toBeUndefined();
    s.applyResponseAction(VIKRAM, s.modalFor(VIKRAM)!.id, {});
    expect(s.modalFor(VIKRAM)).toBeUndefined();
    expect(s.call('views.publish', { user_id: ARJUN, view: { type: 'home', blocks: [] } }, TOKEN)).toMatchObject({ ok: true, view: { type: 'home' } });
    expect(s.homes.get(ARJUN)?.view).toEqual({ type: 'home', blocks: [] });
  });

  it('creates incident channels with Slack’s name rules, and comes back from its snapshot', () => {
    const s = sim();
    const created = s.call('conversations.create', { name: 'inc-20261201-api-down', is_private: false }, TOKEN);
    expect(created).toMatchObject({ ok: true, channel: { name: 'inc-20261201-api-down', is_member: true } });
    const id = String((created.channel as { id: string }).id);
    expect(s.call('conversations.create', { name: 'inc-20261201-api-down' }, TOKEN)).toEqual({ ok: false, error: 'name_taken' });
    expect(s.call('conversations.create', { name: 'Has Spaces' }, TOKEN)).toEqual({ ok: false, error: 'invalid_name_specials' });
    expect(s.call('conversations.invite', { channel: id, users: ARJUN }, TOKEN)).toMatchObject({ ok: true });
    expect(s.call('conversations.invite', { channel: id, users: ARJUN }, TOKEN)).toMatchObject({ ok: false, error: 'already_in_channel' });
    expect(s.call('conversations.setTopic', { channel: id, topic: 'P1' }, TOKEN)).toMatchObject({ ok: true, channel: { topic: { value: 'P1' } } });
    s.call('chat.postMessage', { channel: id, text: 'hello' }, TOKEN);

    const again = sim(JSON.parse(JSON.stringify(s.snapshot())));
    expect([...again.channels.values()].map((c) => `${c.name} ${c.topic}`)).toEqual(['ops ', 'inc-20261201-api-down P1']);
    expect([...again.messages.values()].map((m) => m.text)).toEqual(['hello']);
    // New messages sort after the restored ones.
    const ts = String(again.call('chat.postMessage', { channel: id, text: 'later' }, TOKEN).ts);
    expect(ts > [...s.messages.values()][0]!.ts).toBe(true);
  });
});
