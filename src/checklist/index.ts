import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import { announceChecklistChanges } from './announce-changes.js';
import { registerChecklistButtons } from './checklist-buttons.js';
import { ChecklistService } from './checklist-service.js';
import { checkCommand } from './check-command.js';
import { signoffCommand } from './signoff-command.js';
import { StatusBoard } from './status-board.js';
import { statusCommand } from './status-command.js';
import { uncheckCommand } from './uncheck-command.js';

export { ChecklistService, type Actor, type ChecklistSnapshot, type GateStatus, type ItemEvidenceSource, type ItemStatus } from './checklist-service.js';
export type { StatusBoard, SharedStatus } from './status-board.js';
export { gateLines, itemBlock, verdictText, type StatusRenderContext } from './render-status.js';
export { checklistGathering } from './announce-changes.js';
export { checkSpec } from './check-command.js';
export { signoffSpec } from './signoff-command.js';
export { statusSpec } from './status-command.js';
export { uncheckSpec } from './uncheck-command.js';

/** The checklist: items and gate sign-offs, the status board that shows them, and their announcements. */
export interface ChecklistModule extends FeatureModule {
  checklist: ChecklistService;
  statusBoard: StatusBoard;
}

export function createChecklistModule(deps: { runbook: Runbook; store: Store; slack: SlackPort; roles: RoleDirectory; clock: Clock; logger: Logger; signals: ChangeSignals }): ChecklistModule {
  const { runbook, store, slack, roles, clock, logger, signals } = deps;
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const statusBoard = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger });
  announceChecklistChanges({ runbook, store, checklist, statusBoard, clock, afterCommit: () => signals.emit('outbox', 'status', 'home') });
  return {
    checklist,
    statusBoard,
    commands: [statusCommand({ checklist, statusBoard }), checkCommand({ checklist }), uncheckCommand({ checklist }), signoffCommand({ checklist })],
    register: (ui) => registerChecklistButtons(ui, { checklist, statusBoard, signals }),
  };
}
