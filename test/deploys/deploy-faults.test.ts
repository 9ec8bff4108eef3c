import {
  AccessDeniedException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ECSServiceException,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service as EcsService,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';
import type { CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { golive, privateReply, query } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

/*
 * What moto cannot produce — FAILED rollouts, circuit-breaker rollbacks, stuck
 * rollouts, throttling, access denied — driven through the real ECS adapter
 * with aws-sdk-client-mock underneath it.
 */
const ARN = (rev: number) => `arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-prod:${rev}`;
const IMAGE = '123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax';

function service(taskDef: number, deployments: { rev: number; status: string; running: number; rollout?: string; reason?: string }[]): { services: EcsService[] } {
  return {
    services: [
      {
        serviceName: 'GoVisaX-Prod-Service',
        clusterArn: 'arn:aws:ecs:ap-south-1:123456789012:cluster/GoVisaX-Prod-Cluster',
        status: 'ACTIVE',
        taskDefinition: ARN(taskDef),
        desiredCount: 2,
        runningCount: deployments.reduce((n, d) => n + d.running, 0),
        deployments: deployments.map((d, i) => ({ id: `ecs-svc/${i}`, status: d.status, taskDefinition: ARN(d.rev), desiredCount: 2, runningCount: d.running, rolloutState: d.rollout as never, rolloutStateReason: d.reason })),
        events: [],
      },
    ],
  };
}

const ecsMock = mockClient(ECSClient);
const noAlarms: CloudWatchPort = { describeAlarms: async () => [], describeAlarmHistory: async () => [], getMetricData: async () => ({ values: [], timestamps: [] }) };
let smoke: SmokeServer;
let t: TestApp;

beforeAll(async () => {
  smoke = await startSmokeServer();
});
afterAll(async () => {
  await smoke.close();
});
beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const rev = Number(/:(\d+)$/.exec(input.taskDefinition)![1]);
    return {
      taskDefinition: { taskDefinitionArn: ARN(rev), family: 'govisax-prod', revision: rev, status: 'ACTIVE', containerDefinitions: [{ name: 'govisax-api', image: `${IMAGE}:v${rev}` }] },
      tags: [],
    };
  });
  ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: ARN(5), family: 'govisax-prod', revision: 5, status: 'ACTIVE', containerDefinitions: [{ name: 'govisax-api', image: `${IMAGE}:v9` }] } });
  ecsMock.on(UpdateServiceCommand).resolves({ service: service(5, [{ rev: 5, status: 'PRIMARY', running: 0, rollout: 'IN_PROGRESS' }, { rev: 3, status: 'ACTIVE', running: 2 }]).services[0] });
});
afterEach(async () => {
  await t?.close();
});

async function start(clock?: { now: () => Date }) {
  const ecs = createEcsAdapter({ clientFor: () => new ECSClient({ region: 'ap-south-1' }) });
  t = await startTestApp({ runbook: writeDeployRunbook({ smokeUrl: smoke.url, deployRequires: [] }), clock, appOptions: { ecs, cloudwatch: noAlarms } });
}

async function deployOutcome(): Promise<string> {
  await golive(t, 'deploy api v9', 'U0DEVOPS');
  const post = await t.slack.waitForCall('chat.postMessage', (c) => /^[✅❌] Deploy/u.test(String(c.args.text)), 10000);
  return String(post.args.text);
}

const SUFFIX = ' Use *Roll back* on the deploy message, or `/golive rollback api`.';

