import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../support/golive-client.js';
import { blockActionPayload, blockActionsBody, newTriggerId, postSigned, slashCommandBody } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

/**
 * Seeded fuzzing of everything a Slack user can send: slash commands, button
 * clicks, modal submissions, events and raw bodies. Set FUZZ_SEED to replay a
 * failure; the seed is in every assertion message.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const COMMANDS = 1200;
const INTERACTIONS = 1200;
const RAW = 200;
const UNHANDLED = 100;
const BATCH = 16;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

// Ids the runbook (test/fixtures/launch.yml) knows: fuzz words never equal one, so no case may legitimately change state.
const VALID = new Set(['v2f-agreement', 'secrets-manager', 'acm-certificate', 's3-bucket-names', 'e2e-transaction', 'pre-flight', 'soft-launch']);
// Verbs that post to the channel when used correctly (a bare status, the go/no-go card, the timeline) are left out.
const VERBS = ['check', 'uncheck', 'signoff', 'status', 'history', 'help', 'deploy', 'rollback', 'incident', 'alarms', 'CHECK', 'Check', 'chek', 'ｃｈｅｃｋ', 'che\u200bck', '', 'drop', '; DROP TABLE audit; --'];
const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '&lt;!channel&gt;',
  '&lt;!here|here&gt;',
  '<@U0INJECT>',
  '&lt;@U0INJECT&gt;',
  '<!subteam^S0INJECT>',
  '<http://evil.example/steal|click here>',
  '&lt;http://evil.example/steal|click&gt;',
  '<mailto:a@evil.example|mail>',
  '*bold*',
  '_it_',
  '~strike~',
  '`code`',
  '```block```',
  '> quote',
  "'; DROP TABLE item_state; --",
  '" OR 1=1 --',
  "secrets-manager' OR '1'='1",
  '1; UPDATE item_state SET checked=1',
  '%00',
  '\u0000',
  '\u0007\u001b[31m',
  '\u202eevil',
  '\u200b',
  '🚀🔥💥',
  'ü'.repeat(40),
  '𝕏𝕐ℤ',
  '__proto__',
  'constructor',
  '{"g":"x"}',
  'NaN',
  '-1',
  '1e309',
  '9007199254740993',
  ':42',
  ':0',
  ':-1',
  'P1',
  'P0',
  '|',
  '&amp;',
  '&',
  '<',
  '>',
];
const USERS = ['U0NOBODY', 'U0INJECT', 'W0STRANGER', 'USLACKBOT', 'U0DEVOPS', 'U0BDLEAD', 'U0CTO', '', 'U0<!here>', 'x'.repeat(300)];
const ACTIONS = [
  'golive_check_item',
  'golive_status_page',
  'golive_status_page_next',
  'golive_status_page_prev',
  'golive_request_approve',
  'golive_request_reject',
  'golive_request_cancel',
  'golive_deploy_rollback',
  'golive_alarm_ack',
  'golive_alarm_declare',
  'golive_incident_ack',
  'golive_incident_rollback',
];
const VIEWS = ['golive_incident_declare', 'golive_incident_update', 'golive_incident_resolve'];
// Buttons and forms golive does not have: answered by its catch-all listeners (a private notice; a form is closed).
const UNKNOWN_ACTIONS = ['golive_unknown_action', 'x', '', 'golive_check_item_v0'];
const UNKNOWN_VIEWS = ['golive_unknown_view', ''];

type Rng = ReturnType<typeof prng>;

function word(r: Rng): string {
  switch (r.int(6)) {
    case 0:
      return r.pick(INJECTIONS);
    case 1:
      // A near miss of a real id.
      return `${r.pick([...VALID])}${r.pick(INJECTIONS)}`;
    case 2:
      return Array.from({ length: 1 + r.int(12) }, () => String.fromCodePoint(r.pick([0x20 + r.int(95), 0xa0 + r.int(0x2f00), 0x1f300 + r.int(0x300)]))).join('');
    case 3:
      return 'x'.repeat(r.pick([100, 1499, 1501, 4000]));
    case 4:
      return String(r.pick([0, 1, 2, 3, -5, 1e9, 2 ** 53, Number.MAX_SAFE_INTEGER]));
    default:
      return r.pick(['api', 'declare', 'update', 'resolve', 'severity', 'commander', 'timeline', 'P1', 'P2', 'note', '--dry-run']);
  }
}

function decodeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** True if golive could read this as a real, state-changing request (a real id as a word). */
function couldBeValid(text: string): boolean {
  const words = decodeSlack(text).replace(/\u00a0/g, ' ').trim().split(/\s+/);
  if (words.some((w) => VALID.has(w.toLowerCase()))) return true;
  // A bare `/golive status` posts the status board in the channel, by design.
  return words.length <= 1 && /^status$/i.test(words[0] ?? '');
}

