import type { Clock } from '../clock.js';
import { EarliestTimer } from '../earliest-timer.js';
import type { Logger } from '../logger.js';
import { findMarkedMessage } from '../slack/find-marked-message.js';
import { SlackCallError, slackAnswered, type CallOptions, type SlackPort } from '../slack/slack-port.js';
import type { WebApiMethod } from '../slack/web-api-methods.js';
import type { Store } from '../store/store.js';
import { OutboxRepository, rowPriority, type EnqueueOptions, type FailedDelivery, type GatheredRow, type OutboxOutcome, type OutboxRow, type OutboxTarget } from './outbox-repository.js';
import { PagerError, type PagerEvent, type PagerPort } from '../pager/pager-port.js';
import { AwsCallError } from '../aws/ecs-port.js';
import type { EmailMessage } from '../aws/ses-port.js';
import type { DeliveryWatch } from '../health/watch-health.js';

/** Slack errors that no retry will fix. */
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked',
  'missing_scope', 'invalid_blocks', 'invalid_arguments', 'msg_too_long', 'no_text', 'restricted_action', 'unknown_method',
  'message_not_found', 'cant_update_message', 'thread_not_found', 'edit_window_closed',
]);
/** A post older than this is given up on: a launch window is 48 hours, and news older than that misleads. */
const MAX_AGE_MS = 48 * 60 * 60 * 1000;

/**
 * How long a replica's claim on a row lasts: longer than any one delivery
 * (Slack's client gives up after 10 s), short enough that a row whose replica
 * died is sent by another within a minute.
 */
const CLAIM_MS = 60_000;
/** The shortest wait between two wake-ups of the outbox (see Outbox.wakeForNext). */
const WAKE_MIN_MS = 10;

/** Placeholders in a dependent row's args, filled from the row it depends on once that is delivered. */
export const PARENT_TS = '$parent.ts';
export const PARENT_CHANNEL = '$parent.channel';

/** Message metadata marking a post as an outbox row's, so a retry can find it in Slack instead of posting it twice. */
export const OUTBOX_EVENT_TYPE = 'golive_outbox';

/**
 * Most rows one gathered post covers: their ids ride in its metadata (Slack keeps at most 8 KB of it), and a
 * post listing more would be read by nobody. The rest go in the next post.
 */
const MAX_GATHERED = 100;

/**
 * A kind of channel post of which a burst goes out as one post ({@link Outbox.gather}). The first after a
 * quiet spell goes at once; one stored within `windowMs` of the last such post in its channel, or while
 * others wait there, waits until that window ends, and then every one waiting in the channel goes as one
 * post. What that costs: a post in a burst is up to `windowMs` late (more if Slack makes the channel wait).
 */
export interface Gathering {
  /** The rows' kind, as they were stored (EnqueueOptions.gather's `key`). */
  key: string;
  /** How long after one post of this kind in a channel the next waits, gathering what is stored meanwhile. */
  windowMs: number;
  /** The one post (its text and blocks; the channel is the rows') for several rows, oldest first, at `now`. A row alone is posted as stored. */
  render(rows: GatheredRow[], now: Date): Record<string, unknown>;
}

/**
 * How long PagerDuty's throttling (a 429, with or without Retry-After) holds back every page, the first time and
 * at most: doubled with each 429 in a row, back to the first once a page is taken. PagerDuty's Events API
 * documents 429 as "retry with backoff" and does not promise a Retry-After; one is honoured when it comes.
 */
export const PAGER_THROTTLE_MS = { first: 2_000, max: 60_000 } as const;

type Failure = { message: string; permanent: boolean; retryAfterSeconds?: number; throttled?: boolean };

function classify(err: unknown): Failure {
  if (err instanceof SlackCallError) return { message: err.slackError, permanent: PERMANENT.has(err.slackError), retryAfterSeconds: err.retryAfterSeconds };
  if (err instanceof PagerError) return { message: err.message, permanent: !err.retryable, retryAfterSeconds: err.retryAfterSeconds, throttled: err.status === 429 };
  // SES: a refused sender or address, or missing permission, stays refused; throttling and network errors pass.
  if (err instanceof AwsCallError) return { message: err.message, permanent: err.kind === 'access_denied' || err.kind === 'invalid' || err.kind === 'not_found' };
  // Anything else (a network error) is worth retrying.
  return { message: (err as Error).message ?? String(err), permanent: false };
}

