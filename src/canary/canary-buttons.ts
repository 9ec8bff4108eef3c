import { GoliveError } from '../platform/errors.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import { buttonId, field, type SlackUi } from '../platform/slack/slack-ui.js';
import type { CanaryService } from './canary-service.js';
import { ACTION_CANARY_ABORT, ACTION_CANARY_PROMOTE, BLOCK_OVERRIDE_NOTE, decidedText, overrideModal, VIEW_CANARY_OVERRIDE } from './render-canary.js';

/** Promote and Abort on a canary's deploy card (or scorecard), and the note form a Promote over a failing analysis opens. */
export function registerCanaryButtons(ui: SlackUi, deps: { runbook: Runbook; canary: CanaryService; slack: Pick<SlackPort, 'openView'> }): void {
  const { runbook, canary, slack } = deps;
  const tz = runbook.launch.timezone;

  ui.onButton(ACTION_CANARY_PROMOTE, async ({ body, action, reply }) => {
    const outcome = await canary.promote(buttonId(action.value, 'canary'), body.user.id, undefined, 'button');
    if (outcome.kind === 'decided') return await reply(renderNotice(decidedText(outcome.canary, tz)));
    // Over a failing analysis the runbook asks for a note: the form says what fails.
    if (outcome.kind === 'needs_note') {
      const service = runbook.services.find((s) => s.name === outcome.canary.service)!;
      await slack.openView(body.trigger_id, overrideModal(outcome.canary, service, outcome.failing));
    }
  });

  ui.onButton(ACTION_CANARY_ABORT, async ({ body, action, reply }) => {
    const outcome = await canary.abort(buttonId(action.value, 'canary'), body.user.id, undefined, 'button');
    if (outcome.kind === 'decided') await reply(renderNotice(decidedText(outcome.canary, tz)));
  });

  ui.onSubmit(VIEW_CANARY_OVERRIDE, { block: BLOCK_OVERRIDE_NOTE, message: 'Say why the canary should be promoted over its analysis.' }, async (values, userId, metadata) => ({
    channel: runbook.launch.channel,
    work: async () => {
      const outcome = await canary.promote(buttonId(metadata, 'canary'), userId, field(values, BLOCK_OVERRIDE_NOTE), 'button');
      if (outcome.kind === 'decided') return decidedText(outcome.canary, tz);
      if (outcome.kind === 'needs_note') throw new GoliveError('canary_state', 'The note was empty; nothing was changed.');
      return `You promoted the canary of \`${outcome.canary.service}\` over its analysis; your note is recorded and shown on the deploy card.`;
    },
  }));
}
