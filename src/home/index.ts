import type { AlarmService } from '../alarms/index.js';
import type { StatusBoard } from '../checklist/index.js';
import type { ApprovalService } from '../deploys/index.js';
import type { GoNoGoService } from '../gonogo/index.js';
import type { IncidentService } from '../incidents/index.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import type { TimelineService } from '../timeline/index.js';
import { HomeTab } from './home-tab.js';

export type { HomeTab } from './home-tab.js';
export { ACTION_POST_REPORT } from './render-home.js';

/** The App Home dashboard: published when opened, republished for its recent viewers when the launch changes. */
export interface HomeModule extends FeatureModule {
  home: HomeTab;
}

export function createHomeModule(deps: {
  runbook: Runbook;
  store: Store;
  slack: SlackPort;
  clock: Clock;
  logger: Logger;
  statusBoard: StatusBoard;
  alarms: AlarmService;
  incidents: IncidentService;
  timeline: TimelineService;
  gonogo: GoNoGoService;
  approvals: ApprovalService;
  /** How long a burst of changes settles before republishing. */
  debounceMs: number;
}): HomeModule {
  const home = new HomeTab(deps);
  return {
    home,
    register: (ui) => ui.onHomeOpened((userId) => home.publish(userId)),
  };
}
