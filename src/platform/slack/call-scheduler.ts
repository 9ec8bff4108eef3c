import { methodLimit, RateWindow, type MethodLimit } from './rate-limits.js';
import { SlackCallError } from './slack-port.js';

/**
 * Who is waiting for a Slack call: `urgent` (pages, alarm and incident posts, a modal whose trigger_id dies
 * in 3 s), `people` (announcements, replies to someone who acted), `refresh` (status boards and App Home
 * re-rendered after a change; the next refresh carries the same news).
 */
export type CallPriority = 'urgent' | 'people' | 'refresh';

const RANK: Record<CallPriority, number> = { urgent: 0, people: 1, refresh: 2 };

/** The priority a call has when its caller names none. */
export function defaultPriority(method: string): CallPriority {
  if (method === 'views.open') return 'urgent';
  if (method === 'chat.update' || method === 'views.publish') return 'refresh';
  return 'people';
}

interface Waiting {
  seq: number;
  method: string;
  channel?: string;
  /** Calls with the same key leave in the order they came (posts to one channel, edits of one message). */
  orderKey?: string;
  rank: number;
  rateLimitRetries: number;
  send: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Options for {@link CallScheduler}. */
export interface CallSchedulerOptions {
  /** Budget per method; defaults to Slack's published table (src/platform/slack/rate-limits.ts). */
  limits?: (method: string) => MethodLimit | undefined;
  /** Shrinks every window (tests); 1 in production. */
  scale?: number;
  /** How many 429s one call waits out before its caller hears of it (the outbox then retries it later). */
  maxRateLimitRetries?: number;
  now?: () => number;
}

/**
 * The one way out to Slack's Web API. Each call waits for its method's budget (and, for posts, its channel's
 * pace) so golive stays inside Slack's published limits instead of being refused; a 429 that comes anyway
 * pauses that method (or channel) until its Retry-After ends and the call is sent again then. When calls
 * compete for a budget the most urgent goes first; calls in one channel (or to one message) keep their order.
 * A 429 means Slack did nothing, so sending the call again is always safe, posts included.
 */
export class CallScheduler {
  private readonly waiting: Waiting[] = [];
  private readonly windows = new Map<string, RateWindow>();
  private readonly pausedUntil = new Map<string, number>();
  private readonly busy = new Set<string>();
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly limits: (method: string) => MethodLimit | undefined;
  private readonly scale: number;
  private readonly maxRetries: number;
  private readonly now: () => number;

  constructor(options: CallSchedulerOptions = {}) {
    this.limits = options.limits ?? methodLimit;
    this.scale = options.scale ?? 1;
    this.maxRetries = options.maxRateLimitRetries ?? 5;
    this.now = options.now ?? Date.now;
  }

  /** How many calls are waiting for their budget. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Sends `send()` (the call to `method` with `args`) when its budget allows. */
  run<T>(method: string, args: Record<string, unknown>, priority: CallPriority, send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const channel = typeof args.channel === 'string' && args.channel !== '' ? args.channel : undefined;
      const orderKey =
        channel === undefined ? undefined : method === 'chat.postMessage' ? `post:${channel}` : method === 'chat.update' ? `update:${channel}:${String(args.ts)}` : undefined;
      this.waiting.push({ seq: this.seq++, method, channel, orderKey, rank: RANK[priority], rateLimitRetries: 0, send, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  private window(key: string, limit: MethodLimit['perWorkspace']): RateWindow {
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = new RateWindow(limit, this.scale)));
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

  /** Starts every call whose budget allows, most urgent first, and sets a timer for the soonest of the rest. */
  private pump(): void {
    const now = this.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    this.waiting.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    const firstOfKey = new Map<string, number>();
    for (const w of this.waiting) if (w.orderKey !== undefined) firstOfKey.set(w.orderKey, Math.min(firstOfKey.get(w.orderKey) ?? Number.POSITIVE_INFINITY, w.seq));
    // A method whose budget a more urgent call is waiting for is not given to a less urgent one.
    const held = new Set<string>();
    for (const call of [...this.waiting]) {
      if (call.orderKey !== undefined && (this.busy.has(call.orderKey) || firstOfKey.get(call.orderKey) !== call.seq)) continue;
      const { windows, pauseKeys } = this.budget(call);
      const paused = Math.max(0, ...pauseKeys.map((k) => (this.pausedUntil.get(k) ?? 0) - now));
      const wait = Math.max(paused, ...windows.map((w) => w.waitMs(now)));
      if (wait > 0 || held.has(call.method)) {
        if (wait > 0) wakeAt = Math.min(wakeAt, now + wait);
        if (call.channel === undefined || !this.limits(call.method)?.perChannel) held.add(call.method);
        continue;
      }
      for (const w of windows) w.take(now);
      this.waiting.splice(this.waiting.indexOf(call), 1);
      this.start(call, pauseKeys);
    }
    this.wakeAt(wakeAt);
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
          if (call.rateLimitRetries < this.maxRetries) {
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

  private wakeAt(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - this.now()),
    );
    this.timer.unref();
  }
}
