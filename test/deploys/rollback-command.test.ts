import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';
import { AwsCallError, type EcsPort } from '../../src/platform/aws/ecs-port.js';
import { ApprovalRepository } from '../../src/deploys/approval-repository.js';
import { DeployRepository } from '../../src/deploys/deploy-repository.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { click, golive, privateReply, query, sleep } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedEcs, startMoto, type Moto, type SeededEcs } from '../support/moto.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let moto: Moto;
let smoke: SmokeServer;
let t: TestApp;
let seeded: SeededEcs;
const clock = { at: new Date('2026-12-01T02:30:00Z'), now: () => new Date(clock.at) };

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  clock.at = new Date('2026-12-01T02:30:00Z');
  seeded = await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
});
afterEach(async () => {
  await t?.close();
});

async function start(opts: { approvalsRequired?: number; ecs?: EcsPort; expirySweepMs?: number } = {}) {
  t = await startTestApp({
    runbook: writeDeployRunbook({ smokeUrl: smoke.url, approvalsRequired: opts.approvalsRequired }),
    env: { AWS_ENDPOINT_URL: moto.endpoint },
    clock,
    appOptions: { ecs: opts.ecs, expirySweepMs: opts.expirySweepMs },
  });
}

async function serviceTaskDef(): Promise<string> {
  const out = await new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1' }).send(new DescribeServicesCommand({ cluster: 'GoVisaX-Prod-Cluster', services: ['GoVisaX-Prod-Service'] }));
  return out.services![0]!.taskDefinition!;
}

