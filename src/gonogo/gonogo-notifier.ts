import type { Clock } from '../platform/clock.js';
import { PARENT_CHANNEL, PARENT_TS } from '../platform/outbox/outbox.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { DecisionRow, GoNoGoNotifier, VoteRow } from './gonogo-service.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { renderDecisionCard, renderVoteNotice } from './render-gonogo.js';

/** The decision card and its updates, queued in the outbox inside the vote's transaction. */
export class SlackGoNoGoNotifier implements GoNoGoNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; voters: () => string }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  private ctx() {
    return { tz: this.deps.runbook.launch.timezone, launchName: this.deps.runbook.launch.name, voters: this.deps.voters() };
  }

  async opened(decision: DecisionRow): Promise<number> {
    const m = renderDecisionCard(decision, [], this.ctx());
    return this.outbox.enqueue('chat.postMessage', { channel: decision.channel, text: m.text, blocks: m.blocks, unfurl_links: false }, this.deps.clock.now().toISOString());
  }

  async refreshed(decision: DecisionRow): Promise<void> {
    if (decision.card_outbox_id === null) return;
    const m = renderDecisionCard(decision, [], this.ctx());
    await this.outbox.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: m.text, blocks: m.blocks }, this.deps.clock.now().toISOString(), { dependsOn: decision.card_outbox_id });
  }

  async voted(decision: DecisionRow, votes: VoteRow[], vote: VoteRow): Promise<void> {
    const card = decision.card_outbox_id;
    if (card === null) return;
    const at = this.deps.clock.now().toISOString();
    const m = renderDecisionCard(decision, votes, this.ctx());
    await this.outbox.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: m.text, blocks: m.blocks }, at, { dependsOn: card });
    const notice = renderVoteNotice(decision, votes, vote, this.deps.runbook.launch.timezone);
    // The deciding vote is also shown in the channel, not only in the card's thread.
    await this.outbox.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: notice.text, blocks: notice.blocks, reply_broadcast: decision.state !== 'open', unfurl_links: false }, at, { dependsOn: card });
  }
}
