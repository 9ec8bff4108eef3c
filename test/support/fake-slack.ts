import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageContentError, slackError, viewError } from '../../src/sandbox/block-limits.js';
import { webApiFormArgs } from '../../src/sandbox/web-api-form.js';
import { methodLimit, RateWindow } from '../../src/platform/slack/rate-limits.js';
import { startFakeFiles, type FakeFile } from './fake-slack-files.js';

export type { FakeFile };

/**
 * How much faster than Slack's the fake's rate-limit windows run by default, and golive's call scheduler in
 * the tests (`slackLimitScale` in-process, GOLIVE_SLACK_LIMIT_SCALE for a spawned app): a minute's budget
 * renews in 0.6 s, so the limits are enforced without a test waiting out Slack's real pace. Tests about
 * Retry-After itself, and the fake's own tests of the limits, run at 1.
 */
export const TEST_SLACK_LIMIT_SCALE = 0.01;

/** Options for {@link startFakeSlack}. */
export interface FakeSlackOptions {
  /** The only bot token the fake accepts; anything else gets `invalid_auth`. Defaults to `"xoxb-test-token"`. */
  token?: string;
  /** The app-level token accepted by `apps.connections.open` (Socket Mode). Defaults to `"xapp-test-token"`. */
  appToken?: string;
  /**
   * Slack's published rate limits (src/platform/slack/rate-limits.ts), enforced by default (at
   * {@link TEST_SLACK_LIMIT_SCALE}; `true` for Slack's own windows): a call over its
   * method's window (or, for `chat.postMessage`, its channel's) is answered 429 with `Retry-After`.
   * `false` turns them off for tests about something else; `scale` shrinks every window (0.01: a minute's
   * budget renews in 0.6 s) while `Retry-After` stays in Slack's seconds, as a client at the same scale reads it.
   */
  rateLimits?: FakeSlackRateLimits;
}

/** Whether and how fast the fake enforces Slack's rate limits (see {@link FakeSlackOptions.rateLimits}). */
export type FakeSlackRateLimits = boolean | { scale?: number };

/** One Web API call received by the fake (`POST /api/<method>`). */
export interface RecordedCall {
  kind: 'call';
  /** Web API method name, e.g. `chat.postMessage`. */
  method: string;
  /** Query + body arguments; JSON-in-form fields (`blocks`, `view`, ...) are already parsed. `token` is removed. */
  args: Record<string, unknown>;
  /** Token from `Authorization: Bearer` or a `token` field. */
  token?: string;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** True when the answer came from {@link FakeSlack.failNext}. */
  faulted?: boolean;
  /** True when the call went over Slack's rate limit and was answered 429. */
  rateLimited?: boolean;
  /** HTTP status the fake answered with. */
  status?: number;
  /** JSON body the fake answered with. */
  result?: Record<string, unknown>;
}

/** One POST received on a {@link FakeSlack.responseUrl} URL. */
export interface RecordedResponse {
  kind: 'response';
  /** The id segment of the response URL. */
  id: string;
  /** Parsed JSON body (raw string if it was not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests dig into arbitrary Slack payloads
  body: any;
  at: number;
}

/** Anything {@link FakeSlack.waitFor} can match. */
export type RecordedEntry = RecordedCall | RecordedResponse;

/** A fault injected with {@link FakeSlack.failNext}. */
export interface FakeSlackFault {
  /** HTTP status; 429 adds `Retry-After`. Defaults to 429 if `retryAfter` is set, else 200. */
  status?: number;
  /** Seconds for the `Retry-After` header (429 only; default 1). */
  retryAfter?: number;
  /** Slack error code for the body; defaults to `ratelimited` (429), `internal_error` (5xx) or `fatal_error`. */
  error?: string;
}

/** A message the bot posted, as the fake's state after any `chat.update`. */
export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** Message metadata (`{event_type, event_payload}`) given to `chat.postMessage` or `chat.update`. */
  metadata?: Record<string, unknown>;
  /** `reply_broadcast` on a thread reply: it also shows in the channel's history. */
  broadcast?: boolean;
  /** Number of successful `chat.update` calls applied. */
  updates: number;
  /** Who wrote it, when not the bot ({@link FakeSlack.postUserMessage}). */
  user?: string;
  /** Files shared with it (files.completeUploadExternal). */
  files?: string[];
}

