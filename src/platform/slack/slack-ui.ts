import type { App, BlockAction, ButtonAction, MessageShortcut, RespondFn, SlackViewAction, ViewOutput } from '@slack/bolt';
import type { Command } from '../commands/command-spec.js';
import { runCommand } from '../commands/run-command.js';
import { DATABASE_UNREACHABLE_HINT, DATABASE_UNREACHABLE_TEXT, describeError, GoliveError } from '../errors.js';
import { DatabaseUnavailableError } from '../store/database-unavailable.js';
import type { Logger } from '../logger.js';
import { requestKey, type Inbox } from './inbox.js';
import { renderError, renderNotice } from './blocks.js';
import type { SlackMessage, SlackPort } from './slack-port.js';

/** A click on a button, acknowledged already; `reply` answers the clicker privately. */
export interface ButtonClick {
  body: BlockAction<ButtonAction>;
  action: ButtonAction;
  reply(message: SlackMessage): Promise<void>;
}

/** The values of a submitted modal, by block id. */
export type ViewValues = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

/** A submitted field's value, whatever the element type. */
export function field(values: ViewValues, block: string): string {
  const v = values[block]?.value;
  return (v?.selected_option?.value ?? v?.value ?? '').trim();
}

/** The number a button carries; anything else is a forged or stale button. */
export function buttonId(value: string | undefined, what = 'request'): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new GoliveError('unknown_request', `That button does not name a ${what} golive knows.`);
  return id;
}

/**
 * What a feature registers with Slack: its buttons, its modals and the App
 * Home event. Each handler is acknowledged at once (Slack's 3-second
 * deadline), does its work after, and any error it throws becomes a private
 * reply through the one error handler.
 */
export interface SlackUi {
  onButton(actionId: string | RegExp, run: (click: ButtonClick) => Promise<unknown>): void;
  /**
   * A modal submission: a missing required field is shown on the form (the
   * only answer Slack allows after submit); otherwise acknowledged at once and
   * the work's outcome (a sentence) sent to the submitter in `channel`.
   */
  onSubmit(callbackId: string, required: { block: string; message: string }, run: (values: ViewValues, userId: string, metadata: string) => Promise<{ channel: string; work: () => Promise<string> }>): void;
  /** A modal whose submission needs more than a required field checked before it is acknowledged. */
  onView(callbackId: string, handle: (args: { ack: (response?: { response_action: 'errors'; errors: Record<string, string> }) => Promise<void>; body: SlackViewAction; view: ViewOutput }) => Promise<void>): void;
  /** Sends the outcome of a modal's work to the submitter as an ephemeral in `channel`; a GoliveError becomes the private error reply. */
  answerSubmission(userId: string, channel: string, work: () => Promise<string>): Promise<void>;
  onHomeOpened(handle: (userId: string) => Promise<void>): void;
  /** A reaction added to a message (not a file), in the parts a handler needs; errors are logged, as there is nobody to answer. */
  onReaction(reaction: string, handle: (r: { userId: string; channel: string; ts: string }) => Promise<void>): void;
  /** A message shortcut, acknowledged at once; `reply` answers the person privately, and any error it throws becomes the private error reply. */
  onMessageShortcut(callbackId: string, run: (s: MessageShortcutUse) => Promise<void>): void;
}

/** A message as Slack shows it to a shortcut or lists it, in the parts golive reads. */
export interface SlackMessageLike {
  ts?: string;
  user?: string;
  text?: string;
  username?: string;
  bot_profile?: { name?: string };
}

/** One use of a message shortcut. */
export interface MessageShortcutUse {
  userId: string;
  channel: string;
  messageTs: string;
  message: SlackMessageLike;
  reply(message: SlackMessage): Promise<void>;
}

function privately(respond: RespondFn) {
  return async (m: SlackMessage): Promise<void> => {
    await respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks as never });
  };
}

/** Set in Bolt's context when a request from the inbox is run again after a restart. */
export const REPLAY_CONTEXT = 'goliveReplay';

/** Set in Bolt's context for a request the accepting thread already recorded in the inbox and acknowledged. */
export const RECORDED_CONTEXT = 'goliveRecorded';

