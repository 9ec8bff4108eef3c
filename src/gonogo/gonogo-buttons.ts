import { GoliveError } from '../platform/errors.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import { buttonId, field, type SlackUi, type ViewValues } from '../platform/slack/slack-ui.js';
import type { GoNoGoService } from './gonogo-service.js';
import { ACTION_GONOGO_GO, ACTION_GONOGO_NOGO, VIEW_GONOGO_VOTE, voteModal } from './render-gonogo.js';

/** The decision card's Go / No-Go buttons and the note form they open. */
export function registerGoNoGoButtons(ui: SlackUi, deps: { runbook: Runbook; gonogo: GoNoGoService; slack: Pick<SlackPort, 'openView'> }): void {
  const { runbook, gonogo, slack } = deps;

  for (const [actionId, vote] of [
    [ACTION_GONOGO_GO, 'go'],
    [ACTION_GONOGO_NOGO, 'no_go'],
  ] as const) {
    ui.onButton(actionId, async ({ body, action }) => {
      // Refused before the modal opens: a non-voter, a second vote or a decided card never sees the form.
      const decision = await gonogo.checkMayVote(buttonId(action.value, 'go/no-go decision'), body.user.id, vote);
      await slack.openView(body.trigger_id, voteModal(decision, vote));
    });
  }

  ui.onView(VIEW_GONOGO_VOTE, async ({ ack, body, view }) => {
    let meta: { d?: unknown; v?: unknown };
    try {
      meta = JSON.parse(view.private_metadata) as { d?: unknown; v?: unknown };
    } catch {
      meta = {};
    }
    const values = view.state.values as unknown as ViewValues;
    const note = field(values, 'note');
    const id = Number(meta.d);
    const vote = meta.v === 'go' || meta.v === 'no_go' ? meta.v : undefined;
    const decision = Number.isSafeInteger(id) ? await gonogo.decision(id) : undefined;
    if (vote === 'go' && decision && !decision.evidence.allPass && !note) {
      return ack({ response_action: 'errors', errors: { note: 'Not every criterion passes: say why the launch should go ahead anyway.' } });
    }
    await ack();
    await ui.answerSubmission(body.user.id, decision?.channel ?? runbook.launch.channel, async () => {
      if (!decision || !vote) throw new GoliveError('unknown_request', 'That form does not name a go/no-go decision golive knows.');
      const { decision: after } = await gonogo.vote(decision.id, body.user.id, vote, note || null);
      const outcome = after.state === 'open' ? 'the decision is still open' : `that decides it: ${after.state === 'go' ? 'GO' : 'NO-GO'}`;
      return `Your ${vote === 'go' ? 'Go' : 'No-Go'} vote on decision #${after.id} is recorded; ${outcome}.`;
    });
  });
}
