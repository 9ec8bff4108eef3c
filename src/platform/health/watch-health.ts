import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { OutboxRepository } from '../outbox/outbox-repository.js';
import type { Runbook } from '../runbook/schema.js';
import type { SlackMessage } from '../slack/slack-port.js';
import type { Store } from '../store/store.js';
import { renderWatchFailing, renderWatchRecovered, watchLine, type WatchName } from './render-watch-health.js';
import { WatchHealthRepository, type WatchRecord } from './watch-health-repository.js';

export type { WatchName } from './render-watch-health.js';

/** One watch as `/healthz` reports it: `ok` turns false once the runbook's `health` threshold is crossed (when the ops channel is told). */
export interface WatchStatus {
  ok: boolean;
  /** When the failing started; absent while nothing fails. */
  since?: string;
  /** The latest error; absent while nothing fails. */
  error?: string;
  /** Failures in a row (alarm polls, PagerDuty deliveries); for the outbox, the deliveries waiting when it was found backed up. */
  failures: number;
}

/** What the outbox tells {@link WatchHealth} about its PagerDuty deliveries and what it still holds. */
export interface DeliveryWatch {
  succeeded(watch: 'pagerduty'): Promise<void>;
  failed(watch: 'pagerduty', error: string): Promise<void>;
  /** What is still waiting after a pass: Slack calls, emails and documents (PagerDuty has its own watch). */
  waiting(w: { count: number; oldest?: string; error?: string }): Promise<void>;
}

/**
 * Whether golive can still do its job: see alarms (CloudWatch polls), page
 * on-call (PagerDuty deliveries) and get its messages out (the outbox). A watch
 * failing past the runbook's `health` threshold is posted once in the ops
 * channel (through the outbox, in the transaction that records it), shown on
 * `/golive status`, App Home, `/golive alarms` and `/healthz`, and its recovery
 * is posted once.
 */
export class WatchHealth implements DeliveryWatch {
  private readonly records: WatchHealthRepository;
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; logger: Logger; afterChange: () => void }) {
    this.records = new WatchHealthRepository(deps.store);
    this.outbox = new OutboxRepository(deps.store);
  }

  private get tz(): string {
    return this.deps.runbook.launch.timezone;
  }

  private get backlogMinutes(): number {
    return this.deps.runbook.health.outbox_backlog_minutes;
  }

  private threshold(watch: 'alarms' | 'pagerduty'): number {
    const h = this.deps.runbook.health;
    return watch === 'alarms' ? h.failed_alarm_polls : h.failed_page_deliveries;
  }

  /** An alarm poll or a PagerDuty delivery failed; the one that reaches the threshold tells the ops channel. */
  async failed(watch: 'alarms' | 'pagerduty', error: string): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const announced = await this.deps.store.transaction(async () => {
      const known = await this.records.get(watch);
      const r: WatchRecord = { failures: (known?.failures ?? 0) + 1, since: known?.since ?? now, error, announced: known?.announced ?? false };
      const announce = !r.announced && r.failures >= this.threshold(watch);
      if (announce) {
        r.announced = true;
        await this.post(renderWatchFailing(watch, r, this.tz, this.backlogMinutes), now);
        this.deps.logger.error({ watch, since: r.since, failures: r.failures, error }, `golive is degraded: ${watch} has failed ${r.failures} times in a row`);
      }
      await this.records.set(watch, r);
      return announce;
    });
    if (announced) this.deps.afterChange();
  }

  /** An alarm poll or a PagerDuty delivery worked: a failing streak ends, and an announced one is posted as over. */
  async succeeded(watch: 'alarms' | 'pagerduty'): Promise<void> {
    if (!(await this.records.get(watch))) return;
    await this.recover(watch);
  }

  async waiting(w: { count: number; oldest?: string; error?: string }): Promise<void> {
    const now = this.deps.clock.now();
    const backedUp = w.oldest !== undefined && now.getTime() - Date.parse(w.oldest) > this.backlogMinutes * 60_000;
    const known = await this.records.get('outbox');
    if (!backedUp) {
      if (known) await this.recover('outbox');
      return;
    }
    if (known) return;
    const at = now.toISOString();
    const r: WatchRecord = { failures: w.count, since: w.oldest!, error: w.error ?? 'not delivered yet', announced: true };
    await this.deps.store.transaction(async () => {
      await this.post(renderWatchFailing('outbox', r, this.tz, this.backlogMinutes), at);
      await this.records.set('outbox', r);
    });
    this.deps.logger.error({ watch: 'outbox', since: r.since, waiting: r.failures, error: r.error }, 'golive is degraded: its outbox is backing up');
    this.deps.afterChange();
  }

  private async recover(watch: WatchName): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const announced = await this.deps.store.transaction(async () => {
      const known = await this.records.get(watch);
      if (!known) return false;
      await this.records.clear(watch);
      if (!known.announced) return false;
      await this.post(renderWatchRecovered(watch, known, now, this.tz, this.backlogMinutes), now);
      this.deps.logger.info({ watch, since: known.since, failures: known.failures }, `golive has recovered: ${watch} works again`);
      return true;
    });
    if (announced) this.deps.afterChange();
  }

  private async post(m: SlackMessage, at: string): Promise<void> {
    await this.outbox.enqueue('chat.postMessage', { channel: this.deps.runbook.launch.channel, text: m.text, blocks: m.blocks, unfurl_links: false }, at);
  }

  /** Every watch as `/healthz` reports it (`alarms` only when the runbook watches alarms). */
  async status(): Promise<Partial<Record<WatchName, WatchStatus>>> {
    const watches: WatchName[] = this.deps.runbook.alarms ? ['alarms', 'pagerduty', 'outbox'] : ['pagerduty', 'outbox'];
    const out: Partial<Record<WatchName, WatchStatus>> = {};
    for (const w of watches) {
      const r = await this.records.get(w);
      out[w] = r ? { ok: !r.announced, since: r.since, error: r.error, failures: r.failures } : { ok: true, failures: 0 };
    }
    return out;
  }

  /** One line per watch failing past its threshold, for `/golive status`, App Home and `/golive alarms`. */
  async lines(): Promise<string[]> {
    const out: string[] = [];
    for (const w of ['alarms', 'pagerduty', 'outbox'] as const) {
      const r = await this.records.get(w);
      if (r?.announced) out.push(watchLine(w, r, this.tz));
    }
    return out;
  }
}
