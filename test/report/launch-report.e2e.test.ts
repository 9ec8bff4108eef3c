import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_APPROVE } from '../../src/deploys/render-changes.js';
import { SHORTCUT_ADD_TO_TIMELINE } from '../../src/incidents/pin-handlers.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { click, golive, privateReply, query, sleep, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs, startMoto, type Moto } from '../support/moto.js';
import { blockActionsBody, newTriggerId, postSigned } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';
import type { FakeFile } from '../support/fake-slack.js';

const ROUTING_KEY = 'R0UTINGKEY0123456789ABCDEFGHIJKL';
const ALARM = 'GoVisaX-Prod-5xx';
let moto: Moto;
let pd: FakePagerDuty;
let smoke: SmokeServer;
let t: TestApp;

/** A launch as the seeds run one: a gate with sign-offs by role, go/no-go, a service, an alarm that pages, P1 incidents. */
function writeRunbook(t0: string): string {
  return writeDeployRunbook({
    smokeUrl: smoke.url,
    dnsReadyVerify: `{ type: http_json, url: "${smoke.url}", expect_json: { status: operational } }`,
    launch: `{ name: GoVisaX Go-Live, channel: C0OPS, timezone: Asia/Kolkata, t0: "${t0}" }`,
    signoff: ['devops', 'cto'],
    rollbackApprovers: ['cto'],
    extra: `  rules:
    - { match: ${ALARM}, severity: critical, page: true }
incidents:
  severities:
    P1: { name: Critical, response_minutes: 30, page: true, owner: devops }
gonogo:
  voters: [cto]
  votes_required: 1
  criteria:
    - { type: blockers_done, label: All blockers done }
milestones:
  - { at: T-1h, title: Final checks }
  - { at: T+48h, title: Public launch decision }
`,
  });
}

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  pd = await startFakePagerDuty();
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await pd.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  pd.reset();
  smoke.healthy = true;
  await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  await seedAlarms(moto.endpoint, [{ name: ALARM, state: 'OK' }]);
});
afterEach(async () => {
  await t?.close();
});

const setAlarm = async (state: 'OK' | 'ALARM', reason: string) => {
  await new CloudWatchClient({ endpoint: moto.endpoint, region: 'ap-south-1' }).send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: state, StateReason: reason }));
  await sleep(5);
  await t.app.services.alarms.poll();
  await t.app.outbox.flush();
};

/** A rollout finishes on its own (moto's service is "running" at once); wait for golive to record it. */
const deployed = (n: number) => until(`deploy #${n} to finish`, async () => (await query<{ outcome: string }>(t, 'SELECT outcome FROM deploy WHERE id = ?', n))[0]?.outcome === 'succeeded' || (await query<{ outcome: string }>(t, 'SELECT outcome FROM deploy WHERE id = ?', n))[0]?.outcome === 'failed', 20_000);

/** The Markdown file of the newest files.uploadV2 share whose title starts with `title`. */
async function sharedFile(title: string): Promise<FakeFile> {
  await until(`a shared file "${title}"`, () => [...t.slack.files.values()].some((f) => f.completed && f.title?.startsWith(title)), 15_000);
  return [...t.slack.files.values()].filter((f) => f.completed && f.title?.startsWith(title)).at(-1)!;
}

