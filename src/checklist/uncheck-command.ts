import { renderNotice } from '../platform/slack/blocks.js';
import type { ChecklistService } from './checklist-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const uncheckSpec: CommandSpec = {
  name: 'uncheck',
  usage: 'uncheck <item> [reason]',
  description: "Take a sign-off back, with an optional reason. Reopening a blocker withdraws its gate's sign-offs.",
  sideEffects: true,
  who: "members of the item's owner role",
  minArgs: 1,
};

/** `/golive uncheck`: takes a sign-off back. */
export function uncheckCommand(deps: { checklist: ChecklistService }): Command {
  return command(uncheckSpec, async (ctx) => {
    const [itemId = '', ...reasonWords] = ctx.args;
    const reason = reasonWords.length > 0 ? ctx.rest.slice(ctx.rest.indexOf(itemId) + itemId.length).trim() : null;
    const result = await deps.checklist.uncheck(itemId, { userId: ctx.userId, source: 'command', channel: ctx.channelId }, reason);
    if (!result.changed) await ctx.respond(renderNotice(`\`${result.status.item.id}\` is not signed off; nothing changed.`));
  });
}
