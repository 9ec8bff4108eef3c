import { renderNotice } from '../platform/slack/blocks.js';
import type { CommandSpec } from '../platform/commands/command-spec.js';

export const rollback: CommandSpec = {
  name: 'rollback',
  usage: 'rollback <service> [revision] [reason]',
  description:
    'Ask to roll an ECS service back to the named revision, else the last good deploy, else the previous ACTIVE revision. Posts an approval card; an approver other than you approves, then it runs.',
  sideEffects: true,
  who: 'anyone may ask; the service’s rollback approvers approve',
  minArgs: 1,
  async run(ctx) {
    const [serviceName = '', ...words] = ctx.args;
    const { deploys, changeBoard } = ctx.services;
    const request = await deploys.proposeRollback(serviceName, words, ctx.userId, 'command');
    await changeBoard.postRequest(request);
    await ctx.respond(renderNotice(`Rollback request #${request.id} is posted for approval. You cannot approve it yourself; you can cancel it on the card.`));
  },
};
