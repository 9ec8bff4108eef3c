import type { App, MessageShortcut } from '@slack/bolt';
import { describeError, GoliveError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { renderError, renderNotice } from '../platform/slack/blocks.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { IncidentService } from './incident-service.js';

/** The message shortcut's callback id, as manifest.yml declares it. */
export const SHORTCUT_ADD_TO_TIMELINE = 'golive_add_to_timeline';

/** The reaction that adds a message to the incident's timeline (Slack sends it without colons). */
export const PIN_REACTION = 'pushpin';

/** A message as Slack lists it, in the parts a timeline needs. */
interface SlackMessageLike {
  ts?: string;
  user?: string;
  text?: string;
  username?: string;
  bot_profile?: { name?: string };
}

/** Who wrote a message: a user ID, or, for an app's or webhook's message (no `user`), its name. */
function authorOf(m: SlackMessageLike): { author: string | null; authorName: string | null } {
  return m.user ? { author: m.user, authorName: null } : { author: null, authorName: m.bot_profile?.name ?? m.username ?? 'an app' };
}

/** The one message at `ts`: `conversations.replies` finds a thread reply as well as a channel message. */
async function fetchMessage(slack: SlackPort, channel: string, ts: string): Promise<SlackMessageLike | undefined> {
  const res = await slack.call('conversations.replies', { channel, ts, limit: 1, inclusive: true });
  const messages = Array.isArray(res.messages) ? (res.messages as SlackMessageLike[]) : [];
  return messages.find((m) => m.ts === ts);
}

/**
 * 📌 on a message in an incident channel, or the "Add to incident timeline"
 * message shortcut, adds that message (author, time, text) to the incident's
 * timeline, once. A 📌 elsewhere is someone else's business and is ignored;
 * the shortcut always answers privately.
 */
export function registerPinHandlers(app: App, deps: { incidents: IncidentService; slack: SlackPort; logger: Logger }): void {
  const { incidents, slack, logger } = deps;

  app.event('reaction_added', async ({ event }) => {
    // item_user is missing for webhook messages, and item can be a file: guard both (research-slack §6).
    const item = event.item as { type?: string; channel?: string; ts?: string };
    if (event.reaction !== PIN_REACTION || item.type !== 'message' || !item.channel || !item.ts) return;
    try {
      if (!(await incidents.isIncidentChannel(item.channel))) return;
      const message = await fetchMessage(slack, item.channel, item.ts);
      if (!message) return void logger.warn({ channel: item.channel, ts: item.ts }, 'a pinned message could not be read (deleted, or the bot lacks history access)');
      const { added, incident } = await incidents.pin({ channelId: item.channel, ts: item.ts, ...authorOf(message), text: message.text ?? '', pinnedBy: event.user, via: 'reaction' });
      if (added) await slack.postEphemeral(item.channel, event.user, renderNotice(`📌 Added to INC-${incident.id}'s timeline; it will be in the post-mortem draft.`)).catch((err: unknown) => logger.warn({ err }, 'could not confirm a pin'));
    } catch (err) {
      describeError(err, logger, { event: 'reaction_added', user: event.user });
    }
  });

  app.shortcut<MessageShortcut>({ callback_id: SHORTCUT_ADD_TO_TIMELINE, type: 'message_action' }, async ({ ack, shortcut, respond }) => {
    await ack();
    const reply = (m: { text: string; blocks?: unknown[] }) => respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks as never });
    try {
      if (!(await incidents.isIncidentChannel(shortcut.channel.id))) throw new GoliveError('usage', 'That message is not in an incident channel, so there is no incident timeline to add it to.', 'Use it on messages in the incident’s own channel (`inc-…`).');
      const m = shortcut.message as SlackMessageLike;
      const { added, incident } = await incidents.pin({ channelId: shortcut.channel.id, ts: shortcut.message_ts, ...authorOf(m), text: m.text ?? '', pinnedBy: shortcut.user.id, via: 'shortcut' });
      await reply(renderNotice(added ? `📌 Added to INC-${incident.id}'s timeline; it will be in the post-mortem draft.` : `That message is already on INC-${incident.id}'s timeline; nothing changed.`));
    } catch (err) {
      await reply(renderError(describeError(err, logger, { shortcut: SHORTCUT_ADD_TO_TIMELINE, user: shortcut.user.id }))).catch(() => undefined);
    }
  });
}
