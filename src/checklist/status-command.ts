import type { ChecklistService } from './checklist-service.js';
import type { StatusBoard } from './status-board.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const statusSpec: CommandSpec = {
  name: 'status',
  usage: 'status [gate]',
  description: 'Launch progress: each gate done/total, open blockers with owners, sign-offs, and the verdict. Posted in the channel and kept up to date.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
};

/** `/golive status`: posts the status board and keeps it current. */
export function statusCommand(deps: { checklist: ChecklistService; statusBoard: StatusBoard }): Command {
  return command(statusSpec, async (ctx) => {
    const gateId = ctx.args[0] ? deps.checklist.findGate(ctx.args[0]).id : undefined;
    await deps.statusBoard.post(ctx.channelId, ctx.userId, { gateId, page: 1 });
  });
}