/** A channel the fake knows about (created, joined, invited to or topic-set). */
export interface FakeChannel {
  id: string;
  name: string;
  is_private: boolean;
  topic: string;
  members: Set<string>;
  /** Unix seconds; channels the fake made up for an id it was given date from 2023. */
  created?: number;
  archived?: boolean;
}

/** A running fake Slack Web API server. */
export interface FakeSlack {
  /** Base URL for `slackApiUrl`, ending with `/api/`. */
  readonly url: string;
  /** The accepted bot token. */
  readonly token: string;
  /** Recorded Web API calls, in arrival order (faulted ones included). */
  readonly calls: RecordedCall[];
  /** Recorded response_url posts, in arrival order. */
  readonly responses: RecordedResponse[];
  /** Posted messages keyed by `channel:ts`. */
  readonly messages: Map<string, FakeMessage>;
  /** Channels keyed by id. */
  readonly channels: Map<string, FakeChannel>;
  /** Files announced, uploaded and shared through files.uploadV2's steps, keyed by file id. */
  readonly files: Map<string, FakeFile>;
  /** A message a person wrote in a channel (or thread), for conversations.history/replies to return; returns its ts. */
  postUserMessage(channel: string, user: string, text: string, threadTs?: string): string;
  /** A response_url on this server; a fresh unique id is used when none is given. */
  responseUrl(id?: string): string;
  /** Recorded calls for one method. */
  callsTo(method: string): RecordedCall[];
  /** Polls every ~10 ms until an entry matches; rejects after `timeoutMs` listing everything recorded. */
  waitFor<T extends RecordedEntry>(predicate: (entry: RecordedEntry) => entry is T, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (entry: RecordedEntry) => boolean, timeoutMs?: number): Promise<RecordedEntry>;
  /** Waits for a call to `method` (optionally matching `predicate`). */
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Waits for a response_url post (optionally matching `predicate`). */
  waitForResponse(predicate?: (response: RecordedResponse) => boolean, timeoutMs?: number): Promise<RecordedResponse>;
  /** Members returned by `usergroups.users.list` for `groupId`. */
  setUsergroupMembers(groupId: string, userIds: string[]): void;
  /** The WebSocket URL `apps.connections.open` hands out (Socket Mode tests run their own server). */
  setSocketModeUrl(url: string): void;
  /** Turns rate-limit enforcement on or off (or changes its scale) from now on; windows start empty. */
  setRateLimits(limits: FakeSlackRateLimits): void;
  /** Makes the next call to `method` fail with `fault`; several calls queue up in order. */
  failNext(method: string, fault: FakeSlackFault): void;
  /**
   * Runs after a call has been handled (its effect applied, e.g. a message stored) and before the answer is
   * sent: crash tests kill the caller here, so Slack has acted but the caller never hears back. Returning
   * `'drop'` closes the connection without an answer (a reply lost on the way back).
   */
  beforeReply?: (call: RecordedCall) => void | 'drop' | Promise<void | 'drop'>;
  /** What a wait that timed out adds to its error (the app under test's undelivered outbox rows, say). */
  explainTimeout?: () => Promise<string>;
  /** Clears calls, responses, faults, messages, channels, rate-limit windows and `beforeReply`. Usergroups and the rate-limit setting are kept (they are setup data). */
  reset(): void;
  /** Stops the server, dropping keep-alive connections. */
  close(): Promise<void>;
}

const SPEC_URL = new URL('../fixtures/slack-web-api/slack_web_openapi_v2.json', import.meta.url);

/** Fields Slack accepts as JSON strings inside form bodies. */

/** Methods Slack serves without a token. */
const NO_AUTH_METHODS = new Set(['api.test', 'oauth.access', 'oauth.v2.access', 'oauth.v2.exchange', 'oauth.token']);

