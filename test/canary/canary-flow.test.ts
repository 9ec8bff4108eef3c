import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_CANARY_ABORT, ACTION_CANARY_PROMOTE, BLOCK_OVERRIDE_NOTE, VIEW_CANARY_OVERRIDE } from '../../src/canary/render-canary.js';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { canaryYaml, describeCanaryService, putVariantMetrics, seedCanaryService, type VariantTraffic } from '../support/canary-fixture.js';
import { clockAt } from '../support/clock.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { click, golive, privateReply, query, submitView, until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs, startMoto, type Moto, type SeededEcs } from '../support/moto.js';
import { startTestApp, type TestApp } from '../support/start-app.js';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import type { AppOptions } from '../../src/create-app.js';
import { createCloudWatchAdapter } from '../../src/platform/aws/cloudwatch-adapter.js';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';

let moto: Moto;
let tap: AwsTap;
let smoke: SmokeServer;
let t: TestApp;
let seeded: SeededEcs;
let clock: ReturnType<typeof clockAt>;

const CLUSTER = 'GoVisaX-Prod-Cluster';
const CANARY = 'GoVisaX-Prod-Service-Canary';
const healthy = { canary: { requests: 100, errors: 0, latencyMs: 101 }, stable: { requests: 1000, errors: 2, latencyMs: 100 } };
const erroring = { canary: { requests: 100, errors: 4, latencyMs: 100 }, stable: { requests: 1000, errors: 3, latencyMs: 100 } };

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  tap = await startAwsTap(moto.endpoint);
  Object.assign(process.env, awsTestEnv(tap.endpoint));
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await tap.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  tap.calls.length = 0;
  smoke.healthy = true;
  seeded = await seedEcs(moto.endpoint, { cluster: CLUSTER, service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  await seedCanaryService(moto.endpoint, { cluster: CLUSTER, service: CANARY, taskDefinition: seeded.serviceTaskDefinitionArn });
  await seedAlarms(moto.endpoint, [{ name: 'GoVisaX-Prod-API-5XX-Rate', state: 'OK' }]);
  // The clock starts on a whole minute just behind the real one, so metrics put at its times are recent for CloudWatch.
  clock = clockAt(new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000).toISOString());
});
afterEach(async () => {
  await t?.close();
});

async function start(canary: Parameters<typeof canaryYaml>[0] = {}, ports: Pick<AppOptions, 'ecs' | 'metrics'> = {}) {
  t = await startTestApp({
    runbook: writeDeployRunbook({ smokeUrl: smoke.url, serviceExtra: canaryYaml(canary) }),
    env: { AWS_ENDPOINT_URL: tap.endpoint },
    clock,
    appOptions: { canaryPollMs: 10, alarmPolling: false, ...ports },
  });
  await golive(t, 'check v2f-agreement', 'U0BDLEAD');
  await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('v2f-agreement'));
}

interface CanaryDbRow {
  id: number;
  state: string;
  intervals: number;
  bake_started_at: string;
  abort_reason: string | null;
  abort_detected_at: string | null;
  abort_sent_at: string | null;
  evidence: string | null;
}
const canaryRow = async () => (await query<CanaryDbRow>(t, 'SELECT * FROM canary ORDER BY id DESC LIMIT 1'))[0];

async function deployCanary() {
  await golive(t, 'deploy api v9 --canary', 'U0DEVOPS');
  await until('the canary to bake', async () => (await canaryRow())?.state === 'baking', 15_000);
}

/** Publishes interval k's metrics (k from 1), moves the clock to its end and waits for the analysis of it. */
async function interval(k: number, traffic: { canary?: VariantTraffic; stable?: VariantTraffic } = healthy) {
  const bakeStart = Date.parse((await canaryRow())!.bake_started_at);
  await putVariantMetrics(moto.endpoint, new Date(bakeStart + (k - 1) * 60_000 + 5_000), traffic);
  clock.at = bakeStart + k * 60_000;
  await until(`the analysis of interval ${k}`, async () => ((await canaryRow())?.intervals ?? 0) >= k || !['baking', 'waiting'].includes((await canaryRow())!.state), 10_000);
}

