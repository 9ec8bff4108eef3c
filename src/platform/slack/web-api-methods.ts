/** The kinds of conversation golive calls a method on; they decide which of a method's scopes the bot needs. */
export type ConversationKind = 'public' | 'private';

/** Why golive calls a Web API method, and on which kinds of conversation. */
export interface WebApiUse {
  why: string;
  /** Empty for methods that act on no conversation. */
  on: readonly ConversationKind[];
}

/**
 * Every Slack Web API method golive calls with the bot token (through
 * {@link SlackPort} and the outbox). The manifest's bot scopes are derived
 * from this list and the scopes Slack's OpenAPI spec gives each method;
 * test/manifest.test.ts checks the list against the code and the spec.
 */
export const WEB_API_METHODS = {
  'auth.test': { why: 'start-up: checks the bot token and learns the bot user', on: [] },
  'chat.postMessage': { why: 'announcements, status boards, cards and their threads (outbox)', on: ['public', 'private'] },
  'chat.update': { why: 'keeps boards and cards up to date', on: ['public', 'private'] },
  'chat.postEphemeral': { why: 'private confirmations after a modal', on: ['public', 'private'] },
  'conversations.history': { why: 'after a crash, the outbox looks for a post before sending it again', on: ['public', 'private'] },
  'conversations.replies': { why: 'the same look-up inside a thread', on: ['public', 'private'] },
  'conversations.create': { why: 'incident channels (always public)', on: ['public'] },
  'conversations.list': { why: "finds the incident channel it just created when Slack's answer to conversations.create was lost", on: ['public'] },
  'conversations.setTopic': { why: 'the incident channel topic', on: ['public'] },
  'conversations.invite': { why: 'invites responders to the incident channel', on: ['public'] },
  'conversations.archive': { why: 'archives an incident channel whose declaration failed', on: ['public'] },
  'views.open': { why: 'incident and vote modals', on: [] },
  'views.publish': { why: 'App Home', on: [] },
  'users.lookupByEmail': { why: "matches PagerDuty's on-call to Slack by email", on: [] },
  'usergroups.users.list': { why: 'resolves roles given as Slack user groups', on: [] },
  'files.getUploadURLExternal': { why: 'the launch report and post-mortem drafts, shared as files (files.uploadV2, step 1)', on: [] },
  'files.completeUploadExternal': { why: 'shares the uploaded file in the channel (files.uploadV2, step 3)', on: ['public', 'private'] },
  'users.info': { why: 'names people in the launch report and post-mortem drafts', on: [] },
} as const satisfies Record<string, WebApiUse>;

/** A Web API method golive calls. */
export type WebApiMethod = keyof typeof WEB_API_METHODS;
