import type { WebClient } from '@slack/web-api';
import { SlackCallError, type CallOptions, type SlackMessage, type SlackPort } from './slack-port.js';
import { assertNotInTransaction } from '../store/store.js';
import type { WebApiMethod } from './web-api-methods.js';
import { defaultPriority, type CallScheduler } from './call-scheduler.js';

function toCallError(method: string, err: unknown): SlackCallError {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; message?: string };
  if (e.code === 'slack_webapi_rate_limited_error') return new SlackCallError(method, 'ratelimited', e.retryAfter ?? 30);
  if (e.code === 'slack_webapi_platform_error') return new SlackCallError(method, e.data?.error ?? 'unknown_error');
  if (e.code === 'slack_webapi_http_error') return new SlackCallError(method, `http_error: ${e.message ?? ''}`);
  if (e.code === 'slack_webapi_request_error') return new SlackCallError(method, `request_error: ${e.message ?? ''}`);
  return new SlackCallError(method, e.message ?? String(err));
}

/**
 * The real Slack adapter: a thin layer over the Web API client. `onceClient`
 * is the same client configured without retries, for {@link SlackPort.callOnce}.
 * Every call, whichever method of the port it comes through, waits its turn in
 * `scheduler` (Slack's budgets, Retry-After, priorities).
 */
export function createSlackAdapter(client: WebClient, onceClient: WebClient | undefined, scheduler: CallScheduler): SlackPort {
  const through =
    (c: WebClient) =>
    async (method: WebApiMethod, args: Record<string, unknown>, opts?: CallOptions): Promise<Record<string, unknown>> => {
      assertNotInTransaction(`Slack ${method}`);
      return scheduler.run(method, args, opts?.priority ?? defaultPriority(method), async () => {
        try {
          return (await c.apiCall(method, args)) as unknown as Record<string, unknown>;
        } catch (err) {
          throw toCallError(method, err);
        }
      });
    };
  const call = through(client);
  return {
    call,
    ...(onceClient ? { callOnce: through(onceClient) } : {}),
    async usergroupMembers(groupId) {
      const res = await call('usergroups.users.list', { usergroup: groupId });
      return Array.isArray(res.users) ? (res.users as string[]) : [];
    },
    async postMessage(channel, message: SlackMessage, threadTs) {
      const res = await call('chat.postMessage', { channel, text: message.text, blocks: message.blocks, thread_ts: threadTs, unfurl_links: false });
      return { channel: String(res.channel ?? channel), ts: String(res.ts) };
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
    async createChannel(name) {
      const res = await call('conversations.create', { name, is_private: false });
      const channel = res.channel as { id: string; name: string };
      return { id: channel.id, name: channel.name };
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
  };
}
