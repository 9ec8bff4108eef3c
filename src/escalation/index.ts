import type { AlarmService } from '../alarms/index.js';
import type { IncidentService } from '../incidents/index.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { OutboxPages } from '../platform/outbox/outbox-pages.js';
import { OutboxEscalationNotifier } from './escalation-notifier.js';
import { escalationSources } from './escalation-sources.js';
import { EscalationService } from './escalation-service.js';

export type { EscalationService, SweepResult } from './escalation-service.js';

/** Seed 004's escalation matrix: levels by minutes since an incident was declared or an alarm fired. */
export interface EscalationModule extends FeatureModule {
  escalation: EscalationService;
}

export function createEscalationModule(deps: {
  runbook: Runbook;
  store: Store;
  roles: RoleDirectory;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  incidents: IncidentService;
  alarms: AlarmService;
  /** Whether PagerDuty is configured; a paging level without it is recorded as not sent. */
  canPage: boolean;
}): EscalationModule {
  const { runbook, store, roles, clock, logger, signals } = deps;
  const pages = new OutboxPages(store);
  const escalation = new EscalationService({
    runbook,
    store,
    roles,
    clock,
    logger,
    canPage: deps.canPage,
    afterCommit: () => signals.emit('outbox', 'home'),
    sources: escalationSources({ runbook, incidents: deps.incidents, alarms: deps.alarms }),
    notifier: new OutboxEscalationNotifier({ runbook, store, pages }),
    pages,
  });
  return {
    escalation,
    // At start too: levels that came due while golive was down are decided at once, not a sweep later.
    jobs: escalation.configured ? [{ name: 'escalation', schedule: 'sweep', atStart: 'wait', run: () => escalation.sweep(), failure: 'escalation sweep failed; the next one will retry' }] : [],
  };
}
