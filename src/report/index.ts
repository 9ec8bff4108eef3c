import type { AlarmService } from '../alarms/index.js';
import type { ChecklistService } from '../checklist/index.js';
import type { ChangeStories } from '../deploys/index.js';
import type { GoNoGoService } from '../gonogo/index.js';
import { ACTION_POST_REPORT } from '../home/index.js';
import type { IncidentService } from '../incidents/index.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Route } from '../platform/http/routes.js';
import type { Logger } from '../platform/logger.js';
import type { Outbox } from '../platform/outbox/outbox.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import type { TimelineService } from '../timeline/index.js';
import { reportCommand } from './report-command.js';
import { ReportLinkRepository } from './report-link-repository.js';
import { ReportService } from './report-service.js';
import { serveReportPages } from './serve-report-pages.js';
import { shareDocuments } from './share-documents.js';

export type { ReportService } from './report-service.js';
export { reportSpec } from './report-command.js';

/** The launch report and the incidents' post-mortem drafts: shared in Slack as files, served at a secret link. */
export interface ReportModule extends FeatureModule {
  reports: ReportService;
}

export function createReportModule(deps: {
  runbook: Runbook;
  store: Store;
  slack: SlackPort;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  roles: RoleDirectory;
  checklist: ChecklistService;
  timeline: TimelineService;
  gonogo: GoNoGoService;
  changes: ChangeStories;
  alarms: AlarmService;
  incidents: IncidentService;
  /** golive's address as browsers reach it (GOLIVE_PUBLIC_URL); without it the files are posted with no link. */
  publicUrl?: string;
}): ReportModule {
  const { runbook, store, slack, checklist, timeline, gonogo, changes, alarms, incidents } = deps;
  const pagerRows = new OutboxRepository(store);
  const reports = new ReportService({
    store,
    outbox: deps.outbox,
    clock: deps.clock,
    roles: deps.roles,
    publicUrl: deps.publicUrl,
    links: new ReportLinkRepository(store),
    incidents,
    sources: {
      runbook,
      checklist: () => checklist.snapshot(),
      t0: () => timeline.t0(),
      milestones: () => timeline.schedule(),
      decisions: () => gonogo.allDecisions(),
      changes: () => changes.all(),
      alarmTransitions: () => alarms.allTransitions(),
      pagerTriggers: () => pagerRows.pagerTriggers(),
      incidents: () => incidents.all(),
      alarmSeverity: (name) => (runbook.alarms ? alarms.ruleFor(name).severity : null),
      userName: (id) => slack.userName(id),
    },
  });
  incidents.draftPostmortemsWith(reports);
  shareDocuments({ reports, slack, outbox: deps.outbox });
  const pages = serveReportPages(reports, deps.logger);
  const serve: Route['handler'] = (req, res) => void pages(req, res);
  return {
    reports,
    commands: [reportCommand({ reports, runbook })],
    // App Home's "Launch report": posted in the ops channel, where the report is the answer (a Home click has no response_url).
    register: (ui) => ui.onButton(ACTION_POST_REPORT, ({ body }) => reports.queueLaunchReport(body.user.id, runbook.launch.channel)),
    routes: [
      { path: '/reports/:token', method: 'GET', handler: serve },
      { path: '/reports/:token/:file', method: 'GET', handler: serve },
    ],
    jobs: [{ name: 'report-link', atStart: 'required', run: () => reports.start(), failure: 'could not load the report link' }],
  };
}
