import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/start-sandbox.js';
import type { SandboxConfig } from '../../src/sandbox/sandbox-config.js';
import { sandboxApi, sandboxState } from '../support/sandbox-client.js';
import { PROJECT_ROOT, TEST_SLACK_LIMIT_SCALE } from '../support/start-app.js';

/*
 * The page's JSON API, driven over HTTP the way the page drives it, against
 * the real app. Each step waits for what the person would see next.
 */

const OPS = 'C0OPS00001';
const PRIYA = 'U0BDLEAD01'; // BD Lead
const ARJUN = 'U0SANDBOX01'; // DevOps
const VIKRAM = 'U0CTO00001'; // CTO

interface PageMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: { type: string; elements?: { type: string; action_id?: string; value?: string; text?: { text: string } }[]; text?: { text: string } }[];
  user: string;
  thread_ts?: string;
  ephemeral: boolean;
  kind?: string;
  edited: boolean;
}
interface PageState {
  me: string;
  people: { id: string; name: string; roles: string[] }[];
  channels: { id: string; name: string; topic: string }[];
  messages: PageMessage[];
  modal: { id: string; view: { title: { text: string }; blocks: { block_id: string }[] } } | null;
  home: { id: string; view: { blocks: unknown[] } } | null;
  world: { services: { name: string; taskDefinition: string; failNext: boolean; rollout?: { state: string } }[]; alarms: { name: string; state: string }[]; pages: { action: string }[] };
}

let dir: string;
let config: SandboxConfig;
let sandbox: RunningSandbox;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'golive-sandbox-api-'));
  config = { runbookPath: path.join(PROJECT_ROOT, 'runbooks/govisax.yml'), dbPath: path.join(dir, 'sandbox.db'), port: 0, host: '127.0.0.1', logLevel: 'silent', rolloutMs: 200 };
  // Slack's pace at the tests' scale: two checks in a row are announced 100 ms apart, not 10 s (the gathering window).
  sandbox = await startSandbox(config, { alarmPolling: false, slackLimitScale: TEST_SLACK_LIMIT_SCALE });
  // The first poll is the baseline ("Watching 7 alarms"); later polls post changes.
  await sandbox.app.services.alarms.poll();
});

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (route: string, body: Record<string, unknown>) => sandboxApi(sandbox.url, route, body);
const state = (user: string) => sandboxState<PageState>(sandbox.url, user);

