import { createHash } from 'node:crypto';
import { isHttpUrl } from '../is-http-url.js';

/** What an event asks PagerDuty to do with the alert its dedup key names. */
export type PagerAction = 'trigger' | 'acknowledge' | 'resolve';

/** PagerDuty's severities (Events API v2 `payload.severity`), most severe first: the one list the runbook schema, alarm rules and pages use. */
export const PAGER_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type PagerSeverity = (typeof PAGER_SEVERITIES)[number];

/** A link shown on the alert, e.g. the alarm in the AWS console. */
export interface PagerLink {
  href: string;
  text?: string;
}

/**
 * One page to send. `trigger` needs `summary`, `source` and `severity`;
 * `acknowledge` and `resolve` use only `dedupKey` (the rest is ignored).
 */
export interface PagerEvent {
  action: PagerAction;
  /** Stable per alert (e.g. per alarm) so trigger, acknowledge and resolve meet on one alert. */
  dedupKey: string;
  summary?: string;
  source?: string;
  severity?: PagerSeverity;
  component?: string;
  group?: string;
  class?: string;
  customDetails?: Record<string, unknown>;
  links?: PagerLink[];
  /** ISO 8601 time the problem was detected; PagerDuty uses its receive time when absent. */
  timestamp?: string;
}

/** Sends pages. The real adapter talks to the PagerDuty Events API v2; failures are thrown as {@link PagerError}. */
export interface PagerPort {
  /** Resolves with the dedup key PagerDuty filed the event under. */
  send(event: PagerEvent): Promise<{ dedupKey: string }>;
}

/**
 * A page that was not delivered. `retryable` says whether sending the same
 * event again can succeed (429, 5xx, network, timeout) or never will (400, a
 * malformed event). Messages never contain the routing key.
 */
export class PagerError extends Error {
  constructor(
    /** HTTP status PagerDuty answered with; undefined when there was no answer (network, timeout) or the event was never sent. */
    readonly status: number | undefined,
    readonly retryable: boolean,
    message: string,
    /** From a 429's Retry-After header, when present. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    // The outbox recognises pager failures by name (src/platform/outbox/outbox.ts).
    this.name = 'PagerError';
  }
}

/** PagerDuty's documented limit on `payload.summary` (the OpenAPI spec itself states no length). */
const SUMMARY_MAX_CHARS = 1024;
/** PagerDuty's limit on `dedup_key`. */
const DEDUP_KEY_MAX_CHARS = 255;

const ACTIONS: ReadonlySet<string> = new Set<PagerAction>(['trigger', 'acknowledge', 'resolve']);
const SEVERITIES: ReadonlySet<string> = new Set<string>(PAGER_SEVERITIES);

/** The JSON body of `POST /v2/enqueue` (Events API v2). */
export type EnqueueBody = TriggerBody | AckOrResolveBody;

export interface TriggerBody {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerSeverity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: PagerLink[];
}

export interface AckOrResolveBody {
  routing_key: string;
  event_action: 'acknowledge' | 'resolve';
  dedup_key: string;
}

function invalid(message: string): PagerError {
  return new PagerError(undefined, false, `Cannot send this page: ${message}`);
}

function nonBlank(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/** Cuts `text` to `max` characters (code points, so no emoji is split), marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * A dedup key PagerDuty accepts. Keys over 255 characters (a long alarm name
 * plus a prefix can get there) are shortened deterministically, keeping a
 * readable prefix and a hash of the whole key, so every event for that alert
 * still lands on the same key and two long keys do not collide.
 */
export function pagerDedupKey(key: string): string {
  if (Array.from(key).length <= DEDUP_KEY_MAX_CHARS) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 40);
  return `${Array.from(key).slice(0, DEDUP_KEY_MAX_CHARS - hash.length - 1).join('')}~${hash}`;
}

// RFC 3339 date-time, also allowing the colon-less offset (`+0000`) PagerDuty's own examples use.
const DATE_TIME = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:?\d\d)$/;


/**
 * The Events API v2 `/v2/enqueue` body for `event`, per PagerDuty's OpenAPI
 * spec (`events-v2.openapiv3.json`) and its documented limits.
 *
 * Throws a non-retryable {@link PagerError} for an event PagerDuty would reject
 * whatever happens (a trigger without summary/source/severity, no dedup key).
 * Details PagerDuty would also reject but that should not cost the page are
 * repaired instead: a summary over 1024 characters is truncated, a dedup key
 * over 255 is shortened ({@link pagerDedupKey}), links that are not http(s)
 * URLs and a timestamp that is not ISO 8601 are left out.
 */
export function toEnqueueBody(routingKey: string, event: PagerEvent): EnqueueBody {
  const action: unknown = event.action;
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    throw invalid(`unknown action ${JSON.stringify(action)} (expected trigger, acknowledge or resolve)`);
  }
  if (!nonBlank(event.dedupKey)) throw invalid(`a ${action} needs a dedup key`);
  const dedupKey = pagerDedupKey(event.dedupKey);

  if (action !== 'trigger') {
    return { routing_key: routingKey, event_action: action as 'acknowledge' | 'resolve', dedup_key: dedupKey };
  }

  const missing: string[] = [];
  if (!nonBlank(event.summary)) missing.push('summary');
  if (!nonBlank(event.source)) missing.push('source');
  if (typeof event.severity !== 'string' || !SEVERITIES.has(event.severity)) missing.push('severity (critical, error, warning or info)');
  if (missing.length > 0) throw invalid(`a trigger needs ${missing.join(', ')}`);

  const payload: TriggerBody['payload'] = {
    summary: truncate(event.summary as string, SUMMARY_MAX_CHARS),
    source: event.source as string,
    severity: event.severity as PagerSeverity,
  };
  if (typeof event.timestamp === 'string' && DATE_TIME.test(event.timestamp)) payload.timestamp = event.timestamp;
  if (nonBlank(event.component)) payload.component = event.component;
  if (nonBlank(event.group)) payload.group = event.group;
  if (nonBlank(event.class)) payload.class = event.class;
  const details: unknown = event.customDetails;
  if (typeof details === 'object' && details !== null && !Array.isArray(details)) {
    payload.custom_details = details as Record<string, unknown>;
  }

  const body: TriggerBody = { routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey, payload };
  const links = (Array.isArray(event.links) ? event.links : [])
    .filter((l) => typeof l === 'object' && l !== null && typeof l.href === 'string' && isHttpUrl(l.href))
    .map((l) => (typeof l.text === 'string' && l.text !== '' ? { href: l.href, text: l.text } : { href: l.href }));
  if (links.length > 0) body.links = links;
  return body;
}
