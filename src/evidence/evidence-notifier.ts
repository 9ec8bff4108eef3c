import type { Clock } from '../platform/clock.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Gate, Item, Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import type { StoredEvidence } from './decide-evidence.js';
import type { EvidenceNotifier } from './evidence-service.js';
import { renderDrift, renderRecovery } from './render-evidence.js';

/** Drift and recovery posts in the ops channel, stored in the outbox inside the pass's transaction. */
export class SlackEvidenceNotifier implements EvidenceNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  private async post(text: string): Promise<void> {
    await this.outbox.enqueue('chat.postMessage', { channel: this.deps.runbook.launch.channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }], unfurl_links: false }, this.deps.clock.now().toISOString());
  }

  /** What counts as open means for this item: its level, and which deploys and decisions wait for it. */
  private consequence(item: Item, gate: Gate): string {
    if (item.level !== 'blocker') return `It counts as open (${item.level === 'warning' ? '⚠️ a warning' : 'ℹ️ info'} of gate \`${gate.id}\`) until its check passes again.`;
    const services = this.deps.runbook.services.filter((s) => s.deploy_requires.includes(gate.id)).map((s) => `\`${s.name}\``);
    const waits = [services.length > 0 ? `deploys of ${services.join(', ')} are refused` : '', this.deps.runbook.gonogo ? 'the go/no-go counts it as an open blocker' : ''].filter(Boolean);
    return `It counts as an open 🔴 blocker of gate \`${gate.id}\`${waits.length > 0 ? `: ${waits.join(' and ')}` : ''} until its check passes again (or its owner signs it off again with a note).`;
  }

  async drift(item: Item, gate: Gate, e: StoredEvidence, signedBy: string | undefined): Promise<void> {
    await this.post(renderDrift(item, e, signedBy, this.consequence(item, gate)));
  }

  async recovered(item: Item, _gate: Gate, e: StoredEvidence): Promise<void> {
    await this.post(renderRecovery(item, e));
  }
}