const cardOf = () => {
  const card = t.slack.callsTo('chat.postMessage').find((c) => String(c.args.text).startsWith('Deploy of api'))!;
  return (card.result as { ts: string }).ts;
};
const text = (ts: string) => JSON.stringify(t.slack.messages.get(`C0OPS:${ts}`)?.blocks ?? []);
const scorecard = () => [...t.slack.messages.values()].find((m) => m.text.startsWith('Canary scorecard for api'));

describe('canary deploy against moto', () => {
  it('runs the new version on the canary service, judges it every interval with one GetMetricData call, and is promoted by a click', async () => {
    await start();
    await deployCanary();
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toEqual({ taskDefinition: seeded.taskDefinitionArns[3]!.replace(':4', ':5'), desiredCount: 1 });
    const before = tap.forwarded('GetMetricData').length;
    for (let k = 1; k <= 5; k++) await interval(k);
    expect(tap.forwarded('GetMetricData').length - before).toBe(5);
    await until('the bake to end', async () => (await canaryRow())!.state === 'waiting');
    const lines = scorecard()!.blocks!.map((b) => JSON.stringify(b)).join('\n');
    expect(lines).toContain('✅ *5xx rate* — canary 0 % vs stable 0.2 % (≤ stable + 0.5)');
    expect(lines).toContain('✅ *Latency* — canary 101 ms vs stable 100 ms (≤ 1.2 × stable)');
    expect(lines).toContain('✅ Canary tasks: 1/1 running govisax-prod:5');
    expect(lines).toContain('✅ Alarms `GoVisaX-Prod-API`: none firing');
    const card = cardOf();
    await until('the card to offer Promote', () => text(card).includes('golive_canary_promote'));

    await click(t, ACTION_CANARY_PROMOTE, String((await canaryRow())!.id), 'U0DEVOPS', card);
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10_000);
    expect(outcome.args.text).toMatch(/^✅ Deploy of `api` to govisax-prod:5 succeeded: govisax-prod:5 is live: 2\/2 tasks running, smoke check passed/);
    await until('the canary to finish', async () => (await canaryRow())!.state === 'succeeded');
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toMatchObject({ desiredCount: 0 });
    expect((await query(t, "SELECT action FROM audit WHERE action LIKE 'canary.%' OR action LIKE 'deploy.%' ORDER BY id")).map((r) => (r as { action: string }).action)).toEqual([
      'deploy.start',
      'canary.start',
      'canary.bake',
      'canary.wait',
      'canary.promote',
      'deploy.succeeded',
      'canary.succeeded',
    ]);
    await until('the card to show the promotion', () => text(card).includes('Canary promoted'));
  });

  it('aborts by itself when the canary 5xx rate is above stable + 0.5 points, and says why', async () => {
    await start();
    await deployCanary();
    await interval(1);
    await interval(2, erroring);
    await until('the abort', async () => (await canaryRow())!.state === 'aborted');
    const row = (await canaryRow())!;
    expect(row.abort_reason).toBe('5xx rate: canary 4 % > stable 0.3 % + 0.5 (1 failing interval, 0 allowed)');
    expect(Date.parse(row.abort_sent_at!)).toBeGreaterThanOrEqual(Date.parse(row.abort_detected_at!));
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toEqual({ taskDefinition: seeded.serviceTaskDefinitionArn, desiredCount: 0 });
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Deploy'));
    expect(outcome.args.text).toBe(
      '❌ Deploy of `api` failed: canary aborted: 5xx rate: canary 4 % &gt; stable 0.3 % + 0.5 (1 failing interval, 0 allowed). The canary service is back to 0 tasks; nothing was changed in `GoVisaX-Prod-Service`, which still runs govisax-prod:3.',
    );
    expect(await query(t, 'SELECT outcome, update_sent_at FROM deploy')).toEqual([{ outcome: 'failed', update_sent_at: null }]);
  });

  it('aborts by itself when an alarm under its prefix goes to ALARM during the bake', async () => {
    await start();
    await deployCanary();
    await interval(1);
    await seedAlarms(moto.endpoint, [{ name: 'GoVisaX-Prod-API-5XX-Rate', state: 'ALARM', reason: 'Threshold Crossed' }]);
    await t.app.services.alarms.poll();
    await until('the abort', async () => (await canaryRow())!.state === 'aborted');
    expect((await canaryRow())!.abort_reason).toBe('alarm `GoVisaX-Prod-API-5XX-Rate` is in ALARM');
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toMatchObject({ desiredCount: 0 });
  });

  it('refuses Promote before the bake ends and while the analysis fails, and an Abort click takes the canary down', async () => {
    await start({ autoPromote: false });
    await deployCanary();
    const id = String((await canaryRow())!.id);
    expect(await privateReply(t, 'canary api promote', 'U0DEVOPS')).toMatch(/^:warning: The canary of `api` is still baking: \d+ min left\./);
    await click(t, ACTION_CANARY_ABORT, id, 'U0DEVOPS', cardOf());
    await until('the abort', async () => (await canaryRow())!.state === 'aborted');
    expect((await canaryRow())!.abort_reason).toBe('aborted by <@U0DEVOPS>');
    expect(await privateReply(t, 'canary api abort', 'U0DEVOPS')).toBe('This canary was already aborted by <@U0DEVOPS>; nothing changed.');
  });
  it('refuses Promote while an interval fails within the tolerance, and with allow_override promotes over it once a note says why', async () => {
    await start({ failureLimit: 1, allowOverride: true });
    await deployCanary();
    await interval(1);
    await interval(2, erroring);
    for (let k = 3; k <= 5; k++) await interval(k);
    await until('the bake to end', async () => (await canaryRow())!.state === 'waiting');
    expect((await canaryRow())!.abort_reason).toBeNull();
    const failing = '5xx rate: canary 4 % &gt; stable 0.3 % + 0.5 (1 failing interval, within the 1 allowed)';
    expect(await privateReply(t, 'canary api promote', 'U0DEVOPS')).toBe(
      `:warning: Promote refused: the analysis fails (${failing}). The runbook allows promoting anyway with a note saying why. Nothing was changed.\n\`/golive canary api promote <why>\``,
    );
    const card = cardOf();
    await until('the card to offer Promote', () => text(card).includes('golive_canary_promote'));
    await click(t, ACTION_CANARY_PROMOTE, String((await canaryRow())!.id), 'U0DEVOPS', card);
    const opened = await t.slack.waitForCall('views.open');
    expect(JSON.stringify(opened.args.view)).toContain(`• ${failing}`);
    expect((await canaryRow())!.state).toBe('waiting');

    await submitView(t, 'U0DEVOPS', VIEW_CANARY_OVERRIDE, String((await canaryRow())!.id), { [BLOCK_OVERRIDE_NOTE]: { value: { type: 'plain_text_input', value: 'the 5xx blip was the load balancer draining' } } });
    await until('the canary to finish', async () => (await canaryRow())!.state === 'succeeded', 15_000);
    const promote = (await query<{ detail: string }>(t, "SELECT detail FROM audit WHERE action = 'canary.promote'"))[0]!;
    expect(JSON.parse(promote.detail)).toMatchObject({ how: 'override', note: 'the 5xx blip was the load balancer draining' });
    await until('the card to show the note', () => text(card).includes('over a failing analysis: “the 5xx blip was the load balancer draining”'));
  });

  it('refuses Promote over a failing interval where the runbook allows no override', async () => {
    await start({ failureLimit: 1 });
    await deployCanary();
    await interval(1, erroring);
    for (let k = 2; k <= 5; k++) await interval(k);
    await until('the bake to end', async () => (await canaryRow())!.state === 'waiting');
    expect(await privateReply(t, 'canary api promote', 'U0DEVOPS')).toBe(
      ':warning: Promote refused: the analysis fails: 5xx rate: canary 4 % &gt; stable 0.3 % + 0.5 (1 failing interval, within the 1 allowed). The runbook does not allow promoting over a failing analysis. Nothing was changed.\nAbort it, or fix what fails and deploy again.',
    );
    expect((await canaryRow())!.state).toBe('waiting');
  });

  it('restarted mid-bake, resumes the bake from the recorded start and reads CloudWatch from it', async () => {
    await start({ autoPromote: true });
    await deployCanary();
    const { bake_started_at: bakeStart } = (await canaryRow())!;
    await interval(1);
    await interval(2);
    t = await t.restart();
    await interval(3);
    expect((await canaryRow())!.bake_started_at).toBe(bakeStart);
    // Every analysis, before and after the restart, asks CloudWatch for the bake since its recorded start.
    const starts = tap.forwarded('GetMetricData').map((c) => (JSON.parse(c.body) as { StartTime: number }).StartTime * 1000);
    expect(new Set(starts)).toEqual(new Set([Date.parse(bakeStart)]));
    for (let k = 4; k <= 5; k++) await interval(k);
    await until('the promotion by the analysis', async () => (await canaryRow())!.state === 'succeeded', 15_000);
    expect((await query(t, "SELECT action FROM audit WHERE action LIKE 'canary.%' ORDER BY id")).map((r) => (r as { action: string }).action)).toEqual(['canary.start', 'canary.bake', 'canary.promote', 'canary.succeeded']);
    expect(await query(t, 'SELECT outcome FROM deploy')).toEqual([{ outcome: 'succeeded' }]);
  });
});

