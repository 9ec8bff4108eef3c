import type { Background } from '../platform/background.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { renderNotice } from '../platform/slack/blocks.js';
import { buttonId, type SlackUi } from '../platform/slack/slack-ui.js';
import type { ApprovalService } from './approval-service.js';
import type { ChangeBoard } from './change-board.js';
import type { DeployService } from './deploy-service.js';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_REJECT, ACTION_ROLLBACK_FAILED_DEPLOY, renderAlreadyDecided } from './render-changes.js';

/** The approval card's Approve / Reject / Cancel, and Roll back on a failed deploy. */
export function registerDeployButtons(ui: SlackUi, deps: { runbook: Runbook; deploys: DeployService; approvals: ApprovalService; changeBoard: ChangeBoard; background: Background }): void {
  const { runbook, deploys, approvals, changeBoard, background } = deps;

  ui.onButton(ACTION_APPROVE, async ({ body, action, reply }) => {
    const id = buttonId(action.value);
    const outcome = await approvals.approve(id, body.user.id, 'button', body.channel?.id ?? null);
    if (outcome.kind === 'decided') return await reply(renderNotice(renderAlreadyDecided(outcome.request, runbook.launch.timezone)));
    if (outcome.kind === 'duplicate') return await reply(renderNotice('You have already approved this request; it is waiting for more approvals.'));
    if (outcome.kind === 'recorded') {
      await changeBoard.updateRequest(id);
      return await reply(renderNotice(`Your approval is recorded: ${outcome.approvals} of ${outcome.needed} needed.`));
    }
    // Execution starts first: a slow card update must not delay a rollback.
    background.run(async () => {
      const running = deploys.executeApproved(outcome.request);
      await changeBoard.updateRequest(id);
      await running;
      await changeBoard.updateRequest(id);
    });
  });

  for (const [actionId, decide] of [
    [ACTION_REJECT, (id: number, user: string, channel: string | null) => approvals.reject(id, user, 'button', channel)],
    [ACTION_CANCEL, (id: number, user: string, channel: string | null) => approvals.cancel(id, user, 'button', channel)],
  ] as const) {
    ui.onButton(actionId, async ({ body, action, reply }) => {
      const id = buttonId(action.value);
      const outcome = await decide(id, body.user.id, body.channel?.id ?? null);
      if (outcome.kind === 'decided') return await reply(renderNotice(renderAlreadyDecided(outcome.request, runbook.launch.timezone)));
      await changeBoard.updateRequest(id);
    });
  }

  ui.onButton(ACTION_ROLLBACK_FAILED_DEPLOY, async ({ body, action, reply }) => {
    const request = await deploys.proposeRollbackOfDeploy(buttonId(action.value, 'deploy'), body.user.id);
    await changeBoard.postRequest(request);
    await reply(renderNotice(`Rollback request #${request.id} is posted for approval. You cannot approve it yourself.`));
  });
}