/** Files a rollback as U0DEVOPS and returns the card's ts and the request id. */
async function requestRollback(text = 'rollback api') {
  const reply = await privateReply(t, text, 'U0DEVOPS');
  const id = Number(/#(\d+)/.exec(reply)![1]);
  const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'));
  return { id, ts: (card.result as { ts: string }).ts, reply };
}

const cardText = (ts: string) => JSON.stringify(t.slack.messages.get(`C0OPS:${ts}`)!.blocks);
const replyTo = (responseId: string) => t.slack.waitForResponse((r) => r.id === responseId).then((r) => r.body.text as string);

describe('an approval card whose answer from Slack is lost', () => {
  it('is posted once (found by its mark in the channel), so no second card keeps live Approve buttons', async () => {
    await start();
    let dropped = 0;
    t.slack.beforeReply = (call) => (call.method === 'chat.postMessage' && String(call.args.text).startsWith('Rollback of api') && dropped++ === 0 ? 'drop' : undefined);
    const reply = await privateReply(t, 'rollback api', 'U0DEVOPS');
    expect(reply).toBe('Rollback request #1 is posted for approval. You cannot approve it yourself; you can cancel it on the card.');
    const cards = [...t.slack.messages.values()].filter((m) => m.text.startsWith('Rollback of api'));
    expect(cards).toHaveLength(1);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Rollback of api'))).toHaveLength(1);
    expect(await query(t, 'SELECT state, channel, message_ts FROM change_request')).toEqual([{ state: 'requested', channel: 'C0OPS', message_ts: cards[0]!.ts }]);
    expect(cards[0]!.metadata).toEqual({ event_type: 'golive_post', event_payload: { key: 'change_request/1' } });
  });
});

describe('/golive rollback', () => {
  it('posts an approval card; the requester cannot approve; another approver approves and it runs once', async () => {
    await start();
    const { id, ts, reply } = await requestRollback('rollback api 5xx after deploy');
    expect(reply).toBe(`Rollback request #${id} is posted for approval. You cannot approve it yourself; you can cancel it on the card.`);
    const card = t.slack.messages.get(`C0OPS:${ts}`)!;
    const first = (card.blocks[0] as { text: { text: string } }).text.text;
    expect(first.split('\n')).toEqual([
      '↩️ *Rollback requested* for `api` (`GoVisaX-Prod-Service`, ap-south-1): govisax-prod:3 → govisax-prod:2',
      'Target: the newest ACTIVE revision below the current one',
      'Reason: “5xx after deploy”',
      'Requested by <@U0DEVOPS> <!date^1796092200^{ago}|1 Dec 08:00 GMT+5:30> · approvers: CTO or DevOps',
    ]);
    // Slack shows the expiry in each reader's time zone; a client that cannot reads the launch's, never an ISO timestamp.
    expect((card.blocks[1] as { text: { text: string } }).text.text).toBe('⏳ Waiting for approval · expires <!date^1796094000^{time}|1 Dec 08:30 GMT+5:30>');
    expect(cardText(ts)).toContain('"action_id":"golive_request_approve"');

    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0DEVOPS', ts))).toBe(
      ':warning: You asked for this rollback, so someone else has to approve it.\nApprovers: CTO or DevOps.',
    );
    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0BDLEAD', ts))).toBe(':warning: Only CTO or DevOps can approve a rollback of `api`.');
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);

    await click(t, 'golive_request_approve', String(id), 'U0CTO', ts);
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Rollback'), 10000);
    expect(outcome.args.text).toBe('✅ Rollback of `api` to govisax-prod:2 succeeded: govisax-prod:2 is live: 2/2 tasks running');
    expect(outcome.args.thread_ts).toBe(ts);
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[1]);
    await t.slack.waitFor(() => cardText(ts).includes('✅ Approved by <@U0CTO> at 1 Dec 08:00 GMT+5:30 — done: govisax-prod:2 is live'));
    expect(cardText(ts)).not.toContain('golive_request_approve');

    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0DEVOPS2', ts))).toBe(
      'This rollback was already approved by <@U0CTO> at 1 Dec 08:00 GMT+5:30; nothing changed.',
    );
    expect(await query(t, 'SELECT state, decided_by FROM change_request')).toEqual([{ state: 'succeeded', decided_by: 'U0CTO' }]);
    expect((await query(t, "SELECT action FROM audit WHERE action LIKE 'rollback.%' ORDER BY id")).map((r) => (r as { action: string }).action)).toEqual([
      'rollback.request',
      'rollback.approve',
      'rollback.execute',
      'rollback.start',
      'rollback.succeeded',
      'rollback.closed',
    ]);
  });

  it('executes once when approvers click at the same moment', async () => {
    await start();
    const { id, ts } = await requestRollback();
    await Promise.all(Array.from({ length: 10 }, (_, i) => click(t, 'golive_request_approve', String(id), i % 2 ? 'U0CTO' : 'U0DEVOPS2', ts)));
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Rollback'), 10000);
    await sleep(200);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 1 }]);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'rollback.execute'")).toEqual([{ n: 1 }]);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('✅ Rollback'))).toHaveLength(1);
  });

  it('takes a named revision (:N, or a bare number older than the current one) and refuses a newer one', async () => {
    await start();
    const named = await requestRollback('rollback api :1 bad migration');
    expect(cardText(named.ts)).toContain('govisax-prod:3 → govisax-prod:1');
    expect(cardText(named.ts)).toContain('Target: the revision you named');
    expect(cardText(named.ts)).toContain('Reason: “bad migration”');
    await click(t, 'golive_request_cancel', String(named.id), 'U0DEVOPS', named.ts);
    await t.slack.waitFor(() => cardText(named.ts).includes('✖️ Cancelled by <@U0DEVOPS>'));
    t.slack.reset();
    // "502" is not an older revision, so it is part of the reason.
    const reason = await requestRollback('rollback api 502 errors');
    expect(cardText(reason.ts)).toContain('govisax-prod:3 → govisax-prod:2');
    expect(cardText(reason.ts)).toContain('Reason: “502 errors”');
    await click(t, 'golive_request_cancel', String(reason.id), 'U0DEVOPS', reason.ts);
    await t.slack.waitFor(() => cardText(reason.ts).includes('✖️ Cancelled'));
    expect(await privateReply(t, 'rollback api :4', 'U0DEVOPS')).toBe(
      ':warning: govisax-prod:4 is not older than the running govisax-prod:3, so it is not a rollback.\nTo move forward, deploy it: `/golive deploy api :4`.',
    );
  });

  it('goes back to what the current revision replaced, even when that is a newer revision number', async () => {
    await start();
    await golive(t, 'check v2f-agreement', 'U0BDLEAD');
    await golive(t, 'deploy api :4', 'U0DEVOPS');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10000);
    await golive(t, 'deploy api :1', 'U0DEVOPS');
    await t.slack.waitFor(() => t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('✅ Deploy')).length === 2, 10000);
    // :4 replaced by :1 is not "older" by number, so history does not offer it; nothing older than :1 exists either.
    expect(await privateReply(t, 'rollback api', 'U0DEVOPS')).toBe(
      ':warning: There is no ACTIVE revision of `govisax-prod` older than govisax-prod:1 to roll back to.\nName one: `/golive rollback api <revision>`.',
    );
  });

  it('rolls back to the last good deploy from history', async () => {
    await start();
    await golive(t, 'check v2f-agreement', 'U0BDLEAD');
    await golive(t, 'deploy api :2', 'U0DEVOPS');
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Deploy'), 10000);
    await golive(t, 'deploy api v9', 'U0DEVOPS');
    await t.slack.waitFor(() => t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('✅ Deploy')).length === 2, 10000);
    const { ts } = await requestRollback();
    expect(cardText(ts)).toContain('govisax-prod:5 → govisax-prod:2');
    expect(cardText(ts)).toContain('Target: the last successful deploy before the current one (#1, by <@U0DEVOPS>)');
  });

  it('is rejected by an approver; later clicks are told so', async () => {
    await start();
    const { id, ts } = await requestRollback();
    await click(t, 'golive_request_reject', String(id), 'U0CTO', ts);
    await t.slack.waitFor(() => cardText(ts).includes('🚫 Rejected by <@U0CTO> at 1 Dec 08:00 GMT+5:30'));
    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0DEVOPS2', ts))).toBe(
      'This rollback was already rejected by <@U0CTO> at 1 Dec 08:00 GMT+5:30; nothing changed.',
    );
    expect(await replyTo(await click(t, 'golive_request_cancel', String(id), 'U0CTO', ts))).toBe(
      'This rollback was already rejected by <@U0CTO> at 1 Dec 08:00 GMT+5:30; nothing changed.',
    );
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
  });

  it('only the requester can cancel', async () => {
    await start();
    const { id, ts } = await requestRollback();
    expect(await replyTo(await click(t, 'golive_request_cancel', String(id), 'U0CTO', ts))).toBe(':warning: Only <@U0DEVOPS>, who asked for it, can cancel this request.');
    expect(await privateReply(t, 'rollback api', 'U0CTO')).toBe(
      `:warning: A rollback of \`api\` requested by <@U0DEVOPS> is waiting for approval (request #${id}); approve, reject or cancel it on its card first.`,
    );
    expect(await privateReply(t, 'deploy api v9', 'U0DEVOPS')).toBe(
      `:warning: A rollback of \`api\` requested by <@U0DEVOPS> is waiting for approval (request #${id}); approve, reject or cancel it on its card first.`,
    );
  });

  it('expires after 30 minutes: the sweep updates the card and clicks are refused', async () => {
    await start({ expirySweepMs: 30 });
    const { id, ts } = await requestRollback();
    clock.at = new Date(clock.at.getTime() + 31 * 60_000);
    await t.slack.waitFor(() => cardText(ts).includes('⌛ Expired at 1 Dec 08:30 GMT+5:30 without enough approvals'));
    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0CTO', ts))).toBe(
      'This rollback expired at 1 Dec 08:30 GMT+5:30; nothing changed. Ask again with `/golive rollback api` if it is still needed.',
    );
    expect(await query(t, 'SELECT state FROM change_request')).toEqual([{ state: 'expired' }]);
  });

  it('needs as many distinct approvals as the runbook says', async () => {
    await start({ approvalsRequired: 2 });
    const { id, ts } = await requestRollback();
    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0CTO', ts))).toBe('Your approval is recorded: 1 of 2 needed.');
    expect(await replyTo(await click(t, 'golive_request_approve', String(id), 'U0CTO', ts))).toBe('You have already approved this request; it is waiting for more approvals.');
    await t.slack.waitFor(() => cardText(ts).includes('1/2 approvals (<@U0CTO>)'));
    await click(t, 'golive_request_approve', String(id), 'U0DEVOPS2', ts);
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ Rollback'), 10000);
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[1]);
  });

  it('reports an AWS refusal in the thread and as failed', async () => {
    const real = createEcsAdapter({ endpoint: moto.endpoint });
    const denying: EcsPort = {
      ...real,
      updateService: async () => {
        throw new AwsCallError('UpdateService', 'access_denied', 'AWS refused UpdateService: the bot’s IAM role lacks ecs:UpdateService.', 'AccessDeniedException');
      },
    };
    await start({ ecs: denying });
    const { id, ts } = await requestRollback();
    await click(t, 'golive_request_approve', String(id), 'U0CTO', ts);
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Rollback'), 10000);
    expect(outcome.args.text).toBe('❌ Rollback of `api` failed: AWS refused UpdateService: the bot’s IAM role lacks ecs:UpdateService.');
    await t.slack.waitFor(() => cardText(ts).includes('❌ Approved by <@U0CTO>'));
    expect(await query(t, 'SELECT state FROM change_request')).toEqual([{ state: 'failed' }]);
  });

  it('after a restart mid-rollback, records what ECS really runs and finishes once', async () => {
    await start();
    const { id, ts } = await requestRollback();
    // Simulate a process that died right after UpdateService: request executing, deploy running.
    const store = t.app.store;
    const requests = new ApprovalRepository(store);
    const deploys = new DeployRepository(store);
    await store.transaction(async () => {
      await requests.addApproval(id, 'U0CTO', clock.now().toISOString());
      await requests.transitionRequest(id, 'requested', 'approved', clock.now().toISOString(), { decided_by: 'U0CTO' });
      await requests.transitionRequest(id, 'approved', 'executing', clock.now().toISOString());
      const d = await deploys.startDeploy({ service: 'api', kind: 'rollback', from_task_def: seeded.serviceTaskDefinitionArn, to_task_def: seeded.taskDefinitionArns[1]!, image: null, requested_by: 'U0DEVOPS', request_id: id, started_at: clock.now().toISOString(), channel: 'C0OPS' });
      await deploys.markUpdateSent(d!, clock.now().toISOString());
    });
    await new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1' }).send(new UpdateServiceCommand({ cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', taskDefinition: seeded.taskDefinitionArns[1] }));
    t = await t.restart();
    await t.slack.waitFor(() => cardText(ts).includes('✅ Approved by <@U0CTO>'), 10000);
    expect(await query(t, 'SELECT state FROM change_request')).toEqual([{ state: 'succeeded' }]);
    expect(await query(t, 'SELECT outcome FROM deploy')).toEqual([{ outcome: 'succeeded' }]);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('✅ Rollback'))).toHaveLength(1);
  });
});

