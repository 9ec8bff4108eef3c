import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistService, ChecklistSnapshot } from './checklist-service.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Store } from '../platform/store/store.js';
import { ChecklistRepository, type StatusMessageRow } from './checklist-repository.js';
import { renderStatus, verdictText, type RenderedStatus, type StatusRenderContext, type StatusView } from './render-status.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import { renderNotice } from '../platform/slack/blocks.js';
import { SLACK_METHOD_LIMITS } from '../platform/slack/rate-limits.js';

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

/** The viewer of a channel board: everyone in the channel sees the same message. */
export const EVERYONE = Symbol('everyone');

/** How long a posted status message is kept current, and in how many channels at most (the newest board of each). */
const TRACK_FOR_MS = 24 * 60 * 60 * 1000;
const TRACK_AT_MOST = 10;
/** What an old status message says instead when its channel has no board kept current, once someone clicks on it. */
const SUPERSEDED = `This status is out of date: golive keeps only the newest status message of a channel current, for a day, in at most ${TRACK_AT_MOST} channels. Run \`/golive status\` for the current one.`;
/** The gap between two chat.update calls that keeps a workspace within Slack's budget for the method. */
const UPDATE_GAP_MS = SLACK_METHOD_LIMITS['chat.update'].perWorkspace.windowMs / SLACK_METHOD_LIMITS['chat.update'].perWorkspace.limit;

/** The boards of the last day: the newest of each channel (kept current), and the older ones there, each with its channel's newest. */
interface Boards {
  live: StatusMessageRow[];
  superseded: { row: StatusMessageRow; newest: StatusMessageRow | undefined }[];
}

/**
 * Posts `/golive status` messages and keeps the newest of each channel current:
 * it is re-rendered whenever the checklist changes, as often as Slack's
 * chat.update budget allows. An older board in the channel is edited once to
 * point to the newest.
 */
export class StatusBoard {
  private readonly rows: ChecklistRepository;
  private workspaceUrl?: string;

  /**
   * A pass starts at least `minPassGapMs` after the previous one ended, and at least `updateGapMs` per
   * chat.update that pass made (by default Slack's budget for the method: 60 s / 50).
   */
  constructor(
    private readonly deps: { runbook: Runbook; store: Store; slack: SlackPort; checklist: ChecklistService; roles: RoleDirectory; clock: Clock; logger: Logger; verdict?: (snapshot: ChecklistSnapshot, checklistLine: string) => Promise<string> },
    private readonly minPassGapMs = 1000,
    private readonly updateGapMs = UPDATE_GAP_MS,
  ) {
    this.rows = new ChecklistRepository(deps.store);
  }

  /** Links an old board to the newest with a permalink: `url` is the workspace's, as auth.test gives it (`https://<workspace>.slack.com/`). */
  useWorkspaceUrl(url: unknown): void {
    this.workspaceUrl = typeof url === 'string' && /^https:\/\/[^/\s|>]+\/?$/.test(url) ? url.replace(/\/?$/, '/') : undefined;
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
    // The older boards in the channel now point to this one (a pass, so a failed edit is retried with the refreshes).
    void this.pass();
  }

  /** What an old board says instead: where the channel's board kept current is, or that none is. */
  private outOfDate(newest: StatusMessageRow | undefined): string {
    if (!newest) return SUPERSEDED;
    if (!this.workspaceUrl) return 'This status is out of date — the current one is the newest `/golive status` message in this channel.';
    return `This status is out of date — the current one is here: <${this.workspaceUrl}archives/${newest.channel}/p${newest.ts.replace('.', '')}>`;
  }

  private async boards(): Promise<Boards> {
    const since = new Date(this.deps.clock.now().getTime() - TRACK_FOR_MS).toISOString();
    const newest = new Map<string, StatusMessageRow>();
    const older: StatusMessageRow[] = [];
    for (const m of await this.rows.statusMessagesSince(since)) {
      if (newest.has(m.channel)) older.push(m);
      else newest.set(m.channel, m);
    }
    const live = [...newest.values()].slice(0, TRACK_AT_MOST);
    return { live, superseded: older.map((row) => ({ row, newest: live.find((m) => m.channel === row.channel) })) };
  }

  /**
   * Replaces a status message golive posted and no longer keeps current
   * (not its channel's newest, or older than a day) with a line saying so,
   * pointing to the channel's board kept current if there is one, without
   * its buttons; any other message is left alone. Whether it was replaced.
   * A failure is logged, not thrown: the click it follows has been answered.
   */
  async supersedeIfStale(channel: string, ts: string): Promise<boolean> {
    if (!(await this.rows.statusMessage(channel, ts))) return false;
    const { live } = await this.boards();
    if (live.some((m) => m.channel === channel && m.ts === ts)) return false;
    try {
      await this.deps.slack.updateMessage(channel, ts, renderNotice(this.outOfDate(live.find((m) => m.channel === channel))));
    } catch (err) {
      this.deps.logger.warn({ err, channel, ts }, 'could not mark an old status message as out of date');
      return false;
    }
    await this.rows.forgetStatusMessage(channel, ts);
    return true;
  }