/** Waits until `pick` finds something in `user`'s view of the sandbox. */
async function until<T>(user: string, pick: (s: PageState) => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 8000;
  let last: PageState | undefined;
  while (Date.now() < deadline) {
    last = await state(user);
    const found = pick(last);
    if (found !== undefined && found !== false) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw ${what}; messages:\n${last?.messages.map((m) => `  ${m.ephemeral ? '(private) ' : ''}${m.text}`).join('\n')}`);
}

/** A message from the bot (not the echo of a typed command) containing `text`. */
const message = (text: string, opts: { ephemeral?: boolean } = {}) => (s: PageState) => s.messages.find((m) => m.kind !== 'command' && m.text.includes(text) && (opts.ephemeral === undefined || m.ephemeral === opts.ephemeral));

function buttonOf(m: PageMessage, label: string): { action_id: string; value?: string } {
  for (const b of m.blocks) for (const e of b.elements ?? []) if (e.type === 'button' && e.text?.text === label) return { action_id: e.action_id!, value: e.value };
  throw new Error(`no "${label}" button on: ${m.text}`);
}

describe('the sandbox page API', () => {
  it('lists the runbook people with their roles and starts a first visit as someone who owns items', async () => {
    const s = await state('');
    expect(s.me).toBe(ARJUN);
    expect(s.people.find((p) => p.id === VIKRAM)).toEqual({ id: VIKRAM, name: 'Vikram', roles: ['CTO'] });
    expect(s.channels).toEqual([{ id: OPS, name: 'ops', topic: '', archived: false, members: 12 }]);
  });

  it('refuses anything but JSON (so another site cannot drive it) and the Slack API refuses a wrong token', async () => {
    const form = await fetch(new URL('/sandbox/command', sandbox.url), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=U0SANDBOX01&text=status' });
    expect(form.status).toBe(415);
    const slack = await fetch(new URL('/api/chat.postMessage', sandbox.url), { method: 'POST', headers: { Authorization: 'Bearer xoxb-guess', 'Content-Type': 'application/json' }, body: JSON.stringify({ channel: OPS, text: 'hi' }) });
    expect(await slack.json()).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await api('/sandbox/command', { user: 'U0NOBODY', channel: OPS, text: 'status' })).toEqual({ ok: false, error: 'Nobody in the sandbox has the id U0NOBODY.' });
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const { port } = new URL(sandbox.url);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/sandbox/state', headers: { Host: `attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect((await fetch(new URL('/sandbox/state', sandbox.url.replace('127.0.0.1', 'localhost')))).status).toBe(200);
  });

  it('answers the runbook smoke check locally instead of calling the real URL', async () => {
    expect(sandbox.runbook.services[0]!.smoke_check!.url).toBe(new URL('/sandbox/smoke/api', sandbox.url).href);
    const res = await fetch(sandbox.runbook.services[0]!.smoke_check!.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"status":"operational"');
  });

  it('deploys, fails the rollout it was told to fail, and rolls back with another person’s approval', async () => {
    // The deploy gate: both pre-flight blockers signed off by their owners.
    await api('/sandbox/command', { user: PRIYA, channel: OPS, text: '/golive check v2f-agreement signed today' });
    await until(ARJUN, message('signed off `v2f-agreement`'), 'the v2f-agreement announcement');
    await api('/sandbox/command', { user: ARJUN, channel: OPS, text: '/golive check secrets-manager-v2f' });
    await until(ARJUN, message('signed off `secrets-manager-v2f`'), 'the secrets-manager-v2f announcement');

    expect(await api('/sandbox/ecs/fail-next', { user: ARJUN, service: 'api', fail: true })).toEqual({ ok: true });
    expect((await state(ARJUN)).world.services[0]!.failNext).toBe(true);
    await api('/sandbox/command', { user: ARJUN, channel: OPS, text: '/golive deploy api v1.0.1' });
    const failed = await until(ARJUN, message('❌ Deploy of `api` failed'), 'the failed deploy');
    expect(failed.text).toBe('❌ Deploy of `api` failed: ECS reports the rollout FAILED: SANDBOX: tasks failed their health checks (simulated failure); the deployment circuit breaker stopped the rollout. Use *Roll back* on the deploy message, or `/golive rollback api`.');
    const card = await until(ARJUN, (s) => s.messages.find((m) => m.text.startsWith('Deploy of api:') && m.blocks.some((b) => b.type === 'actions')), 'the deploy card with its Roll back button');
    expect(card.edited).toBe(true);

    expect(await api('/sandbox/click', { user: ARJUN, channel: OPS, ts: card.ts, ...buttonOf(card, '↩️ Roll back') })).toEqual({ ok: true, status: 200 });
    const request = await until(ARJUN, message('Rollback of api requested by <@U0SANDBOX01>: requested'), 'the rollback request card');
    const posted = await until(ARJUN, message('Rollback request #1 is posted for approval', { ephemeral: true }), 'the private confirmation');
    // Only the person who clicked sees the confirmation.
    expect((await state(VIKRAM)).messages.some((m) => m.ts === posted.ts)).toBe(false);

    await api('/sandbox/click', { user: VIKRAM, channel: OPS, ts: request.ts, ...buttonOf(request, 'Approve') });
    await until(VIKRAM, message('✅ Rollback of `api` to govisax-prod:3 succeeded'), 'the rollback outcome');
    const world = (await state(VIKRAM)).world.services[0]!;
    expect(world.taskDefinition).toBe('govisax-prod:3');
    expect(world.failNext).toBe(false);
  });

  it('posts the launch report as files with download links, and its link opens the report page through the sandbox', async () => {
    await api('/sandbox/command', { user: VIKRAM, channel: OPS, text: '/golive report' });
    const posted = await until(VIKRAM, message('📄 *Launch report — GoVisaX Production Go-Live*'), 'the launch report files');
    const links = [...posted.text.matchAll(/<(http[^|>]+)\|([^>]+)>/g)].map((m) => ({ url: m[1]!, label: m[2]! }));
    const md = links.find((l) => l.label.endsWith('.md'))!;
    const png = links.find((l) => l.label.endsWith('.png'))!;
    const page = links.find((l) => l.label === 'the report page')!;
    expect(md.label).toMatch(/^launch-report-\d{8}\.md$/);
    expect(await (await fetch(md.url)).text()).toMatch(/^# Launch report — GoVisaX Production Go-Live\n/);
    const picture = await fetch(png.url);
    expect(picture.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await picture.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect(new URL(page.url).origin).toBe(new URL(sandbox.url).origin);
    const html = await fetch(page.url);
    expect(html.status).toBe(200);
    expect(html.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await html.text()).toContain('<h2 id="timeline">Timeline</h2>');
  });

  it('opens a modal for the person who asked, submits it signed, and shows field errors the app returns', async () => {
    await api('/sandbox/command', { user: VIKRAM, channel: OPS, text: '/golive incident declare' });
    const modal = await until(VIKRAM, (s) => s.modal ?? undefined, 'the declare modal');
    expect(modal.view.title.text).toBe('Declare an incident');
    expect((await state(ARJUN)).modal).toBeNull();

    const empty = await api('/sandbox/view/submit', { user: VIKRAM, view: modal.id, values: { severity: { value: { type: 'static_select', selected_option: { value: 'P3', text: { type: 'plain_text', text: 'P3' } } } }, summary: { value: { type: 'plain_text_input', value: null } }, services: { value: { type: 'plain_text_input', value: null } } } });
    expect(empty).toEqual({ ok: true, errors: { summary: 'An incident needs a summary.' } });
    expect((await state(VIKRAM)).modal?.id).toBe(modal.id);

    // Cancel closes it; the command opens a fresh one.
    expect(await api('/sandbox/view/close', { user: VIKRAM, view: modal.id })).toEqual({ ok: true });
    expect((await state(VIKRAM)).modal).toBeNull();
    await api('/sandbox/command', { user: VIKRAM, channel: OPS, text: '/golive incident declare' });
    const reopened = await until(VIKRAM, (s) => (s.modal && s.modal.id !== modal.id ? s.modal : undefined), 'the declare modal again');

    const done = await api('/sandbox/view/submit', { user: VIKRAM, view: reopened.id, values: { severity: { value: { type: 'static_select', selected_option: { value: 'P3', text: { type: 'plain_text', text: 'P3' } } } }, summary: { value: { type: 'plain_text_input', value: 'Push notifications delayed' } }, services: { value: { type: 'plain_text_input', value: null } } } });
    expect(done).toEqual({ ok: true });
    expect((await state(VIKRAM)).modal).toBeNull();
    const reply = await until(VIKRAM, message('is open in <#', { ephemeral: true }), 'the private reply to the modal');
    expect(reply.text).toMatch(/^INC-\d+ is open in <#C0SANDBOX\d{3}>; you are its commander\.$/);
    const channel = await until(VIKRAM, (s) => s.channels.find((c) => c.name.includes('push-notifications-delayed')), 'the incident channel');
    expect(channel.topic).toContain('Push notifications delayed · commander <@U0CTO00001>');
  });

  it('publishes App Home when a person opens it', async () => {
    expect(await api('/sandbox/home', { user: VIKRAM })).toEqual({ ok: true, status: 200 });
    const home = await until(VIKRAM, (s) => s.home ?? undefined, 'the Home tab');
    expect(JSON.stringify(home.view.blocks)).toContain('GoVisaX Production Go-Live');
    expect((await state(ARJUN)).home).toBeNull();
  });

  it('flips an alarm, which the next poll posts and pages', async () => {
    expect(await api('/sandbox/alarm', { user: ARJUN, name: 'GoVisaX-Prod-RDS-CPU', state: 'ALARM' })).toEqual({ ok: true });
    const post = await until(ARJUN, message('ALARM GoVisaX-Prod-RDS-CPU (warning)'), 'the alarm post');
    expect(post.text).toBe('🔴 ALARM GoVisaX-Prod-RDS-CPU (warning): Threshold Crossed (SANDBOX: set from the sandbox page)');
    // A warning rule does not page.
    expect((await state(ARJUN)).world.pages).toEqual([]);
    expect(await api('/sandbox/alarm', { user: ARJUN, name: 'GoVisaX-Prod-RDS-CPU', state: 'LOUD' })).toEqual({ ok: false, error: 'state must be OK, ALARM or INSUFFICIENT_DATA' });
  });

  it('"Make it fail" breaks a checked fact and the app checks it at once; "make it hold" again and it passes', async () => {
    const fact = () => state(ARJUN).then((s) => (s.world as unknown as { evidence: { id: string; broken: boolean }[] }).evidence.find((f) => f.id === 'route53-hosted-zone')!);
    expect((await fact()).broken).toBe(false);
    expect(await api('/sandbox/evidence', { user: ARJUN, item: 'route53-hosted-zone', broken: true })).toEqual({ ok: true });
    expect((await fact()).broken).toBe(true);
    const row = () => sandbox.app.services.evidence.all().then((m) => m.get('route53-hosted-zone'));
    expect(await row()).toMatchObject({ outcome: 'fail', trigger: 'sandbox' });
    expect(await api('/sandbox/evidence', { user: ARJUN, item: 'route53-hosted-zone', broken: false })).toEqual({ ok: true });
    expect(await row()).toMatchObject({ outcome: 'pass', trigger: 'sandbox' });
    expect(await api('/sandbox/evidence', { user: ARJUN, item: 'v2f-agreement', broken: true })).toEqual({ ok: false, error: 'No checked item v2f-agreement the sandbox answers.' });
  });

  it('keeps the session across a restart: messages, channels and the simulated world', async () => {
    const before = await state(VIKRAM);
    await sandbox.stop();
    // Slack's pace at the tests' scale: two checks in a row are announced 100 ms apart, not 10 s (the gathering window).
  sandbox = await startSandbox(config, { alarmPolling: false, slackLimitScale: TEST_SLACK_LIMIT_SCALE });
    const after = await state(VIKRAM);
    expect(after.messages.map((m) => m.text)).toEqual(before.messages.map((m) => m.text));
    expect(after.channels).toEqual(before.channels);
    expect(after.world.services[0]!.taskDefinition).toBe('govisax-prod:3');
    expect(after.world.alarms.find((a) => a.name === 'GoVisaX-Prod-RDS-CPU')!.state).toBe('ALARM');
    // The app's state came back too: the status board it posted earlier is updated in place, not posted again.
    await api('/sandbox/command', { user: VIKRAM, channel: OPS, text: '/golive check cloudwatch-watch-48h' });
    const refusal = await until(VIKRAM, message('cloudwatch-watch-48h', { ephemeral: true }), 'the refusal (the CTO does not own that item)');
    expect(refusal.text).toContain('DevOps');
  });
});
