import { Agent } from 'node:https';
import { event as pdjsEvent } from '@pagerduty/pdjs';
import { PagerError, toEnqueueBody, truncate, type EnqueueBody, type PagerEvent, type PagerPort } from './pager-port.js';

import { assertNotInTransaction } from '../store/store.js';
import { DEFAULT_EVENTS_URL } from './pagerduty-urls.js';

export interface PagerDutyAdapterOptions {
  /** The Events API v2 integration key. Sent in the body only; never put in errors. */
  routingKey: string;
  /** Full `/v2/enqueue` URL (`PAGERDUTY_EVENTS_URL`); defaults to {@link DEFAULT_EVENTS_URL}. */
  eventsUrl?: string;
  /** Replaces the global fetch. When given, every event is posted with it (pdjs is not used). */
  fetchFn?: typeof fetch;
  /** Give up on one send after this long (all of pdjs's attempts included). Default 10 000. */
  timeoutMs?: number;
  /** Extra trusted CA certificate(s) for an https `eventsUrl` served with a self-signed certificate (a local fake). */
  ca?: string | Buffer;
  /** How long pdjs waits before each of its own (up to 3) re-sends of a 429. Default 2 000. */
  rateLimitWaitMs?: number;
}

/** A {@link PagerPort} that says which way it sends. */
export interface PagerDutyAdapter extends PagerPort {
  /** `pdjs` for an https `/v2/enqueue` URL, `fetch` otherwise (see {@link chooseTransport}). */
  readonly transport: 'pdjs' | 'fetch';
}

/** What came back from one send, whichever way it went. */
interface Answer {
  status: number;
  retryAfter: string | null;
  /** Parsed JSON body; undefined when it was not JSON. */
  body: unknown;
}

type Transport = (body: EnqueueBody, signal: AbortSignal) => Promise<Answer>;

/**
 * Which way events go to `eventsUrl`.
 *
 * The product sends pages via @pagerduty/pdjs, and PAGERDUTY_EVENTS_URL must
 * be able to point them at a local fake. pdjs 2.2.4's `event()` builds its URL
 * as `https://${server}/v2/enqueue`: only the host[:port] can change, the
 * scheme is always https, the path always /v2/enqueue, and it calls
 * cross-fetch directly (no fetch can be injected). So:
 *  - an https URL whose path is /v2/enqueue (PagerDuty's US or EU endpoint,
 *    or a fake serving TLS, trusted via `ca` or NODE_EXTRA_CA_CERTS) goes
 *    through pdjs with `server` = the URL's host;
 *  - anything pdjs cannot express (a plain-http fake, another path, a query)
 *    and any injected `fetchFn` is posted with fetch to the exact URL.
 * Both ways share the body ({@link toEnqueueBody}) and the answer mapping.
 */
export function chooseTransport(eventsUrl: string, fetchFn?: typeof fetch): 'pdjs' | 'fetch' {
  if (fetchFn) return 'fetch';
  const u = new URL(eventsUrl);
  const pdjsCanSay = u.protocol === 'https:' && u.pathname === '/v2/enqueue' && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
  return pdjsCanSay ? 'pdjs' : 'fetch';
}

function pdjsTransport(server: string, agent: Agent | undefined, rateLimitWaitMs: number): Transport {
  return async (body, signal) => {
    // pdjs quirks worked around here:
    //  - its `requestTimeout` only starts a no-op timer (it never aborts) that keeps the process alive
    //    for 30 s after a network error, so it is turned off and our AbortSignal does the timing out;
    //  - it re-sends a 429 up to 3 times after `retryTimeout` (default 20 s, ignoring Retry-After);
    //    that wait is kept short so all attempts fit in our timeout and the outbox owns real backoff;
    //  - RequestInit options (signal, agent) are passed through to node-fetch.
    const params = { server, data: body, signal, requestTimeout: 0, retryTimeout: rateLimitWaitMs, ...(agent ? { agent } : {}) };
    const res = await pdjsEvent(params as unknown as Parameters<typeof pdjsEvent>[0]);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: res.data as unknown };
  };
}