let specCache: Promise<Map<string, string[]>> | undefined;

/** Method name → required non-token parameters, from the OpenAPI spec. */
function loadSpec(): Promise<Map<string, string[]>> {
  specCache ??= readFile(SPEC_URL, 'utf8').then((raw) => {
    const spec = JSON.parse(raw) as {
      paths: Record<string, Record<string, { parameters?: { name: string; required?: boolean }[] }>>;
    };
    const index = new Map<string, string[]>();
    for (const [path, ops] of Object.entries(spec.paths)) {
      const required = new Set<string>();
      for (const op of Object.values(ops)) {
        for (const p of op.parameters ?? []) {
          if (p.required === true && p.name !== 'token') required.add(p.name);
        }
      }
      index.set(path.replace(/^\//, ''), [...required]);
    }
    return index;
  });
  return specCache;
}

type Body = Record<string, unknown>;

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: Body;
}

const err = slackError;

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function str(v: unknown): string | undefined {
  if (isMissing(v)) return undefined;
  return typeof v === 'string' ? v : String(v);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Per-method behaviour: `validate` runs before the spec's required-parameter check so Slack's specific errors win. */
interface Handler {
  validate?(args: Body): Body | undefined;
  run(args: Body): Body;
}

function parseBody(raw: string, contentType: string): Body {
  if (raw.length === 0) return {};
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return isObject(parsed) ? parsed : { _body: parsed };
    } catch {
      return { _raw: raw };
    }
  }
  if (contentType.includes('application/x-www-form-urlencoded') || contentType === '') {
    return webApiFormArgs(new URLSearchParams(raw));
  }
  return { _raw: raw };
}

