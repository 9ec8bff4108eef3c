import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { AlarmService } from '../alarms/index.js';
import type { SharedStatus, StatusBoard } from '../checklist/index.js';
import type { ApprovalService } from '../deploys/index.js';
import type { GoNoGoService } from '../gonogo/index.js';
import type { IncidentService } from '../incidents/index.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import type { TimelineService } from '../timeline/index.js';
import { HomeRepository } from './home-repository.js';
import { renderHome, type HomeData } from './render-home.js';

/** The viewer-independent part of the Home tab. */
type SharedHome = Omit<HomeData, 'snapshot' | 'ctx'> & { status: SharedStatus };

/** Home tabs opened within this long are kept current; older ones are refreshed when opened again. */
const VIEWER_TTL_MS = 7 * 24 * 3600_000;
const MAX_VIEWERS = 50;
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** What the App Home tab reads and publishes through. */
export interface HomeTabDeps {
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
}

/**
 * The App Home dashboard. Published when someone opens the tab, and
 * republished for recent viewers when the launch changes — debounced, since a
 * burst of sign-offs or alarm transitions should cost one publish each.
 */
export class HomeTab {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private readonly viewers: HomeRepository;

  constructor(
    private readonly deps: HomeTabDeps,
  ) {
    this.viewers = new HomeRepository(deps.store);
  }

  /** Publishes the tab for one user and remembers them as a viewer. */
  async publish(userId: string): Promise<void> {
    const { clock, slack } = this.deps;
    // Slack user IDs only: anything else is not a person Slack could show a Home tab to.
    if (!USER_ID.test(userId)) throw new GoliveError('usage', 'That is not a Slack user golive can show the Home tab to.');
    await this.viewers.opened(userId, clock.now().toISOString());
    await slack.publishHome(userId, await this.render(userId));
  }

  async render(userId: string, shared?: SharedHome): Promise<Record<string, unknown>[]> {
    const { status, ...rest } = shared ?? (await this.shared());
    const { snapshot, ctx } = await this.deps.statusBoard.context(userId, status);
    return renderHome({ snapshot, ctx, ...rest });
  }

  /** Everything on the dashboard but the viewer's own sign-off buttons: read once per republish pass. */
  private async shared(): Promise<SharedHome> {
    const { runbook, statusBoard, alarms, incidents, timeline, gonogo, approvals } = this.deps;
    return {
      status: await statusBoard.shared(),
      firing: alarms.configured ? (await alarms.list()).filter((a) => a.state === 'ALARM') : undefined,
      incidents: incidents.configured ? await incidents.open() : undefined,
      approvals: await approvals.waiting(),
      timeline: runbook.milestones.length > 0 ? { next: await timeline.next(), t0: await timeline.t0() } : undefined,
      gonogo: gonogo.configured ? { latest: await gonogo.latest() } : undefined,
    };
  }

  /** Something on the dashboard changed: republish for recent viewers, once per burst. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refreshAll();
    }, this.deps.debounceMs);
    this.timer.unref();
  }

  /** Republishes for every recent viewer; a refresh requested while one runs runs once more after it, and one that failed for someone is tried again. */
  async refreshAll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const since = new Date(this.deps.clock.now().getTime() - VIEWER_TTL_MS).toISOString();
        let viewers: string[];
        let shared: SharedHome;
        try {
          viewers = await this.viewers.viewers(since, MAX_VIEWERS);
          if (viewers.length === 0) continue;
          shared = await this.shared();
        } catch (err) {
          // A pass the timer started as the app stopped finds the database closed: logged, never an unhandled rejection.
          this.deps.logger.warn({ err }, 'could not read the launch to republish the Home tab');
          continue;
        }
        let failed = false;
        for (const user of viewers) {
          try {
            await this.deps.slack.publishHome(user, await this.render(user, shared));
          } catch (err) {
            failed = true;
            this.deps.logger.warn({ err, user }, 'could not republish the Home tab');
          }
        }
        // Not left stale: the next debounced republish carries this change too.
        if (failed) this.changed();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops a pending republish (shutdown). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