function fetchTransport(url: string, fetchFn: typeof fetch): Transport {
  return async (body, signal) => {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'golive' },
      body: JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed };
  };
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** PagerDuty's own words from an answer body: `status: message (errors…)`. */
function describeAnswer(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as { status?: unknown; message?: unknown; errors?: unknown };
  const head = [b.status, b.message].filter((s): s is string => typeof s === 'string' && s !== '').join(': ');
  const errors = Array.isArray(b.errors) ? b.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) : [];
  return [head, errors.length > 0 ? `(${errors.join('; ')})` : ''].filter((s) => s !== '').join(' ');
}

/** Creates the PagerDuty Events API v2 adapter. It never logs; errors name the host, never the routing key. */
export function createPagerDutyAdapter(options: PagerDutyAdapterOptions): PagerDutyAdapter {
  const { routingKey, fetchFn } = options;
  if (typeof routingKey !== 'string' || routingKey.trim() === '') throw new Error('PagerDuty adapter needs a routing key');
  const eventsUrl = options.eventsUrl ?? DEFAULT_EVENTS_URL;
  const url = new URL(eventsUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transportKind = chooseTransport(eventsUrl, fetchFn);
  const transport =
    transportKind === 'pdjs'
      ? pdjsTransport(url.host, options.ca !== undefined ? new Agent({ ca: options.ca, keepAlive: true }) : undefined, options.rateLimitWaitMs ?? 2_000)
      : fetchTransport(eventsUrl, fetchFn ?? fetch);

  // Belt and braces: PagerDuty does not echo the key, but nothing that reaches a log may contain it.
  const clean = (text: string): string => truncate(text.split(routingKey).join('[routing key]'), 1_000);
  const fail = (status: number | undefined, retryable: boolean, message: string, retryAfterSeconds?: number): PagerError =>
    new PagerError(status, retryable, clean(message), retryAfterSeconds);

  return {
    transport: transportKind,
    async send(event: PagerEvent): Promise<{ dedupKey: string }> {
      assertNotInTransaction(`PagerDuty ${event.action}`);
      const body = toEnqueueBody(routingKey, event);
      const what = `${body.event_action} for "${body.dedup_key}"`;
      const signal = AbortSignal.timeout(timeoutMs);
      let answer: Answer;
      try {
        answer = await transport(body, signal);
      } catch (err) {
        if (signal.aborted) throw fail(undefined, true, `PagerDuty (${url.host}) did not answer the ${what} within ${timeoutMs / 1000} s`);
        const e = err as { type?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
        if (e.type === 'invalid-json') throw fail(undefined, true, `PagerDuty (${url.host}) answered the ${what} with something that is not JSON`);
        const reason = e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
        throw fail(undefined, true, `Could not reach PagerDuty at ${url.host} to send the ${what}: ${reason}`);
      }

      const { status } = answer;
      const said = describeAnswer(answer.body);
      const detail = said !== '' ? `: ${said}` : '';
      if (status >= 200 && status < 300) {
        const key = (answer.body as { dedup_key?: unknown } | undefined)?.dedup_key;
        return { dedupKey: typeof key === 'string' && key !== '' ? key : body.dedup_key };
      }
      if (status === 400) throw fail(400, false, `PagerDuty rejected the ${what} (400)${detail}`);
      if (status === 429) {
        const retryAfter = parseRetryAfter(answer.retryAfter);
        const when = retryAfter !== undefined ? `; retry after ${retryAfter} s` : '';
        throw fail(429, true, `PagerDuty is rate-limiting events (429) and did not take the ${what}${when}${detail}`, retryAfter);
      }
      if (status >= 500 || status === 408 || status === 425) {
        throw fail(status, true, `PagerDuty failed to take the ${what} (${status})${detail}`);
      }
      const hint = status === 404 || status === 405 ? '; check PAGERDUTY_EVENTS_URL' : '';
      throw fail(status, false, `PagerDuty answered the ${what} with ${status}${detail}${hint}`);
    },
  };
}
