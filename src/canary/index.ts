import type { AlarmService } from '../alarms/index.js';
import type { ChangeBoard, DeployService, DeployStep } from '../deploys/index.js';
import type { LockService } from '../locks/index.js';
import type { MetricBatchPort } from '../platform/aws/cloudwatch-port.js';
import type { EcsPort } from '../platform/aws/ecs-port.js';
import type { Background } from '../platform/background.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Watchers } from '../platform/leadership/liveness.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import { CanaryBoard } from './canary-board.js';
import { registerCanaryButtons } from './canary-buttons.js';
import { canaryCommand } from './canary-command.js';
import { CanaryService } from './canary-service.js';
import { canaryDryRunSteps } from './render-canary.js';

export type { CanaryService } from './canary-service.js';
export type { CanaryRow } from './canary-repository.js';
export { canarySpec } from './canary-command.js';

/** Canary deploys: the new version on the canary service, judged every interval against the stable one, then promoted or aborted. */
export interface CanaryModule extends FeatureModule {
  canary: CanaryService;
  /** Stops the analysis loops; they resume from the record on the next start. */
  stop(): Promise<void>;
}

export function createCanaryModule(deps: {
  runbook: Runbook;
  store: Store;
  clock: Clock;
  logger: Logger;
  slack: SlackPort;
  ecs: EcsPort;
  metrics: MetricBatchPort;
  deploys: DeployService;
  changeBoard: ChangeBoard;
  alarms: AlarmService;
  locks: LockService;
  roles: RoleDirectory;
  background: Background;
  /** How often an analysis loop looks at the clock; tests with a movable clock use less. */
  pollMs: number;
  /** How often the canary's own rollout is polled (the deploys' rollout poll). */
  rolloutPollMs: number;
  /** Who this replica is and which others are dead; with `shared`, the leader's sweep takes over a dead replica's canaries. */
  watchers?: Watchers & { shared: boolean };
}): CanaryModule {
  const { runbook, store, clock, logger, slack, deploys, changeBoard, alarms, locks, background } = deps;
  const canary = new CanaryService({
    runbook,
    store,
    clock,
    logger,
    ecs: deps.ecs,
    metrics: deps.metrics,
    deploys,
    alarms: {
      // The watcher's state is the one answer to "what is firing".
      firing: async () => (await alarms.list()).filter((a) => a.state === 'ALARM').map((a) => ({ name: a.name, since: a.fired_at ?? a.state_at })),
      lastPollAt: () => alarms.lastPollAt(),
      poll: () => alarms.poll(),
      callsPerPoll: () => runbook.alarms?.prefixes.length ?? 0,
    },
    locks,
    roles: deps.roles,
    background: (task) => background.run(task),
    pollMs: deps.pollMs,
    rolloutPollMs: deps.rolloutPollMs,
    watchers: deps.watchers,
  });
  const board = new CanaryBoard({
    runbook,
    store,
    slack,
    clock,
    logger,
    deploy: (id) => deploys.deploy(id),
    threadOf: (d) => changeBoard.threadOf(d),
    refreshCard: (d, step, detail) => changeBoard.refreshCard(d, step as DeployStep, detail),
  });
  canary.notify(board);
  changeBoard.addCardBlocks((d) => board.cardBlocks(d));
  deploys.useStrategy({
    wants: (service, asked) => canary.wants(service, asked),
    dryRunSteps: (plan) => canaryDryRunSteps(plan.service, plan.desiredCount ?? 0),
    start: async (plan, userId) => {
      const { deployId, canaryId } = await canary.start(plan, userId);
      return { deployId, run: () => canary.run(canaryId, plan) };
    },
    owns: (id) => canary.owns(id),
    runApproved: (plan, userId, requestId) => canary.runApproved(plan, userId, requestId),
  });
  // An alarm a canary watches going to ALARM is judged at once, not at the canary's next interval.
  alarms.onFiring((name) => canary.alarmFired(name));
  return {
    canary,
    stop: () => canary.stop(),
    commands: [canaryCommand({ canary, findService: (name) => deploys.findService(name), runbook, clock })],
    register: (ui) => registerCanaryButtons(ui, { runbook, canary, slack }),
    jobs: [
      {
        // Canaries carry on from their record: a bake resumes, a promotion or abort is finished once.
        name: 'canary-recovery',
        atStart: 'background',
        run: () => canary.recover(),
        failure: 'recovery of running canaries failed',
      },
      ...(deps.watchers?.shared
        ? [
            {
              // Several replicas: a canary whose replica died is carried on by the leader once that one counts as dead.
              name: 'canary-takeover',
              schedule: 'sweep' as const,
              run: () => canary.recover(),
              failure: 'taking over the canaries of a replica that stopped failed',
            },
          ]
        : []),
    ],
  };
}