  /** Shows another page of a status message in place; an older board of the channel points to the newest instead. */
  async showPage(channel: string, ts: string, viewer: string, view: StatusView): Promise<void> {
    const newest = (await this.boards()).live.find((m) => m.channel === channel);
    if (newest && newest.ts !== ts) {
      // Paging it would make it the channel's newest board, and the one people see at the bottom would point up to it.
      await this.deps.slack.updateMessage(channel, ts, renderNotice(this.outOfDate(newest)), { priority: 'people' });
      await this.rows.forgetStatusMessage(channel, ts);
      return;
    }
    const rendered = await this.render(EVERYONE, view);
    // Someone clicked for this page: it does not wait behind board refreshes.
    await this.deps.slack.updateMessage(channel, ts, rendered, { priority: 'people' });
    await this.rows.addStatusMessage({ channel, ts, viewer, gate_id: view.gateId ?? null, page: rendered.page, posted_at: this.deps.clock.now().toISOString() });
  }

  private refreshing?: Promise<void>;
  private queued?: Promise<void>;
  private lastPassEnded = Number.NEGATIVE_INFINITY;
  /** How many chat.update calls the last pass made: the next one waits for the budget they used. */
  private lastPassUpdates = 0;
  /** Whether the checklist changed since the last pass read it (a pass asked for by a post alone only points old boards). */
  private changed = false;
  private retry?: NodeJS.Timeout;
  private failedPasses = 0;

  /**
   * Re-renders the newest status message of each channel; a message Slack no longer has is forgotten.
   * A change made while a pass runs, or before the gap after one has passed, is
   * folded into one queued pass. The gap follows Slack's chat.update budget
   * (50 a minute per workspace): at least a second, and 1.2 s per update the
   * last pass made, so 3 boards are refreshed every 3.6 s however many changes
   * come. A board whose update failed is not left stale: another pass follows
   * (2 s, doubling to a minute), and its fresh render carries every change since.
   */
  refreshAll(): Promise<void> {
    this.changed = true;
    return this.pass();
  }

  private gapMs(): number {
    return Math.max(this.minPassGapMs, this.lastPassUpdates * this.updateGapMs);
  }

  private pass(): Promise<void> {
    if (this.queued) return this.queued;
    const wait = this.lastPassEnded + this.gapMs() - performance.now();
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
      .then(() => new Promise((resolve) => setTimeout(resolve, Math.max(0, this.lastPassEnded + this.gapMs() - performance.now())).unref()))
      .then(() => {
        this.queued = undefined;
        return this.pass();
      });
    return this.queued;
  }

  private async refreshOnce(): Promise<void> {
    const refresh = this.changed;
    this.changed = false;
    this.lastPassUpdates = 0;
    let boards: Boards;
    try {
      boards = await this.boards();
    } catch (err) {
      // A queued pass can run after shutdown closed the database; nobody awaits it to hear the error.
      this.changed ||= refresh;
      this.deps.logger.warn({ err }, 'could not list the status messages to refresh');
      return;
    }
    let failed = false;
    if (refresh && boards.live.length > 0) {
      try {
        failed = await this.refreshBoards(boards.live);
      } catch (err) {
        this.changed = true;
        this.deps.logger.warn({ err }, 'could not read the checklist to refresh the status messages');
      }
    }
    for (const { row, newest } of boards.superseded) {
      this.lastPassUpdates++;
      try {
        await this.deps.slack.updateMessage(row.channel, row.ts, renderNotice(this.outOfDate(newest)));
        // Edited once: from here on it is an ordinary message.
        await this.rows.forgetStatusMessage(row.channel, row.ts);
      } catch (err) {
        if (await this.forgetIfGone(row, err)) continue;
        // The row stays: the retry pass edits it again.
        failed = true;
        this.deps.logger.warn({ err, channel: row.channel, ts: row.ts }, 'could not point an old status message to the newest');
      }
    }
    this.failedPasses = failed ? this.failedPasses + 1 : 0;
    if (failed) this.refreshLater(Math.min(2000 * 2 ** (this.failedPasses - 1), 60_000));
  }

  /** Re-renders the boards kept current (one read of the checklist, one render per distinct gate and page); whether any update failed. */
  private async refreshBoards(live: StatusMessageRow[]): Promise<boolean> {
    const shared = await this.shared();
    const renders = new Map<string, RenderedStatus>();
    let failed = false;
    for (const m of live) {
      try {
        const key = `${m.gate_id ?? ''}|${m.page}`;
        let rendered = renders.get(key);
        if (!rendered) {
          const { snapshot, ctx } = await this.context(EVERYONE, shared);
          rendered = renderStatus(snapshot, { gateId: m.gate_id ?? undefined, page: m.page }, ctx);
          renders.set(key, rendered);
        }
        this.lastPassUpdates++;
        await this.deps.slack.updateMessage(m.channel, m.ts, rendered);
      } catch (err) {
        this.deps.logger.warn({ err, channel: m.channel, ts: m.ts }, 'could not refresh a status message');
        if (await this.forgetIfGone(m, err)) continue;
        failed = true;
        this.changed = true;
      }
    }
    return failed;
  }

  /** Forgets a board Slack says it no longer has, or cannot edit; whether it did. */
  private async forgetIfGone(m: StatusMessageRow, err: unknown): Promise<boolean> {
    const code = (err as { slackError?: string }).slackError;
    if (code !== 'message_not_found' && code !== 'channel_not_found' && code !== 'cant_update_message') return false;
    await this.rows.forgetStatusMessage(m.channel, m.ts);
    return true;
  }

  /** Runs another pass after `ms` (once, however many boards failed). */
  private refreshLater(ms: number): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.pass();
    }, ms);
    this.retry.unref();
  }

  /** Cancels a pending follow-up pass (shutdown). */
  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }
}
