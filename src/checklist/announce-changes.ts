import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistEvent, ChecklistService } from './checklist-service.js';
import type { Clock } from '../platform/clock.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import type { Gathering } from '../platform/outbox/outbox.js';
import { checklistEventParts, renderChecklistEvent, renderGatheredChecklistEvents, type ChecklistEventParts } from './render-status.js';
import type { StatusBoard } from './status-board.js';

/** The outbox's kind for checklist announcements: a burst of them in the channel goes out as one post. */
export const CHECKLIST_ANNOUNCEMENTS = 'checklist';

/**
 * How long after an announcement the next one in the channel waits, gathering the changes made meanwhile: a
 * burst (a team ticking off a gate together, a check/uncheck storm) costs one post per 10 s instead of one per
 * change, which at Slack's 1 post/s per channel would leave the channel minutes behind. The price: in a
 * burst, an announcement is up to 10 s late; the first after a quiet spell is not late at all.
 */
export const GATHER_WINDOW_MS = 10_000;

/** How the outbox gathers checklist announcements ({@link Gathering}). */
export const checklistGathering: Gathering = {
  key: CHECKLIST_ANNOUNCEMENTS,
  windowMs: GATHER_WINDOW_MS,
  render: (rows, now) => ({ ...renderGatheredChecklistEvents(rows.map((r) => ({ parts: r.part as unknown as ChecklistEventParts, at: r.created_at })), now), unfurl_links: false }),
};

/**
 * Turns each checklist change into a post in the launch channel, stored in
 * the outbox inside the change's own transaction: if Slack is down the post
 * waits; if the change rolls back, so does the post. In a burst, the outbox
 * posts the waiting ones together ({@link checklistGathering}).
 */
export function announceChecklistChanges(deps: { runbook: Runbook; store: Store; checklist: ChecklistService; statusBoard: Pick<StatusBoard, 'verdictLine'>; clock: Clock; afterCommit: () => void }): void {
  const { runbook, checklist, clock } = deps;
  const outbox = new OutboxRepository(deps.store);
  checklist.onChange(async (event: ChecklistEvent) => {
    const snapshot = await checklist.snapshot();
    const gate = snapshot.gates.find((g) => g.gate.id === event.gate.id)!;
    const verdict = await deps.statusBoard.verdictLine(snapshot);
    const roleLabel = (r: string) => checklist.roleLabel(r);
    const message = renderChecklistEvent(event, gate, verdict, roleLabel);
    const parts = checklistEventParts(event, gate, verdict, roleLabel);
    await outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: message.text, blocks: message.blocks, unfurl_links: false }, clock.now().toISOString(), {
      gather: { key: CHECKLIST_ANNOUNCEMENTS, part: { ...parts } },
    });
    deps.store.afterCommit(deps.afterCommit);
  });
}
