import type { FiringAlarms } from '../alarms/index.js';
import type { ChecklistService, ChecklistSnapshot } from '../checklist/index.js';
import type { IncidentService } from '../incidents/index.js';
import type { CloudWatchPort } from '../platform/aws/cloudwatch-port.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import type { TimelineService } from '../timeline/index.js';
import { registerGoNoGoButtons } from './gonogo-buttons.js';
import { gonogoCommand } from './gonogo-command.js';
import { SlackGoNoGoNotifier } from './gonogo-notifier.js';
import { GoNoGoService } from './gonogo-service.js';
import { launchVerdict } from './launch-verdict.js';

export type { DecisionRow, VoteRow } from './gonogo-repository.js';
export type { GoNoGoService } from './gonogo-service.js';
export { launchVerdict } from './launch-verdict.js';
export { gonogoSpec } from './gonogo-command.js';

/** The go/no-go decision: criteria measured from the evidence, one card at a time, and its votes. */
export interface GoNoGoModule extends FeatureModule {
  gonogo: GoNoGoService;
  /** The launch's one verdict line: the checklist's line with the latest decision folded in ({@link launchVerdict}). */
  verdictLine(snapshot: ChecklistSnapshot, checklistLine: string): Promise<string>;
}

export function createGoNoGoModule(deps: {
  runbook: Runbook;
  store: Store;
  slack: SlackPort;
  cloudwatch: CloudWatchPort;
  /** The one answer to "what is firing", for `no_firing_alarms`. */
  alarms: FiringAlarms;
  checklist: ChecklistService;
  timeline: TimelineService;
  incidents: IncidentService;
  roles: RoleDirectory;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  /** AWS_REGION, for the alarm-region rule. */
  defaultRegion?: string;
}): GoNoGoModule {
  const { runbook, store, slack, clock, signals } = deps;
  const gonogo = new GoNoGoService({
    runbook,
    store,
    cloudwatch: deps.cloudwatch,
    alarms: deps.alarms,
    checklist: deps.checklist,
    timeline: deps.timeline,
    roles: deps.roles,
    clock,
    logger: deps.logger,
    defaultRegion: deps.defaultRegion,
    afterCommit: () => signals.emit('outbox', 'status', 'home'),
    incidents: deps.incidents,
  });
  gonogo.notify(new SlackGoNoGoNotifier({ runbook, store, clock, voters: () => gonogo.voterLabel() }));
  return {
    gonogo,
    verdictLine: async (snapshot, checklistLine) => {
      const decision = gonogo.configured ? await gonogo.latest() : undefined;
      return launchVerdict(snapshot, checklistLine, decision ? { decision, votes: await gonogo.votes(decision.id) } : undefined, runbook.launch.timezone);
    },
    commands: [gonogoCommand({ gonogo, runbook })],
    register: (ui) => registerGoNoGoButtons(ui, { runbook, gonogo, slack }),
  };
}