function readRequest(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status ?? 200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

function summarize(entry: RecordedEntry): string {
  const json = JSON.stringify(entry.kind === 'call' ? entry.args : entry.body) ?? 'undefined';
  const short = json.length > 300 ? `${json.slice(0, 300)}…` : json;
  return entry.kind === 'call'
    ? `  call ${entry.method}${entry.faulted === true ? ' (faulted)' : ''}${entry.result ? ` -> ${String(entry.result.ok === true ? 'ok' : entry.result.error)}` : ''} ${short}`
    : `  response ${entry.id} ${short}`;
}

/** Message metadata as Slack keeps it: an object with a string `event_type` and an object `event_payload`. */
function metadataOf(v: unknown): Record<string, unknown> | undefined {
  if (!isObject(v) || typeof v.event_type !== 'string' || !isObject(v.event_payload)) return undefined;
  return { event_type: v.event_type, event_payload: v.event_payload };
}

/** Orders Slack timestamps (`seconds.micros`) numerically. */
function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

/**
 * Starts a fake Slack Web API + response_url server on 127.0.0.1 (random port).
 * Behaves like Slack for the methods golive uses; other methods known to Slack's OpenAPI spec answer `{ok:true}`.
 */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = options.token ?? 'xoxb-test-token';
  const appToken = options.appToken ?? 'xapp-test-token';
  let socketModeUrl: string | undefined;
  const calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  const messages = new Map<string, FakeMessage>();
  const channels = new Map<string, FakeChannel>();
  const usergroups = new Map<string, string[]>();
  const faults = new Map<string, FakeSlackFault[]>();
  let tsCounter = 0;
  let channelCounter = 0;
  let viewCounter = 0;
  let responseCounter = 0;
  let limits = options.rateLimits ?? { scale: TEST_SLACK_LIMIT_SCALE };
  const windows = new Map<string, RateWindow>();

  /** Seconds to wait if this call goes over its method's or channel's window (counted either way, as Slack counts requests); undefined if it fits. */
  const overLimit = (method: string, args: Body): number | undefined => {
    const limit = limits === false ? undefined : methodLimit(method);
    if (!limit) return undefined;
    const scale = limits === true || limits === false ? 1 : (limits.scale ?? 1);
    const now = Date.now();
    const windowFor = (key: string, l: NonNullable<typeof limit.perChannel>): RateWindow => {
      let w = windows.get(key);
      if (!w) windows.set(key, (w = new RateWindow(l, scale)));
      return w;
    };
    const applying = [windowFor(method, limit.perWorkspace)];
    if (limit.perChannel && !isMissing(args.channel)) applying.push(windowFor(`${method}:${String(args.channel)}`, limit.perChannel));
    const waitMs = Math.max(...applying.map((w) => w.waitMs(now)));
    // In Slack's seconds, as a client running at the same scale reads them.
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / scale / 1000));
    for (const w of applying) w.take(now);
    return undefined;
  };

  // Monotonic across reset() so a ts never repeats within one server.
  const nextTs = (): string => {
    tsCounter += 1;
    const micros = tsCounter * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };

  const channelFor = (id: string): FakeChannel => {
    let ch = channels.get(id);
    if (!ch) {
      ch = { id, name: 'ops', is_private: false, topic: '', members: new Set(['UBOT']) };
      channels.set(id, ch);
    }
    return ch;
  };

  const channelJson = (ch: FakeChannel): Body => ({
    id: ch.id,
    name: ch.name,
    is_channel: true,
    is_private: ch.is_private,
    is_member: ch.members.has('UBOT'),
    is_archived: ch.archived === true,
    created: ch.created ?? 1_700_000_000,
    creator: 'UBOT',
    topic: { value: ch.topic, creator: ch.topic ? 'UBOT' : '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    num_members: ch.members.size,
  });

  const viewJson = (view: Record<string, unknown>, id?: string): Body => {
    viewCounter += 1;
    return {
      id: id ?? `V${String(viewCounter).padStart(8, '0')}`,
      team_id: 'T111',
      app_id: 'A0GOLIVE',
      bot_id: 'BBOT',
      hash: `${Date.now()}.${viewCounter}`,
      blocks: [],
      ...view,
    };
  };

  /** One page of a message listing: `limit` (default 100, at most 999) from the `cursor`, metadata only with `include_all_metadata`. */
  const page = (list: FakeMessage[], args: Body, kind: 'history' | 'replies'): Body => {
    const limit = Math.min(Math.max(Number(str(args.limit) ?? 100) || 100, 1), 999);
    const cursor = str(args.cursor);
    const start = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace(/^next_ts:/, '')) || 0 : 0;
    const slice = list.slice(start, start + limit);
    const withMetadata = truthy(args.include_all_metadata);
    const more = start + limit < list.length;
    return {
      ok: true,
      messages: slice.map((m) => ({
        type: 'message',
        ...(m.user ? { user: m.user } : { user: 'UBOT', bot_id: 'BBOT' }),
        text: m.text,
        blocks: m.blocks,
        ts: m.ts,
        ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
        ...(m.files ? { subtype: 'file_share', files: m.files.map((id) => ({ id })) } : {}),
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      })),
      has_more: more,
      ...(kind === 'history' ? { pin_count: 0 } : {}),
      response_metadata: { next_cursor: more ? Buffer.from(`next_ts:${start + limit}`).toString('base64') : '' },
    };
  };

  const requireChannel = (args: Body): Body | undefined => (isMissing(args.channel) ? err('channel_not_found') : undefined);

  const viewHandler = (types: string[], requireKey?: (args: Body) => Body | undefined): Handler => ({
    validate: (args) => requireKey?.(args) ?? (isMissing(args.view) ? undefined : viewError(args.view, types)),
    run: (args) => ({ ok: true, view: viewJson(args.view as Record<string, unknown>, str(args.view_id)) }),
  });

  const fileSide = await startFakeFiles((channel, text, threadTs, file) => {
    const ts = nextTs();
    messages.set(`${channel}:${ts}`, { channel, ts, text, blocks: [], ...(threadTs ? { thread_ts: threadTs } : {}), files: [file.id], updates: 0 });
  });

  const handlers: Record<string, Handler> = {
    ...fileSide.handlers,
    'apps.connections.open': {
      run: () => (socketModeUrl ? { ok: true, url: socketModeUrl } : err('internal_error')),
    },
    'auth.test': {
      run: () => ({
        ok: true,
        url: 'https://golive-test.slack.com/',
        team: 'Golive Test',
        user: 'golive',
        team_id: 'T111',
        user_id: 'UBOT',
        bot_id: 'BBOT',
        is_enterprise_install: false,
      }),
    },
    'chat.postMessage': {
      validate: (args) => requireChannel(args) ?? messageContentError(args, true),
      run: (args) => {
        const channel = String(args.channel);
        const ts = nextTs();
        const text = str(args.text) ?? '';
        const blocks = Array.isArray(args.blocks) ? args.blocks : [];
        const threadTs = str(args.thread_ts);
        const msg: FakeMessage = { channel, ts, text, blocks, updates: 0 };
        if (threadTs !== undefined) msg.thread_ts = threadTs;
        if (threadTs !== undefined && truthy(args.reply_broadcast)) msg.broadcast = true;
        const metadata = metadataOf(args.metadata);
        if (metadata) msg.metadata = metadata;
        messages.set(`${channel}:${ts}`, msg);
        return {
          ok: true,
          channel,
          ts,
          // Like Slack, the answer echoes the message but not its metadata (only history and replies return that).
          message: { type: 'message', text, blocks, ts, user: 'UBOT', bot_id: 'BBOT', ...(threadTs ? { thread_ts: threadTs } : {}) },
        };
      },
    },
    'chat.update': {
      validate: (args) => {
        const missingChannel = requireChannel(args);
        if (missingChannel) return missingChannel;
        if (isMissing(args.ts)) return err('invalid_arguments', ['[ERROR] missing required field: ts']);
        if (!messages.has(`${String(args.channel)}:${String(args.ts)}`)) return err('message_not_found');
        return messageContentError(args, true);
      },
      run: (args) => {
        const channel = String(args.channel);
        const ts = String(args.ts);
        const msg = messages.get(`${channel}:${ts}`) as FakeMessage;
        // Slack keeps the previous text/blocks for fields the update omits.
        if (args.text !== undefined) msg.text = str(args.text) ?? '';
        if (Array.isArray(args.blocks)) msg.blocks = args.blocks;
        const metadata = metadataOf(args.metadata);
        if (metadata) msg.metadata = metadata;
        msg.updates += 1;
        return {
          ok: true,
          channel,
          ts,
          text: msg.text,
          message: { type: 'message', text: msg.text, blocks: msg.blocks, user: 'UBOT', bot_id: 'BBOT', edited: { user: 'UBOT', ts: nextTs() } },
        };
      },
    },
    'chat.delete': {
      validate: (args) => {
        const missingChannel = requireChannel(args);
        if (missingChannel) return missingChannel;
        if (isMissing(args.ts)) return err('invalid_arguments', ['[ERROR] missing required field: ts']);
        return messages.has(`${String(args.channel)}:${String(args.ts)}`) ? undefined : err('message_not_found');
      },
      run: (args) => {
        messages.delete(`${String(args.channel)}:${String(args.ts)}`);
        return { ok: true, channel: args.channel, ts: args.ts };
      },
    },
    'chat.postEphemeral': {
      validate: (args) => requireChannel(args) ?? messageContentError(args, true),
      run: () => ({ ok: true, message_ts: nextTs() }),
    },
    'views.publish': viewHandler(['home']),
    'views.open': viewHandler(['modal']),
    'views.push': viewHandler(['modal']),
    'views.update': viewHandler(['modal', 'home'], (args) =>
      isMissing(args.view_id) && isMissing(args.external_id) ? err('invalid_arguments', ['[ERROR] missing required field: view_id']) : undefined,
    ),
    // The fake's users all have the email <id>@example.com (see users.info).
    'users.lookupByEmail': {
      validate: (args) => (isMissing(args.email) ? err('invalid_arguments') : undefined),
      run: (args) => {
        const m = /^([UW][A-Z0-9]+)@example\.com$/.exec(String(args.email));
        return m ? { ok: true, user: { id: m[1], team_id: 'T111', name: m[1]!.toLowerCase(), profile: { email: String(args.email) } } } : err('users_not_found');
      },
    },
    'users.info': {
      validate: (args) => (isMissing(args.user) ? err('user_not_found') : undefined),
      run: (args) => {
        const id = String(args.user);
        return {
          ok: true,
          user: {
            id,
            team_id: 'T111',
            name: id.toLowerCase(),
            real_name: `User ${id}`,
            deleted: false,
            is_bot: false,
            tz: 'UTC',
            profile: { email: `${id}@example.com`, display_name: id.toLowerCase(), real_name: `User ${id}` },
          },
        };
      },
    },
    'conversations.info': {
      validate: requireChannel,
      run: (args) => ({ ok: true, channel: channelJson(channelFor(String(args.channel))) }),
    },
    // Newest first; top-level messages and broadcast thread replies, as Slack lists them.
    'conversations.history': {
      validate: requireChannel,
      run: (args) => {
        const channel = String(args.channel);
        const inChannel = [...messages.values()].filter((m) => m.channel === channel && (m.thread_ts === undefined || m.broadcast === true));
        return page(inChannel.sort((a, b) => compareTs(b.ts, a.ts)), args, 'history');
      },
    },
    // The parent first, then its replies oldest first, as Slack lists a thread.
    'conversations.replies': {
      validate: (args) => {
        const missingChannel = requireChannel(args);
        if (missingChannel) return missingChannel;
        if (isMissing(args.ts)) return err('invalid_arguments', ['[ERROR] missing required field: ts']);
        return messages.has(`${String(args.channel)}:${String(args.ts)}`) ? undefined : err('thread_not_found');
      },
      run: (args) => {
        const channel = String(args.channel);
        const parent = String(args.ts);
        const thread = [...messages.values()].filter((m) => m.channel === channel && (m.ts === parent || m.thread_ts === parent));
        return page(thread.sort((a, b) => compareTs(a.ts, b.ts)), args, 'replies');
      },
    },
    'conversations.create': {
      validate: (args) => {
        const name = str(args.name);
        if (name === undefined) return err('invalid_name_required');
        if (name.length > 80) return err('invalid_name_maxlength');
        if (!/^[a-z0-9_-]+$/.test(name)) return err('invalid_name_specials');
        for (const ch of channels.values()) if (ch.name === name) return err('name_taken');
        return undefined;
      },
      run: (args) => {
        channelCounter += 1;
        const id = `C${String(channelCounter).padStart(8, '0')}`;
        const ch: FakeChannel = {
          id,
          name: String(args.name),
          is_private: truthy(args.is_private),
          topic: '',
          members: new Set(['UBOT']),
          created: Math.floor(Date.now() / 1000),
        };
        channels.set(id, ch);
        return { ok: true, channel: channelJson(ch) };
      },
    },
    'conversations.archive': {
      validate: (args) => requireChannel(args) ?? (channelFor(String(args.channel)).archived ? err('already_archived') : undefined),
      run: (args) => {
        channelFor(String(args.channel)).archived = true;
        return { ok: true };
      },
    },
    // Pages of `limit` (default 100) in creation order; archived ones only without `exclude_archived`.
    'conversations.list': {
      run: (args) => {
        const wanted = (str(args.types) ?? 'public_channel').split(',');
        const all = [...channels.values()].filter((c) => wanted.includes(c.is_private ? 'private_channel' : 'public_channel') && !(truthy(args.exclude_archived) && c.archived));
        const limit = Math.min(Number(args.limit ?? 100) || 100, 1000);
        const start = args.cursor ? Number(Buffer.from(String(args.cursor), 'base64').toString('utf8').replace('next:', '')) : 0;
        const more = start + limit < all.length;
        return { ok: true, channels: all.slice(start, start + limit).map(channelJson), response_metadata: { next_cursor: more ? Buffer.from(`next:${start + limit}`).toString('base64') : '' } };
      },
    },
    'conversations.invite': {
      validate: (args) => {
        const missingChannel = requireChannel(args);
        if (missingChannel) return missingChannel;
        const users = (str(args.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
        if (users.length === 0) return err('no_user');
        if (users.includes('UBOT')) return err('cant_invite_self');
        const ch = channelFor(String(args.channel));
        const already = users.filter((u) => ch.members.has(u));
        if (already.length > 0 && !truthy(args.force)) {
          return { ...err('already_in_channel'), errors: already.map((user) => ({ user, ok: false, error: 'already_in_channel' })) };
        }
        return undefined;
      },
      run: (args) => {
        const ch = channelFor(String(args.channel));
        for (const u of String(args.users).split(',')) if (u.trim()) ch.members.add(u.trim());
        return { ok: true, channel: channelJson(ch) };
      },
    },
    'conversations.setTopic': {
      validate: (args) => {
        const missingChannel = requireChannel(args);
        if (missingChannel) return missingChannel;
        return typeof args.topic === 'string' && args.topic.length > 250 ? err('too_long') : undefined;
      },
      run: (args) => {
        const ch = channelFor(String(args.channel));
        ch.topic = str(args.topic) ?? '';
        return { ok: true, channel: channelJson(ch) };
      },
    },
    'conversations.join': {
      validate: requireChannel,
      run: (args) => {
        const ch = channelFor(String(args.channel));
        const already = ch.members.has('UBOT');
        ch.members.add('UBOT');
        return { ok: true, channel: channelJson(ch), ...(already ? { warning: 'already_in_channel' } : {}) };
      },
    },
    'usergroups.users.list': {
      validate: (args) => {
        const group = str(args.usergroup);
        return group !== undefined && !usergroups.has(group) ? err('no_such_subteam') : undefined;
      },
      run: (args) => ({ ok: true, users: [...(usergroups.get(String(args.usergroup)) ?? [])] }),
    },
  };

  const handleApi = async (method: string, call: RecordedCall): Promise<Reply> => {
    const queued = faults.get(method);
    const fault = queued?.shift();
    if (fault) {
      call.faulted = true;
      const status = fault.status ?? (fault.retryAfter !== undefined ? 429 : 200);
      if (status === 429) {
        return {
          status,
          headers: { 'Retry-After': String(fault.retryAfter ?? 1) },
          body: err(fault.error ?? 'ratelimited'),
        };
      }
      return { status, body: err(fault.error ?? (status >= 500 ? 'internal_error' : 'fatal_error')) };
    }
    const retryAfter = overLimit(method, call.args);
    if (retryAfter !== undefined) {
      call.rateLimited = true;
      return { status: 429, headers: { 'Retry-After': String(retryAfter) }, body: err('ratelimited') };
    }

    const spec = await loadSpec();
    const handler = handlers[method];
    const required = spec.get(method);
    if (!handler && !required) return { status: 404, body: err('unknown_method') };

    if (call.token === undefined) {
      if (!NO_AUTH_METHODS.has(method)) return { body: err('not_authed') };
    } else if (method === 'apps.connections.open') {
      if (call.token !== appToken) return { body: err(call.token.startsWith('xoxb-') ? 'not_allowed_token_type' : 'invalid_auth') };
    } else if (call.token !== token) {
      return { body: err('invalid_auth') };
    }

    const specific = handler?.validate?.(call.args);
    if (specific) return { body: specific };
    const missing = (required ?? []).filter((name) => isMissing(call.args[name]));
    if (missing.length > 0) {
      return { body: err('invalid_arguments', missing.map((name) => `[ERROR] missing required field: ${name}`)) };
    }
    return { body: handler ? handler.run(call.args) : { ok: true } };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = await readRequest(req);
      const contentType = String(req.headers['content-type'] ?? '').toLowerCase();

      const apiMatch = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      if (apiMatch?.[1] !== undefined) {
        const args: Body = { ...webApiFormArgs(url.searchParams), ...parseBody(raw, contentType) };
        const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
        const bodyToken = str(args.token);
        delete args.token;
        const call: RecordedCall = { kind: 'call', method: apiMatch[1], args, at: Date.now() };
        const callToken = bearer ?? bodyToken;
        if (callToken !== undefined) call.token = callToken;
        calls.push(call);
        const reply = await handleApi(apiMatch[1], call);
        call.status = reply.status ?? 200;
        call.result = reply.body;
        if ((await fake.beforeReply?.(call)) === 'drop') {
          req.socket.destroy();
          return;
        }
        // The caller may be gone (killed on purpose by beforeReply); there is no one left to answer.
        if (!res.destroyed && !res.socket?.destroyed) send(res, reply);
        return;
      }

      const respMatch = /^\/response\/([^/]+)$/.exec(url.pathname);
      if (respMatch?.[1] !== undefined && req.method === 'POST') {
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // Keep non-JSON bodies as the raw string so the test can see what was sent.
        }
        responses.push({ kind: 'response', id: decodeURIComponent(respMatch[1]), body, at: Date.now() });
        send(res, { body: { ok: true } });
        return;
      }

      send(res, { status: 404, body: err('not_found') });
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: err('fake_slack_crashed', [String(e)]) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  function waitFor(predicate: (entry: RecordedEntry) => boolean, timeoutMs = 3000): Promise<RecordedEntry> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        for (const entry of [...calls, ...responses]) {
          try {
            if (predicate(entry)) {
              resolve(entry);
              return;
            }
          } catch (e) {
            // Predicates often index into payloads that don't have the shape yet; treat as no match.
            lastError = e;
          }
        }
        if (Date.now() >= deadline) {
          const lines = [...calls, ...responses].map(summarize);
          const message =
            `fake-slack: nothing matched within ${timeoutMs} ms.\n` +
            `Recorded ${calls.length} call(s) and ${responses.length} response(s):\n` +
            (lines.length > 0 ? lines.join('\n') : '  (none)') +
            (lastError !== undefined ? `\nLast predicate error: ${String(lastError)}` : '');
          const explain = fake.explainTimeout?.() ?? Promise.resolve('');
          void explain.then(
            (more) => reject(new Error(more ? `${message}\n${more}` : message)),
            (err: unknown) => reject(new Error(`${message}\n(could not say more: ${String(err)})`)),
          );
          return;
        }
        setTimeout(tick, 10);
      };
      tick();
    });
  }

  const fake: FakeSlack = {
    url: `${base}/api/`,
    token,
    calls,
    responses,
    messages,
    channels,
    files: fileSide.files,
    postUserMessage(channel, user, text, threadTs) {
      const ts = nextTs();
      messages.set(`${channel}:${ts}`, { channel, ts, text, blocks: [], user, ...(threadTs ? { thread_ts: threadTs } : {}), updates: 0 });
      return ts;
    },
    responseUrl(id?: string): string {
      responseCounter += 1;
      return `${base}/response/${encodeURIComponent(id ?? `r${responseCounter}`)}`;
    },
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor: waitFor as FakeSlack['waitFor'],
    waitForCall: (method, predicate, timeoutMs) =>
      waitFor((e) => e.kind === 'call' && e.method === method && (predicate?.(e) ?? true), timeoutMs) as Promise<RecordedCall>,
    waitForResponse: (predicate, timeoutMs) =>
      waitFor((e) => e.kind === 'response' && (predicate?.(e) ?? true), timeoutMs) as Promise<RecordedResponse>,
    setSocketModeUrl(url) {
      socketModeUrl = url;
    },
    setUsergroupMembers(groupId, userIds) {
      usergroups.set(groupId, [...userIds]);
    },
    setRateLimits(next) {
      limits = next;
      windows.clear();
    },
    failNext(method, fault) {
      const queue = faults.get(method) ?? [];
      queue.push(fault);
      faults.set(method, queue);
    },
    reset() {
      fake.beforeReply = undefined;
      calls.length = 0;
      responses.length = 0;
      faults.clear();
      windows.clear();
      messages.clear();
      channels.clear();
      fileSide.files.clear();
    },
    close: async () => {
      await fileSide.close();
      await new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Node 20's fetch keeps connections alive, which would hold close() open.
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