function commandText(r: Rng): string {
  for (;;) {
    const parts = [r.pick(VERBS), ...Array.from({ length: r.int(5) }, () => word(r))];
    const sep = r.pick([' ', '  ', '\u00a0', '\t', '\n', ' \u3000 ']);
    const text = parts.join(sep);
    if (!couldBeValid(text)) return text;
  }
}

function buttonValue(r: Rng): string {
  for (;;) {
    const v = r.pick([word(r), JSON.stringify({ g: word(r), p: r.pick([1, -1, 1e9, 'x', null]) }), '{not json', '', String(r.int(1e6)), `${r.int(9)}:${word(r)}`]);
    if (!VALID.has(v.trim().toLowerCase())) return v;
  }
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/**
 * Every table but the request de-duplication keys, who opened the Home tab and the replicas' heartbeats, as
 * JSON: what "no state change" is measured on. Opening Home is not abuse (anyone may look), so its viewers are
 * checked apart; a replica's heartbeat moves every few seconds whatever it is sent.
 */
async function dump(): Promise<string> {
  const tables =
    t.dbKind === 'postgres'
      ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
      : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
  const names = (await query<{ name: string }>(t, tables)).map((r) => r.name).filter((name) => !['inbound_request', 'sqlite_sequence', 'home_viewer', 'replica'].includes(name));
  const out: Record<string, string[]> = {};
  // Each table's rows sorted: PostgreSQL returns rows without ORDER BY in no set order (an unchanged row can move).
  for (const name of names) out[name] = (await query(t, `SELECT * FROM "${name}"`)).map((row) => JSON.stringify(row)).sort();
  return JSON.stringify(out);
}

async function inBatches<T>(items: T[], send: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(send));
}

/**
 * Raw markup from the input that must never reach a user live: it would ping a channel or a group, or hide a
 * link behind other words. (A user mention echoed in a private reply notifies no one, so it is not on the list;
 * nothing at all may reach a channel, which is checked separately.)
 */
const DANGEROUS = [/<!channel>/, /<!here/, /<!everyone>/, /<!subteam\^S0INJECT>/, /<http:\/\/evil\.example/, /<mailto:a@evil\.example/];

