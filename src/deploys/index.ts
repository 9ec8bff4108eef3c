import type { EcsPort } from '../platform/aws/ecs-port.js';
import type { Background } from '../platform/background.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { GoliveError } from '../platform/errors.js';
import type { FeatureModule } from '../platform/feature-module.js';
import { DEAD_AFTER_MS, type Watchers } from '../platform/leadership/liveness.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import type { ChecklistService } from '../checklist/index.js';
import type { FiringAlarms } from '../alarms/index.js';
import { ApprovalService } from './approval-service.js';
import { ChangeBoard } from './change-board.js';
import { ChangeStories } from './change-stories.js';
import { registerDeployButtons } from './deploy-buttons.js';
import { deployCommand } from './deploy-command.js';
import { DeployService } from './deploy-service.js';
import { rollbackCommand } from './rollback-command.js';

export type { ApprovalService } from './approval-service.js';
export type { ChangeRequestRow } from './approval-repository.js';
export type { ChangeBoard } from './change-board.js';
export type { ChangeStories, ChangeStory } from './change-stories.js';
export type { DeployPlan, DeployService, DeployStep, DeployStrategy } from './deploy-service.js';
export type { DeployRow } from './deploy-repository.js';
export { runHttpCheck, type HttpCheck, type HttpCheckResult } from './http-check.js';
export { shortTaskDef, watchRollout } from './watch-rollout.js';
export { deploySpec } from './deploy-command.js';
export { rollbackSpec } from './rollback-command.js';

/** Deploys and rollbacks of the runbook's ECS services, their approvals, and the cards and threads that show them. */
export interface DeploysModule extends FeatureModule {
  deploys: DeployService;
  approvals: ApprovalService;
  changeBoard: ChangeBoard;
  /** Deploys and rollbacks told whole (who asked, who approved, how long), for the history, incidents and the report. */
  changes: ChangeStories;
}

export function createDeploysModule(deps: {
  runbook: Runbook;
  store: Store;
  slack: SlackPort;
  ecs: EcsPort;
  /** The one answer to "what is firing", for the deploy gate. */
  alarms: FiringAlarms;
  checklist: ChecklistService;
  roles: RoleDirectory;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  background: Background;
  /** Deploy locks and freeze windows: a deploy they hold is refused (a rollback never is). */
  locks: { deployRefusal(service: string): Promise<GoliveError | undefined> };
  /** How often a rollout is polled. */
  rolloutPollMs: number;
  /** Who this replica is and which others are dead; with `shared`, the leader's sweep takes over a dead replica's rollouts. */
  watchers?: Watchers & { shared: boolean };
}): DeploysModule {
  const { runbook, store, slack, roles, clock, logger, signals, background, watchers } = deps;
  const approvals = new ApprovalService(runbook, store, roles, clock, watchers?.replica ?? null);
  const deploys = new DeployService({ runbook, store, ecs: deps.ecs, alarms: deps.alarms, checklist: deps.checklist, roles, approvals, clock, logger, rolloutPollMs: deps.rolloutPollMs, locks: deps.locks, watchers });
  const changeBoard = new ChangeBoard({ runbook, store, slack, approvals, clock, logger, kickOutbox: () => signals.emit('outbox'), onChange: () => signals.emit('home') });
  deploys.observe(changeBoard);
  return {
    deploys,
    approvals,
    changeBoard,
    changes: new ChangeStories(store),
    commands: [deployCommand({ deploys, changeBoard, background, runbook }), rollbackCommand({ deploys, changeBoard })],
    register: (ui) => registerDeployButtons(ui, { runbook, deploys, approvals, changeBoard, background }),
    jobs: [
      {
        // Deploys and requests a previous process left running are checked against ECS; their cards update as each settles.
        name: 'deploy-recovery',
        atStart: 'background',
        run: () => deploys.recover((id) => changeBoard.updateRequest(id)),
        failure: 'recovery of running deploys failed',
      },
      ...(watchers?.shared
        ? [
            {
              // Several replicas: what one that died was running (a rollout, an approved change) is taken over once it
              // counts as dead. In the background: a rollout taken over is watched to its end, longer than a sweep.
              // An approval is left to the replica that took it for as long as it could still be starting it.
              name: 'deploy-takeover',
              schedule: 'sweep' as const,
              run: async () => {
                const approvedBefore = new Date(clock.now().getTime() - DEAD_AFTER_MS).toISOString();
                background.run(() => deploys.recover((id) => changeBoard.updateRequest(id), { approvedBefore }));
              },
              failure: 'taking over the rollouts of a replica that stopped failed',
            },
          ]
        : []),
      {
        name: 'request-expiry',
        schedule: 'sweep',
        run: async () => {
          for (const r of await approvals.expireDue()) void changeBoard.updateRequest(r.id);
        },
        failure: 'approval expiry sweep failed',
      },
    ],
  };
}
