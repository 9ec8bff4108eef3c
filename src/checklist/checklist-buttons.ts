import type { ChangeSignals } from '../platform/change-signals.js';
import { escapeText } from '../platform/escape.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { SlackUi } from '../platform/slack/slack-ui.js';
import type { ChecklistService } from './checklist-service.js';
import { ACTION_CHECK_ITEM, ACTION_STATUS_PAGE } from './render-status.js';
import type { StatusBoard } from './status-board.js';

/** The status board's buttons: Sign off, and ◀ Previous / Next ▶. */
export function registerChecklistButtons(ui: SlackUi, deps: { checklist: ChecklistService; statusBoard: StatusBoard; signals: ChangeSignals }): void {
  const { checklist, statusBoard, signals } = deps;

  ui.onButton(ACTION_CHECK_ITEM, async ({ body, action, reply }) => {
    const channel = body.channel?.id ?? null;
    const result = await checklist.check(action.value ?? '', { userId: body.user.id, source: 'button', channel }, null);
    // A click on the Home tab has no message to update in place; republish the tab instead.
    if (body.container?.type === 'view') await signals.homeViewerChanged(body.user.id);
    if (!result.changed) {
      await reply(renderNotice(`\`${escapeText(result.status.item.id)}\` was already signed off by <@${result.status.changedBy}>; nothing changed.`));
      await statusBoard.refreshAll();
    }
    // A board nothing refreshes any more would keep showing the item open, with its button.
    if (body.channel && body.message) await statusBoard.supersedeIfStale(body.channel.id, body.message.ts);
  });

  ui.onButton(new RegExp(`^${ACTION_STATUS_PAGE}`), async ({ body, action }) => {
    const parsed = JSON.parse(action.value ?? '{}') as { g?: unknown; p?: unknown };
    const gateId = typeof parsed.g === 'string' ? checklist.findGate(parsed.g).id : undefined;
    const page = typeof parsed.p === 'number' && Number.isInteger(parsed.p) ? parsed.p : 1;
    if (body.container?.type === 'view') {
      // The Home tab has no pages any more; an old button just shows it afresh.
      await signals.homeViewerChanged(body.user.id);
    } else if (body.channel && body.message) {
      // A board reads the same for everyone, so who pages it changes nothing but the page.
      await statusBoard.showPage(body.channel.id, body.message.ts, body.user.id, { gateId, page });
    }
  });
}
