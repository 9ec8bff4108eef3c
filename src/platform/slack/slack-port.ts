import type { WebApiMethod } from './web-api-methods.js';

/** A message as golive sends it: fallback text plus optional Block Kit blocks. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/**
 * Which call goes first when calls compete for one of Slack's budgets: `urgent` (pages, alarm and incident
 * posts, a modal whose trigger_id dies in 3 s), `people` (announcements, replies to someone who acted),
 * `refresh` (status boards and App Home re-rendered after a change; the next refresh carries the same news).
 */
export type CallPriority = 'urgent' | 'people' | 'refresh';

/** Each priority as a rank, most urgent lowest: the scheduler sorts by it and the outbox stores it. */
export const PRIORITY_RANK: Record<CallPriority, number> = { urgent: 0, people: 1, refresh: 2 };

/**
 * Who is waiting for a call, which decides what Slack's rate limit does to it:
 * - `person`: someone acted and is waiting for the answer. A 429, or a method still paused by an earlier one,
 *   fails the call at once (the person is told privately when to try again), and so does a budget that
 *   would hold it more than a moment.
 * - `outbox`: a stored delivery. A 429 or a pause goes back to the outbox, which keeps the row and wakes when
 *   Retry-After ends; a budget that is only spent for now holds the call until it fits.
 * - `refresh`: a board or App Home re-render. It waits out every 429 (woken when Retry-After ends) and every
 *   budget; when it finally fails, its caller folds it into the next refresh.
 */
export type CallWaiter = 'person' | 'outbox' | 'refresh';

/** How a caller asks for a Web API call to be scheduled (see src/platform/slack/call-scheduler.ts). */
export interface CallOptions {
  /** Defaults by method: `views.open` urgent, `chat.update`/`views.publish` refresh, the rest people. */
  priority?: CallPriority;
  /** Defaults to `refresh` for refresh-priority calls, else `person`. */
  waiter?: CallWaiter;
}

/**
 * What golive needs from Slack. The real adapter wraps golive's Web API client (web-api-client.ts);
 * tests point that adapter at a local fake Web API instead of replacing it.
 */
export interface SlackPort {
  /** Any Web API method; used by the outbox to deliver stored calls. */
  call(method: WebApiMethod, args: Record<string, unknown>, opts?: CallOptions): Promise<Record<string, unknown>>;
  /**
   * Any Web API method, sent once: no retry inside the call. The outbox posts
   * with it, because it retries by itself and first checks whether an earlier
   * try reached Slack; a retry inside the client would post blind. Falls back to `call`.
   */
  callOnce?(method: WebApiMethod, args: Record<string, unknown>, opts?: CallOptions): Promise<Record<string, unknown>>;
  /** Members of a Slack user group (`usergroups.users.list`). */
  usergroupMembers(groupId: string): Promise<string[]>;
  postMessage(channel: string, message: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }>;
  /**
   * Posts a message that must not appear twice (a card with live buttons): it
   * carries `key` in its metadata and is sent without the client's blind
   * retries; when Slack's answer is lost, the channel (or thread) is searched
   * for the key before it is sent again, and a post found there is returned.
   */
  postOnce(channel: string, message: SlackMessage, key: string, threadTs?: string): Promise<{ channel: string; ts: string }>;
  /** Edits a message; a board refresh unless `opts` says otherwise (a person paging through a board). */
  updateMessage(channel: string, ts: string, message: SlackMessage, opts?: CallOptions): Promise<void>;
  publishHome(userId: string, blocks: unknown[]): Promise<void>;
  openView(triggerId: string, view: unknown): Promise<void>;
  /** The Slack user with this email (`users.lookupByEmail`), or undefined. */
  userByEmail(email: string): Promise<string | undefined>;
  postEphemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  /**
   * Creates a public channel once: when Slack's answer is lost, the channel
   * of that name the bot has just created, and that `unclaimed` says nothing
   * of golive's uses yet, is looked up (conversations.list) and returned
   * instead of trying another name. Throws SlackCallError `name_taken` when
   * the name belongs to another channel.
   */
  createChannel(name: string, unclaimed?: (channelId: string) => Promise<boolean>): Promise<{ id: string; name: string }>;
  setTopic(channel: string, topic: string): Promise<void>;
  /** Invites users; returns the ones Slack refused, with why (already members are not refusals). */
  invite(channel: string, users: string[]): Promise<{ user: string; error: string }[]>;
  /**
   * Shares files in a channel (or a thread), with one message, the way Slack
   * documents files.uploadV2: per file `files.getUploadURLExternal` and the
   * bytes POSTed to the upload URL it gives, then one
   * `files.completeUploadExternal` for them all.
   */
  shareFiles(share: FileShare): Promise<{ fileIds: string[] }>;
  /** A user's display name (`users.info`), or undefined when Slack does not say. */
  userName(userId: string): Promise<string | undefined>;
}

/** Files to share in one message. */
export interface FileShare {
  channel: string;
  threadTs?: string;
  /** Posted with the files, as their message. */
  initialComment?: string;
  files: { filename: string; title: string; content: Buffer; /** Describes an image for screen readers (at most 1,000 characters). */ altText?: string }[];
}

/** Slack API failures the caller can act on; `retryAfterSeconds` is set for rate limits. */
export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Slack ${method} failed: ${slackError}`);
    this.name = 'SlackCallError';
  }
}

/**
 * Whether Slack answered (and so, for an error, refused: the call did nothing).
 * No answer at all (a timeout, a reset, a proxy's 5xx) may have come after Slack acted.
 */
export function slackAnswered(err: unknown): boolean {
  return err instanceof SlackCallError && !/^(http_error|request_error)/.test(err.slackError);
}