describe(`fuzz (seed ${SEED}; FUZZ_SEED=<n> to replay)`, () => {
  it('survives thousands of malformed commands, clicks, submissions and bodies: no crash, no state change, only private replies, nothing unescaped', async () => {
    const started = Date.now();
    const r = prng(SEED);
    const before = await dump();
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    const where = (what: string, input: unknown) => `seed ${SEED}: ${what} ${JSON.stringify(input).slice(0, 300)}`;

    // 1. Slash commands: each must get exactly one private reply.
    const commands = Array.from({ length: COMMANDS }, (_, i) => ({ id: `cmd-${i}`, text: commandText(r), user: r.pick(USERS), channel: r.pick(['C0OPS', 'C0OTHER', 'D0DM', '']) }));
    await inBatches(commands, async (c) => {
      const body = slashCommandBody({ text: c.text, user_id: c.user, channel_id: c.channel, response_url: t.slack.responseUrl(c.id) });
      const status = (await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET)).status;
      count(status);
      expect(status, where('command', c)).toBe(200);
    });

    // 2. Interactions: buttons with odd ids and values from odd users, modal submissions, events, broken payloads.
    const interactions = Array.from({ length: INTERACTIONS }, (_, i) => {
      const kind = r.int(10);
      const responseUrl = t.slack.responseUrl(`act-${i}`);
      if (kind < 6) {
        const p = blockActionPayload({ user: r.pick(USERS), channel: r.pick(['C0OPS', 'C0OTHER']), actionId: r.pick(ACTIONS), value: buttonValue(r), messageTs: r.pick(['1.000001', '', 'x', '9999999999.999999']), responseUrl });
        if (r.int(4) === 0) (p.container as unknown as Record<string, unknown>).type = 'view';
        if (r.int(8) === 0) delete (p as unknown as Record<string, unknown>).channel;
        return blockActionsBody(p);
      }
      if (kind < 8) {
        const values: Record<string, Record<string, unknown>> = {};
        for (const block of ['severity', 'summary', 'services', 'status', 'actions', 'next_steps', 'eta', 'root_cause', 'resolution']) {
          values[block] = { value: r.int(3) ? { type: 'plain_text_input', value: word(r) } : { type: 'static_select', selected_option: { value: word(r) } } };
        }
        const payload = {
          type: 'view_submission',
          team: { id: 'T111', domain: 'golive-test' },
          user: { id: r.pick(USERS), team_id: 'T111' },
          api_app_id: 'A0GOLIVE',
          trigger_id: newTriggerId(),
          view: { id: 'V1', type: 'modal', callback_id: r.pick(VIEWS), private_metadata: r.pick(['', 'C0OPS', '1', '-1', 'x'.repeat(3000), word(r)]), state: { values } },
        };
        return blockActionsBody(payload);
      }
      const event = { type: r.pick(['app_home_opened', 'message', 'app_mention', 'x']), user: r.pick(USERS), tab: r.pick(['home', 'messages', word(r)]), channel: 'D0HOME', text: word(r) };
      return JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: r.pick(['event_callback', 'url_verification']), event_id: `Ev${i}`, event_time: 1, challenge: word(r), event });
    });
    await inBatches(interactions, async (body) => {
      const json = body.startsWith('{');
      const status = (await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET, json ? { extraHeaders: { 'Content-Type': 'application/json' } } : {})).status;
      count(status);
      // Well-formed envelopes are all acknowledged, whatever is inside.
      expect(status, where('interaction', body)).toBe(200);
    });

    // 3. Raw bodies that are not what Slack sends at all (still correctly signed).
    const raws = Array.from({ length: RAW }, () =>
      r.pick([
        'payload=%7Bnot-json',
        'payload=null',
        'payload=1',
        'payload=%5B%5D',
        'payload=%7B%7D',
        `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: null, user: null }))}`,
        `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [{}], user: { id: 'U0NOBODY' } }))}`,
        `payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission', view: null }))}`,
        `payload=${encodeURIComponent(JSON.stringify({ type: word(r) }))}`,
        'command=%2Fgolive',
        `command=%2Fgolive&text=${encodeURIComponent(word(r))}`,
        'text=check&user_id=U0DEVOPS',
        '',
        '%%%',
        'a'.repeat(100_000),
        JSON.stringify({ type: 'event_callback', event: null }),
      ]),
    );
    // Some of these match no listener and wait out Bolt's 3 seconds: a hundred at a time.
    for (let i = 0; i < raws.length; i += 100) {
      await Promise.all(raws.slice(i, i + 100).map(async (body) => count((await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET).catch(() => ({ status: -1 }))).status)));
    }

    // 4. Buttons and forms golive does not have (a stale message, another app's ids), and envelopes of unknown types.
    const unhandled = Array.from({ length: UNHANDLED }, (_, i) => {
      const kind = r.int(3);
      if (kind === 0) return blockActionsBody(blockActionPayload({ user: r.pick(USERS), channel: 'C0OPS', actionId: r.pick(UNKNOWN_ACTIONS), value: buttonValue(r), messageTs: '1.000001', responseUrl: t.slack.responseUrl(`unk-${i}`) }));
      if (kind === 1) return blockActionsBody({ type: 'view_submission', user: { id: r.pick(USERS) }, trigger_id: newTriggerId(), view: { id: 'V1', type: 'modal', callback_id: r.pick(UNKNOWN_VIEWS), private_metadata: word(r), state: { values: {} } } });
      return blockActionsBody({ type: word(r), trigger_id: newTriggerId(), user: { id: r.pick(USERS) } });
    });
    await Promise.all(unhandled.map(async (body) => count((await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET)).status)));

    // Every command answered exactly once, privately.
    await t.slack.waitFor(() => commands.every((c) => t.slack.responses.some((x) => x.id === c.id)), 20_000).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 200));
    for (const c of commands) {
      const replies = t.slack.responses.filter((x) => x.id === c.id);
      expect(replies, where('command', c)).toHaveLength(1);
      const body = replies[0]!.body as { response_type?: string; text?: string };
      expect(body.response_type, where('command', c)).toBe('ephemeral');
      // Read-only commands answer with what they show; everything else here is a mistake, and says so.
      const verb = (decodeSlack(c.text).replace(/\u00a0/g, ' ').trim().split(/\s+/)[0] ?? '').toLowerCase();
      if (verb === '' || verb === 'help') expect(body.text, where('command', c)).toMatch(/^(\*golive\* runs the launch|:warning: That command is \d+ characters long)/);
      else if (verb === 'history' || verb === 'alarms') expect(body.text, where('command', c)).toMatch(/^(:warning: |Nothing has happened yet|This runbook watches no alarms)/);
      else expect(body.text, where('command', c)).toMatch(/^:warning: \S/);
    }
    // Every private reply of any kind: ephemeral, and no dangerous markup from the input left live.
    for (const x of t.slack.responses) {
      expect(x.body.response_type, where('reply', x.body)).toBe('ephemeral');
      const text = JSON.stringify(x.body);
      for (const d of DANGEROUS) expect(text, where('reply', x.body)).not.toMatch(d);
    }
    for (const c of t.slack.calls) {
      // What a person reads (text, blocks, views), not the API parameters around it.
      const content = c.method === 'chat.postEphemeral' ? { text: c.args.text, blocks: c.args.blocks } : ['views.publish', 'views.open'].includes(c.method) ? c.args.view : undefined;
      if (content === undefined) continue;
      for (const d of DANGEROUS) expect(JSON.stringify(content), where(c.method, c.args)).not.toMatch(d);
    }
    // Nothing went to a channel, and nothing changed.
    const channelWrites = t.slack.calls.filter((c) => ['chat.postMessage', 'chat.update', 'chat.delete', 'conversations.create', 'conversations.invite', 'conversations.setTopic'].includes(c.method) && c.result?.ok === true);
    expect(channelWrites.map((c) => `${c.method} ${JSON.stringify(c.args).slice(0, 200)}`), `seed ${SEED}`).toEqual([]);
    expect(await dump(), `seed ${SEED}`).toBe(before);
    // Only real user IDs are remembered as Home tab viewers: a malformed one is never stored (nor published to).
    for (const { user_id: id } of await query<{ user_id: string }>(t, 'SELECT user_id FROM home_viewer')) expect(id, `seed ${SEED}`).toMatch(/^[UW][A-Z0-9]{2,20}$/);

    // Still alive and serving.
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    const help = await postSigned(`${t.url}/slack/events`, slashCommandBody({ text: 'help', response_url: t.slack.responseUrl('after') }), SIGNING_SECRET);
    expect(help.status).toBe(200);
    await t.slack.waitForResponse((x) => x.id === 'after');
    // Broken envelopes get 4xx (`actions: null`, `view: null` included), never a 500; none may go unanswered.
    expect([...statuses.keys()].every((s) => s >= 200 && s < 500), `seed ${SEED}: statuses ${JSON.stringify([...statuses])}`).toBe(true);
    process.stderr.write(
      `fuzz seed ${SEED}: ${COMMANDS} commands, ${INTERACTIONS} interactions, ${RAW} raw bodies, ${UNHANDLED} unhandled ids in ${Date.now() - started} ms; ` +
        `HTTP statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ${t.slack.responses.length} private replies, ${t.slack.callsTo('chat.postEphemeral').length} postEphemeral\n`,
    );
  }, 120_000);
});
