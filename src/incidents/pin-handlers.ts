import type { Logger } from '../platform/logger.js';
import { GoliveError } from '../platform/errors.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { SlackMessageLike, SlackUi } from '../platform/slack/slack-ui.js';
import type { IncidentService } from './incident-service.js';

/** The message shortcut's callback id, as manifest.yml declares it. */
export const SHORTCUT_ADD_TO_TIMELINE = 'golive_add_to_timeline';

/** The reaction that adds a message to the incident's timeline (Slack sends it without colons). */
export const PIN_REACTION = 'pushpin';

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
export function registerPinHandlers(ui: SlackUi, deps: { incidents: IncidentService; slack: SlackPort; logger: Logger }): void {
  const { incidents, slack, logger } = deps;

  ui.onReaction(PIN_REACTION, async ({ userId, channel, ts }) => {
    if (!(await incidents.isIncidentChannel(channel))) return;
    const message = await fetchMessage(slack, channel, ts);
    if (!message) return void logger.warn({ channel, ts }, 'a pinned message could not be read (deleted, or the bot lacks history access)');
    const { added, incident } = await incidents.pin({ channelId: channel, ts, ...authorOf(message), text: message.text ?? '', pinnedBy: userId, via: 'reaction' });
    if (added) await slack.postEphemeral(channel, userId, renderNotice(`📌 Added to INC-${incident.id}'s timeline; it will be in the post-mortem draft.`)).catch((err: unknown) => logger.warn({ err }, 'could not confirm a pin'));
  });

  ui.onMessageShortcut(SHORTCUT_ADD_TO_TIMELINE, async ({ userId, channel, messageTs, message, reply }) => {
    if (!(await incidents.isIncidentChannel(channel))) throw new GoliveError('usage', 'That message is not in an incident channel, so there is no incident timeline to add it to.', 'Use it on messages in the incident’s own channel (`inc-…`).');
    const { added, incident } = await incidents.pin({ channelId: channel, ts: messageTs, ...authorOf(message), text: message.text ?? '', pinnedBy: userId, via: 'shortcut' });
    await reply(renderNotice(added ? `📌 Added to INC-${incident.id}'s timeline; it will be in the post-mortem draft.` : `That message is already on INC-${incident.id}'s timeline; nothing changed.`));
  });
}
