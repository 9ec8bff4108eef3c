import { findMarkedMessage } from './find-marked-message.js';
import { SlackCallError, slackAnswered, type CallOptions, type FileShare, type SlackMessage, type SlackPort } from './slack-port.js';
import { assertNotInTransaction } from '../store/store.js';
import type { WebApiMethod } from './web-api-methods.js';
import { CallScheduler } from './call-scheduler.js';
import type { WebApiCaller } from './web-api-client.js';

function toCallError(method: string, err: unknown): SlackCallError {
  if (err instanceof SlackCallError) return err;
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; message?: string; original?: { cause?: { code?: string; message?: string } } };
  if (e.code === 'slack_webapi_rate_limited_error') return new SlackCallError(method, 'ratelimited', e.retryAfter ?? 30);
  if (e.code === 'slack_webapi_platform_error') return new SlackCallError(method, e.data?.error ?? 'unknown_error');
  if (e.code === 'slack_webapi_http_error') return new SlackCallError(method, `http_error: ${e.message ?? ''}`);
  if (e.code === 'slack_webapi_request_error') {
    // "fetch failed" alone does not say why; the cause does (ECONNREFUSED, ENOTFOUND, a certificate error).
    const why = e.original?.cause?.code ?? e.original?.cause?.message;
    return new SlackCallError(method, `request_error: ${e.message ?? ''}${why ? ` (${why})` : ''}`);
  }
  return new SlackCallError(method, e.message ?? String(err));
}

/** Metadata marking a post made with {@link SlackPort.postOnce}, so a lost answer can be looked up. */
export const POST_EVENT_TYPE = 'golive_post';
/** Tries of a call whose answer keeps getting lost, each looked up before the next. */
const ATTEMPTS = 3;
/** How far Slack's clock (a channel's `created`) may be behind this host's. */
const CLOCK_SKEW_S = 120;

/**
 * The public channel `name` the bot created since `since` (unix seconds), if
 * Slack lists it: the channel a lost conversations.create answer was about.
 */
async function ownChannelNamed(call: SlackPort['call'], botUser: string, name: string, since: number): Promise<{ id: string; name: string } | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await call('conversations.list', { types: 'public_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const c of Array.isArray(res.channels) ? (res.channels as { id?: unknown; name?: unknown; creator?: unknown; created?: unknown }[]) : []) {
      if (c.name === name && c.creator === botUser && typeof c.created === 'number' && c.created >= since && typeof c.id === 'string') return { id: c.id, name };
    }
    cursor = (res.response_metadata as { next_cursor?: string } | undefined)?.next_cursor;
    if (!cursor) break;
  }
  return undefined;
}

/**
 * The real Slack adapter: a thin layer over the Web API client. `onceClient`
 * is the same client configured without retries, for {@link SlackPort.callOnce}.
 * Every call, whichever method of the port it comes through, waits its turn in
 * `scheduler` (Slack's budgets, Retry-After, priorities); pass the app's one
 * scheduler, so that both clients share Slack's per-method budgets.
 */