describe('restart before ECS was asked', () => {
  it('records that nothing changed when the process died before UpdateService', async () => {
    await start();
    await new DeployRepository(t.app.store).startDeploy({ service: 'api', kind: 'deploy', from_task_def: seeded.serviceTaskDefinitionArn, to_task_def: seeded.taskDefinitionArns[3]!, image: null, requested_by: 'U0DEVOPS', request_id: null, started_at: clock.now().toISOString(), channel: 'C0OPS' });
    t = await t.restart();
    const outcome = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Deploy'), 10000);
    expect(outcome.args.text).toBe('❌ Deploy of `api` failed: golive restarted before ECS was asked to change the service; nothing was changed in ECS.');
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
  });

  it('fails an approved rollback whose service moved since the request, without touching ECS', async () => {
    await start();
    const { id, ts } = await requestRollback();
    await new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1' }).send(new UpdateServiceCommand({ cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', taskDefinition: seeded.taskDefinitionArns[3] }));
    await click(t, 'golive_request_approve', String(id), 'U0CTO', ts);
    const note = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Could not run'), 10000);
    expect(note.args.text).toBe('❌ Could not run: the service now runs govisax-prod:4, not govisax-prod:3 as when the rollback was requested; nothing was changed. Ask again if a rollback is still needed.');
    expect(note.args.thread_ts).toBe(ts);
    await t.slack.waitFor(() => cardText(ts).includes('❌ Approved by <@U0CTO>'));
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[3]);
  });
});

