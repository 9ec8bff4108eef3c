import type { Clock } from '../platform/clock.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistService } from '../checklist/index.js';
import type { ScheduledMilestone, TimelineNotifier } from './timeline-service.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { renderMilestone, renderT0Change } from './render-timeline.js';

/** Milestone and T-0 posts, queued in the outbox inside the transaction that claims them. */
export class SlackTimelineNotifier implements TimelineNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; checklist: ChecklistService; t0: () => Promise<Date | undefined> }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  async milestone(m: ScheduledMilestone, next: ScheduledMilestone | undefined, lateMs: number): Promise<number> {
    const { runbook, clock, checklist } = this.deps;
    const msg = renderMilestone(m, { runbook, snapshot: await checklist.snapshot(), t0: await this.deps.t0(), next, lateMs, total: runbook.milestones.length });
    return this.outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false }, clock.now().toISOString());
  }

  async t0Changed(change: { at: Date; previous?: Date; by: string; passed: ScheduledMilestone[]; next?: ScheduledMilestone }): Promise<void> {
    const msg = renderT0Change(change, this.deps.runbook.launch.timezone);
    await this.outbox.enqueue('chat.postMessage', { channel: this.deps.runbook.launch.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false }, this.deps.clock.now().toISOString());
  }
}