describe('deploy faults', () => {
  it('reports a rollout ECS marks FAILED', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]))
      .resolves(service(5, [{ rev: 5, status: 'PRIMARY', running: 0, rollout: 'FAILED', reason: 'ECS deployment circuit breaker: tasks failed to start.' }, { rev: 3, status: 'ACTIVE', running: 2 }]));
    await start();
    expect(await deployOutcome()).toBe('❌ Deploy of `api` failed: ECS reports the rollout FAILED: ECS deployment circuit breaker: tasks failed to start.' + SUFFIX);
    expect(await query(t, 'SELECT outcome FROM deploy')).toEqual([{ outcome: 'failed' }]);
  });

  it('reports a circuit-breaker rollback to the old revision', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]))
      .resolvesOnce(service(5, [{ rev: 5, status: 'PRIMARY', running: 1, rollout: 'IN_PROGRESS' }, { rev: 3, status: 'ACTIVE', running: 2 }]))
      .resolves(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'IN_PROGRESS' }, { rev: 5, status: 'ACTIVE', running: 0 }]));
    await start();
    expect(await deployOutcome()).toBe('❌ Deploy of `api` failed: ECS rolled the service back to govisax-prod:3 (deployment circuit breaker).' + SUFFIX);
    const thread = t.slack.callsTo('chat.postMessage').map((c) => String(c.args.text).replace(/ · .*$/, ''));
    expect(thread).toContain('⏳ Rolling out: 1/2 tasks running');
  });

  it('fails a rollout that does not finish within the runbook timeout', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]))
      .resolves(service(5, [{ rev: 5, status: 'PRIMARY', running: 1, rollout: 'IN_PROGRESS' }, { rev: 3, status: 'ACTIVE', running: 1 }]));
    // Each look at the clock moves it 20 s: the 1-minute timeout passes after a few polls.
    let ticks = 0;
    await start({ now: () => new Date(Date.parse('2026-12-01T00:00:00Z') + ticks++ * 20_000) });
    expect(await deployOutcome()).toBe('❌ Deploy of `api` failed: the rollout did not finish within 1 minutes (1/2 tasks running).' + SUFFIX);
  });

  it('completes on rolloutState COMPLETED and runs the smoke check', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]))
      .resolves(service(5, [{ rev: 5, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }, { rev: 3, status: 'ACTIVE', running: 0 }]));
    await start();
    expect(await deployOutcome()).toMatch(/^✅ Deploy of `api` to govisax-prod:5 succeeded: govisax-prod:5 is live: 2\/2 tasks running, smoke check passed/);
  });

  it('reports a refused registration with no Roll back button: the service was not changed', async () => {
    ecsMock.on(DescribeServicesCommand).resolves(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]));
    ecsMock.on(RegisterTaskDefinitionCommand).rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message: 'User: arn:aws:sts::123456789012:assumed-role/golive is not authorized to perform: iam:PassRole' }));
    await start();
    const text = await deployOutcome();
    expect(text).toMatch(/^❌ Deploy of `api` failed: AWS refused RegisterTaskDefinition .*iam:PassRole\. The service was not changed\.$/);
    const card = t.slack.callsTo('chat.update').at(-1)!;
    expect(JSON.stringify(card.args.blocks)).not.toContain('golive_deploy_rollback');
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('keeps watching through a transient DescribeServices failure', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]))
      .rejectsOnce(new ECSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }))
      .resolves(service(5, [{ rev: 5, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]));
    await start();
    expect(await deployOutcome()).toMatch(/^✅ Deploy of `api` to govisax-prod:5 succeeded/);
  });

  it('reports throttling that outlasted the retries', async () => {
    ecsMock.on(DescribeServicesCommand).resolves(service(3, [{ rev: 3, status: 'PRIMARY', running: 2, rollout: 'COMPLETED' }]));
    ecsMock.on(UpdateServiceCommand).rejects(new ECSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));
    await start();
    const text = await deployOutcome();
    expect(text).toMatch(/^❌ Deploy of `api` failed: AWS ECS is throttling UpdateService/);
    expect(text).toContain('try again in a minute');
  });

  it('answers privately when AWS refuses to describe the service, and records nothing', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message: 'User: arn:aws:sts::123456789012:assumed-role/golive is not authorized to perform: ecs:DescribeServices' }));
    await start();
    const reply = await privateReply(t, 'deploy api v9', 'U0DEVOPS');
    expect(reply).toMatch(/^:warning: AWS refused DescribeServices .*the bot's IAM role lacks ecs:DescribeServices\.$/);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 0 }]);
  });
});
