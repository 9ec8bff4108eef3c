import { pagerDedupKey, toEnqueueBody, type PagerEvent, type PagerPort } from '../platform/pager/pager-port.js';

/** One event PagerDuty would have received, as the page lists it. */
export interface PagerSimEvent {
  at: string;
  action: PagerEvent['action'];
  dedupKey: string;
  summary?: string;
  severity?: string;
  source?: string;
}

/** The PagerDuty world, saved with the session. */
export interface PagerSimSnapshot {
  version: 1;
  events: PagerSimEvent[];
}

/**
 * PagerDuty, simulated for the sandbox behind the same {@link PagerPort} the
 * real adapter implements: every event is checked as the Events API v2 would
 * check it (an event PagerDuty would refuse is refused here too) and listed
 * on the page instead of paging anyone.
 */
export class PagerSim implements PagerPort {
  readonly events: PagerSimEvent[];
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly opts: { now?: () => number; snapshot?: PagerSimSnapshot } = {}) {
    this.events = opts.snapshot?.events ?? [];
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): PagerSimSnapshot {
    return { version: 1, events: this.events };
  }

  async send(event: PagerEvent): Promise<{ dedupKey: string }> {
    // Throws the same non-retryable PagerError the real adapter would for an event PagerDuty rejects.
    const body = toEnqueueBody('sandbox-routing-key-000000000000', event);
    const payload = body.event_action === 'trigger' ? body.payload : undefined;
    this.events.push({
      at: new Date(this.opts.now?.() ?? Date.now()).toISOString(),
      action: body.event_action,
      dedupKey: pagerDedupKey(event.dedupKey),
      ...(payload ? { summary: payload.summary, severity: payload.severity, source: payload.source } : {}),
    });
    for (const l of this.listeners) l();
    return { dedupKey: body.dedup_key };
  }
}