export function createSlackAdapter(client: WebApiCaller, onceClient?: WebApiCaller, scheduler = new CallScheduler()): SlackPort {
  const through =
    (c: WebApiCaller) =>
    async (method: WebApiMethod, args: Record<string, unknown>, opts?: CallOptions): Promise<Record<string, unknown>> => {
      assertNotInTransaction(`Slack ${method}`);
      return scheduler.run(method, args, opts ?? {}, async () => {
        try {
          return (await c.apiCall(method, args)) as Record<string, unknown>;
        } catch (err) {
          throw toCallError(method, err);
        }
      });
    };
  const call = through(client);
  const callOnce = onceClient ? through(onceClient) : undefined;
  const sendOnce = callOnce ?? call;
  let botUser: Promise<string> | undefined;
  const whoAmI = () => (botUser ??= call('auth.test', {}).then((r) => String(r.user_id)).catch((err: unknown) => {
    botUser = undefined;
    throw err;
  }));
  return {
    call,
    ...(callOnce ? { callOnce } : {}),
    async usergroupMembers(groupId) {
      const res = await call('usergroups.users.list', { usergroup: groupId });
      return Array.isArray(res.users) ? (res.users as string[]) : [];
    },
    async postMessage(channel, message: SlackMessage, threadTs) {
      const res = await call('chat.postMessage', { channel, text: message.text, blocks: message.blocks, thread_ts: threadTs, unfurl_links: false });
      return { channel: String(res.channel ?? channel), ts: String(res.ts) };
    },
    async postOnce(channel, message, key, threadTs) {
      const args = { channel, text: message.text, blocks: message.blocks, thread_ts: threadTs, unfurl_links: false, metadata: { event_type: POST_EVENT_TYPE, event_payload: { key } } };
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await sendOnce('chat.postMessage', args);
          return { channel: String(res.channel ?? channel), ts: String(res.ts) };
        } catch (err) {
          if (slackAnswered(err) || attempt >= ATTEMPTS) throw err;
          const found = await findMarkedMessage(call, { channel, threadTs }, POST_EVENT_TYPE, (p) => p.key === key);
          if (found) return { channel: found.channel, ts: found.ts };
        }
      }
    },
    async updateMessage(channel, ts, message, opts) {
      await call('chat.update', { channel, ts, text: message.text, blocks: message.blocks ?? [] }, opts);
    },
    async publishHome(userId, blocks) {
      await call('views.publish', { user_id: userId, view: { type: 'home', blocks } });
    },
    async userByEmail(email) {
      try {
        const res = await call('users.lookupByEmail', { email });
        return (res.user as { id?: string } | undefined)?.id;
      } catch (err) {
        if (err instanceof SlackCallError && err.slackError === 'users_not_found') return undefined;
        throw err;
      }
    },
    async openView(triggerId, view) {
      await call('views.open', { trigger_id: triggerId, view });
    },
    async postEphemeral(channel, user, message) {
      await call('chat.postEphemeral', { channel, user, text: message.text, blocks: message.blocks });
    },
    async createChannel(name, unclaimed = async () => true) {
      const since = Math.floor(Date.now() / 1000) - CLOCK_SKEW_S;
      let lost = false;
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await sendOnce('conversations.create', { name, is_private: false });
          const channel = res.channel as { id: string; name: string };
          return { id: channel.id, name: channel.name };
        } catch (err) {
          // After a lost answer, name_taken may be the channel that answer was about.
          const unanswered = !slackAnswered(err);
          if (!unanswered && !(lost && err instanceof SlackCallError && err.slackError === 'name_taken')) throw err;
          lost = true;
          const made = await ownChannelNamed(call, await whoAmI(), name, since);
          if (made && (await unclaimed(made.id))) return made;
          if (!unanswered || attempt >= ATTEMPTS) throw err;
        }
      }
    },
    async setTopic(channel, topic) {
      await call('conversations.setTopic', { channel, topic: topic.slice(0, 250) });
    },
    async invite(channel, users) {
      const refused: { user: string; error: string }[] = [];
      // One user per call: a single bad ID would otherwise fail the whole batch.
      for (const user of users) {
        try {
          await call('conversations.invite', { channel, users: user });
        } catch (err) {
          const e = err instanceof SlackCallError ? err.slackError : (err as Error).message;
          if (e !== 'already_in_channel' && e !== 'cant_invite_self') refused.push({ user, error: e });
        }
      }
      return refused;
    },
    shareFiles: (share) => shareFiles(call, share),
    async userName(userId) {
      try {
        const res = await call('users.info', { user: userId });
        const user = res.user as { name?: string; profile?: { display_name?: string; real_name?: string } } | undefined;
        return user?.profile?.display_name || user?.profile?.real_name || user?.name || undefined;
      } catch (err) {
        if (err instanceof SlackCallError && err.slackError === 'user_not_found') return undefined;
        throw err;
      }
    },
  };
}

/** How long the upload host gets for one file's bytes. */
const UPLOAD_TIMEOUT_MS = 30_000;

/**
 * files.uploadV2 as Slack documents it. The bytes go as the raw request body
 * (which Slack accepts, as well as a multipart form) and without the bot
 * token: the upload URL is already signed, and the token has no business on
 * another host. Not calling completeUploadExternal aborts the upload, so a
 * failure before it leaves nothing behind in Slack.
 */
async function shareFiles(call: (method: WebApiMethod, args: Record<string, unknown>) => Promise<Record<string, unknown>>, share: FileShare): Promise<{ fileIds: string[] }> {
  const uploaded: { id: string; title: string }[] = [];
  for (const file of share.files) {
    const got = await call('files.getUploadURLExternal', { filename: file.filename, length: file.content.byteLength, ...(file.altText ? { alt_txt: file.altText.slice(0, 1000) } : {}) });
    const uploadUrl = typeof got.upload_url === 'string' ? got.upload_url : undefined;
    const fileId = typeof got.file_id === 'string' ? got.file_id : undefined;
    if (!uploadUrl || !fileId) throw new SlackCallError('files.getUploadURLExternal', 'no upload_url or file_id in the answer');
    let status: number;
    try {
      const res = await fetch(uploadUrl, { method: 'POST', body: new Uint8Array(file.content), headers: { 'Content-Type': 'application/octet-stream' }, redirect: 'error', signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      throw new SlackCallError('files.uploadV2', `request_error: ${(err as Error).message}`);
    }
    // Slack: "HTTP 200 if the upload is successful; a non-200 response indicates a failure."
    if (status !== 200) throw new SlackCallError('files.uploadV2', `http_error: the upload URL answered ${status}`);
    uploaded.push({ id: fileId, title: file.title });
  }
  await call('files.completeUploadExternal', {
    files: uploaded,
    channel_id: share.channel,
    ...(share.threadTs ? { thread_ts: share.threadTs } : {}),
    ...(share.initialComment ? { initial_comment: share.initialComment } : {}),
  });
  return { fileIds: uploaded.map((f) => f.id) };
}
