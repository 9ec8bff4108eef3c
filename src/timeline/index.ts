import type { ChecklistService } from '../checklist/index.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { t0Command } from './t0-command.js';
import { timelineCommand } from './timeline-command.js';
import { SlackTimelineNotifier } from './timeline-notifier.js';
import { TimelineService } from './timeline-service.js';

export type { LaunchT0, ScheduledMilestone, TimelineService } from './timeline-service.js';
export { milestoneWhen } from './render-timeline.js';
export { t0Spec } from './t0-command.js';
export { timelineSpec } from './timeline-command.js';

/** The launch clock: T-0 and the milestones posted around it. */
export interface TimelineModule extends FeatureModule {
  timeline: TimelineService;
}

export function createTimelineModule(deps: { runbook: Runbook; store: Store; clock: Clock; roles: RoleDirectory; checklist: ChecklistService; signals: ChangeSignals }): TimelineModule {
  const { runbook, store, clock, roles, checklist, signals } = deps;
  const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit: () => signals.emit('outbox', 'status', 'home') });
  timeline.notify(new SlackTimelineNotifier({ runbook, store, clock, checklist, t0: async () => (await timeline.t0())?.at }));
  return {
    timeline,
    commands: [timelineCommand({ timeline, runbook, clock }), t0Command({ timeline, runbook })],
    jobs: [
      {
        // The first start is marked (absolute milestones before it are not late), and an edited runbook T-0 taken.
        name: 'launch-clock',
        atStart: 'required',
        run: async () => {
          await timeline.ensureStarted();
          await timeline.syncRunbookT0();
        },
        failure: 'could not start the launch clock',
      },
      {
        // The first run posts any milestone missed while golive was down, marked late; then twice a minute.
        name: 'milestones',
        atStart: 'wait',
        ...(runbook.milestones.length > 0 ? { schedule: { cron: '*/30 * * * * *' } } : {}),
        run: () => timeline.runDue(),
        failure: 'milestone run failed; the next one will retry',
      },
    ],
  };
}
