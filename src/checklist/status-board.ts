import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistService, ChecklistSnapshot } from './checklist-service.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Store } from '../platform/store/store.js';
import { ChecklistRepository } from './checklist-repository.js';
import { renderStatus, verdictText, type RenderedStatus, type StatusRenderContext, type StatusView } from './render-status.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import { renderNotice } from '../platform/slack/blocks.js';

/** What every viewer's status rendering shares (see {@link StatusBoard.shared}). */
export interface SharedStatus {
  snapshot: ChecklistSnapshot;
  members: Map<string, { users: string[]; anyone: boolean }>;
  /** The launch's one verdict line ({@link StatusBoard.verdictLine}). */
  verdict: string;
  /** What holds deploys now or soon (locks, freeze windows), one line each. */
  holds?: string[];
  /** What golive itself cannot do now (see alarms, page, deliver), one line each. */
  degraded?: string[];
}

/** How long a posted status message is kept current, and how many at most. */
/** The viewer of a channel board: everyone in the channel sees the same message. */
export const EVERYONE = Symbol('everyone');

const TRACK_FOR_MS = 24 * 60 * 60 * 1000;
const TRACK_AT_MOST = 10;
/** What an old status message says instead, once someone clicks on it. */
const SUPERSEDED = `This status is out of date: golive keeps only the ${TRACK_AT_MOST} newest status messages of the last day current. Run \`/golive status\` for the current one.`;

/**
 * Posts `/golive status` messages and keeps the recent ones current: each is
 * re-rendered for the person who asked (their sign-off buttons) whenever the
 * checklist changes.
 */
export class StatusBoard {
  private readonly rows: ChecklistRepository;

  constructor(
    private readonly deps: { runbook: Runbook; store: Store; slack: SlackPort; checklist: ChecklistService; roles: RoleDirectory; clock: Clock; logger: Logger; verdict?: (snapshot: ChecklistSnapshot, checklistLine: string) => Promise<string> },
    private readonly minPassGapMs = 1000,
  ) {
    this.rows = new ChecklistRepository(deps.store);
  }

  /** Folds the go/no-go decision into the verdict line (go/no-go is built after the checklist, so it is connected later). */
  useVerdict(line: (snapshot: ChecklistSnapshot, checklistLine: string) => Promise<string>): void {
    this.deps.verdict = line;
  }

  /** The launch's one verdict line: the checklist's, with the latest go/no-go decision folded in once go/no-go is connected. */
  async verdictLine(snapshot: ChecklistSnapshot): Promise<string> {
    const own = verdictText(snapshot, (r) => this.deps.checklist.roleLabel(r));
    return this.deps.verdict ? this.deps.verdict(snapshot, own) : own;
  }

  private holds?: () => Promise<string[]>;

  /** Shows what holds deploys (locks and freeze windows are built after the checklist, so they are connected later). */
  showHolds(lines: () => Promise<string[]>): void {
    this.holds = lines;
  }

  private degraded?: () => Promise<string[]>;

  /** Shows what golive itself cannot do now (its health is built after the checklist, so it is connected later). */
  showDegraded(lines: () => Promise<string[]>): void {
    this.degraded = lines;
  }

  /**
   * Renders the status for `viewer`: {@link EVERYONE} for a channel board, which everyone in the channel sees
   * alike, so every open item gets a Sign off button and the click checks who may sign.
   */
  async render(viewer: string | typeof EVERYONE, view: StatusView, maxBlocks?: number): Promise<RenderedStatus> {
    const { snapshot, ctx } = await this.context(viewer);
    return renderStatus(snapshot, view, ctx, maxBlocks);
  }

  /** What every viewer's rendering shares: the checklist, the role members, the verdict line. Read once per refresh pass. */
  async shared(): Promise<SharedStatus> {
    const { checklist, roles } = this.deps;
    const snapshot = await checklist.snapshot();
    const members = new Map<string, { users: string[]; anyone: boolean }>();
    for (const name of roles.roleNames()) {
      const m = await roles.members(name);
      members.set(name, { users: m.users, anyone: m.anyone });
    }
    return { snapshot, members, verdict: await this.verdictLine(snapshot), holds: await this.holds?.(), degraded: await this.degraded?.() };
  }

  /**
   * The checklist and what rendering it needs (role members, the items that get a Sign off button): for one
   * person (App Home, which only they see) the items they may sign off; for {@link EVERYONE} (a channel board) every open item.
   */
  async context(viewer: string | typeof EVERYONE, shared?: SharedStatus): Promise<{ snapshot: ChecklistSnapshot; ctx: StatusRenderContext }> {
    const { checklist, runbook, clock } = this.deps;
    const { snapshot, members, verdict, holds, degraded } = shared ?? (await this.shared());
    const viewerRoles = new Set([...members].filter(([, m]) => m.anyone || (viewer !== EVERYONE && m.users.includes(viewer))).map(([name]) => name));
    const signable = new Set<string>();
    for (const level of ['blocker', 'warning', 'info'] as const) for (const s of snapshot.open[level]) if (viewer === EVERYONE || viewerRoles.has(s.item.owner)) signable.add(s.item.id);
    const roleMembers = new Map([...members].map(([name, m]) => [name, m.users]));
    return { snapshot, ctx: { timezone: runbook.launch.timezone, now: clock.now(), roleLabel: (r) => checklist.roleLabel(r), roleMembers, signable, verdict, holds, degraded } };
  }

