import type { AlarmService } from '../alarms/index.js';
import type { ChangeBoard, DeployService } from '../deploys/index.js';
import type { Background } from '../platform/background.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { OnCallPort } from '../platform/pager/oncall.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import { registerIncidentButtons } from './incident-buttons.js';
import { incidentCommand } from './incident-command.js';
import { SlackIncidentNotifier } from './incident-notifier.js';
import { IncidentService } from './incident-service.js';
import { registerPinHandlers } from './pin-handlers.js';

export type { IncidentEvent, IncidentRow } from './incident-repository.js';
export { incidentDedupKey, severityLabel, type IncidentService, type PostmortemDrafts } from './incident-service.js';
export { describeIncidentEvent, type EventWriter } from './describe-incident-event.js';
export { incidentSpec } from './incident-command.js';

/** Incidents: their channels, updates, reminders and escalation, and the incidents alarm rules open by themselves. */
export interface IncidentsModule extends FeatureModule {
  incidents: IncidentService;
}

export function createIncidentsModule(deps: {
  runbook: Runbook;
  store: Store;
  slack: SlackPort;
  roles: RoleDirectory;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  background: Background;
  alarms: AlarmService;
  deploys: DeployService;
  changeBoard: ChangeBoard;
  onCall?: OnCallPort;
  /** Whether PagerDuty is configured, so escalation can page. */
  canPage: boolean;
  /** Deploys and rollbacks started in a window, for an incident's timeline. */
  changesBetween?: (from: string, until: string) => Promise<{ id: number; kind: string; service: string; from: string | null; to: string; startedAt: string; outcome: string; requestedBy: string }[]>;
}): IncidentsModule {
  const { runbook, store, slack, roles, clock, logger, signals, background, alarms, deploys, changeBoard } = deps;
  const incidents = new IncidentService({
    runbook,
    store,
    slack,
    roles,
    clock,
    logger,
    afterCommit: () => signals.emit('outbox', 'home'),
    onCall: deps.onCall,
    canPage: deps.canPage,
    alarmTransitions: (name, from, until) => alarms.transitions(name, from, until),
    alarmPage: (name) => alarms.page(name),
    alarmRule: (name) => alarms.ruleFor(name),
    lastDeployedService: () => deploys.lastDeployedService(),
    changesBetween: deps.changesBetween,
  });
  incidents.notify(new SlackIncidentNotifier({ runbook, store, clock, postmortemLink: (id) => incidents.postmortemLink(id) }));
  alarms.onIncidentNeeded((need) => background.run(() => incidents.declareForAlarm(need)));
  return {
    incidents,
    commands: [incidentCommand({ incidents, slack, runbook })],
    register: (ui) => {
      registerIncidentButtons(ui, { runbook, incidents, alarms, deploys, changeBoard });
      registerPinHandlers(ui, { incidents, slack, logger });
    },
    jobs: [{ name: 'incident-reminders', schedule: 'sweep', run: () => incidents.runDueReminders(), failure: 'incident reminder sweep failed' }],
  };
}