/**
 * What one 429 (or a PagerDuty or SES throttle) holds back until its Retry-After ends: a Slack method, and
 * for a post its channel (Slack paces posts per channel); the whole service for the others.
 */
function limitScope(row: OutboxRow, args: Record<string, unknown>): string {
  if (row.target !== 'slack') return row.target;
  return row.method === 'chat.postMessage' ? `slack:${row.method}:${String(args.channel)}` : `slack:${row.method}`;
}

/** Sends one email (SES v2 SendEmail in the runbook's email region). */
export type EmailSender = (message: EmailMessage) => Promise<{ messageId: string }>;

/**
 * Targets whose rows are delivered by one loop, each loop independent of the others: a page never waits for
 * Slack's pace in a channel (a storm's thread), nor an alarm post for a slow or throttling PagerDuty, nor
 * either for SES. Documents are shared in Slack, so they go with Slack's rows.
 */
const LANES: readonly (readonly OutboxTarget[])[] = [['pagerduty'], ['slack', 'document'], ['email']];

interface Lane {
  targets: readonly OutboxTarget[];
  running?: Promise<void>;
  /** A flush was asked for while this lane was delivering: rows stored since may be more urgent than what it listed. */
  again: boolean;
  /** When its last pass listed the due rows: a row that came due after that was not among them (see Outbox.wakeForNext). */
  listedAt?: string;
}

/** How a target is named in the log. */
const TARGET_NAME: Record<OutboxTarget, [thing: string, service: string]> = { slack: ['Slack message', 'Slack'], pagerduty: ['PagerDuty event', 'PagerDuty'], email: ['email', 'SES'], document: ['document to Slack', 'Slack'] };

/**
 * Delivers Slack calls and PagerDuty events that were stored with the change
 * they announce. A failed delivery is retried with exponential backoff (or
 * after the service's Retry-After), across restarts, so an outage delays
 * announcements and pages but never loses them. A row that needs another
 * row's Slack ts (a thread reply, an update) waits for it.
 */
