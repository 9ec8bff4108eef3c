import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clockAt } from '../support/clock.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { golive, privateReply, query, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { sentMail } from '../support/ses-shim.js';
import { blockActionPayload, blockActionsBody, postSigned } from '../support/sign.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

/**
 * Seed 004's escalation matrix, level by level, with a clock the test moves
 * and a restart in the middle: email through SES (moto records it), the ops
 * channel with @channel and the on-call, PagerDuty, and a DM to the
 * executives. Each level fires once; a met condition skips its level.
 */
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const RUNBOOK = `
version: 1
launch: { name: Fivestar, channel: C0OPS, timezone: Europe/Oslo }
roles:
  oncall: { name: On-call, users: [U0ONCALL] }
  execs: { name: Executives, users: [U0CTO, U0CEO] }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: oncall }] }]
email: { from: golive@fivestar.example, region: eu-west-1 }
incidents:
  severities:
    P1:
      name: Critical
      response_minutes: 15
      update_every_minutes: 30
      escalation:
        - { name: Level 1 — Email, after_minutes: 0, email: [ops@fivestar.example] }
        - { name: Level 2 — Slack, after_minutes: 5, channel: ops, at_channel: true, mention: [oncall] }
        - { name: Level 3 — PagerDuty, after_minutes: 15, if: not_resolved, page: true }
        - { name: Level 4 — Executives, after_minutes: 30, if: not_resolved, dm: [execs], email: [cto@fivestar.example] }
`;

let moto: Moto;
let pd: FakePagerDuty;
let t: TestApp;
let runbookFile: string;
const clock = clockAt('2026-12-01T02:00:00Z');

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  pd = await startFakePagerDuty();
  runbookFile = path.join(mkdtempSync(path.join(tmpdir(), 'golive-escalation-')), 'fivestar.yml');
  writeFileSync(runbookFile, RUNBOOK);
});
afterAll(async () => {
  await pd.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await new SESv2Client({ endpoint: moto.endpoint, region: 'eu-west-1', credentials: TEST_CREDENTIALS }).send(new CreateEmailIdentityCommand({ EmailIdentity: 'fivestar.example' }));
  pd.reset();
  clock.at = Date.parse('2026-12-01T02:00:00Z');
  t = await startTestApp({ runbook: runbookFile, clock, env: { AWS_ENDPOINT_URL: moto.endpoint, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url }, appOptions: { outboxPollMs: 50, expirySweepMs: 3_600_000 } });
});
afterEach(async () => {
  await t?.close();
});

const minutes = (n: number) => (clock.at += n * 60_000);
const sweep = async () => {
  const r = await t.app.services.escalation.sweep();
  await t.app.outbox.flush();
  return r;
};
const steps = () => query<{ level: number; fired: number }>(t, 'SELECT level, fired FROM escalation_step ORDER BY level');

async function declare(): Promise<string> {
  await privateReply(t, 'incident declare P1 Payments failing at checkout', 'U0ONCALL');
  await t.app.outbox.flush();
  return ((t.slack.callsTo('conversations.create').at(-1)!.result as { channel: { id: string } }).channel).id;
}

