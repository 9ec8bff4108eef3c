import { renderNotice } from '../platform/slack/blocks.js';
import { escapeText } from '../platform/escape.js';
import type { ChecklistService } from './checklist-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const checkSpec: CommandSpec = {
  name: 'check',
  usage: 'check <item> [note]',
  description: 'Sign a checklist item off, with an optional note. Recorded with who and when; announced in the channel.',
  sideEffects: true,
  who: "members of the item's owner role",
  minArgs: 1,
};

/** `/golive check`: signs an item off. */
export function checkCommand(deps: { checklist: ChecklistService }): Command {
  return command(checkSpec, async (ctx) => {
    const [itemId = '', ...noteWords] = ctx.args;
    const note = noteWords.length > 0 ? ctx.rest.slice(ctx.rest.indexOf(itemId) + itemId.length).trim() : null;
    const result = await deps.checklist.check(itemId, { userId: ctx.userId, source: 'command', channel: ctx.channelId }, note);
    if (!result.changed) {
      const s = result.status;
      await ctx.respond(renderNotice(`\`${s.item.id}\` was already signed off by <@${s.changedBy}>${s.note ? ` (“${escapeText(s.note)}”)` : ''}; nothing changed.`));
    }
  });
}
