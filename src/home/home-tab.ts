import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { SLACK_METHOD_LIMITS } from '../platform/slack/rate-limits.js';
import { HomeRepository } from './home-repository.js';
import { renderHome, type HomeData } from './render-home.js';

/** The viewer-independent part of the Home tab. */
type SharedHome = Omit<HomeData, 'snapshot' | 'ctx'> & { status: SharedStatus };

/**
 * Who is likely to be looking: people who opened the Home tab (or clicked in it) within this long are
 * republished when the launch changes. Slack sends app_home_opened each time the tab is opened, so anyone
 * else gets a fresh tab when they come back; what it costs is a tab left open on a screen for longer
 * than this, which stays as it was until it is opened again.
 */
export const LIKELY_VIEWER_MS = 30 * 60_000;
const MAX_VIEWERS = 50;
/** views.publish calls a minute (Slack's tier for it): a pass for V viewers is followed by the next no sooner than V of these apart. */
const PUBLISH_GAP_MS = 60_000 / SLACK_METHOD_LIMITS['views.publish'].perWorkspace.limit;
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
 * republished for likely viewers ({@link LIKELY_VIEWER_MS}) when the launch
 * changes — debounced and paced to Slack's budget, since a burst of sign-offs
 * or alarm transitions should cost one publish per viewer, not one per change.
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

  /** When the last pass may be followed by the next, in performance.now() time (its viewers × the publish budget). */
  private nextPassAt = Number.NEGATIVE_INFINITY;

  /**
   * Something on the dashboard changed: republish for likely viewers, once
   * per burst — after `debounceMs`, and no sooner than the views.publish
   * budget allows after the last pass (50 viewers: a pass every 30 s).
   */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.refreshAll();
      },
      Math.max(this.deps.debounceMs, this.nextPassAt - performance.now()),
    );
    this.timer.unref();
  }

  /** Republishes for every likely viewer; a refresh requested while one runs runs once more after it, and one that failed for someone is tried again. */
  async refreshAll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let first = true;
      do {
        // A change made during a pass is republished after it, at the budget's pace too.
        if (!first) await sleep(Math.max(0, this.nextPassAt - performance.now()), undefined, { ref: false });
        first = false;
        this.again = false;
        const since = new Date(this.deps.clock.now().getTime() - LIKELY_VIEWER_MS).toISOString();
        let viewers: string[];
        let shared: SharedHome;
        try {
          viewers = await this.viewers.viewers(since, MAX_VIEWERS);
          if (viewers.length === 0) continue;
          this.nextPassAt = performance.now() + viewers.length * PUBLISH_GAP_MS;
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