describe('a rollback while a deploy of the service runs', () => {
  const RUNNING = 'A deploy of `api` (#1, started by <@U0DEVOPS2> at 1 Dec 08:00 GMT+5:30) is still running; wait for it to finish. Nothing was changed.';
  const runningDeploy = () =>
    new DeployRepository(t.app.store).startDeploy({ service: 'api', kind: 'deploy', from_task_def: seeded.serviceTaskDefinitionArn, to_task_def: seeded.taskDefinitionArns[3]!, image: null, requested_by: 'U0DEVOPS2', request_id: null, started_at: clock.now().toISOString(), channel: 'C0OPS' });

  it('is refused up front, naming the running deploy and who started it', async () => {
    await start();
    await runningDeploy();
    expect(await privateReply(t, 'rollback api 5xx after deploy', 'U0DEVOPS')).toBe(`:warning: ${RUNNING}\nIf it fails, its card offers *Roll back*; if it succeeds and you still need to go back, ask again then.`);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM change_request')).toEqual([{ n: 0 }]);
  });

  it('is refused when the deploy started while the request read ECS (decided again as the request is recorded)', async () => {
    let armed = false;
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let reading!: () => void;
    const reached = new Promise<void>((r) => (reading = r));
    const real = createEcsAdapter({ endpoint: moto.endpoint });
    const ecs: EcsPort = {
      ...real,
      describeService: async (ref) => {
        if (armed) {
          reading();
          await hold;
        }
        return real.describeService(ref);
      },
    };
    await start({ ecs });
    armed = true;
    const sent = await golive(t, 'rollback api', 'U0DEVOPS');
    await reached;
    await runningDeploy();
    release();
    const reply = await t.slack.waitForResponse((r) => r.id === sent.responseId);
    expect(reply.body.text).toBe(`:warning: ${RUNNING}\nIf it fails, its card offers *Roll back*; if it succeeds and you still need to go back, ask again then.`);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM change_request')).toEqual([{ n: 0 }]);
  });

  it('that slips through to approval is answered in words on the card, not with the database error, and ECS is not touched', async () => {
    await start();
    const { id, ts } = await requestRollback();
    // What the refusal above cannot see: a deploy recorded by another golive on the same database after the request.
    await runningDeploy();
    await click(t, 'golive_request_approve', String(id), 'U0CTO', ts);
    const note = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('❌ Could not run'), 10000);
    expect(note.args.text).toBe(`❌ Could not run: ${RUNNING}`);
    expect(note.args.thread_ts).toBe(ts);
    await t.slack.waitFor(() => cardText(ts).includes('❌ Approved by <@U0CTO>'));
    expect(await query(t, 'SELECT state FROM change_request')).toEqual([{ state: 'failed' }]);
    expect(await query(t, "SELECT kind, outcome FROM deploy ORDER BY id")).toEqual([{ kind: 'deploy', outcome: 'running' }]);
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
  });
});
