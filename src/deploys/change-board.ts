import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook, Service } from '../platform/runbook/schema.js';
import type { ApprovalService } from './approval-service.js';
import type { DeployObserver, DeployStep } from './deploy-service.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import type { ChangeRequestRow } from './approval-repository.js';
import { DeployRepository, type DeployRow } from './deploy-repository.js';
import { renderDeployCard, renderDeployOutcome, renderDeployStep, renderRequestCard } from './render-changes.js';
import type { SlackMessage, SlackPort } from '../platform/slack/slack-port.js';
import type { Block } from '../platform/slack/blocks.js';

/**
 * The Slack side of deploys and approvals: posts and updates approval cards,
 * the deploy message, its thread, and the outcome in the channel. A rollback's
 * progress is threaded under its approval card; a plain deploy gets its own message.
 */
export class ChangeBoard implements DeployObserver {
  private readonly deploys: DeployRepository;
  private readonly outbox: OutboxRepository;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      slack: SlackPort;
      approvals: ApprovalService;
      clock: Clock;
      logger: Logger;
      kickOutbox: () => void;
      onChange?: () => void;
    },
  ) {
    this.deploys = new DeployRepository(deps.store);
    this.outbox = new OutboxRepository(deps.store);
  }

  private extraBlocks?: (d: DeployRow) => Promise<Block[]>;

  /** A deploy strategy (the canary) adds its own lines and buttons to its deploys' cards. */
  addCardBlocks(blocks: (d: DeployRow) => Promise<Block[]>): void {
    this.extraBlocks = blocks;
  }

  private get tz(): string {
    return this.deps.runbook.launch.timezone;
  }

  /** Posts the approval card for a new request and remembers where it is. */
  async postRequest(request: ChangeRequestRow): Promise<void> {
    this.deps.onChange?.();
    const channel = request.channel ?? this.deps.runbook.launch.channel;
    try {
      // Its Approve button must exist once: a second card would be one nothing keeps current.
      const posted = await this.deps.slack.postOnce(channel, await this.requestMessage(request), `change_request/${request.id}`);
      await this.deps.approvals.setCard(request.id, posted.channel, posted.ts);
    } catch (err) {
      // Nobody can approve a request without its card; withdraw it so it does not block the service for 30 minutes.
      await this.deps.approvals.withdraw(request.id, 'the approval card could not be posted');
      throw err;
    }
  }

  /** Re-renders a request's card in place. */
  async updateRequest(id: number): Promise<void> {
    this.deps.onChange?.();
    const r = await this.deps.approvals.find(id);
    if (!r?.message_ts || !r.channel) return;
    try {
      await this.deps.slack.updateMessage(r.channel, r.message_ts, await this.requestMessage(r));
    } catch (err) {
      this.deps.logger.warn({ err, request: id }, 'could not update an approval card');
    }
  }

  async started(d: DeployRow): Promise<void> {
    const root = await this.threadRoot(d);
    if (root) return; // a rollback or override lives in its approval card's thread
    const posted = await this.deps.slack.postOnce(d.channel ?? this.deps.runbook.launch.channel, renderDeployCard(d, 'updating', 'Starting', this.tz, await this.extra(d)), `deploy/${d.id}`);
    await this.deploys.setDeployMessage(d.id, posted.channel, posted.ts);
  }

  async progress(d: DeployRow, step: DeployStep, detail: string): Promise<void> {
    const current = (await this.deploys.deploy(d.id)) ?? d;
    const root = await this.threadRoot(current);
    const where = root ?? (current.channel && current.message_ts ? { channel: current.channel, ts: current.message_ts } : undefined);
    if (!where) return;
    if (step !== 'succeeded' && step !== 'failed') {
      await this.deps.slack.postMessage(where.channel, renderDeployStep(step, detail, this.deps.clock.now().toISOString(), this.tz), where.ts);
    }
    if (!root && current.channel && current.message_ts) {
      await this.deps.slack.updateMessage(current.channel, current.message_ts, renderDeployCard(current, step, detail, this.tz, await this.extra(current)));
    }
  }

  /** Re-renders a deploy's own card in place, without a thread line (a canary's card changes every interval). */
  async refreshCard(d: DeployRow, step: DeployStep, detail: string): Promise<void> {
    const current = (await this.deploys.deploy(d.id)) ?? d;
    if ((await this.threadRoot(current)) || !current.channel || !current.message_ts) return;
    await this.deps.slack.updateMessage(current.channel, current.message_ts, renderDeployCard(current, step, detail, this.tz, await this.extra(current)));
  }

  /** Where a deploy's progress is threaded: its own card, or the approval card of the request that started it. */
  async threadOf(d: DeployRow): Promise<{ channel: string; ts: string } | undefined> {
    return (await this.threadRoot(d)) ?? (d.channel && d.message_ts ? { channel: d.channel, ts: d.message_ts } : undefined);
  }

  private async extra(d: DeployRow): Promise<Block[]> {
    return (await this.extraBlocks?.(d)) ?? [];
  }

  async finished(d: DeployRow, _service: Service): Promise<void> {
    const where = (await this.threadRoot(d)) ?? (d.channel && d.message_ts ? { channel: d.channel, ts: d.message_ts } : undefined);
    const outcome = renderDeployOutcome(d);
    // The outcome must reach the channel even if Slack is down right now: it goes through the outbox.
    await this.outbox.enqueue(
      'chat.postMessage',
      { channel: where?.channel ?? d.channel ?? this.deps.runbook.launch.channel, text: outcome.text, blocks: outcome.blocks, ...(where ? { thread_ts: where.ts, reply_broadcast: true } : {}) },
      this.deps.clock.now().toISOString(),
    );
    this.deps.kickOutbox();
  }

  async requestNote(request: ChangeRequestRow, text: string): Promise<void> {
    if (!request.channel || !request.message_ts) return;
    await this.outbox.enqueue('chat.postMessage', { channel: request.channel, thread_ts: request.message_ts, text }, this.deps.clock.now().toISOString());
    this.deps.kickOutbox();
  }

  private async threadRoot(d: DeployRow): Promise<{ channel: string; ts: string } | undefined> {
    if (d.request_id === null) return undefined;
    const r = await this.deps.approvals.find(d.request_id);
    return r?.channel && r.message_ts ? { channel: r.channel, ts: r.message_ts } : undefined;
  }

  private async requestMessage(r: ChangeRequestRow): Promise<SlackMessage> {
    const service = this.deps.runbook.services.find((s) => s.name === r.service);
    const approvals = await this.deps.approvals.approvers(r.id);
    if (!service) return { text: `Request #${r.id} for ${r.service}: ${r.state} (the service is no longer in the runbook)` };
    return renderRequestCard(r, service, this.deps.approvals.approverNames(service), approvals, this.tz);
  }
}
