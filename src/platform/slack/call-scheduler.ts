import { EarliestTimer } from '../earliest-timer.js';
import { methodLimit, RateWindow, type MethodLimit } from './rate-limits.js';
import { PRIORITY_RANK, SlackCallError, type CallOptions, type CallWaiter } from './slack-port.js';

/**
 * How long a person's call may wait for its method's budget before they are told to try again instead:
 * a modal's trigger_id lives 3 s from the click, and the ack and the handler have used some of that.
 */
export const PERSON_PATIENCE_MS = 2000;

/**
 * Slack counts a call when it arrives, golive when it leaves: each window is kept this much longer, so that
 * a call sent just as a window renews is not counted by Slack inside the old one.
 */
const ARRIVAL_MARGIN_MS = 250;

/** The priority and the waiter of a call, from what its caller named and its method. */
export function callDefaults(method: string, opts: CallOptions = {}): Required<CallOptions> {
  const priority = opts.priority ?? (method === 'views.open' ? 'urgent' : method === 'chat.update' || method === 'views.publish' ? 'refresh' : 'people');
  return { priority, waiter: opts.waiter ?? (priority === 'refresh' ? 'refresh' : 'person') };
}

interface Waiting {
  seq: number;
  method: string;
  channel?: string;
  /** Calls with the same key leave in the order they came (posts to one channel, edits of one message). */
  orderKey?: string;
  rank: number;
  waiter: CallWaiter;
  /** A person's call is answered by then, sent or not. */
  deadline: number;
  rateLimitRetries: number;
  send: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Options for {@link CallScheduler}. */
export interface CallSchedulerOptions {
  /** Budget per method; defaults to Slack's published table (src/platform/slack/rate-limits.ts). */
  limits?: (method: string) => MethodLimit | undefined;
  /** Shrinks every window and every Retry-After (tests; 0: nothing waits); 1 in production. */
  scale?: number;
  /** How many 429s a refresh waits out before its caller hears of it (and folds it into its next refresh). */
  maxRateLimitRetries?: number;
  now?: () => number;
}

/**
 * The one way out to Slack's Web API. Each call waits for its method's budget (and, for posts, its channel's
 * pace) so golive stays inside Slack's published limits instead of being refused; a 429 that comes anyway
 * pauses that method (or channel) until its Retry-After ends, for every caller. What the 429 does to the
 * call itself depends on who waits for it ({@link CallWaiter}): a person hears at once, the outbox keeps the
 * row and wakes when Retry-After ends, a refresh is sent again then. When calls compete for a budget the most
 * urgent goes first; calls in one channel (or to one message) keep their order. A 429 means Slack did
 * nothing, so sending the call again is always safe, posts included.
 */
export class CallScheduler {
  private readonly waiting: Waiting[] = [];
  private readonly windows = new Map<string, RateWindow>();
  private readonly pausedUntil = new Map<string, number>();
  private readonly busy = new Set<string>();
  private seq = 0;
  private readonly wake: EarliestTimer;
  private stopped = false;
  private readonly limits: (method: string) => MethodLimit | undefined;
  private readonly scale: number;
  private readonly maxRetries: number;
  private readonly now: () => number;

  constructor(options: CallSchedulerOptions = {}) {
    this.limits = options.limits ?? methodLimit;
    this.scale = options.scale ?? 1;
    this.maxRetries = options.maxRateLimitRetries ?? 5;
    this.now = options.now ?? Date.now;
    this.wake = new EarliestTimer(() => this.pump(), this.now);
  }