export class Outbox {
  private timer?: NodeJS.Timeout;
  /** A flush when the soonest Retry-After (or backoff) ends, not at the next poll. */
  private readonly wake = new EarliestTimer(() => void this.flush());
  /** Until when (the clock's epoch ms) a 429 or throttle holds back the rows of a budget ({@link limitScope}). */
  private readonly pausedUntil = new Map<string, number>();
  /** Rows this process is delivering right now (its own claim on a row does not stop it claiming that row again). */
  private readonly sending = new Set<number>();
  private readonly lanes: Lane[] = LANES.map((targets) => ({ targets, again: false }));
  /** How many 429s PagerDuty answered in a row, for its backoff ({@link PAGER_THROTTLE_MS}). */
  private pagerThrottles = 0;
  private readonly rows: OutboxRepository;
  private readonly deliverers = new Map<OutboxTarget, (method: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>>();
  private readonly gatherings = new Map<string, Gathering>();

  constructor(
    store: Store,
    private readonly slack: SlackPort,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly pollMs = 5000,
    private readonly pager?: PagerPort,
    private readonly email?: EmailSender,
    /** This replica's name on the rows it claims (see {@link OutboxRepository.claim}). */
    private readonly replica = 'golive',
  ) {
    this.rows = new OutboxRepository(store);
  }

  /** Delivers rows of another target (e.g. `document`: render a report, then share it in Slack); the same retries and backoff apply. */
  deliver(target: OutboxTarget, deliverer: (method: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>): void {
    this.deliverers.set(target, deliverer);
  }

  /**
   * Gathers the posts of one kind ({@link Gathering}); rows of a kind nobody registered go alone. `scale`
   * shrinks the window as Slack's pace is shrunk in tests (the window is sized to it).
   */
  gather(gathering: Gathering, scale = 1): void {
    this.gatherings.set(gathering.key, { ...gathering, windowMs: gathering.windowMs * scale });
  }

  private watch?: DeliveryWatch;

  /** Reports PagerDuty deliveries and what is left waiting after each pass (golive's own health; see src/platform/health/). */
  report(watch: DeliveryWatch): void {
    this.watch = watch;
  }

  /**
   * Stores a Slack call or PagerDuty event for delivery after the current transaction commits; returns its id.
   * Due rows go most urgent first (`opts.priority`), a channel's posts in the order they were stored.
   */
  enqueue(method: string, args: Record<string, unknown>, at: string, opts: EnqueueOptions = {}): Promise<number> {
    return this.rows.enqueue(method, args, at, opts);
  }

  /** What became of a stored call. */
  outcome(id: number): Promise<OutboxOutcome | undefined> {
    return this.rows.outcome(id);
  }

  /** Deliveries given up on, newest first. */
  failed(limit: number): Promise<FailedDelivery[]> {
    return this.rows.failed(limit);
  }

  /** How many calls are waiting to be delivered, for /healthz. */
  pendingCount(): Promise<number> {
    return this.rows.pendingCount();
  }

  private pollGate: () => boolean = () => true;

  /** With several replicas, only the leader polls for due rows (every replica still flushes after its own commits; claims keep each row to one). */
  pollOnlyWhen(gate: () => boolean): void {
    this.pollGate = gate;
  }

  /** Sends now what replicas that died had claimed (see OutboxRepository.releaseClaimsOfDead). */
  async takeOverClaims(deadBefore: string): Promise<void> {
    const n = await this.rows.releaseClaimsOfDead(this.replica, deadBefore);
    if (n === 0) return;
    this.logger.info({ count: n }, 'taking over outbox rows a replica that is no longer running had claimed');
    await this.flush();
  }

  start(): void {
    this.timer ??= setInterval(() => {
      if (this.pollGate()) void this.flush();
    }, this.pollMs);
    this.timer.unref();
    void this.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.wake.clear();
    await Promise.all(this.lanes.map((l) => l.running ?? Promise.resolve()));
  }

  /** Delivers everything due now, each lane of targets on its own ({@link LANES}); concurrent calls coalesce into one more pass. */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => this.flushLane(lane)));
  }

  private flushLane(lane: Lane): Promise<void> {
    if (lane.running) {
      lane.again = true;
      return lane.running;
    }
    lane.running = (async () => {
      try {
        let delivered = 0;
        do {
          lane.again = false;
          try {
            // A delivered post can make its replies and updates due: go round again until a pass delivers nothing.
            delivered = await this.deliverDue(lane);
          } catch (err) {
            // A database error must not become an unhandled rejection; the next pass tries again.
            this.logger.error({ err }, 'outbox pass failed');
            delivered = 0;
          }
          // After the last round: a backlog notice it stores (a Slack post) is delivered by one more round.
          if (!lane.again && delivered === 0) {
            if (lane.targets.includes('slack')) await this.reportWaiting();
            // Inside the loop: a flush asked for while this runs must still get its pass (the check below).
            await this.wakeForNext(lane);
          }
        } while (lane.again || delivered > 0);
      } finally {
        lane.running = undefined;
      }
    })();
    return lane.running;
  }

  private async deliverDue(lane: Lane): Promise<number> {
    lane.listedAt = this.clock.now().toISOString();
    const due = await this.rows.due(lane.listedAt, 50, lane.targets);
    let delivered = 0;
    let tried = 0;
    for (const listedRow of due) {
      // Rows stored since this list was read (an alarm post behind a thread of replies) may be more urgent: list
      // again, once this pass has sent something (under a steady stream of changes every pass still moves on).
      if (tried > 0 && lane.again && listedRow.priority > 0) break;
      // Order within a stream: this row waits until the older one for the same key or post is through.
      if (await this.rows.hasOlderPending(listedRow)) continue;
      const listed = await this.resolveDependency(listedRow);
      // Paused as of the listing, for the whole pass: a pause ending mid-pass must not let the rows listed after a
      // skipped one go first (the skipped one, due since the listing, goes first in the next pass).
      if (!listed || (this.pausedUntil.get(limitScope(listedRow, listed)) ?? 0) > Date.parse(lane.listedAt)) continue;
      if (await this.heldForGathering(listedRow)) continue;
      // Another replica may be sending it, or have sent it since the list was read: only the claim's holder goes on.
      const claimedAt = this.clock.now();
      // Never two attempts at once in this process (its own claim does not hold it back: see OutboxRepository.claim).
      if (this.sending.has(listedRow.id)) continue;
      const row = await this.rows.claim(listedRow.id, this.replica, claimedAt.toISOString(), new Date(claimedAt.getTime() + CLAIM_MS).toISOString());
      if (!row) continue;
      tried++;
      this.sending.add(row.id);
      const gathering = row.gather !== null ? this.gatherings.get(row.gather) : undefined;
      let group: GatheredRow[] | undefined;
      try {
        group = gathering ? await this.rows.claimGathered(row, this.replica, claimedAt.toISOString(), new Date(claimedAt.getTime() + CLAIM_MS).toISOString(), MAX_GATHERED, this.sending) : undefined;
        for (const r of group ?? []) this.sending.add(r.id);
        if (await this.attempt(row, group && group.length > 1 ? { rows: group, gathering: gathering! } : undefined)) delivered++;
      } finally {
        this.sending.delete(row.id);
        for (const r of group ?? []) this.sending.delete(r.id);
      }
    }
    return delivered;
  }

  /**
   * Whether a gathered row must wait for the end of its channel's gathering window (the last post of its kind
   * there went less than the window ago); if so, it and those waiting with it are held until then.
   */
  private async heldForGathering(row: OutboxRow): Promise<boolean> {
    const gathering = row.gather !== null && row.lane !== null ? this.gatherings.get(row.gather) : undefined;
    if (!gathering || gathering.windowMs <= 0) return false;
    const last = await this.rows.lastGathered(row.lane!, row.gather!);
    const now = this.clock.now().getTime();
    const until = last === undefined ? now : Date.parse(last) + gathering.windowMs;
    if (until <= now) return false;
    await this.rows.holdGathered(row.lane!, row.gather!, new Date(until).toISOString());
    return true;
  }

  /**
   * Sets the wake-up for when the soonest row this lane left waiting comes due (the end of a gathering window, a
   * backoff, a Retry-After) or a rate-limit pause ends: asked of the table after every pass, so no wait is
   * forgotten when a sooner one fired first, whichever replica stored it. Not started (tests that flush by hand)
   * or stopped: no wake-up.
   */
  private async wakeForNext(lane: Lane): Promise<void> {
    if (!this.timer) return;
    let next: string | undefined;
    try {
      // After the pass's listing, not after now: a row that came due since (its window ended while the pass ran)
      // was not listed, and must still be woken for — at once.
      next = await this.rows.nextAttemptAfter(lane.listedAt ?? this.clock.now().toISOString(), lane.targets);
    } catch (err) {
      // The poll still comes; a database error here must not fail the pass.
      this.logger.warn({ err }, 'could not read when the next outbox row is due');
    }
    const now = this.clock.now().getTime();
    // A pause that ended after the listing held back rows of this pass: they are due now.
    const listed = lane.listedAt === undefined ? now : Date.parse(lane.listedAt);
    const at = Math.min(next === undefined ? Number.POSITIVE_INFINITY : Date.parse(next), ...[...this.pausedUntil.values()].filter((t) => t > listed));
    // The clock may stand still (a test's): never closer together than WAKE_MIN_MS.
    if (at !== Number.POSITIVE_INFINITY) this.wake.at(Date.now() + Math.max(at - now, WAKE_MIN_MS));
  }

  /** One delivery attempt of a claimed row (with the rows gathered behind it, all claimed); true when it was delivered. */
  private async attempt(row: OutboxRow, gathered?: { rows: GatheredRow[]; gathering: Gathering }): Promise<boolean> {
    const resolved = row.depends_on === null ? row.args : await this.resolveDependency(row);
    const ids = gathered ? gathered.rows.map((r) => r.id) : [row.id];
    if (!resolved) {
      await this.rows.unclaim(ids);
      return false;
    }
    let args = resolved;
    try {
      if (gathered) args = { ...gathered.gathering.render(gathered.rows, this.clock.now()), channel: resolved.channel };
      // PagerDuty events need no such care: a repeated event with the same dedup key changes nothing there.
      const deliverer = this.deliverers.get(row.target);
      const result = deliverer
        ? await deliverer(row.method, args)
        : row.target === 'pagerduty'
          ? await this.sendPage(row.method, args)
          : row.target === 'email'
            ? await this.sendEmail(args)
            : row.method === 'chat.postMessage'
              ? await this.post(row, args, gathered?.rows)
              : await this.slack.call(row.method as WebApiMethod, args, this.callOptions(row));
      const r = (result ?? {}) as Record<string, unknown>;
      // A post found in Slack from an earlier attempt covers the rows it was made for, which may be fewer than were gathered now.
      const covered = Array.isArray(r.covers) ? (r.covers as number[]) : ids;
      await this.rows.markDelivered(covered, this.clock.now().toISOString(), row.target === 'slack' ? { ts: r.ts ?? args.ts ?? null, channel: r.channel ?? args.channel ?? null } : r);
      const rest = ids.filter((id) => !covered.includes(id));
      if (rest.length > 0) await this.rows.unclaim(rest);
      if (row.target === 'pagerduty') {
        this.pagerThrottles = 0;
        await this.reportPage(undefined);
      }
      return true;
    } catch (err) {
      const f = classify(err);
      if (row.target === 'pagerduty') await this.reportPage(f.message);
      // Each row is given up on at its own age: rows gathered behind an old one are retried without it.
      const nowMs = this.clock.now().getTime();
      const tooOld = (gathered?.rows ?? [row]).filter((r) => nowMs - Date.parse(r.created_at) >= MAX_AGE_MS).map((r) => r.id);
      const givenUp = f.permanent ? ids : tooOld;
      if (givenUp.length > 0) {
        await this.rows.markFailed(givenUp, this.clock.now().toISOString(), f.message);
        this.logger.error({ outboxId: row.id, ...(gathered ? { gathered: givenUp.length } : {}), target: row.target, method: row.method, channel: args.channel, error: f.message, attempts: row.attempts + 1 }, `gave up delivering a${row.target === 'email' ? 'n' : ''} ${TARGET_NAME[row.target][0]}`);
      }
      const retried = ids.filter((id) => !givenUp.includes(id));
      if (retried.length === 0) return false;
      const attempts = row.attempts + 1;
      // PagerDuty throttling every page alike: back off all of them together, doubling while it lasts.
      const throttleMs = f.throttled ? Math.min(PAGER_THROTTLE_MS.first * 2 ** this.pagerThrottles++, PAGER_THROTTLE_MS.max) : undefined;
      const waitMs = f.retryAfterSeconds !== undefined ? f.retryAfterSeconds * 1000 : (throttleMs ?? Math.min(2000 * 2 ** (attempts - 1), 5 * 60_000));
      // One instant for the row's retry and its budget's pause, so the row is never due while its budget is paused.
      const retryAt = this.clock.now().getTime() + waitMs;
      await this.rows.markRetry(retried, f.message, new Date(retryAt).toISOString());
      this.logger.warn({ outboxId: row.id, ...(gathered ? { gathered: retried.length } : {}), target: row.target, method: row.method, error: f.message, attempts, retryInMs: waitMs }, `${TARGET_NAME[row.target][1]} delivery failed; will retry`);
      // A rate limit holds back, until it ends, the other rows that count against the same budget.
      if (f.retryAfterSeconds !== undefined || f.throttled) this.pausedUntil.set(limitScope(row, args), retryAt);
      return false;
    }
  }

  /** A PagerDuty delivery worked (no error) or failed; a failure to record it must not stop the pass. */
  private async reportPage(error: string | undefined): Promise<void> {
    try {
      await (error === undefined ? this.watch?.succeeded('pagerduty') : this.watch?.failed('pagerduty', error));
    } catch (err) {
      this.logger.warn({ err }, 'could not record how PagerDuty deliveries fare');
    }
  }

  private async reportWaiting(): Promise<void> {
    if (!this.watch) return;
    try {
      await this.watch.waiting(await this.rows.waiting());
    } catch (err) {
      this.logger.warn({ err }, 'could not check whether the outbox is backing up');
    }
  }

  /** Slack calls made for a row: its priority, and the outbox waits out a 429 itself (the row keeps, and the outbox wakes when Retry-After ends). */
  private callOptions(row: OutboxRow): CallOptions {
    return { priority: rowPriority(row), waiter: 'outbox' };
  }

  /**
   * Posts a message exactly once. The post carries the row's id as message
   * metadata (a gathered post: also the ids of every row it covers) and the
   * rows are marked before the call; when one was marked by an earlier attempt
   * (the process died, or the answer was lost), the channel or thread is first
   * searched, and the post found there is adopted for the rows it covered
   * (returned as `covers`).
   */
  private async post(row: OutboxRow, args: Record<string, unknown>, gathered?: GatheredRow[]): Promise<Record<string, unknown>> {
    const rows = gathered ?? [row];
    const ids = rows.map((r) => r.id);
    const mark = { outbox_id: row.id, created_at: row.created_at, ...(gathered ? { outbox_ids: ids } : {}) };
    if (rows.some((r) => r.sending_at !== null)) {
      const found = await this.findPosted(row, args, rows);
      if (found) {
        this.logger.info({ outboxId: row.id, channel: found.channel, ts: found.ts, ...(found.covers.length > 1 ? { gathered: found.covers.length } : {}) }, 'the message was already in Slack from an earlier attempt; not posting it again');
        return found;
      }
    }
    await this.rows.markSending(ids, this.clock.now().toISOString());
    try {
      const marked = { ...args, metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: mark } };
      const opts = this.callOptions(row);
      return await (this.slack.callOnce ? this.slack.callOnce('chat.postMessage', marked, opts) : this.slack.call('chat.postMessage', marked, opts));
    } catch (err) {
      if (slackAnswered(err)) await this.rows.clearSending(ids);
      throw err;
    }
  }

  /**
   * The post an earlier attempt made for the first of `rows` (or any of them), if Slack has it, and the rows it
   * covered; recent channel history, or the whole thread for a reply.
   */
  private async findPosted(row: OutboxRow, args: Record<string, unknown>, rows: Pick<GatheredRow, 'id' | 'created_at'>[]): Promise<{ ts: string; channel: string; covers: number[] } | undefined> {
    const channel = String(args.channel);
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    // The created_at tells a post of this row from one of an earlier database's row with the same id.
    const made = new Map(rows.map((r) => [r.id, r.created_at]));
    try {
      const found = await findMarkedMessage((method, a) => this.slack.call(method, a, this.callOptions(row)), { channel, threadTs }, OUTBOX_EVENT_TYPE, (p) => typeof p.outbox_id === 'number' && made.get(p.outbox_id) === p.created_at);
      if (!found) return undefined;
      const covers = Array.isArray(found.payload.outbox_ids) ? found.payload.outbox_ids.filter((id): id is number => typeof id === 'number') : [found.payload.outbox_id as number];
      return { ts: found.ts, channel: found.channel, covers };
    } catch (err) {
      const f = classify(err);
      // Cannot look (no history scope, not in the channel): a possible duplicate beats a lost post. Anything passing is retried.
      if (!f.permanent) throw err;
      this.logger.warn({ outboxId: row.id, channel, error: f.message }, 'could not check whether an earlier attempt was posted; posting again');
    }
    return undefined;
  }

  /** An email is not looked for before it is sent again: SES keeps no record to ask, so a lost answer can mean a second copy. */
  private async sendEmail(args: Record<string, unknown>): Promise<unknown> {
    if (!this.email) throw new AwsCallError('SendEmail', 'invalid', 'Email is not configured (the runbook has no email section).');
    return this.email(args as unknown as EmailMessage);
  }

  private async sendPage(action: string, args: Record<string, unknown>): Promise<unknown> {
    if (!this.pager) throw new PagerError(undefined, false, 'PagerDuty is not configured (PAGERDUTY_ROUTING_KEY is not set)');
    return this.pager.send({ ...args, action } as unknown as PagerEvent);
  }

  /** The row's args with its parent's ts filled in; undefined if it must wait (or has failed with its parent). */
  private async resolveDependency(row: OutboxRow): Promise<Record<string, unknown> | undefined> {
    if (row.depends_on === null) return row.args;
    const parent = await this.rows.outcome(row.depends_on);
    const now = this.clock.now();
    if (!parent || parent.failed_at) {
      await this.rows.markFailed(row.id, now.toISOString(), 'the message it belongs to could not be delivered');
      return undefined;
    }
    if (!parent.delivered_at) return undefined;
    // A reply to a message that is itself a reply goes in that reply's thread (Slack threads are one level deep).
    const threadTs = row.args.thread_ts === PARENT_TS ? await this.rows.threadOf(row.depends_on) : undefined;
    const fill = (k: string, v: unknown) => (v === PARENT_TS ? (k === 'thread_ts' ? (threadTs ?? parent.result?.ts) : parent.result?.ts) : v === PARENT_CHANNEL ? parent.result?.channel : v);
    return Object.fromEntries(Object.entries(row.args).map(([k, v]) => [k, fill(k, v)]));
  }
}
