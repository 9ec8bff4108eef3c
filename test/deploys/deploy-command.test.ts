import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { click, golive, privateReply, query } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs, SIDECAR, startMoto, type Moto, type SeededEcs } from '../support/moto.js';
import { DeployRepository } from '../../src/deploys/deploy-repository.js';
import { createCloudWatchAdapter } from '../../src/platform/aws/cloudwatch-adapter.js';
import type { CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';
import type { EcsPort } from '../../src/platform/aws/ecs-port.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let moto: Moto;
let smoke: SmokeServer;
let t: TestApp;
let seeded: SeededEcs;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await moto.stop();
});

async function start(opts: Parameters<typeof writeDeployRunbook>[0] | object = {}) {
  t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: smoke.url, ...opts }), env: { AWS_ENDPOINT_URL: moto.endpoint } });
}
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  smoke.healthy = true;
  seeded = await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
});
afterEach(async () => {
  await t?.close();
});

const ecs = () => new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1' });
async function serviceTaskDef(): Promise<string> {
  const out = await ecs().send(new DescribeServicesCommand({ cluster: 'GoVisaX-Prod-Cluster', services: ['GoVisaX-Prod-Service'] }));
  return out.services![0]!.taskDefinition!;
}
const short = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

async function clearBlockers() {
  await golive(t, 'check v2f-agreement', 'U0BDLEAD');
  await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('v2f-agreement'));
}

