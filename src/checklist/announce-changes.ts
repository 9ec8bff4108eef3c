import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistEvent, ChecklistService } from './checklist-service.js';
import type { Clock } from '../platform/clock.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { renderChecklistEvent } from './render-status.js';
import type { StatusBoard } from './status-board.js';

/**
 * Turns each checklist change into a post in the launch channel, stored in
 * the outbox inside the change's own transaction: if Slack is down the post
 * waits; if the change rolls back, so does the post.
 */
export function announceChecklistChanges(deps: { runbook: Runbook; store: Store; checklist: ChecklistService; statusBoard: Pick<StatusBoard, 'verdictLine'>; clock: Clock; afterCommit: () => void }): void {
  const { runbook, checklist, clock } = deps;
  const outbox = new OutboxRepository(deps.store);
  checklist.onChange(async (event: ChecklistEvent) => {
    const snapshot = await checklist.snapshot();
    const gate = snapshot.gates.find((g) => g.gate.id === event.gate.id)!;
    const message = renderChecklistEvent(event, gate, await deps.statusBoard.verdictLine(snapshot), (r) => checklist.roleLabel(r));
    await outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: message.text, blocks: message.blocks, unfurl_links: false }, clock.now().toISOString());
    deps.store.afterCommit(deps.afterCommit);
  });
}
