import { renderNotice } from '../platform/slack/blocks.js';
import type { ChecklistService } from './checklist-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const signoffSpec: CommandSpec = {
  name: 'signoff',
  usage: 'signoff <gate>',
  description: 'Sign a whole gate off for your role(s). Only once all its blockers are done.',
  sideEffects: true,
  who: "the gate's sign-off roles",
  minArgs: 1,
  maxArgs: 1,
};

/** `/golive signoff`: signs a gate off. */
export function signoffCommand(deps: { checklist: ChecklistService }): Command {
  return command(signoffSpec, async (ctx) => {
    const { checklist } = deps;
    const result = await checklist.signoff(ctx.args[0]!, { userId: ctx.userId, source: 'command', channel: ctx.channelId });
    if (result.signedRoles.length === 0) {
      const who = result.alreadySigned.map((s) => `${checklist.roleLabel(s.role)} (by <@${s.user_id}>)`).join(', ');
      const missing = result.missingRoles.length > 0 ? ` Still missing: ${result.missingRoles.map((r) => checklist.roleLabel(r)).join(', ')}.` : '';
      await ctx.respond(renderNotice(`Gate \`${result.gate.id}\` is already signed off for ${who}; nothing changed.${missing}`));
    }
  });
}
