import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { click, privateReply, query, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedEcs, startMoto, type Moto } from '../support/moto.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

const APPROVERS = Array.from({ length: 20 }, (_, i) => `U0APPR${String(i + 1).padStart(2, '0')}`);

let moto: Moto;
let tap: AwsTap;
let smoke: SmokeServer;
let t: TestApp | undefined;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  tap = await startAwsTap(moto.endpoint);
  // The SDK reads credentials and region from the environment; the endpoint (the tap) comes from golive's config.
  Object.assign(process.env, awsTestEnv(tap.endpoint));
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  await tap.close();
});

/** The deploy runbook with twenty people in the CTO role, all of whom may approve rollbacks. */
function runbookWithApprovers(approvalsRequired: number): string {
  const file = writeDeployRunbook({ smokeUrl: smoke.url, approvalsRequired });
  const yaml = readFileSync(file, 'utf8').replace('cto: { name: CTO, users: [U0CTO] }', `cto: { name: CTO, users: [${APPROVERS.join(', ')}] }`);
  if (!yaml.includes('U0APPR20')) throw new Error('the runbook fixture changed; update runbookWithApprovers');
  writeFileSync(file, yaml);
  return file;
}

async function fileRollback(): Promise<{ id: number; ts: string }> {
  const reply = await privateReply(t!, 'rollback api', 'U0DEVOPS');
  const id = Number(/#(\d+)/.exec(reply)?.[1] ?? NaN);
  if (!id) throw new Error(`no rollback request: ${reply}`);
  const card = await t!.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'));
  return { id, ts: String(card.result!.ts) };
}

const rollbackPosts = () => t!.slack.callsTo('chat.postMessage').filter((c) => /^(✅|❌) Rollback/.test(String(c.args.text)));

describe('20 approvers click Approve on the same card at once', () => {
  it.each([1, 2])('with %i approval(s) required: one UpdateService, one deploy, one outcome post', async (required) => {
    t = await startTestApp({ runbook: runbookWithApprovers(required), env: { ...awsTestEnv(tap.endpoint) } });
    const { id, ts } = await fileRollback();
    const responseIds = await Promise.all(APPROVERS.map((user) => click(t!, 'golive_request_approve', String(id), user, ts)));
    await t.slack.waitFor(() => rollbackPosts().length > 0, 15_000);
    await until('the rollback to succeed', async () => (await query<{ state: string }>(t!, 'SELECT state FROM change_request'))[0]?.state === 'succeeded', 15_000);

    expect(tap.forwarded('UpdateService')).toHaveLength(1);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 1 }]);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'rollback.approve'")).toEqual([{ n: required }]);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'rollback.execute'")).toEqual([{ n: 1 }]);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM change_approval')).toEqual([{ n: required }]);
    await t.slack.waitFor(() => t!.slack.responses.filter((r) => responseIds.includes(r.id)).length >= APPROVERS.length - 1, 10_000);
    expect(rollbackPosts()).toHaveLength(1);
    expect(rollbackPosts()[0]!.args.text).toBe('✅ Rollback of `api` to govisax-prod:2 succeeded: govisax-prod:2 is live: 2/2 tasks running');

    // Everyone who did not tip it over is told privately, in words, that nothing more happened.
    const decider = (await query<{ decided_by: string }>(t, 'SELECT decided_by FROM change_request'))[0]!.decided_by;
    const replies = t.slack.responses.filter((r) => responseIds.includes(r.id));
    for (const r of replies) expect(r.body.response_type).toBe('ephemeral');
    const texts = replies.map((r) => String(r.body.text));
    const alreadyDecided = texts.filter((x) => x.startsWith(`This rollback was already approved by <@${decider}>`) && x.endsWith('; nothing changed.'));
    const recorded = texts.filter((x) => x === `Your approval is recorded: 1 of ${required} needed.`);
    expect(alreadyDecided.length + recorded.length).toBe(APPROVERS.length - 1);
    expect(recorded).toHaveLength(required - 1);
  });
});