describe('the escalation matrix end to end', () => {
  it('fires each level once, in order, across a restart: email, @channel, PagerDuty, DMs and email to executives', async () => {
    const channelId = await declare();
    // Level 1 is due at once.
    expect((await sweep()).fired).toEqual([{ subject: 'incident:1', level: 0 }]);
    const first = (await sentMail(moto.endpoint)).filter((m) => m.destinations.ToAddresses?.includes('ops@fivestar.example'));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ source: 'golive@fivestar.example', subject: '[INCIDENT] Fivestar - P1 - Payments failing at checkout' });
    expect(first[0]!.body.split('\n').slice(0, 4)).toEqual(['Escalation Level 1 — Email (1 of 4): incident INC-1 was just declared.', '', 'Incident Details:', '- Severity: P1 Critical']);
    expect((await sweep()).fired).toEqual([]);

    minutes(5);
    expect((await sweep()).fired).toEqual([{ subject: 'incident:1', level: 1 }]);
    const l2 = t.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS' && String(c.args.text).includes('Level 2'));
    expect(l2.map((c) => c.args.text)).toEqual([
      `<!channel> <@U0ONCALL> ⏫ *Level 2 — Slack* (2 of 4): INC-1 P1 “Payments failing at checkout” — 5 min since it was declared, not acknowledged. Please acknowledge or take it in <#${channelId}>.`,
    ]);

    // golive restarts; level 3 comes due while it is down and fires at start, once.
    await t.stopApp();
    minutes(11);
    t = await t.restart();
    await t.app.outbox.flush();
    expect(await steps()).toEqual([
      { level: 0, fired: 1 },
      { level: 1, fired: 1 },
      { level: 2, fired: 1 },
    ]);
    const page = await pd.waitFor((e) => e.body.event_action === 'trigger' && (e.body.payload as { summary?: string })?.summary?.startsWith('Level 3') === true);
    expect(page.body.dedup_key).toBe('golive/incident/1');
    expect((page.body.payload as { summary: string }).summary).toBe('Level 3 — PagerDuty (not resolved after 15 min) INC-1 P1: Payments failing at checkout');
    expect((await sweep()).fired).toEqual([]);

    minutes(15);
    expect((await sweep()).fired).toEqual([{ subject: 'incident:1', level: 3 }]);
    const dms = t.slack.callsTo('chat.postMessage').filter((c) => ['U0CTO', 'U0CEO'].includes(String(c.args.channel)));
    expect(dms.map((c) => c.args.channel).sort()).toEqual(['U0CEO', 'U0CTO']);
    expect(dms[0]!.args.text).toBe(`⏫ *Level 4 — Executives* (4 of 4) for Fivestar: INC-1 P1 “Payments failing at checkout” — 30 min since it was declared, not resolved. Details: <#${channelId}>.`);
    expect((await sentMail(moto.endpoint)).filter((m) => m.destinations.ToAddresses?.includes('cto@fivestar.example'))).toHaveLength(1);

    minutes(60);
    expect((await sweep()).fired).toEqual([]);
    expect((await sentMail(moto.endpoint))).toHaveLength(2);
    expect(await query(t, "SELECT action FROM audit WHERE action LIKE 'escalation.%' ORDER BY id")).toEqual([
      { action: 'escalation.fire' },
      { action: 'escalation.fire' },
      { action: 'escalation.fire' },
      { action: 'escalation.fire' },
    ]);
  });

  it('stops when the condition is met: an acknowledgement skips level 2, a resolution skips 3 and 4 and resolves the page', async () => {
    const channelId = await declare();
    await sweep();
    minutes(2);
    await postSigned(`${t.url}/slack/events`, blockActionsBody(blockActionPayload({ user: 'U0ONCALL', channel: channelId, actionId: 'golive_incident_ack', value: '1', messageTs: '1.1', responseUrl: t.slack.responseUrl('ack') })), SIGNING_SECRET);
    await until('the incident acknowledged', async () => (await query<{ acked_by: string | null }>(t, 'SELECT acked_by FROM incident WHERE id = 1'))[0]?.acked_by === 'U0ONCALL');
    minutes(3);
    expect(await sweep()).toMatchObject({ fired: [], skipped: [{ subject: 'incident:1', level: 1, reason: expect.stringMatching(/^acknowledged at /) }] });
    expect(t.slack.callsTo('chat.postMessage').some((c) => String(c.args.text).includes('Level 2'))).toBe(false);

    // Acknowledged, but not resolved: level 3 (if: not_resolved) still pages.
    minutes(10);
    expect((await sweep()).fired).toEqual([{ subject: 'incident:1', level: 2 }]);
    await golive(t, 'incident resolve card processor timeout | failed over to the second processor', 'U0ONCALL', channelId);
    await until('the incident resolved', async () => (await query<{ resolved_at: string | null }>(t, 'SELECT resolved_at FROM incident WHERE id = 1'))[0]?.resolved_at !== null);
    minutes(20);
    const r = await sweep();
    expect(r.fired).toEqual([]);
    expect(r.pagesResolved).toEqual(['incident:1']);
    expect(await steps()).toEqual([
      { level: 0, fired: 1 },
      { level: 1, fired: 0 },
      { level: 2, fired: 1 },
    ]);
    await pd.waitFor((e) => e.body.event_action === 'resolve' && e.body.dedup_key === 'golive/incident/1');
    expect(await query(t, "SELECT kind FROM incident_event WHERE kind LIKE 'escalation.%' ORDER BY id")).toEqual([{ kind: 'escalation.level' }, { kind: 'escalation.skipped' }, { kind: 'escalation.level' }]);
  });
});