  /** Posts a status message in the channel and remembers it for updates. */
  async post(channel: string, viewer: string, view: StatusView): Promise<void> {
    const rendered = await this.render(EVERYONE, view);
    // One board per request: a copy posted on a lost answer would keep Sign off buttons nothing refreshes.
    const posted = await this.deps.slack.postOnce(channel, rendered, `status/${randomUUID()}`);
    await this.rows.addStatusMessage({ channel: posted.channel, ts: posted.ts, viewer, gate_id: view.gateId ?? null, page: rendered.page, posted_at: this.deps.clock.now().toISOString() });
  }

  /**
   * Replaces a status message golive posted and no longer keeps current
   * (past the 10 newest, or older than a day) with a line saying so, without
   * its buttons; any other message is left alone. Whether it was replaced.
   * A failure is logged, not thrown: the click it follows has been answered.
   */
  async supersedeIfStale(channel: string, ts: string): Promise<boolean> {
    if (!(await this.rows.statusMessage(channel, ts))) return false;
    const since = new Date(this.deps.clock.now().getTime() - TRACK_FOR_MS).toISOString();
    const current = await this.rows.recentStatusMessages(since, TRACK_AT_MOST);
    if (current.some((m) => m.channel === channel && m.ts === ts)) return false;
    try {
      await this.deps.slack.updateMessage(channel, ts, renderNotice(SUPERSEDED));
    } catch (err) {
      this.deps.logger.warn({ err, channel, ts }, 'could not mark an old status message as out of date');
      return false;
    }
    await this.rows.forgetStatusMessage(channel, ts);
    return true;
  }

  /** Shows another page of a status message in place. */
  async showPage(channel: string, ts: string, viewer: string, view: StatusView): Promise<void> {
    const rendered = await this.render(EVERYONE, view);
    // Someone clicked for this page: it does not wait behind board refreshes.
    await this.deps.slack.updateMessage(channel, ts, rendered, { priority: 'people' });
    await this.rows.addStatusMessage({ channel, ts, viewer, gate_id: view.gateId ?? null, page: rendered.page, posted_at: this.deps.clock.now().toISOString() });
  }

  private refreshing?: Promise<void>;
  private queued?: Promise<void>;
  private lastPassEnded = Number.NEGATIVE_INFINITY;
  private retry?: NodeJS.Timeout;
  private failedPasses = 0;

  /**
   * Re-renders every recent status message; a message Slack no longer has is forgotten.
   * A change made while a pass runs, or less than `minPassGapMs` after one, is
   * folded into one queued pass: a burst of changes costs a pass a second, not
   * one per change (each pass is up to ten renders and chat.update calls, and
   * Slack rate-limits chat.update). A board whose update failed is not left
   * stale: another pass follows (2 s, doubling to a minute), and its fresh
   * render carries every change since.
   */
  refreshAll(): Promise<void> {
    if (this.queued) return this.queued;
    const wait = this.lastPassEnded + this.minPassGapMs - performance.now();
    if (!this.refreshing && wait <= 0) {
      this.refreshing = this.refreshOnce().finally(() => {
        this.refreshing = undefined;
        this.lastPassEnded = performance.now();
      });
      return this.refreshing;
    }
    // The running pass may have read the state before this caller's change; its failure is its own callers'.
    this.queued = (this.refreshing ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => new Promise((resolve) => setTimeout(resolve, Math.max(0, this.lastPassEnded + this.minPassGapMs - performance.now())).unref()))
      .then(() => {
        this.queued = undefined;
        return this.refreshAll();
      });
    return this.queued;
  }

  private async refreshOnce(): Promise<void> {
    const since = new Date(this.deps.clock.now().getTime() - TRACK_FOR_MS).toISOString();
    let boards;
    try {
      boards = await this.rows.recentStatusMessages(since, TRACK_AT_MOST);
    } catch (err) {
      // A queued pass can run after shutdown closed the database; nobody awaits it to hear the error.
      this.deps.logger.warn({ err }, 'could not list the status messages to refresh');
      return;
    }
    if (boards.length === 0) return;
    // One read of the checklist per pass, and one render per distinct board (the same gate and page).
    let shared: SharedStatus;
    try {
      shared = await this.shared();
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not read the checklist to refresh the status messages');
      return;
    }
    const renders = new Map<string, RenderedStatus>();
    let failed = false;
    for (const m of boards) {
      try {
        const key = `${m.gate_id ?? ''}|${m.page}`;
        let rendered = renders.get(key);
        if (!rendered) {
          const { snapshot, ctx } = await this.context(EVERYONE, shared);
          rendered = renderStatus(snapshot, { gateId: m.gate_id ?? undefined, page: m.page }, ctx);
          renders.set(key, rendered);
        }
        await this.deps.slack.updateMessage(m.channel, m.ts, rendered);
      } catch (err) {
        const code = (err as { slackError?: string }).slackError;
        if (code === 'message_not_found' || code === 'channel_not_found' || code === 'cant_update_message') await this.rows.forgetStatusMessage(m.channel, m.ts);
        else failed = true;
        this.deps.logger.warn({ err, channel: m.channel, ts: m.ts }, 'could not refresh a status message');
      }
    }
    this.failedPasses = failed ? this.failedPasses + 1 : 0;
    if (failed) this.refreshLater(Math.min(2000 * 2 ** (this.failedPasses - 1), 60_000));
  }

  /** Runs another pass after `ms` (once, however many boards failed). */
  private refreshLater(ms: number): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.refreshAll();
    }, ms);
    this.retry.unref();
  }

  /** Cancels a pending follow-up pass (shutdown). */
  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }
}
