import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { golive, privateReply, query, submitView, until } from '../support/golive-client.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { PROJECT_ROOT, SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';
import { parseDocument } from 'yaml';
import { signSlackRequest } from '../support/sign.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
let pd: FakePagerDuty;
let t: TestApp;
const clock = { at: new Date('2026-12-01T02:30:00Z'), now: () => new Date(clock.at) };

function runbook(templates = ''): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-inc-')), 'inc.yml');
  writeFileSync(
    file,
    `version: 1
launch: { name: Incident test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS], groups: [S0DEVOPS] }
  cto: { name: CTO, users: [U0CTO] }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }]
services:
  - { name: api, cluster: c, service: s, region: ap-south-1, family: f, container: web, deployers: [devops], rollback_approvers: [cto] }
pagerduty: { source: govisax-prod }
incidents:
  postmortem_hours: 48
  severities:
    P1: { name: Critical, response_minutes: 0, update_every_minutes: 30, page: true, invite: [devops, cto], escalate_to: [cto], rollback_prompt_minutes: 15 }
    P3: { name: Medium, response_minutes: 240 }
${templates}`,
  );
  return file;
}

beforeAll(async () => {
  pd = await startFakePagerDuty();
});
afterAll(async () => {
  await pd.close();
});
beforeEach(async () => {
  pd.reset();
  clock.at = new Date('2026-12-01T02:30:00Z');
  t = await startTestApp({ runbook: runbook(), clock, env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url }, appOptions: { outboxPollMs: 50 } });
});
afterEach(async () => {
  await t.close();
});

const posts = (channel?: string) => t.slack.callsTo('chat.postMessage').filter((c) => !c.faulted && (!channel || c.args.channel === channel));
const flush = () => t.app.outbox.flush();

async function declare(text = 'incident declare P1 Payments failing at checkout', user = 'U0STRANGER') {
  const reply = await privateReply(t, text, user);
  await flush();
  const channel = t.slack.callsTo('conversations.create').at(-1)!;
  return { reply, channelId: ((channel.result as { channel: { id: string } }).channel).id, name: String(channel.args.name) };
}

describe('the example runbook’s templates', () => {
  it('print seed 000’s rollback rule in a P1, whose severity prompts a rollback, and not in a P3', async () => {
    const govisax = parseDocument(readFileSync(path.join(PROJECT_ROOT, 'runbooks/govisax.yml'), 'utf8')).toJS() as { incidents: { templates: { initial: string } } };
    await t.close();
    t = await startTestApp({ runbook: runbook(`  templates:\n    initial: ${JSON.stringify(govisax.incidents.templates.initial)}\n`), clock, env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url }, appOptions: { outboxPollMs: 50 } });
    const p1 = await declare('incident declare P1 Payments failing at checkout');
    const p3 = await declare('incident declare P3 Slow admin portal');
    expect(String(posts(p1.channelId)[0]!.args.text).split('\n')).toEqual([
      ':rotating_light: *Incident INC-1 — Critical*: Payments failing at checkout',
      '• Start time: 1 Dec 08:00 GMT+5:30   • Commander: <@U0STRANGER>',
      '• Affected services: —',
      '• Current status: Investigating   • Estimated resolution: unknown',
      '⏪ P1: if the root cause is not identified within 15 min, roll back to the last known good version; golive asks here at 1 Dec 08:15 GMT+5:30 if there is none by then.',
    ]);
    expect(String(posts(p3.channelId)[0]!.args.text).split('\n')).toEqual([
      ':rotating_light: *Incident INC-2 — Medium*: Slow admin portal',
      '• Start time: 1 Dec 08:00 GMT+5:30   • Commander: <@U0STRANGER>',
      '• Affected services: —',
      '• Current status: Investigating   • Estimated resolution: unknown',
    ]);
  });
});

