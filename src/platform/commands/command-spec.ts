import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Runbook } from '../runbook/schema.js';
import type { AlarmService } from '../../alarms/alarm-service.js';
import type { ApprovalService } from '../../deploys/approval-service.js';
import type { ChecklistService } from '../../checklist/checklist-service.js';
import type { DeployService } from '../../deploys/deploy-service.js';
import type { GoNoGoService } from '../../gonogo/gonogo-service.js';
import type { IncidentService } from '../../incidents/incident-service.js';
import type { TimelineService } from '../../timeline/timeline-service.js';
import type { HomeTab } from '../../home/home-tab.js';
import type { ChangeBoard } from '../../deploys/change-board.js';
import type { SlackMessage, SlackPort } from '../slack/slack-port.js';
import type { StatusBoard } from '../../checklist/status-board.js';
import type { Store } from '../store/store.js';
import type { AuditRepository } from '../store/audit-repository.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReportService } from '../../report/report-service.js';

/** The services a command may use. */
export interface CommandServices {
  runbook: Runbook;
  store: Store;
  audit: AuditRepository;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  checklist: ChecklistService;
  statusBoard: StatusBoard;
  slack: SlackPort;
  deploys: DeployService;
  approvals: ApprovalService;
  changeBoard: ChangeBoard;
  alarms: AlarmService;
  incidents: IncidentService;
  gonogo: GoNoGoService;
  timeline: TimelineService;
  /** The App Home dashboard, republished for its viewers when the launch changes. */
  home: HomeTab;
  /** Runs long work (a rollout) after the reply; the app waits for it on shutdown. */
  background(task: () => Promise<unknown>): void;
  /** Every command's spec, for `help`. */
  specs: readonly CommandSpec[];
  /** The launch report and post-mortem drafts. */
  reports: ReportService;
}

/** One invocation of a subcommand. */
export interface CommandContext {
  userId: string;
  channelId: string;
  /** Words after the subcommand name, split on whitespace. */
  args: string[];
  /** The text after the subcommand name, as typed (trimmed). */
  rest: string;
  services: CommandServices;
  /** Slack's trigger_id, for opening a modal within its 3-second life. */
  triggerId?: string;
  /** Replies privately to the person who ran the command. */
  respond(message: SlackMessage): Promise<void>;
}

/**
 * A `/golive` subcommand: what `help` and the malformed-input reply show, and
 * the handler. Handlers throw GoliveError for anything the user must fix.
 */
export interface CommandSpec {
  name: string;
  /** e.g. `check <item> [note]` (without `/golive`). */
  usage: string;
  description: string;
  /** Whether running it changes recorded state or posts to the channel. */
  sideEffects: boolean;
  /** Who may run it, in words (enforced by the service it calls). */
  who: string;
  /** Fewest arguments it needs; fewer gets the usage privately. */
  minArgs: number;
  /** Most arguments it takes; more gets the usage privately (undefined: free text). */
  maxArgs?: number;
  run(ctx: CommandContext): Promise<void>;
}
