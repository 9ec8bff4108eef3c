import { renderNotice } from '../platform/slack/blocks.js';
import type { ChangeBoard } from './change-board.js';
import type { DeployService } from './deploy-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const rollbackSpec: CommandSpec = {
  name: 'rollback',
  usage: 'rollback <service> [revision] [reason]',
  description:
    'Ask to roll an ECS service back to the named revision, else the last good deploy, else the previous ACTIVE revision. Posts an approval card; an approver other than you approves, then it runs.',
  sideEffects: true,
  who: 'anyone may ask; the service’s rollback approvers approve',
  minArgs: 1,
};

/** `/golive rollback`: files a rollback request and posts its approval card. */
export function rollbackCommand(deps: { deploys: DeployService; changeBoard: ChangeBoard }): Command {
  return command(rollbackSpec, async (ctx) => {
    const [serviceName = '', ...words] = ctx.args;
    const { deploys, changeBoard } = deps;
    const request = await deploys.proposeRollback(serviceName, words, ctx.userId, 'command');
    await changeBoard.postRequest(request);
    await ctx.respond(renderNotice(`Rollback request #${request.id} is posted for approval. You cannot approve it yourself; you can cancel it on the card.`));
  });
}