  /** How many calls are waiting for their budget. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Sends `send()` (the call to `method` with `args`) when its budget allows. */
  run<T>(method: string, args: Record<string, unknown>, opts: CallOptions, send: () => Promise<T>): Promise<T> {
    const { priority, waiter } = callDefaults(method, opts);
    return new Promise<T>((resolve, reject) => {
      const channel = typeof args.channel === 'string' && args.channel !== '' ? args.channel : undefined;
      const orderKey =
        channel === undefined ? undefined : method === 'chat.postMessage' ? `post:${channel}` : method === 'chat.update' ? `update:${channel}:${String(args.ts)}` : undefined;
      const deadline = waiter === 'person' ? this.now() + PERSON_PATIENCE_MS : Number.POSITIVE_INFINITY;
      this.waiting.push({ seq: this.seq++, method, channel, orderKey, rank: PRIORITY_RANK[priority], waiter, deadline, rateLimitRetries: 0, send, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /**
   * Shutdown: calls that can go at once still go (requests being finished, the outbox's last pass), but
   * none waits any more. A waiting call is refused with `golive_stopping`, which tells its caller it was
   * never sent: the outbox keeps the row for the next start, a refresh is redone by the next change.
   */
  stop(): void {
    this.stopped = true;
    this.pump();
  }

  private window(key: string, limit: MethodLimit['perWorkspace']): RateWindow {
    let w = this.windows.get(key);
    // The margin is time on the wire, so it is not scaled with the windows.
    const margin = this.scale > 0 ? ARRIVAL_MARGIN_MS / this.scale : 0;
    if (!w) this.windows.set(key, (w = new RateWindow({ ...limit, windowMs: limit.windowMs + margin }, this.scale)));
    return w;
  }

  /** The windows a call counts against, and the keys a Retry-After pauses it under. */
  private budget(call: Waiting): { windows: RateWindow[]; pauseKeys: string[] } {
    const limit = this.limits(call.method);
    const windows: RateWindow[] = [];
    const pauseKeys = [call.method];
    if (limit) windows.push(this.window(call.method, limit.perWorkspace));
    if (limit?.perChannel && call.channel !== undefined) {
      windows.push(this.window(`${call.method}:${call.channel}`, limit.perChannel));
      pauseKeys.push(`${call.method}:${call.channel}`);
    }
    return { windows, pauseKeys };
  }

  /**
   * Whether a call that cannot go now is answered now instead of waiting: a person's once it could not go
   * before their patience runs out, the outbox's while its method is paused by a 429 (the outbox waits that
   * out itself, without holding up its other rows), anyone's once golive is stopping.
   */
  private answerNow(call: Waiting, now: number, wait: number, paused: number): boolean {
    if (this.stopped) return true;
    if (call.waiter === 'person') return now + wait > call.deadline || now >= call.deadline;
    return call.waiter === 'outbox' && paused > 0;
  }

  /** The error a call that was not sent is answered with; Retry-After in Slack's seconds, as Slack would say it. */
  private notSent(call: Waiting, wait: number): SlackCallError {
    if (this.stopped) return new SlackCallError(call.method, 'golive_stopping');
    return new SlackCallError(call.method, 'ratelimited', Math.max(1, Math.ceil(wait / (this.scale || 1) / 1000)));
  }

  /** Starts every call whose budget allows, most urgent first, and sets a timer for the soonest of the rest. */
  private pump(): void {
    const now = this.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    this.waiting.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    const firstOfKey = new Map<string, number>();
    // Within a channel (or one message) the oldest goes first, whatever its priority: an edit never overtakes a newer one.
    for (const w of this.waiting) if (w.orderKey !== undefined) firstOfKey.set(w.orderKey, Math.min(firstOfKey.get(w.orderKey) ?? Number.POSITIVE_INFINITY, w.seq));
    // A method whose budget a more urgent call is waiting for is not given to a less urgent one.
    const held = new Set<string>();
    let answered = false;
    for (const call of [...this.waiting]) {
      const { windows, pauseKeys } = this.budget(call);
      const paused = Math.max(0, ...pauseKeys.map((k) => (this.pausedUntil.get(k) ?? 0) - now));
      const wait = Math.max(paused, ...windows.map((w) => w.waitMs(now)));
      const inLine = call.orderKey !== undefined && (this.busy.has(call.orderKey) || firstOfKey.get(call.orderKey) !== call.seq);
      if (wait === 0 && !inLine && !held.has(call.method)) {
        for (const w of windows) w.take(now);
        this.waiting.splice(this.waiting.indexOf(call), 1);
        this.start(call, pauseKeys);
        continue;
      }
      if (this.answerNow(call, now, wait, paused)) {
        this.waiting.splice(this.waiting.indexOf(call), 1);
        call.reject(this.notSent(call, wait));
        answered = true;
        continue;
      }
      if (!inLine && (call.channel === undefined || !this.limits(call.method)?.perChannel)) held.add(call.method);
      if (wait > 0) wakeAt = Math.min(wakeAt, now + wait);
      wakeAt = Math.min(wakeAt, call.deadline);
    }
    // A call answered without being sent may have been first in its channel's line.
    if (answered) queueMicrotask(() => this.pump());
    this.wake.at(wakeAt);
  }

  private start(call: Waiting, pauseKeys: string[]): void {
    if (call.orderKey !== undefined) this.busy.add(call.orderKey);
    call.send().then(
      (v) => {
        this.finish(call);
        call.resolve(v);
      },
      (err: unknown) => {
        this.finish(call);
        if (err instanceof SlackCallError && err.retryAfterSeconds !== undefined) {
          const until = this.now() + err.retryAfterSeconds * 1000 * this.scale;
          // Slack names no scope in a 429: pause what this call counted against, the channel for a post.
          const key = pauseKeys[pauseKeys.length - 1]!;
          this.pausedUntil.set(key, Math.max(this.pausedUntil.get(key) ?? 0, until));
          if (call.waiter === 'refresh' && call.rateLimitRetries < this.maxRetries && !this.stopped) {
            call.rateLimitRetries += 1;
            this.waiting.push(call);
            this.pump();
            return;
          }
        }
        call.reject(err);
      },
    );
  }

  private finish(call: Waiting): void {
    if (call.orderKey !== undefined) this.busy.delete(call.orderKey);
    // The next call in this channel, or one that waited for a slot, may go now.
    queueMicrotask(() => this.pump());
  }
}