/** The `## heading` sections of a Markdown document, by heading. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of md.split(/^## /m).slice(1)) out.set(part.slice(0, part.indexOf('\n')), part.slice(part.indexOf('\n') + 1));
  return out;
}

async function runTheLaunch(): Promise<{ incidentChannel: string; pinnedTs: string; shortcutTs: string }> {
  await t.app.services.alarms.poll(); // the baseline: the alarm is OK
  await golive(t, 'check v2f-agreement countersigned | PDF in <drive>', 'U0BDLEAD');
  await golive(t, 'check dns-ready', 'U0DEVOPS');
  await until('both sign-offs', async () => (await query<{ n: number }>(t, 'SELECT COUNT(*) AS n FROM item_state WHERE checked = 1'))[0]!.n === 2);
  await golive(t, 'signoff pre-flight', 'U0DEVOPS');
  await golive(t, 'signoff pre-flight', 'U0CTO');
  await until('the gate signed by both roles', async () => (await query<{ n: number }>(t, 'SELECT COUNT(*) AS n FROM gate_signoff'))[0]!.n === 2);
  const { decision } = await t.app.services.gonogo.open({ userId: 'U0DEVOPS', source: 'command', channel: 'C0OPS' });
  await t.app.services.gonogo.vote(decision.id, 'U0CTO', 'go', 'ship it, watch p95');

  // A deploy that succeeds, one whose smoke check fails, and the rollback of it.
  await golive(t, 'deploy api :4', 'U0DEVOPS');
  await deployed(1);
  smoke.healthy = false;
  await golive(t, 'deploy api v9', 'U0DEVOPS');
  await deployed(2);
  await setAlarm('ALARM', 'Threshold Crossed: 5xx 4.2% > 1%');
  smoke.healthy = true;
  const reply = await privateReply(t, 'rollback api :4 5xx after v9', 'U0DEVOPS');
  const requestId = Number(/#(\d+)/.exec(reply)![1]);
  await click(t, ACTION_APPROVE, String(requestId), 'U0CTO');
  await deployed(3);

  // The incident, with two messages pinned: one by 📌, one by the message shortcut.
  const declared = await privateReply(t, 'incident declare P1 API 5xx after <!channel> deploy', 'U0DEVOPS');
  const incidentChannel = /<#(C[0-9A-Z]+)>/.exec(declared)![1]!;
  const pinnedTs = t.slack.postUserMessage(incidentChannel, 'U0CTO', 'error rate 4.2% since v9 went out <@U0DEVOPS>');
  const shortcutTs = t.slack.postUserMessage(incidentChannel, 'U0DEVOPS', 'rolled back to :4, watching');
  const event = { type: 'reaction_added', user: 'U0DEVOPS', reaction: 'pushpin', item_user: 'U0CTO', item: { type: 'message', channel: incidentChannel, ts: pinnedTs }, event_ts: '1.1' };
  const reacted = await postSigned(`${t.url}/slack/events`, JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: 'Ev0PIN1', event_time: 1, event }), SIGNING_SECRET, { extraHeaders: { 'Content-Type': 'application/json' } });
  expect(reacted.status).toBe(200);
  await t.slack.waitForCall('chat.postEphemeral', (c) => String(c.args.text).startsWith('📌 Added to INC-1'));
  const responseId = 'r-shortcut';
  const shortcut = {
    type: 'message_action',
    callback_id: SHORTCUT_ADD_TO_TIMELINE,
    trigger_id: newTriggerId(),
    message_ts: shortcutTs,
    response_url: t.slack.responseUrl(responseId),
    message: { type: 'message', user: 'U0DEVOPS', ts: shortcutTs, text: 'rolled back to :4, watching' },
    user: { id: 'U0CTO', name: 'cto' },
    channel: { id: incidentChannel, name: 'inc' },
    team: { id: 'T111', domain: 'golive-test' },
    token: 'x',
    action_ts: '1.2',
  };
  expect((await postSigned(`${t.url}/slack/events`, blockActionsBody(shortcut), SIGNING_SECRET)).status).toBe(200);
  expect((await t.slack.waitForResponse((r) => r.id === responseId)).body.text).toBe("📌 Added to INC-1's timeline; it will be in the post-mortem draft.");
  await golive(t, 'incident resolve connection pool too small in v9 | rolled back to :4', 'U0DEVOPS', incidentChannel);
  await setAlarm('OK', 'Threshold no longer crossed');
  return { incidentChannel, pinnedTs, shortcutTs };
}

describe('the launch report and the post-mortem draft, from a launch run through the real services', () => {
  it('tell, section by section, what happened — as files in Slack and at the report link', async () => {
    const t0 = new Date(Date.now() - 30 * 60_000);
    t = await startTestApp({
      runbook: writeRunbook(t0.toISOString()),
      env: { AWS_ENDPOINT_URL: moto.endpoint, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, GOLIVE_PUBLIC_URL: 'https://golive.example.com' },
      appOptions: { alarmPolling: false, outboxPollMs: 50 },
    });
    const { incidentChannel } = await runTheLaunch();

    // The post-mortem draft is posted in the incident channel when it is resolved.
    const draft = await sharedFile('Post-mortem draft — INC-1');
    expect(draft.channel).toBe(incidentChannel);
    const pm = draft.content!.toString('utf8');
    const pmSections = sections(pm);
    expect([...pmSections.keys()]).toEqual(['Summary', 'Impact', 'Timeline', 'Root cause', 'Resolution', 'Deploys and alarms around it', 'What was paged, and when', 'Lessons learned', 'Follow-ups']);
    expect(pm).toMatch(/^# Post-mortem draft — INC-1 P1: API 5xx after \\<!channel\\> deploy\n/);
    expect(pmSections.get('Summary')).toContain('- Commander: @u0devops');
    expect(pmSections.get('Root cause')!.trim()).toBe('connection pool too small in v9');
    expect(pmSections.get('Resolution')!.trim()).toBe('rolled back to :4');
    const timeline = pmSections.get('Timeline')!;
    expect(timeline).toContain('| @u0devops | declared P1: API 5xx after \\<!channel\\> deploy |');
    expect(timeline).toContain('| golive | paged PagerDuty |');
    // The pinned messages, with their authors, in the order they were written; what they said is text, not mentions.
    expect(timeline).toContain('| @u0cto | said: “error rate 4.2% since v9 went out \\<@U0DEVOPS\\>” (added by @u0devops) |');
    expect(timeline).toContain('| @u0devops | said: “rolled back to :4, watching” (added by @u0cto) |');
    expect(timeline.indexOf('error rate 4.2%')).toBeLessThan(timeline.indexOf('rolled back to :4, watching'));
    expect(timeline).toContain('resolved after');
    const around = pmSections.get('Deploys and alarms around it')!;
    expect(around).toContain('| deploy | api | govisax-prod:3 → govisax-prod:4 | @u0devops | — | succeeded |');
    expect(around).toContain('| rollback | api | govisax-prod:5 → govisax-prod:4 | @u0devops | @u0cto | succeeded |');
    expect(around).toContain(`| ${ALARM} |`);
    expect(pmSections.get('What was paged, and when')).toContain('| INC-1 P1 |');
    expect(pmSections.get('What was paged, and when')).toContain(`| alarm ${ALARM} |`);
    expect(pmSections.get('Follow-ups')).toContain('| Action | Owner | Due |');

    // The launch report, asked for in the ops channel: the Markdown and the timeline PNG in one share.
    const asked = await privateReply(t, 'report', 'U0CTO');
    expect(asked).toMatch(/^The launch report is on its way to <#C0OPS>\. It is always current at <https:\/\/golive\.example\.com\/reports\/[A-Za-z0-9_-]{32}\|the report page>\.$/);
    const md = (await sharedFile('Launch report — GoVisaX Go-Live')).content!.toString('utf8');
    const png = await sharedFile('Timeline — GoVisaX Go-Live');
    expect(png.content!.subarray(1, 4).toString()).toBe('PNG');
    expect(png.altText).toBe('Timeline of GoVisaX Go-Live: milestones, deploys, alarms and incidents, T-0 marked');
    const share = t.slack.callsTo('files.completeUploadExternal').at(-1)!;
    expect(share.args.channel_id).toBe('C0OPS');
    expect(String(share.args.initial_comment)).toContain('(asked for by <@U0CTO>)');

    const s = sections(md);
    expect([...s.keys()]).toEqual(['Launch and milestones', 'Gates and sign-offs', 'Go / No-Go decisions', 'Deploys and rollbacks', 'Alarms', 'Incidents', 'Timeline']);
    expect(s.get('Launch and milestones')).toContain('T-0 is');
    expect(s.get('Launch and milestones')).toContain('from the runbook');
    expect(s.get('Launch and milestones')).toMatch(/\| Final checks \| T-1h \| .* \| — \| not posted: its time had passed when T-0 was set \|/);
    expect(s.get('Launch and milestones')).toMatch(/\| Public launch decision \| T\+48h \| .* \| — \| coming \|/);
    const gates = s.get('Gates and sign-offs')!;
    expect(gates).toContain('### Pre-flight (pre-flight) — 2/2 done');
    expect(gates).toMatch(/\| ✅ V2F agreement signed \(v2f-agreement\) \| 🔴 blocker \| BD Lead \| @u0bdlead \| .+ GMT\+5:30 \| countersigned \\\| PDF in \\<drive\\> \| — \|$/m);
    expect(gates).toMatch(/\| ✅ DNS ready \(dns-ready\) \| ⚠️ warning \| DevOps \| @u0devops \| .+ GMT\+5:30 \| — \| ✅ passed .+ GMT\+5:30: “GET http:\/\/127\.0\.0\.1:\d+\/partner\/v1\/utils\/status answered 200 with status = "operational"” \|$/m);
    expect(gates).toMatch(/\| DevOps \| @u0devops \| ✅ signed \| .+ \|\n\| CTO \| @u0cto \| ✅ signed \| .+ \|/);
    expect(gates).toContain('### Final sign-off by role');
    const gonogo = s.get('Go / No-Go decisions')!;
    expect(gonogo).toMatch(/### Decision #1: ✅ GO at /);
    expect(gonogo).toContain('| All blockers done | ✅ pass |');
    expect(gonogo).toMatch(/\| @u0cto \| Go \| ship it, watch p95 \| .+ \|/);
    const changes = s.get('Deploys and rollbacks')!.split('\n').filter((l) => /^\| \d/.test(l));
    expect(changes).toHaveLength(3);
    expect(changes[0]).toMatch(/^\| 1 \| deploy \| api \| govisax-prod:3 → govisax-prod:4 \| .* \| @u0devops \| — \| .+ \| .+ \| ✅ succeeded \|$/);
    expect(changes[1]).toMatch(/^\| 2 \| deploy \| api \| govisax-prod:4 → govisax-prod:5 \| .* \| @u0devops \| — \| .+ \| .+ \| ❌ failed: .+ \|$/);
    expect(changes[2]).toMatch(/^\| 3 \| rollback \| api \| govisax-prod:5 → govisax-prod:4 \| — \| @u0devops \| @u0cto \| .+ \| .+ \| ✅ rolled back \|$/);
    expect(s.get('Alarms')).toMatch(new RegExp(`\\| ${ALARM} \\| critical \\| .+ \\| .+ \\| .+ \\| PagerDuty at .+ \\| Threshold Crossed: 5xx 4\\.2% \\\\> 1% \\|`));
    expect(s.get('Incidents')).toMatch(/\| INC-1 \| P1 \| API 5xx after \\<!channel\\> deploy \| @u0devops \| .+ \| never acknowledged \| .+ \| PagerDuty at .+ \| connection pool too small in v9 \|/);
    expect(s.get('Timeline')!.trim()).toMatch(/^!\[Timeline of GoVisaX Go-Live: .*\]\(https:\/\/golive\.example\.com\/reports\/[A-Za-z0-9_-]+\/timeline\.png\)$/);

    // The same report at its link, as HTML; a wrong token is a plain 404.
    const token = /\/reports\/([A-Za-z0-9_-]+)\|/.exec(asked)![1]!;
    const page = await fetch(`${t.url}/reports/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    for (const id of ['launch', 'gates', 'gonogo', 'changes', 'alarms', 'incidents', 'timeline']) expect(html).toContain(`<h2 id="${id}">`);
    expect(html).toContain('API 5xx after &lt;!channel&gt; deploy');
    expect(html).not.toContain('<script');
    const wrong = await fetch(`${t.url}/reports/${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`);
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).toBe('Not found.\n');

    // The SVG at the link: one mark per deploy, firing and incident.
    const svg = await (await fetch(`${t.url}/reports/${token}/timeline.svg`)).text();
    const marks = (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'g' }).parse(svg) as { svg: { g: Record<string, string>[] } }).svg.g.filter((g) => g.class === 'mark');
    expect(marks.filter((m) => m['data-lane'] === 'deploys')).toHaveLength(3);
    expect(marks.filter((m) => m['data-lane'] === 'alarms')).toHaveLength(1);
    expect(marks.filter((m) => m['data-lane'] === 'incidents')).toHaveLength(1);
    expect(marks.filter((m) => m['data-lane'] === 'milestones')).toHaveLength(2);
    expect((await fetch(`${t.url}/reports/${token}/INC-1-postmortem.md`)).status).toBe(200);

    // A new link: the old one stops working.
    const renewed = await privateReply(t, 'report newlink', 'U0CTO');
    expect(renewed).toMatch(/^The report page has a new link: <https:\/\/golive\.example\.com\/reports\/[A-Za-z0-9_-]{32}>\. The old link no longer works\./);
    expect((await fetch(`${t.url}/reports/${token}`)).status).toBe(404);

    // History in words, the rollback told as one story.
    const history = await privateReply(t, 'history 100', 'U0CTO');
    expect(history).toMatch(/<@U0DEVOPS> asked to roll back `api` from :5 to :4 — approved by <@U0CTO> — rolled back in \d+ s/);
    expect(history).not.toMatch(/rollback\.closed|\(golive\)/);

    // `/golive incident postmortem` posts the draft again.
    await golive(t, 'incident postmortem', 'U0DEVOPS', incidentChannel);
    await until('a second draft', () => [...t.slack.files.values()].filter((f) => f.title === 'Post-mortem draft — INC-1').length === 2, 15_000);
  }, 90_000);
});
