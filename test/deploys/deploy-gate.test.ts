import { afterEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { ChecklistService } from '../../src/checklist/checklist-service.js';
import { ApprovalService } from '../../src/deploys/approval-service.js';
import { DeployService } from '../../src/deploys/deploy-service.js';
import type { CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import type { EcsPort } from '../../src/platform/aws/ecs-port.js';
import { createLogger } from '../../src/platform/logger.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const parsed = parseRunbook(
  `version: 1
launch: { name: Launch, channel: C0OPS, timezone: UTC }
roles:
  ops: { name: Ops, users: [U0OPS] }
gates:
  - id: pre-flight
    title: Pre-flight
    items: [{ id: dns, title: DNS cut over, level: blocker, owner: ops }]
services:
  - { name: api, cluster: C, service: Api, region: ap-south-1, family: api, container: api, deployers: [ops], rollback_approvers: [ops], deploy_requires: [pre-flight] }
alarms: { region: ap-south-1, prefixes: [Prod-] }
`,
  'a.yml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const runbook = parsed.runbook;

async function setup() {
  const store = await openTestStore();
  const clock = clockAt('2026-12-01T09:00:00Z');
  const logger = createLogger({ level: 'silent' });
  const cloudwatch: CloudWatchPort = { describeAlarms: async () => [], describeAlarmHistory: async () => [], getMetricData: async () => ({ values: [], timestamps: [] }) };
  // ECS as far as planning and starting a deploy of `api :4` read it; UpdateService is never reached here.
  const ecs = {
    describeService: async (ref) => ({ cluster: ref.cluster, service: ref.service, taskDefinition: 'arn:aws:ecs:ap-south-1:1:task-definition/api:3', desiredCount: 1, runningCount: 1, deployments: [], events: [] }),
    describeTaskDefinition: async (_region, td) => ({ arn: `arn:aws:ecs:ap-south-1:1:task-definition/${td.replace(/^.*\//, '')}`, family: 'api', revision: Number(td.slice(td.lastIndexOf(':') + 1)), status: 'ACTIVE', images: { api: 'repo/api:v1' } }),
  } as Pick<EcsPort, 'describeService' | 'describeTaskDefinition'> as EcsPort;
  const roles = new RoleDirectory(runbook, {} as SlackPort, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const alarms = new AlarmService({ runbook, store, cloudwatch, clock, logger, afterCommit: () => {} });
  const deploys = new DeployService({ runbook, store, ecs, alarms, checklist, roles, approvals: new ApprovalService(runbook, store, roles, clock), clock, logger, rolloutPollMs: 1000 });
  return { store, checklist, deploys };
}

const ops = { userId: 'U0OPS', source: 'command' as const, channel: 'C0OPS' };

describe('the deploy gate', () => {
  it('is decided again in the transaction that starts the deploy: a blocker reopened after the plan refuses it, with an audit row naming it', async () => {
    const s = await setup();
    await s.checklist.check('dns', ops, null);
    const plan = await s.deploys.plan('api', ':4', 'U0OPS');
    expect(plan.blockedBy).toEqual([]);
    await s.checklist.uncheck('dns', ops, 'the TTL has not expired yet');
    await expect(s.deploys.start(plan, 'U0OPS')).rejects.toMatchObject({
      code: 'deploy_blocked',
      message: 'Deploy of `api` refused: 1 thing must be resolved first. Nothing was changed.',
      hint: '• 🔴 blocker `dns` DNS cut over (gate `pre-flight`, owner: Ops)\nAlarms: CloudWatch DescribeAlarms, ap-south-1, "Prod-*", read now (the alarm watcher had not polled yet).',
    });
    expect(await s.store.all('SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 0 }]);
    const rows = await s.store.all<{ action: string; detail: string }>("SELECT action, detail FROM audit WHERE action LIKE 'deploy.%'");
    expect(rows.map((r) => [r.action, (JSON.parse(r.detail) as { blocked_by: string[] }).blocked_by])).toEqual([['deploy.refused', ['🔴 blocker `dns` DNS cut over (gate `pre-flight`, owner: Ops)']]]);
  });

  it('lets the deploy start when the gate is still clear, recording what it decided on', async () => {
    const s = await setup();
    await s.checklist.check('dns', ops, null);
    const plan = await s.deploys.plan('api', ':4', 'U0OPS');
    const id = await s.deploys.start(plan, 'U0OPS');
    const rows = await s.store.all<{ action: string; detail: string }>("SELECT action, detail FROM audit WHERE action LIKE 'deploy.%'");
    expect(rows.map((r) => [r.action, JSON.parse(r.detail) as unknown])).toEqual([
      [
        'deploy.start',
        {
          deploy: id,
          from: 'arn:aws:ecs:ap-south-1:1:task-definition/api:3',
          to: 'arn:aws:ecs:ap-south-1:1:task-definition/api:4',
          image: 'repo/api:v1',
          override: false,
          blocked_by: [],
          alarms_read: 'CloudWatch DescribeAlarms, ap-south-1, "Prod-*", read now (the alarm watcher had not polled yet)',
        },
      ],
    ]);
  });
});
