import type { PagerEvent } from '../pager/pager-port.js';
import type { Store } from '../store/store.js';
import { OutboxRepository } from './outbox-repository.js';

/**
 * How a feature pages on-call. Each call stores the page in the outbox, inside
 * the caller's transaction, and the outbox sends it: a page is committed with
 * the change that caused it, as every Slack post is.
 */
export interface PageNotifier {
  trigger(event: Omit<PagerEvent, 'action'>, at: string): Promise<void>;
  acknowledge(dedupKey: string, at: string): Promise<void>;
  resolve(dedupKey: string, at: string): Promise<void>;
}

/** The outbox-backed {@link PageNotifier}: one outbox row with target `pagerduty` per page. */
export class OutboxPages implements PageNotifier {
  private readonly outbox: OutboxRepository;

  constructor(store: Store) {
    this.outbox = new OutboxRepository(store);
  }

  async trigger(event: Omit<PagerEvent, 'action'>, at: string): Promise<void> {
    await this.outbox.enqueue('trigger', { ...event }, at, { target: 'pagerduty' });
  }

  async acknowledge(dedupKey: string, at: string): Promise<void> {
    await this.outbox.enqueue('acknowledge', { dedupKey }, at, { target: 'pagerduty' });
  }

  async resolve(dedupKey: string, at: string): Promise<void> {
    await this.outbox.enqueue('resolve', { dedupKey }, at, { target: 'pagerduty' });
  }
}