/**
 * Wires Bolt for every feature: request de-duplication, the `/golive`
 * command router, and the answer to buttons and forms golive does not have.
 * Features add their buttons and modals through the returned {@link SlackUi}.
 */
export function createSlackUi(
  app: App,
  deps: { slack: SlackPort; inbox: Inbox; logger: Logger; commands: readonly Command[]; launchChannel: string; slowReplyMs?: number },
): SlackUi {
  const { slack, inbox, logger } = deps;

  // Every request is in the inbox before its listener acks it, so what golive acknowledged survives a stop
  // or a crash. Slack re-sends a request it thinks we missed (X-Slack-Retry-Num); the same user action must
  // not run twice, so a seen request is acknowledged and dropped.
  app.use(async (args) => {
    const body = args.body as unknown as Record<string, unknown>;
    const key = requestKey(body);
    if (!key) return args.next();
    // The accepting thread recorded it already (and dropped a retry); a replay was recorded by an earlier life.
    if (args.context[RECORDED_CONTEXT] !== true && args.context[REPLAY_CONTEXT] !== true) {
      let first = true;
      try {
        first = await inbox.receive(key, body);
      } catch (err) {
        if (err instanceof DatabaseUnavailableError) {
          // Nothing was recorded, so nothing may run (it could not be finished after a restart): say so, within Slack's 3 s.
          logger.error({ err, key }, 'the database cannot be reached; the request was refused unrun');
          if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
          await refuseUnrecorded(args as unknown as { respond?: RespondFn }, body).catch((e: unknown) => logger.warn({ err: e, key }, 'could not tell the user the database cannot be reached'));
          return;
        }
        // A broken database must not swallow the request: the handler will report the failure to the user.
        logger.error({ err, key }, 'could not record the request in the inbox');
      }
      if (!first) {
        logger.info({ key, retryNum: args.context.retryNum }, 'duplicate request ignored');
        if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
        return;
      }
    }
    await inbox.handle(key, () => args.next());
  });

  /** The private answer to a request that could not be recorded: through its response_url, else as an ephemeral where it came from. */
  async function refuseUnrecorded(args: { respond?: RespondFn }, body: Record<string, unknown>): Promise<void> {
    const message = renderNotice(`⚠️ ${DATABASE_UNREACHABLE_TEXT}`, DATABASE_UNREACHABLE_HINT);
    if (typeof args.respond === 'function') return privately(args.respond)(message);
    const user = typeof body.user_id === 'string' ? body.user_id : (body.user as { id?: string } | undefined)?.id;
    const channel = typeof body.channel_id === 'string' ? body.channel_id : (body.channel as { id?: string } | undefined)?.id;
    if (user && channel) await slack.postEphemeral(channel, user, message);
  }

  app.command('/golive', async ({ command, ack, respond }) => {
    await ack(); // within Slack's 3 seconds; the work and the reply follow
    const sendPrivately = privately(respond);
    let answered = false;
    const reply = (m: SlackMessage) => {
      answered = true;
      return sendPrivately(m);
    };
    // AWS or Slack can take a minute to fail (retries with backoff); a person at 3 a.m. should not wonder whether golive heard them.
    const slow = setTimeout(() => {
      if (!answered) void sendPrivately(renderNotice('⏳ Still working on it: AWS or Slack is slow to answer right now. The result will follow, here or in the channel.')).catch(() => undefined);
    }, deps.slowReplyMs ?? 4000);
    slow.unref();
    try {
      await runCommand(command.text, deps.commands, { userId: command.user_id, channelId: command.channel_id, triggerId: command.trigger_id, respond: reply });
    } catch (err) {
      await reply(renderError(describeError(err, logger, { command: 'golive', user: command.user_id, channel: command.channel_id })));
    } finally {
      clearTimeout(slow);
    }
  });

  const knownActions: (string | RegExp)[] = [];
  const knownViews = new Set<string>();

  const answerSubmission = async (userId: string, channel: string, work: () => Promise<string>): Promise<void> => {
    // A view submission has no response_url: the answer goes to the submitter as an ephemeral in the channel.
    try {
      const text = await work();
      await slack.postEphemeral(channel, userId, renderNotice(text)).catch((err: unknown) => logger.warn({ err }, 'could not confirm a modal'));
    } catch (err) {
      await slack.postEphemeral(channel, userId, renderError(describeError(err, logger, { view: 'incident', user: userId }))).catch(() => undefined);
    }
  };

  const ui: SlackUi = {
    onButton(actionId, run) {
      knownActions.push(actionId);
      app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
        await ack();
        const reply = privately(respond);
        try {
          await run({ body, action, reply });
        } catch (err) {
          await reply(renderError(describeError(err, logger, { action: action.action_id, user: body.user.id })));
        }
      });
    },
    onSubmit(callbackId, required, run) {
      knownViews.add(callbackId);
      app.view(callbackId, async ({ ack, body, view }) => {
        const values = view.state.values as unknown as ViewValues;
        if (!field(values, required.block)) return ack({ response_action: 'errors', errors: { [required.block]: required.message } });
        await ack();
        try {
          const { channel, work } = await run(values, body.user.id, view.private_metadata);
          await answerSubmission(body.user.id, channel, work);
        } catch (err) {
          // Nowhere to reply before we know the channel: the ops channel it is.
          await answerSubmission(body.user.id, deps.launchChannel, () => Promise.reject(err));
        }
      });
    },
    onView(callbackId, handle) {
      knownViews.add(callbackId);
      app.view(callbackId, async ({ ack, body, view }) => handle({ ack: (response) => (response ? ack(response) : ack()), body, view }));
    },
    answerSubmission,
    onHomeOpened(handle) {
      app.event('app_home_opened', async ({ event }) => {
        if (event.tab !== 'home') return;
        try {
          await handle(event.user);
        } catch (err) {
          describeError(err, logger, { event: 'app_home_opened', user: event.user });
        }
      });
    },
    onReaction(reaction, handle) {
      app.event('reaction_added', async ({ event }) => {
        // item can be a file, and item_user is missing for webhook messages: guard at runtime, whatever the types say.
        const item = event.item as { type?: string; channel?: string; ts?: string };
        if (event.reaction !== reaction || item.type !== 'message' || !item.channel || !item.ts) return;
        try {
          await handle({ userId: event.user, channel: item.channel, ts: item.ts });
        } catch (err) {
          describeError(err, logger, { event: 'reaction_added', user: event.user });
        }
      });
    },
    onMessageShortcut(callbackId, run) {
      app.shortcut<MessageShortcut>({ callback_id: callbackId, type: 'message_action' }, async ({ ack, shortcut, respond }) => {
        await ack();
        const reply = privately(respond);
        try {
          await run({ userId: shortcut.user.id, channel: shortcut.channel.id, messageTs: shortcut.message_ts, message: shortcut.message as SlackMessageLike, reply });
        } catch (err) {
          await reply(renderError(describeError(err, logger, { shortcut: callbackId, user: shortcut.user.id }))).catch(() => undefined);
        }
      });
    },
  };

  // A button or form golive does not have (a message from an older version, another app's id) would
  // otherwise go unanswered until Slack shows its own error after 3 seconds. Bolt runs every matching
  // listener, so these leave the known ids to their own handlers.
  app.action<BlockAction>(/.*/, async ({ ack, action, body, respond }) => {
    const id = (action as { action_id?: string }).action_id ?? '';
    if (knownActions.some((k) => (typeof k === 'string' ? k === id : k.test(id)))) return;
    await ack();
    logger.warn({ action: id.slice(0, 100), user: body.user?.id }, 'a click on a button golive does not have');
    await privately(respond)(renderNotice('golive does not know that button (it may be from an older message); nothing was changed.', 'Run `/golive status` for the current state, or `/golive help`.')).catch((err: unknown) =>
      logger.warn({ err }, 'could not answer a click on an unknown button'),
    );
  });
  app.view(/.*/, async ({ ack, view, body }) => {
    if (knownViews.has(view.callback_id)) return;
    await ack();
    logger.warn({ view: view.callback_id.slice(0, 100), user: body.user.id }, 'a form golive does not have was submitted; closed it');
  });

  return ui;
}
