import type { CommandSpec } from '../platform/commands/command-spec.js';

export const status: CommandSpec = {
  name: 'status',
  usage: 'status [gate]',
  description: 'Launch progress: each gate done/total, open blockers with owners, sign-offs, and the verdict. Posted in the channel and kept up to date.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
  async run(ctx) {
    const gateId = ctx.args[0] ? ctx.services.checklist.findGate(ctx.args[0]).id : undefined;
    await ctx.services.statusBoard.post(ctx.channelId, ctx.userId, { gateId, page: 1 });
  },
};
