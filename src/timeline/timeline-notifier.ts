import type { Clock } from '../platform/clock.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistService } from '../checklist/checklist-service.js';
import type { ScheduledMilestone, TimelineNotifier } from './timeline-service.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { renderMilestone, renderT0Change } from './render-timeline.js';

/** Milestone and T-0 posts, queued in the outbox inside the transaction that claims them. */
export class SlackTimelineNotifier implements TimelineNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; checklist: ChecklistService; t0: () => Date | undefined }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  milestone(m: ScheduledMilestone, next: ScheduledMilestone | undefined, lateMs: number): number {
    const { runbook, clock, checklist } = this.deps;
    const msg = renderMilestone(m, { runbook, snapshot: checklist.snapshot(), t0: this.deps.t0(), next, lateMs, total: runbook.milestones.length });
    return this.outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false }, clock.now().toISOString());
  }

  t0Changed(change: { at: Date; previous?: Date; by: string; passed: ScheduledMilestone[]; next?: ScheduledMilestone }): void {
    const msg = renderT0Change(change, this.deps.runbook.launch.timezone);
    this.outbox.enqueue('chat.postMessage', { channel: this.deps.runbook.launch.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false }, this.deps.clock.now().toISOString());
  }
}
