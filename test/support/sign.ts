import { createHmac, randomBytes } from 'node:crypto';

/** Headers Slack sends with a signed request. */
export type SlackSignedHeaders = {
  'X-Slack-Request-Timestamp': string;
  'X-Slack-Signature': string;
  'Content-Type': string;
};

/**
 * Signs `body` the way Slack does: `v0=` + hex HMAC-SHA256(secret, `v0:<ts>:<body>`).
 * @param timestamp - Unix seconds; defaults to now.
 */
export function signSlackRequest(
  secret: string,
  body: string,
  timestamp: number | string = Math.floor(Date.now() / 1000),
): SlackSignedHeaders {
  const ts = String(timestamp);
  const digest = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return {
    'X-Slack-Request-Timestamp': ts,
    'X-Slack-Signature': `v0=${digest}`,
    'Content-Type': 'application/x-www-form-urlencoded',
  };
}

let triggerCounter = 0;

/** A trigger_id shaped like Slack's (`<digits>.<digits>.<hex>`), unique per call. */
export function newTriggerId(): string {
  triggerCounter += 1;
  return `${Date.now()}.${triggerCounter}.${randomBytes(16).toString('hex')}`;
}

/** Slash command form fields in the order Slack sends them. */
const SLASH_FIELDS = [
  'token',
  'team_id',
  'team_domain',
  'channel_id',
  'channel_name',
  'user_id',
  'user_name',
  'command',
  'text',
  'api_app_id',
  'is_enterprise_install',
  'response_url',
  'trigger_id',
] as const;

/**
 * Builds a slash command x-www-form-urlencoded body with Slack's field set and order.
 * Defaults: team T111, channel C0OPS (#ops), user U0DEVOPS, command /golive, empty text, fresh trigger_id.
 * The default response_url points at a closed local port so a test that forgets to set one fails fast
 * instead of trying to reach hooks.slack.com. Keys not in Slack's set are appended at the end.
 */
export function slashCommandBody(fields: Partial<Record<string, string>> = {}): string {
  const defaults: Record<(typeof SLASH_FIELDS)[number], string> = {
    token: 'legacy-verification-token',
    team_id: 'T111',
    team_domain: 'golive-test',
    channel_id: 'C0OPS',
    channel_name: 'ops',
    user_id: 'U0DEVOPS',
    user_name: 'devops',
    command: '/golive',
    text: '',
    api_app_id: 'A0GOLIVE',
    is_enterprise_install: 'false',
    response_url: 'http://127.0.0.1:9/commands/T111/unset',
    trigger_id: '',
  };
  const params = new URLSearchParams();
  for (const key of SLASH_FIELDS) {
    const value = fields[key] ?? (key === 'trigger_id' ? newTriggerId() : defaults[key]);
    params.append(key, value);
  }
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && !(SLASH_FIELDS as readonly string[]).includes(key)) params.append(key, value);
  }
  return params.toString();
}

/** Options for {@link blockActionPayload}. */
export interface BlockActionOptions {
  /** Clicking user's id. */
  user: string;
  /** Channel id of the message holding the button. */
  channel: string;
  actionId: string;
  value: string;
  /** ts of the message holding the button. */
  messageTs: string;
  responseUrl: string;
  /** Defaults to a block id derived from the action id. */
  blockId?: string;
  /** Defaults to `"ops"`. */
  channelName?: string;
  /** Button label; defaults to the action id. */
  buttonText?: string;
  /** Defaults to `"T111"`. */
  teamId?: string;
  /** Text of the message holding the button. */
  messageText?: string;
  /** Blocks of the message holding the button; defaults to `[]`. */
  messageBlocks?: unknown[];
}

/** A block_actions interaction payload as Slack sends it for a button in a channel message. */
export interface BlockActionsPayload {
  type: 'block_actions';
  user: { id: string; username: string; name: string; team_id: string };
  api_app_id: string;
  token: string;
  container: { type: 'message'; message_ts: string; channel_id: string; is_ephemeral: boolean };
  trigger_id: string;
  team: { id: string; domain: string };
  enterprise: null;
  is_enterprise_install: boolean;
  channel: { id: string; name: string };
  message: { type: 'message'; ts: string; text: string; user: string; bot_id: string; blocks: unknown[] };
  state: { values: Record<string, unknown> };
  response_url: string;
  actions: {
    action_id: string;
    block_id: string;
    text: { type: 'plain_text'; text: string; emoji: boolean };
    value: string;
    type: 'button';
    action_ts: string;
  }[];
}

/** Builds a realistic block_actions payload (modelled on Slack's own bolt-python fixture). */
export function blockActionPayload(opts: BlockActionOptions): BlockActionsPayload {
  const teamId = opts.teamId ?? 'T111';
  const username = opts.user.toLowerCase();
  const actionTs = (Date.now() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: opts.user, username, name: username, team_id: teamId },
    api_app_id: 'A0GOLIVE',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: opts.messageTs, channel_id: opts.channel, is_ephemeral: false },
    trigger_id: newTriggerId(),
    team: { id: teamId, domain: 'golive-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: opts.channel, name: opts.channelName ?? 'ops' },
    message: {
      type: 'message',
      ts: opts.messageTs,
      text: opts.messageText ?? '',
      user: 'UBOT',
      bot_id: 'BBOT',
      blocks: opts.messageBlocks ?? [],
    },
    state: { values: {} },
    response_url: opts.responseUrl,
    actions: [
      {
        action_id: opts.actionId,
        block_id: opts.blockId ?? `blk-${opts.actionId}`,
        text: { type: 'plain_text', text: opts.buttonText ?? opts.actionId, emoji: true },
        value: opts.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** Form body for an interaction: `payload=` + URL-encoded JSON. */
export function blockActionsBody(payload: object): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Options for {@link postSigned}. */
export interface PostSignedOptions {
  /** Unix seconds to sign with (e.g. a stale one to test replay protection). */
  timestamp?: number;
  /** Extra or overriding headers (case-insensitive), e.g. a different Content-Type or a forged signature. */
  extraHeaders?: Record<string, string>;
}

/** POSTs `body` to `url` with Slack signature headers computed from `secret`. */
export async function postSigned(
  url: string,
  body: string,
  secret: string,
  options: PostSignedOptions = {},
): Promise<{ status: number; text: string }> {
  const headers = new Headers(signSlackRequest(secret, body, options.timestamp));
  for (const [key, value] of Object.entries(options.extraHeaders ?? {})) headers.set(key, value);
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}