describe('typed text never pings', () => {
  const TYPED = 'Checkout <!channel> <!here> <@U0EVIL> <#C0EVIL> <https://x|y> & <b down';
  const PINGS = ['<!channel>', '<!here>', '<@U0EVIL>', '<#C0EVIL>', '<https://x|y>', '<b'];

  it('shows a summary full of mentions and links as text in the topic, every message and App Home', async () => {
    const { channelId } = await declare(`incident declare P1 ${TYPED}`, 'U0DEVOPS');
    await golive(t, `incident update Still down: <!everyone> <@U0EVIL> & co`, 'U0DEVOPS', channelId);
    const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: 'Ev0HOMEPING', event_time: 1700000000, event: { type: 'app_home_opened', user: 'U0DEVOPS', channel: 'D0HOME', tab: 'home', event_ts: '1.1' } });
    await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers: { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' } });
    const home = await t.slack.waitForCall('views.publish');
    await golive(t, `incident resolve Cause <!channel> | Fixed <@U0EVIL>`, 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts('C0OPS').some((c) => String(c.args.text).includes('resolved')));
    await flush();

    expect(t.slack.callsTo('conversations.setTopic')[0]!.args.topic).toBe('P1 Critical: Checkout ‹!channel› ‹!here› ‹@U0EVIL› ‹#C0EVIL› ‹https://x|y› & ‹b down · commander <@U0DEVOPS>');
    const escaped = 'Checkout &lt;!channel&gt; &lt;!here&gt; &lt;@U0EVIL&gt; &lt;#C0EVIL&gt; &lt;https://x|y&gt; &amp; &lt;b down';
    expect(posts('C0OPS')[0]!.args.text).toBe(`🚨 *INC-1 declared* (P1 Critical) by <@U0DEVOPS>: ${escaped} → <#${channelId}>`);
    expect(String(posts(channelId)[0]!.args.text).split('\n')[0]).toBe(`:rotating_light: *Incident INC-1 — Critical*: ${escaped}`);
    const homeTexts = (home.args.view as { blocks: { text?: { text: string } }[] }).blocks.map((b) => b.text?.text ?? '');
    expect(homeTexts.find((x) => x.startsWith('*🔥 Open incidents*'))!.split('\n')[1]).toBe(`• INC-1 P1 ${escaped} — <#${channelId}> · commander <@U0DEVOPS>`);
    // Whatever golive sent Slack — messages, updates, topics, modals, App Home — no typed mention or link survives.
    const sent = t.slack.calls.filter((c) => c.method !== 'auth.test');
    expect(sent.length).toBeGreaterThan(5);
    for (const c of sent) {
      const args = JSON.stringify(c.args);
      for (const ping of PINGS) expect(args, `${c.method} sent ${ping}`).not.toContain(ping);
      expect(args, c.method).not.toContain('<!everyone>');
    }
    const mentions = sent.flatMap((c) => JSON.stringify(c.args).match(/<[@#!][^>]*>/g) ?? []);
    expect(new Set(mentions)).toEqual(new Set(['<@U0DEVOPS>', `<#${channelId}>`]));
  });
});

describe('/golive incident', () => {
  it('declares: a channel of its own, topic, invites, the initial template, the ops announcement and the page', async () => {
    const { reply, channelId, name } = await declare();
    expect(name).toBe('inc-20261201-payments-failing-at-checkout');
    expect(reply).toBe(`INC-1 is open in <#${channelId}>; you are its commander.`);
    expect(t.slack.callsTo('conversations.setTopic')[0]!.args.topic).toBe('P1 Critical: Payments failing at checkout · commander <@U0STRANGER>');
    expect(t.slack.callsTo('conversations.invite').map((c) => c.args.users)).toEqual(['U0STRANGER', 'U0DEVOPS', 'U0DEVOPS2', 'U0CTO']);
    const initial = posts(channelId)[0]!.args.text as string;
    expect(initial.split('\n')).toEqual([
      ':rotating_light: *Incident INC-1 — Critical*: Payments failing at checkout',
      '• Severity: P1',
      '• Start time: 1 Dec 08:00 GMT+5:30',
      '• Affected services: —',
      '• Current status: Investigating',
      '• Estimated resolution: unknown',
      '• Incident commander: <@U0STRANGER>',
      'We are actively investigating and will post updates here.',
    ]);
    expect(posts('C0OPS').map((c) => c.args.text)).toEqual([`🚨 *INC-1 declared* (P1 Critical) by <@U0STRANGER>: Payments failing at checkout → <#${channelId}>`]);
    const trigger = await pd.waitFor((e) => e.body.event_action === 'trigger');
    expect(trigger.valid).toBe(true);
    expect(trigger.body).toMatchObject({ dedup_key: 'golive/incident/1', payload: { summary: 'INC-1 P1: Payments failing at checkout', severity: 'critical', source: 'govisax-prod' } });
    expect(await query(t, 'SELECT kind, due_at FROM reminder ORDER BY due_at')).toEqual([
      { kind: 'escalation', due_at: '2026-12-01T02:35:00.000Z' },
      { kind: 'rollback_prompt', due_at: '2026-12-01T02:45:00.000Z' },
      { kind: 'update', due_at: '2026-12-01T03:00:00.000Z' },
    ]);
  });

  it('gives a taken channel name a suffix', async () => {
    // Someone already has a channel of that name.
    await fetch(`${t.slack.url}conversations.create`, { method: 'POST', headers: { Authorization: 'Bearer xoxb-test-token', 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'inc-20261201-payments-failing-at-checkout' }) });
    const { name } = await declare();
    expect(name).toBe('inc-20261201-payments-failing-at-checkout-2');
  });

  it('numbers updates, mirrors them to ops, and restarts the reminder cadence', async () => {
    const { channelId } = await declare();
    clock.at = new Date('2026-12-01T02:40:00Z');
    await golive(t, 'incident update Rolled back to govisax-prod:41; error rate falling', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).length === 2);
    await golive(t, 'incident update Error rate 0.2%', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).length === 3);
    await flush();
    expect(posts(channelId)[1]!.args.text).toBe(
      '*Update #1* — 1 Dec 08:10 GMT+5:30\n• Current status: Rolled back to govisax-prod:41; error rate falling\n• Actions taken: —\n• Next steps: —\n• ETA: —',
    );
    expect(String(posts(channelId)[2]!.args.text).startsWith('*Update #2*')).toBe(true);
    expect(posts('C0OPS').map((c) => c.args.text).slice(1)).toEqual([
      `📝 INC-1 update #1 by <@U0DEVOPS>: Rolled back to govisax-prod:41; error rate falling (<#${channelId}>)`,
      `📝 INC-1 update #2 by <@U0DEVOPS>: Error rate 0.2% (<#${channelId}>)`,
    ]);
    // Both updates fall in the same minute, so the second revives the reminder the first scheduled.
    expect(await query(t, "SELECT due_at, cancelled_at IS NOT NULL AS cancelled FROM reminder WHERE kind = 'update' ORDER BY id")).toEqual([
      { due_at: '2026-12-01T03:00:00.000Z', cancelled: 1 },
      { due_at: '2026-12-01T03:10:00.000Z', cancelled: 0 },
    ]);
    expect(await privateReply(t, 'incident update oops', 'U0DEVOPS')).toBe(
      ':warning: This is not an incident channel.\nRun it in the incident’s own channel (`inc-…`), where golive posted the initial message.',
    );
  });

  it('reminds the commander when an update is due, once per due time, also after a restart', async () => {
    const { channelId } = await declare();
    clock.at = new Date('2026-12-01T02:46:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(2); // the escalation and the rollback prompt
    clock.at = new Date('2026-12-01T03:01:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    expect(await t.app.services.incidents.runDueReminders()).toBe(0);
    await flush();
    expect(posts(channelId).at(-1)!.args.text).toBe('⏰ <@U0STRANGER> a status update for INC-1 is due (there has been none since it was declared): `/golive incident update <status>`');
    t = await t.restart();
    clock.at = new Date('2026-12-01T03:31:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    expect(await t.app.services.incidents.runDueReminders()).toBe(0);
  });

  it('resolves with root cause and duration, resolves the page, stops reminders, and reminds about the post-mortem', async () => {
    const { channelId } = await declare();
    clock.at = new Date('2026-12-01T03:15:00Z');
    await golive(t, 'incident resolve Bad migration locked the orders table | Rolled back and re-ran the migration online', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).length === 2);
    await flush();
    expect(posts(channelId)[1]!.args.text).toBe(
      ':white_check_mark: *Incident INC-1 resolved* at 1 Dec 08:45 GMT+5:30.\n• Root cause: Bad migration locked the orders table\n• Resolution: Rolled back and re-ran the migration online\n• Duration: 45 min\nA post-mortem will be written and shared within 48 hours.',
    );
    expect(posts('C0OPS').at(-1)!.args.text).toBe(`✅ *INC-1 resolved* by <@U0DEVOPS>: Payments failing at checkout (<#${channelId}>)`);
    await t.slack.waitFor(() => t.slack.callsTo('conversations.setTopic').length === 2);
    expect(t.slack.callsTo('conversations.setTopic').map((c) => c.args.topic)).toEqual([
      'P1 Critical: Payments failing at checkout · commander <@U0STRANGER>',
      '✅ Resolved 1 Dec 08:45 GMT+5:30 — P1 Critical: Payments failing at checkout · commander <@U0STRANGER>',
    ]);
    const resolve = await pd.waitFor((e) => e.body.event_action === 'resolve');
    expect(resolve.body.dedup_key).toBe('golive/incident/1');
    clock.at = new Date('2026-12-01T04:00:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(0);
    clock.at = new Date('2026-12-03T03:15:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    await flush();
    expect(posts('C0OPS').at(-1)!.args.text).toBe(`📝 The post-mortem for INC-1 (Payments failing at checkout) is due: <#${channelId}>`);
    expect(posts(channelId).at(-1)!.args.text).toBe('📝 <@U0STRANGER> the post-mortem for INC-1 is due now. The draft golive posted here when it was resolved is a start; `/golive incident postmortem` posts it again.');
    // The draft itself was shared in the incident channel when it was resolved.
    expect([...t.slack.files.values()].find((f) => f.title === 'Post-mortem draft — INC-1')).toMatchObject({ channel: channelId, completed: true });
    expect(await privateReply(t, 'incident resolve again', 'U0DEVOPS')).toMatch(/not an incident channel/);
  });

  it('links the post-mortem reminder to the draft page when golive has a public address', async () => {
    await t.close();
    t = await startTestApp({ runbook: runbook(), clock, env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, GOLIVE_PUBLIC_URL: 'https://golive.example.com/' }, appOptions: { outboxPollMs: 50 } });
    const { channelId } = await declare();
    await golive(t, 'incident resolve Bad migration locked the orders table', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).length === 2);
    clock.at = new Date('2026-12-03T02:30:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    await flush();
    const reminder = String(posts(channelId).at(-1)!.args.text);
    const link = /<(https:\/\/golive\.example\.com\/reports\/[A-Za-z0-9_-]{32}\/INC-1-postmortem\.html)\|INC-1 post-mortem draft>/.exec(reminder)?.[1];
    expect(reminder).toBe(`📝 <@U0STRANGER> the post-mortem for INC-1 is due now. The draft golive wrote when it was resolved: <${link}|INC-1 post-mortem draft> (also posted here as a file; \`/golive incident postmortem\` posts it again).`);
    // The link is the draft, served by golive itself.
    const page = await fetch(`${t.url}${new URL(link!).pathname}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Bad migration locked the orders table');
  });

  it('shows the timeline in order, and refuses unknown severities', async () => {
    const { channelId } = await declare('incident declare p3 Slow admin portal', 'U0DEVOPS');
    await golive(t, 'incident update looking', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).length === 2);
    const responseId = (await golive(t, 'incident timeline', 'U0DEVOPS', channelId)).responseId;
    const timeline = (await t.slack.waitForResponse((r) => r.id === responseId)).body.text as string;
    expect(timeline).toBe('*INC-1 timeline*\n`1 Dec 08:00 GMT+5:30` <@U0DEVOPS> declared P3: Slow admin portal\n`1 Dec 08:00 GMT+5:30` <@U0DEVOPS> update #1: looking');
    expect(pd.events).toEqual([]); // P3 does not page
    expect(await privateReply(t, 'incident declare P2 Something', 'U0DEVOPS')).toBe(':warning: `P2` is not a severity this runbook defines.\nUse one of P1, P3.');
  });

  it('escalates when nobody acknowledges within the response time, and not after an acknowledgement', async () => {
    const { channelId } = await declare();
    const initial = posts(channelId)[0]!;
    expect(JSON.stringify(initial.args.blocks)).toContain('"action_id":"golive_incident_ack"');
    clock.at = new Date('2026-12-01T02:36:00Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    await flush();
    expect(posts(channelId).at(-1)!.args.text).toBe('⏫ INC-1 (P1) was not acknowledged within 5 min: escalating to CTO (<@U0CTO>).');
    expect(posts('C0OPS').at(-1)!.args.text).toBe(`⏫ INC-1 (P1) was not acknowledged within 5 min: escalating to CTO (<@U0CTO>). <#${channelId}>`);

    const second = await declare('incident declare P1 Search is down', 'U0DEVOPS');
    const ackId = `r-${Math.random().toString(36).slice(2)}`;
    const { blockActionPayload, blockActionsBody, postSigned } = await import('../support/sign.js');
    const { SIGNING_SECRET } = await import('../support/start-app.js');
    await postSigned(`${t.url}/slack/events`, blockActionsBody(blockActionPayload({ user: 'U0CTO', channel: second.channelId, actionId: 'golive_incident_ack', value: '2', messageTs: '1.1', responseUrl: t.slack.responseUrl(ackId) })), SIGNING_SECRET);
    await until('the acknowledgement of incident 2', async () => (await query<{ acked_by: string | null }>(t, 'SELECT acked_by FROM incident WHERE id = 2'))[0]?.acked_by === 'U0CTO');
    await flush();
    const acked = await pd.waitFor((e) => e.body.event_action === 'acknowledge');
    expect(acked.body.dedup_key).toBe('golive/incident/2');
    clock.at = new Date('2026-12-01T02:50:00Z');
    await t.app.services.incidents.runDueReminders();
    await flush();
    expect(posts(second.channelId).some((c) => String(c.args.text).startsWith('⏫'))).toBe(false);
  });

  it('prompts a P1 without a root cause to roll back after 15 minutes, with a button', async () => {
    const { channelId } = await declare();
    clock.at = new Date('2026-12-01T02:46:00Z');
    await t.app.services.incidents.runDueReminders();
    await flush();
    const prompt = posts(channelId).find((c) => String(c.args.text).startsWith('⏪'))!;
    expect(prompt.args.text).toBe('⏪ INC-1 has been open 15 min without a root cause. Roll back `api` now? (This asks for an approval, like `/golive rollback api`.)');
    expect(JSON.stringify(prompt.args.blocks)).toContain('"value":"1:api"');
  });

  it('changes severity and commander, and says so in both channels', async () => {
    const { channelId } = await declare('incident declare P3 Slow admin portal', 'U0DEVOPS');
    // A re-grade decides who is paged: not for anyone who can read the channel.
    const { responseId } = await golive(t, 'incident severity P4', 'U0NOBODY', channelId);
    expect((await t.slack.waitForResponse((r) => r.id === responseId)).body.text).toBe(
      ':warning: Only people named in one of the runbook’s roles may change INC-1’s severity: it decides who is paged.\nAsk the commander, <@U0DEVOPS>.',
    );
    expect(await query(t, 'SELECT severity FROM incident WHERE id = 1')).toEqual([{ severity: 'P3' }]);
    await golive(t, 'incident severity P1', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).some((c) => String(c.args.text).startsWith('✏️')));
    await flush();
    expect(posts(channelId).at(-1)!.args.text).toBe('✏️ INC-1: severity P3 → P1 Critical, by <@U0DEVOPS>.');
    expect((await pd.waitFor((e) => e.body.event_action === 'trigger')).body.dedup_key).toBe('golive/incident/1');
    await golive(t, 'incident commander <@U0CTO|cto>', 'U0DEVOPS', channelId);
    await t.slack.waitFor(() => posts(channelId).filter((c) => String(c.args.text).startsWith('✏️')).length === 2);
    await flush();
    expect(posts('C0OPS').at(-1)!.args.text).toBe(`✏️ INC-1 (<#${channelId}>): commander is now <@U0CTO> (was <@U0DEVOPS>), set by <@U0DEVOPS>.`);
    await t.slack.waitFor(() => t.slack.callsTo('conversations.setTopic').some((c) => String(c.args.topic).includes('<@U0CTO>')));
    expect(t.slack.callsTo('conversations.setTopic').at(-1)!.args.topic).toBe('P1 Critical: Slow admin portal · commander <@U0CTO>');
    expect(await query(t, 'SELECT severity, commander FROM incident')).toEqual([{ severity: 'P1', commander: 'U0CTO' }]);
  });

  it('asks with a modal when declare, update or resolve come without text', async () => {
    const submit = (callbackId: string, metadata: string, values: Record<string, unknown>) => submitView(t, 'U0DEVOPS', callbackId, metadata, values);
    await golive(t, 'incident declare', 'U0DEVOPS');
    const opened = await t.slack.waitForCall('views.open');
    expect((opened.args.view as { callback_id: string }).callback_id).toBe('golive_incident_declare');
    const empty = await submit('golive_incident_declare', 'C0OPS', { severity: { value: { type: 'static_select', selected_option: { value: 'P3' } } }, summary: { value: { type: 'plain_text_input', value: '  ' } }, services: { value: { type: 'plain_text_input', value: null } } });
    expect(JSON.parse(empty.text)).toEqual({ response_action: 'errors', errors: { summary: 'An incident needs a summary.' } });
    await submit('golive_incident_declare', 'C0OPS', { severity: { value: { type: 'static_select', selected_option: { value: 'P3' } } }, summary: { value: { type: 'plain_text_input', value: 'Slow admin portal' } }, services: { value: { type: 'plain_text_input', value: 'admin' } } });
    const confirm = await t.slack.waitForCall('chat.postEphemeral');
    expect(confirm.args.text).toMatch(/^INC-1 is open in <#C\w+>; you are its commander\.$/);
    const channelId = (await query<{ channel_id: string }>(t, 'SELECT channel_id FROM incident'))[0]!.channel_id;
    await submit('golive_incident_update', '1', {
      status: { value: { type: 'plain_text_input', value: 'Index rebuilt' } },
      actions: { value: { type: 'plain_text_input', value: 'Added the missing index' } },
      next_steps: { value: { type: 'plain_text_input', value: 'Watch p95' } },
      eta: { value: { type: 'plain_text_input', value: '10 min' } },
    });
    await t.slack.waitFor(() => posts(channelId).some((c) => String(c.args.text).startsWith('*Update #1*')));
    await flush();
    expect(String(posts(channelId).find((c) => String(c.args.text).startsWith('*Update #1*'))!.args.text).split('\n').slice(1)).toEqual([
      '• Current status: Index rebuilt',
      '• Actions taken: Added the missing index',
      '• Next steps: Watch p95',
      '• ETA: 10 min',
    ]);
  });

  it('invites the PagerDuty on-call of the runbook’s escalation policy, found by email', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ oncalls: [
        { escalation_level: 1, user: { id: 'PU1', email: 'U0ONCALL@example.com' } },
        { escalation_level: 1, user: { id: 'PU2', email: 'nobody@elsewhere.example' } },
        { escalation_level: 2, user: { id: 'PU3', email: 'U0MANAGER@example.com' } },
      ] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await t.close();
    const file = runbook();
    const { readFileSync, writeFileSync: write } = await import('node:fs');
    write(file, readFileSync(file, 'utf8').replace('pagerduty: { source: govisax-prod }', 'pagerduty: { source: govisax-prod, escalation_policy: PESC123 }'));
    t = await startTestApp({ runbook: file, clock, env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_API_TOKEN: 'pd-rest-token-0123456789', PAGERDUTY_API_URL: `http://127.0.0.1:${port}` } });
    try {
      const { reply } = await declare();
      expect(t.slack.callsTo('conversations.invite').map((c) => c.args.users)).toContain('U0ONCALL');
      expect(t.slack.callsTo('conversations.invite').map((c) => c.args.users)).not.toContain('U0MANAGER');
      expect(reply).toMatch(/Not invited: the on-call nobody@elsewhere\.example has no Slack account with that email\.$/);
      expect(seen[0]).toBe('/oncalls?escalation_policy_ids%5B%5D=PESC123&include%5B%5D=users&earliest=true Token token=pd-rest-token-0123456789');
    } finally {
      server.close();
    }
  });

  it('keeps update reminders on their grid after a late sweep: one now, the next a cadence on', async () => {
    await declare();
    clock.at = new Date('2026-12-01T04:05:00Z'); // 65 min after the first due time
    const sent = await t.app.services.incidents.runDueReminders();
    expect(sent).toBe(3); // escalation, rollback prompt, one update reminder
    clock.at = new Date('2026-12-01T04:05:30Z');
    expect(await t.app.services.incidents.runDueReminders()).toBe(0);
    expect(await query(t, "SELECT due_at FROM reminder WHERE kind = 'update' AND sent_at IS NULL")).toEqual([{ due_at: '2026-12-01T04:30:00.000Z' }]);
  });

  it('resolves the page an escalation raised, even for a severity that does not page', async () => {
    const { channelId } = await declare('incident declare P3 Slow admin portal', 'U0DEVOPS');
    clock.at = new Date('2026-12-01T06:31:00Z'); // P3 responds within 240 min
    expect(await t.app.services.incidents.runDueReminders()).toBe(1);
    await flush();
    expect((await pd.waitFor((e) => e.body.event_action === 'trigger')).body.dedup_key).toBe('golive/incident/1');
    await golive(t, 'incident resolve Cache stampede', 'U0DEVOPS', channelId);
    const resolve = await pd.waitFor((e) => e.body.event_action === 'resolve');
    expect(resolve.body.dedup_key).toBe('golive/incident/1');
  });

  it('archives the channel and records nothing when declaring fails half-way', async () => {
    t.slack.failNext('usergroups.users.list', { error: 'ratelimited' });
    const reply = await privateReply(t, 'incident declare P1 Payments failing', 'U0DEVOPS');
    expect(reply).toMatch(/^:warning: I couldn't read the members of user group <!subteam\^S0DEVOPS> from Slack/);
    const created = t.slack.callsTo('conversations.create')[0]!;
    const id = (created.result as { channel: { id: string } }).channel.id;
    expect(t.slack.callsTo('conversations.archive').map((c) => c.args.channel)).toEqual([id]);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM incident')).toEqual([{ n: 0 }]);
  });

  it('makes one channel when Slack creates it but its answer is lost, instead of a second one named …-2', async () => {
    let dropped = 0;
    t.slack.beforeReply = (call) => (call.method === 'conversations.create' && dropped++ === 0 ? 'drop' : undefined);
    const { reply } = await declare();
    const made = [...t.slack.channels.values()].filter((c) => c.name.startsWith('inc-'));
    expect(made.map((c) => c.name)).toEqual(['inc-20261201-payments-failing-at-checkout']);
    expect(reply).toBe(`INC-1 is open in <#${made[0]!.id}>; you are its commander.`);
    expect(await query(t, 'SELECT channel_id, channel_name FROM incident')).toEqual([{ channel_id: made[0]!.id, channel_name: 'inc-20261201-payments-failing-at-checkout' }]);
    expect(t.slack.callsTo('conversations.create')).toHaveLength(1);
    expect(t.slack.callsTo('conversations.list')).toHaveLength(1);
    expect(t.slack.callsTo('conversations.archive')).toEqual([]);
    expect(t.slack.callsTo('conversations.invite').every((c) => c.args.channel === made[0]!.id)).toBe(true);
  });

  it('takes the next name when the name was already taken before it asked, even after a lost answer', async () => {
    await declare();
    let dropped = 0;
    t.slack.beforeReply = (call) => (call.method === 'conversations.create' && dropped++ === 0 ? 'drop' : undefined);
    // The dropped call answered name_taken (the first incident's channel, made minutes ago by a declaration of its own).
    clock.at = new Date('2026-12-01T02:40:00Z');
    await privateReply(t, 'incident declare P3 Payments failing at checkout', 'U0STRANGER');
    expect([...t.slack.channels.values()].filter((c) => c.name.startsWith('inc-')).map((c) => c.name)).toEqual(['inc-20261201-payments-failing-at-checkout', 'inc-20261201-payments-failing-at-checkout-2']);
  });

  it('lets only one of two racing declarations for the same alarm through, before any channel is made', async () => {
    const alarm = { name: 'GoVisaX-Prod-HealthCheck', firedAt: '2026-12-01T02:29:00.000Z', post: null };
    const results = await Promise.allSettled([
      t.app.services.incidents.declare({ severity: 'P1', summary: 'HealthCheck', userId: 'U0DEVOPS', source: 'button', alarm }),
      t.app.services.incidents.declare({ severity: 'P1', summary: 'HealthCheck', userId: 'U0CTO', declaredBy: 'golive', source: 'system', alarm }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(t.slack.callsTo('conversations.create')).toHaveLength(1);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM incident')).toEqual([{ n: 1 }]);
  });

  it('records a root cause, which stops the rollback prompt', async () => {
    const { channelId } = await declare();
    await golive(t, 'incident rootcause Migration 0042 locked orders', 'U0DEVOPS', channelId);
    await until('the root cause', async () => (await query<{ root_cause: string | null }>(t, 'SELECT root_cause FROM incident'))[0]?.root_cause !== null);
    clock.at = new Date('2026-12-01T02:46:00Z');
    await t.app.services.incidents.runDueReminders();
    await flush();
    expect(posts(channelId).some((c) => String(c.args.text).startsWith('⏪'))).toBe(false);
  });
});
