import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import { SlackCallError, type SlackPort } from './slack/slack-port.js';
import type { Store } from '../store/store.js';

/** Slack errors that no retry will fix. */
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked',
  'missing_scope', 'invalid_blocks', 'invalid_arguments', 'msg_too_long', 'no_text', 'restricted_action', 'unknown_method',
]);
/** A post older than this is given up on: a launch window is 48 hours, and news older than that misleads. */
const MAX_AGE_MS = 48 * 60 * 60 * 1000;

/**
 * Delivers Slack calls that were stored with the change they announce.
 * A failed delivery is retried with exponential backoff (or after Slack's
 * Retry-After), so a Slack outage delays announcements but never loses them.
 */
export class Outbox {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly slack: SlackPort,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly pollMs = 5000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.pollMs);
    this.timer.unref();
    void this.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Delivers everything due now; concurrent calls coalesce into one more pass. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.deliverDue();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async deliverDue(): Promise<void> {
    const due = this.store.dueOutbox(this.clock.now().toISOString(), 50);
    for (const row of due) {
      try {
        const result = await this.slack.call(row.method, row.args);
        this.store.markDelivered(row.id, this.clock.now().toISOString(), { ts: result.ts ?? null, channel: result.channel ?? null });
      } catch (err) {
        const slackError = err instanceof SlackCallError ? err.slackError : (err as Error).message;
        const attempts = row.attempts + 1;
        const tooOld = this.clock.now().getTime() - Date.parse(row.created_at) >= MAX_AGE_MS;
        if ((err instanceof SlackCallError && PERMANENT.has(err.slackError)) || tooOld) {
          this.store.markFailed(row.id, this.clock.now().toISOString(), slackError);
          this.logger.error({ outboxId: row.id, method: row.method, channel: row.args.channel, slackError, attempts }, 'gave up delivering a Slack message');
          continue;
        }
        const waitMs = err instanceof SlackCallError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : Math.min(2000 * 2 ** (attempts - 1), 5 * 60_000);
        this.store.markRetry(row.id, slackError, new Date(this.clock.now().getTime() + waitMs).toISOString());
        this.logger.warn({ outboxId: row.id, method: row.method, slackError, attempts, retryInMs: waitMs }, 'Slack delivery failed; will retry');
        if (err instanceof SlackCallError && err.slackError === 'ratelimited') break;
      }
    }
  }
}