describe('canary faults', () => {
  it("aborts by itself when the canary's tasks stop running, and says why", async () => {
    // The real adapter against moto, except that the canary service loses its task once told to (moto never stops tasks).
    const real = createEcsAdapter({ endpoint: tap.endpoint });
    let crashed = false;
    const ecs = { ...real, describeService: async (ref: Parameters<typeof real.describeService>[0]) => {
      const state = await real.describeService(ref);
      return crashed && ref.service === CANARY ? { ...state, runningCount: 0, events: [{ at: new Date().toISOString(), message: '(service GoVisaX-Prod-Service-Canary) task 1a2b stopped: Essential container in task exited' }] } : state;
    } };
    await start({}, { ecs });
    await deployCanary();
    await interval(1);
    crashed = true;
    await interval(2);
    await until('the abort', async () => (await canaryRow())!.state === 'aborted');
    expect((await canaryRow())!.abort_reason).toBe("the canary's tasks are failing: 0 of 1 task running (ECS: (service GoVisaX-Prod-Service-Canary) task 1a2b stopped: Essential container in task exited)");
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toEqual({ taskDefinition: seeded.serviceTaskDefinitionArn, desiredCount: 0 });
  });

  it('does not promote by itself while CloudWatch throttles the analysis: the metrics are unknown, so a person decides', async () => {
    const cw = new CloudWatchClient({ region: 'ap-south-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    mockClient(cw).on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await start({ autoPromote: true }, { metrics: createCloudWatchAdapter({ clientFor: () => cw }) });
    await deployCanary();
    for (let k = 1; k <= 5; k++) await interval(k);
    await until('the bake to end', async () => (await canaryRow())!.state === 'waiting');
    const wait = (await query<{ detail: string }>(t, "SELECT detail FROM audit WHERE action = 'canary.wait'"))[0]!;
    expect(JSON.parse(wait.detail).why).toBe('the analysis could not judge everything (metrics: AWS CloudWatch is throttling GetMetricData (ap-south-1) and still refused after retries; try again in a minute.), so it is not promoted by itself');
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toMatchObject({ desiredCount: 1 });
    expect(tap.forwarded('GetMetricData')).toHaveLength(0);
  });
});
