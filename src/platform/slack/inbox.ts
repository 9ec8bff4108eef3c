import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { RequestRepository, UnfinishedRequest } from '../store/request-repository.js';
import type { Store } from '../store/store.js';
import { renderNotice } from './blocks.js';
import type { SlackPort } from './slack-port.js';

/** A request_url stays valid for 30 minutes; a request older than this is answered directly instead of run again. */
export const REPLAY_WINDOW_MS = 25 * 60_000;

/** What Slack sent: a slash command, a click, a form, or an event. */
export type InboxKind = 'command' | 'block_actions' | 'view_submission' | 'event';

/** Identifies one user action across Slack's retries: trigger_id for commands and clicks, event_id for events. */
export function requestKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string') return `event:${body.event_id}`;
  if (typeof body.trigger_id === 'string') return `trigger:${body.trigger_id}`;
  return undefined;
}

/** The kind of a request and, for those worth running again after a restart (commands, clicks, forms), its payload. */
export function inboxEntry(body: Record<string, unknown>): { kind: InboxKind; replayable: boolean } {
  if (typeof body.command === 'string') return { kind: 'command', replayable: true };
  if (body.type === 'block_actions' || body.type === 'view_submission') return { kind: body.type, replayable: true };
  // Events (App Home opened) are views of the present: a later one redraws the same thing.
  return { kind: 'event', replayable: false };
}

/** What the person did, in words, for the answer to a request golive could not finish. */
function describeRequest(kind: string, body: Record<string, unknown>): { user?: string; channel?: string; what: string } {
  const user = typeof body.user_id === 'string' ? body.user_id : (body.user as { id?: string } | undefined)?.id;
  const channel = typeof body.channel_id === 'string' ? body.channel_id : (body.channel as { id?: string } | undefined)?.id;
  if (kind === 'command') return { user, channel, what: `\`/golive ${String(body.text ?? '').replace(/`/g, "'").slice(0, 200)}\`` };
  if (kind === 'block_actions') return { user, channel, what: 'your click' };
  return { user, channel, what: 'the form you submitted' };
}

/**
 * Requests golive acknowledged and is still handling. Before Slack gets its
 * ack each one is in the inbox (`inbound_request`), so whatever stops the
 * process, the next start finishes it; a clean stop waits for them first.
 */
export class Inbox {
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /** Requests this process has run again (or is running): each at most once per life, however many passes find it. */
  private readonly replayed = new Set<string>();
  /**
   * Requests received live before the first replay has read the inbox: this
   * process's own, not ones to run again (on PostgreSQL that read finishes
   * after the first requests are in). Dropped once read, so it does not grow.
   */
  private receivedBeforeReplay?: Set<string> = new Set();

  constructor(private readonly deps: { requests: RequestRepository; store: Store; clock: Clock; logger: Logger; replica?: string }) {}

  /** Records a request before its ack, as this replica's; false for a retry or replay of one seen already. */
  receive(key: string, body: Record<string, unknown>): Promise<boolean> {
    this.receivedBeforeReplay?.add(key);
    const { kind, replayable } = inboxEntry(body);
    return this.deps.requests.receive(key, this.deps.clock.now().toISOString(), replayable ? { kind, payload: JSON.stringify(body) } : undefined, this.deps.replica ?? null);
  }

  /**
   * A request the accepting thread recorded (ack-thread.ts) arrives to be run: it is this process's own, not
   * one for the replay to run again. False when the replay runs it already (it found the row first).
   */
  acceptedLive(key: string): boolean {
    this.receivedBeforeReplay?.add(key);
    return !this.replayed.has(key);
  }

  /** Counts `work` (a request handed over by the accepting thread, on its way to `handle`) as being handled, for `drain`. */
  track(work: Promise<unknown>): void {
    const p = work.finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Runs a request's handling; its first committed change marks it done in the same transaction (`Store.handling`). */
  handle<T>(key: string, run: () => Promise<T>): Promise<T> {
    const p: Promise<T> = this.deps.store.handling(() => this.deps.requests.finish(key, this.deps.clock.now().toISOString()), run).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  /** How many requests are being handled right now. */
  get busy(): number {
    return this.inFlight.size;
  }

  /**
   * For a clean stop, once nothing new arrives: waits for the requests being
   * handled, at most `timeoutMs`, and runs no more unfinished ones; resolves
   * with how many were still running (they stay in the inbox for the next start).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    return this.inFlight.size;
  }

  /**
   * After a start: runs again each request the previous process acknowledged
   * and did not finish, oldest first, through `dispatch` (Bolt, as if Slack
   * had just sent it; replies go to its response_url). One too old for its
   * response_url is not run: the person is told, privately in its channel,
   * that nothing was done.
   *
   * With `replicas` (several replicas on one database) only requests nobody
   * alive is handling: this replica's own from before `since` (its previous
   * life under the same name) and, given `deadBefore` (the leader), those of
   * replicas dead since then, each moved to this replica first so that no two
   * run it. Without (SQLite), every unfinished request, as one process always did.
   */
  async finishUnfinished(dispatch: (body: Record<string, unknown>) => Promise<void>, slack: SlackPort, replicas?: { since: string; deadBefore: string | undefined }): Promise<void> {
    const { requests, logger } = this.deps;
    const me = this.deps.replica;
    const found = replicas && me ? await requests.orphaned(me, replicas.since, replicas.deadBefore) : await requests.unfinished();
    const live = this.receivedBeforeReplay;
    this.receivedBeforeReplay = undefined;
    const rows = found.filter((r) => !this.replayed.has(r.key) && !live?.has(r.key));
    if (rows.length > 0) logger.info({ count: rows.length }, 'finishing requests acknowledged before the restart');
    for (const row of rows) {
      if (this.closed) break;
      // Checked and marked before any await: two passes of this process (start, taking the lead, a sweep) never both run one.
      if (this.replayed.has(row.key)) continue;
      this.replayed.add(row.key);
      await (async () => {
        if (replicas && me && row.replica !== me) {
          if (!(await requests.takeOver(row.key, row.replica ?? null, me))) return;
          logger.info({ key: row.key, from: row.replica ?? null }, 'taking over a request of a replica that is no longer running');
        }
        await this.finishOne(row, dispatch, slack);
      })().catch((err: unknown) => logger.error({ err, key: row.key }, 'could not finish a request acknowledged before the restart'));
    }
  }

  private async finishOne(row: UnfinishedRequest, dispatch: (body: Record<string, unknown>) => Promise<void>, slack: SlackPort): Promise<void> {
    const { requests, clock, logger } = this.deps;
    const body = JSON.parse(row.payload) as Record<string, unknown>;
    const age = clock.now().getTime() - Date.parse(row.receivedAt);
    if (age <= REPLAY_WINDOW_MS) {
      logger.info({ key: row.key, kind: row.kind, receivedAt: row.receivedAt }, 'running again a request acknowledged before the restart');
      await dispatch(body);
      return;
    }
    const { user, channel, what } = describeRequest(row.kind, body);
    logger.warn({ key: row.key, kind: row.kind, receivedAt: row.receivedAt }, 'a request acknowledged before the restart is too old to run again; told the person');
    if (user && channel) {
      await slack.postEphemeral(
        channel,
        user,
        renderNotice(`golive restarted before it could finish ${what} (received ${row.receivedAt.slice(0, 16).replace('T', ' ')} UTC), and it is too old to run now; nothing was changed.`, 'Run it again if it is still needed.'),
      );
    }
    await requests.finish(row.key, clock.now().toISOString());
  }
}