describe('/golive deploy', () => {
  it('refuses while a gate blocker is open or an alarm fires, naming each and where the alarm state came from', async () => {
    await seedAlarms(moto.endpoint, [
      { name: 'GoVisaX-Prod-API-5XX-Rate', state: 'ALARM' },
      { name: 'GoVisaX-Prod-RDS-CPU', state: 'OK' },
    ]);
    await start();
    // The gate asks the alarm watcher: after its start-up poll, its state is the answer.
    await t.app.services.alarms.poll();
    const reply = await privateReply(t, 'deploy api v9', 'U0DEVOPS');
    const lines = reply.split('\n');
    expect(lines[0]).toBe(':warning: Deploy of `api` refused: 2 things must be resolved first. Nothing was changed.');
    expect(lines[1]).toBe('• 🔴 blocker `v2f-agreement` V2F agreement signed (gate `pre-flight`, owner: BD Lead)');
    expect(lines[2]).toMatch(/^• 🚨 alarm `GoVisaX-Prod-API-5XX-Rate` is in ALARM since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines[3]).toMatch(/^Alarms: CloudWatch DescribeAlarms, ap-south-1, "GoVisaX-Prod\*", as of the alarm watcher's poll \d+ s ago\.$/);
    expect(lines).toHaveLength(4);
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 0 }]);
    const audit = await query<{ actor: string; target: string; detail: string }>(t, "SELECT actor, target, detail FROM audit WHERE action = 'deploy.refused'");
    expect(audit.map((r) => [r.actor, r.target, (JSON.parse(r.detail) as { blocked_by: string[] }).blocked_by])).toEqual([['U0DEVOPS', 'api', lines.slice(1, 3).map((l) => l.slice(2))]]);
  });

  it('decides the gate again as the deploy starts: a blocker reopened while DescribeAlarms is slow refuses it, and ECS is not touched', async () => {
    const cw = createCloudWatchAdapter({ endpoint: moto.endpoint });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const reading = new Promise<void>((r) => (asked = r));
    const cloudwatch: CloudWatchPort = {
      ...cw,
      describeAlarms: async (region, prefixes) => {
        asked();
        await held;
        return cw.describeAlarms(region, prefixes);
      },
    };
    const realEcs = createEcsAdapter({ endpoint: moto.endpoint });
    const updates: string[] = [];
    const ecs: EcsPort = { ...realEcs, updateService: async (ref, td, n) => (updates.push(td), realEcs.updateService(ref, td, n)) };
    t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: smoke.url }), env: { AWS_ENDPOINT_URL: moto.endpoint }, appOptions: { cloudwatch, ecs, alarmPolling: false } });
    await clearBlockers();
    const sent = await golive(t, 'deploy api v9', 'U0DEVOPS');
    // The watcher has not polled, so the gate's answer is a poll now: held here while the blocker is reopened.
    await reading;
    await golive(t, 'uncheck v2f-agreement the signed copy is the old draft', 'U0BDLEAD');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('reopened `v2f-agreement`'));
    release();
    const reply = await t.slack.waitForResponse((r) => r.id === sent.responseId);
    expect(reply.body.text).toBe(
      [
        ':warning: Deploy of `api` refused: 1 thing must be resolved first. Nothing was changed.',
        '• 🔴 blocker `v2f-agreement` V2F agreement signed (gate `pre-flight`, owner: BD Lead)',
        'Alarms: CloudWatch DescribeAlarms, ap-south-1, "GoVisaX-Prod*", read now (the alarm watcher had not polled yet).',
      ].join('\n'),
    );
    const audit = (await query<{ detail: string }>(t, "SELECT detail FROM audit WHERE action = 'deploy.refused'")).map((r) => JSON.parse(r.detail) as Record<string, unknown>);
    expect(audit).toEqual([
      {
        from: seeded.serviceTaskDefinitionArn,
        to: null,
        image: '123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v9',
        blocked_by: ['🔴 blocker `v2f-agreement` V2F agreement signed (gate `pre-flight`, owner: BD Lead)'],
        alarms_read: 'CloudWatch DescribeAlarms, ap-south-1, "GoVisaX-Prod*", read now (the alarm watcher had not polled yet)',
      },
    ]);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'deploy.start'")).toEqual([{ n: 0 }]);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 0 }]);
    expect(updates).toEqual([]);
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
  });

  it('refuses someone who is not a deployer, and an unknown service with a suggestion', async () => {
    await start();
    expect(await privateReply(t, 'deploy api v9', 'U0CTO')).toBe(':warning: Only DevOps can deploy `api`.');
    expect(await privateReply(t, 'deploy apj v9', 'U0DEVOPS')).toBe(':warning: There is no service `apj`.\nDid you mean `api`? The services are: `api`.');
  });

  it('--dry-run says what would happen and changes nothing', async () => {
    await start();
    await clearBlockers();
    const reply = await privateReply(t, 'deploy api v9 --dry-run', 'U0DEVOPS');
    expect(reply).toBe(
      [
        '*Dry run — nothing was changed.* `/golive deploy api` would:',
        '1. Register a new revision of `govisax-prod` copied from govisax-prod:3, with container `govisax-api` changed from `123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v3` to `123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v9`',
        '2. Update service `GoVisaX-Prod-Service` in cluster `GoVisaX-Prod-Cluster` (ap-south-1) from govisax-prod:3',
        '3. Wait up to 1 min for the rollout to complete',
        `4. Smoke check: GET ${smoke.url} expecting 200 and a body containing \`"status":"operational"\``,
      ].join('\n'),
    );
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
  });

  it('deploys a new image tag: registers a revision, updates the service, threads progress, smoke-checks, records it', async () => {
    await start();
    await clearBlockers();
    await golive(t, 'deploy api v9', 'U0DEVOPS');
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10000);
    expect(outcome.args.text).toMatch(/^✅ Deploy of `api` to govisax-prod:5 succeeded: govisax-prod:5 is live: 2\/2 tasks running, smoke check passed \(200 in \d+ ms\)$/);
    expect(String(outcome.args.reply_broadcast)).toBe('true');
    const card = t.slack.callsTo('chat.postMessage').find((c) => String(c.args.text).startsWith('Deploy of api'))!;
    const cardTs = (card.result as { ts: string }).ts;
    expect(outcome.args.thread_ts).toBe(cardTs);
    const thread = t.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === cardTs && !c.args.reply_broadcast).map((c) => String(c.args.text).replace(/ · .*$/, ''));
    expect(thread).toEqual([
      '📦 Registered govisax-prod:5 with `123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v9`',
      '🔄 Updating the service from govisax-prod:3 to govisax-prod:5',
      `🩺 Rollout complete (2/2 running); smoke check GET ${smoke.url}`,
    ]);
    const final = t.slack.messages.get(`C0OPS:${cardTs}`)!;
    expect(JSON.stringify(final.blocks)).toContain('✅ govisax-prod:5 is live');

    const live = await serviceTaskDef();
    expect(short(live)).toBe('govisax-prod:5');
    const td = await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: live }));
    const images = Object.fromEntries(td.taskDefinition!.containerDefinitions!.map((c) => [c.name, c.image]));
    expect(images).toEqual({ 'govisax-api': '123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v9', [SIDECAR.name]: SIDECAR.image });
    expect(await query(t, 'SELECT service, kind, from_task_def, to_task_def, image, requested_by, outcome FROM deploy')).toEqual([
      { service: 'api', kind: 'deploy', from_task_def: seeded.serviceTaskDefinitionArn, to_task_def: live, image: '123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v9', requested_by: 'U0DEVOPS', outcome: 'succeeded' },
    ]);
  });

  it('deploys an existing revision', async () => {
    await start();
    await clearBlockers();
    await golive(t, 'deploy api :4', 'U0DEVOPS');
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10000);
    expect(outcome.args.text).toContain('to govisax-prod:4 succeeded');
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[3]);
    expect(await privateReply(t, 'deploy api :99', 'U0DEVOPS')).toBe(
      ':warning: Revision `govisax-prod:99` does not exist.\nSee the revisions with `aws ecs list-task-definitions --family-prefix govisax-prod`.',
    );
  });

  it('reports a failed smoke check with the reason and a Roll back button that opens a rollback request', async () => {
    await start();
    await clearBlockers();
    smoke.healthy = false;
    await golive(t, 'deploy api v9', 'U0DEVOPS');
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Deploy'), 10000);
    expect(outcome.args.text).toBe(
      `❌ Deploy of \`api\` failed: smoke check failed: GET ${smoke.url} answered 503, expected 200. Use *Roll back* on the deploy message, or \`/golive rollback api\`.`,
    );
    const cardTs = outcome.args.thread_ts as string;
    await t.slack.waitFor(() => JSON.stringify(t.slack.messages.get(`C0OPS:${cardTs}`)?.blocks ?? []).includes('golive_deploy_rollback'));
    await click(t, 'golive_deploy_rollback', '1', 'U0DEVOPS', cardTs);
    const request = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'));
    const text = (request.args.blocks as { text: { text: string } }[])[0]!.text.text;
    expect(text).toContain('govisax-prod:5 → govisax-prod:3');
    expect(text).toContain('Target: the revision deploy #1 replaced');
    expect(text).toContain(`Reason: “deploy #1 failed: smoke check failed: GET ${smoke.url} answered 503, expected 200”`);
    expect(await query(t, 'SELECT outcome, reason FROM deploy')).toEqual([{ outcome: 'failed', reason: `smoke check failed: GET ${smoke.url} answered 503, expected 200` }]);
  });

  it('with --override, a blocked deploy waits for an approver and then runs, recorded as an override', async () => {
    await start({ allowOverride: true });
    const blocked = await privateReply(t, 'deploy api v9', 'U0DEVOPS');
    expect(blocked.split('\n').at(-1)).toBe('The runbook allows an override: add `--override` to ask an approver to let it through.');
    const reply = await privateReply(t, 'deploy api v9 --override', 'U0DEVOPS');
    expect(reply).toBe('Deploy of `api` is blocked, so I asked for an override approval (request #1). It runs when an approver other than you approves it.');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Deploy override of api'));
    const ts = (card.result as { ts: string }).ts;
    expect(JSON.stringify(card.args.blocks)).toContain('⚠️ *Deploy override requested* for `api`: deploy `v9` despite:\\n• 🔴 blocker `v2f-agreement`');
    await click(t, 'golive_request_approve', '1', 'U0CTO', ts);
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10000);
    expect(outcome.args.thread_ts).toBe(ts);
    expect(short(await serviceTaskDef())).toBe('govisax-prod:5');
    expect(await query(t, "SELECT action, actor FROM audit WHERE action LIKE 'deploy%' ORDER BY id")).toEqual([
      { action: 'deploy.refused', actor: 'U0DEVOPS' }, // the first try, without --override
      { action: 'deploy_override.request', actor: 'U0DEVOPS' },
      { action: 'deploy_override.approve', actor: 'U0CTO' },
      { action: 'deploy_override.execute', actor: 'golive' },
      { action: 'deploy.start', actor: 'U0DEVOPS' },
      { action: 'deploy.succeeded', actor: 'golive' },
      { action: 'deploy_override.closed', actor: 'golive' },
    ]);
  });

  it('refuses --override where the runbook does not allow it', async () => {
    await start();
    expect(await privateReply(t, 'deploy api v9 --override', 'U0DEVOPS')).toBe(':warning: The runbook does not allow overriding the deploy gate of `api`.');
  });

  it('starts one deploy when two are sent at the same moment, and tells the other sender why', async () => {
    await start();
    await clearBlockers();
    const [a, b] = await Promise.all([golive(t, 'deploy api v9', 'U0DEVOPS'), golive(t, 'deploy api v8', 'U0DEVOPS2')]);
    const refusal = await t.slack.waitForResponse((r) => r.id === a.responseId || r.id === b.responseId);
    expect(refusal.body.text).toMatch(/^:warning: A deploy of `api` \(#1, started by <@U0DEVOPS2?> at \d+ Dec \d\d:\d\d GMT\+5:30\) is still running; wait for it to finish\. Nothing was changed\.$/);
    await t.slack.waitForCall('chat.postMessage', (c) => /^[✅❌] Deploy/u.test(String(c.args.text)), 10000);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 1 }]);
  });

  it('refuses a second deploy while one is running', async () => {
    await start();
    await clearBlockers();
    await new DeployRepository(t.app.store).startDeploy({ service: 'api', kind: 'deploy', from_task_def: 'a', to_task_def: 'b', image: null, requested_by: 'U0DEVOPS2', request_id: null, started_at: new Date().toISOString(), channel: 'C0OPS' });
    expect(await privateReply(t, 'deploy api v9', 'U0DEVOPS')).toMatch(/^:warning: A deploy of `api` \(#1, started by <@U0DEVOPS2> at \d+ Dec \d\d:\d\d GMT\+5:30\) is still running; wait for it to finish\. Nothing was changed\.$/);
  });
});
