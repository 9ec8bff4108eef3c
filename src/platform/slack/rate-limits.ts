import type { WebApiMethod } from './web-api-methods.js';

/**
 * Where the figures below come from: Slack's published rate limits (tiers, "per API method per app per
 * workspace", per-minute windows, 429 + Retry-After) and each method's page for its tier.
 */
export const SLACK_RATE_LIMITS_SOURCE = 'https://docs.slack.dev/apis/web-api/rate-limits';

/** Calls per minute for each of Slack's tiers (the published minimums: "1+", "20+", "50+", "100+"). */
export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

/** At most `limit` calls in any `windowMs`. */
export interface RateWindowLimit {
  limit: number;
  windowMs: number;
}

/** One method's budget: a per-workspace window, and for `chat.postMessage` a per-channel one too. */
export interface MethodLimit {
  /** `Tier 1`…`Tier 4`, or `Special` (described on the method's own page). */
  tier: string;
  perWorkspace: RateWindowLimit;
  perChannel?: RateWindowLimit;
}

const tier = (n: keyof typeof TIER_PER_MINUTE): MethodLimit => ({ tier: `Tier ${n}`, perWorkspace: { limit: TIER_PER_MINUTE[n], windowMs: 60_000 } });

/**
 * The budget of every method golive calls, used both by golive's own call scheduler and by the fake Slack the
 * tests run against. `chat.postMessage` is Special: "1 message per second to a specific channel … several
 * hundred messages per minute" per workspace, "generous burst behavior" (api.slack.com/methods/chat.postMessage):
 * modelled as 5 in any 5 s per channel (1/s with a burst of 5) and 300 a minute per workspace.
 * `auth.test` is Special too ("hundreds of requests per minute"). Slack does not publish burst sizes.
 */
export const SLACK_METHOD_LIMITS: Record<WebApiMethod | 'apps.connections.open', MethodLimit> = {
  'auth.test': { tier: 'Special', perWorkspace: { limit: 300, windowMs: 60_000 } },
  'apps.connections.open': tier(1),
  'chat.postMessage': { tier: 'Special', perWorkspace: { limit: 300, windowMs: 60_000 }, perChannel: { limit: 5, windowMs: 5_000 } },
  'chat.update': tier(3),
  'chat.postEphemeral': tier(4),
  'conversations.history': tier(3),
  'conversations.replies': tier(3),
  'conversations.create': tier(2),
  'conversations.list': tier(2),
  'conversations.setTopic': tier(2),
  'conversations.invite': tier(3),
  'conversations.archive': tier(2),
  'views.open': tier(4),
  'views.publish': tier(4),
  'users.lookupByEmail': tier(3),
  'usergroups.users.list': tier(2),
  'users.info': tier(4),
  'files.getUploadURLExternal': tier(4),
  'files.completeUploadExternal': tier(4),
};

/** The limit for `method`, if Slack publishes one golive knows about. */
export function methodLimit(method: string): MethodLimit | undefined {
  return (SLACK_METHOD_LIMITS as Record<string, MethodLimit | undefined>)[method];
}

/**
 * A sliding window: at most `limit` calls in any `windowMs` (times scaled by `scale`, so tests can run a
 * minute's budget in a fraction of a second). Both sides of the wire use it: golive to stay inside the
 * budget, the fake Slack to refuse what goes over.
 */
export class RateWindow {
  private readonly times: number[] = [];
  private readonly windowMs: number;

  constructor(
    private readonly limitOf: RateWindowLimit,
    scale = 1,
  ) {
    this.windowMs = limitOf.windowMs * scale;
  }

  /** Milliseconds until a call would fit (0: it fits now). */
  waitMs(now: number): number {
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
    return this.times.length < this.limitOf.limit ? 0 : this.times[0]! + this.windowMs - now;
  }

  /** Counts a call made at `now`. */
  take(now: number): void {
    this.times.push(now);
  }
}
