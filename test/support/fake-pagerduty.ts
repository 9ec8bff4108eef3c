import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A local PagerDuty Events API v2 (`POST /v2/enqueue`) for tests.
 *
 * Every body is checked against the request schema of PagerDuty's own OpenAPI
 * spec (`test/fixtures/pagerduty/events-v2.openapiv3.json`, interpreted by a
 * small validator below — no schema library needed) plus the rules PagerDuty
 * documents outside the schema, and answered like PagerDuty: 202
 * `{status:"success", message:"Event processed", dedup_key}` or 400
 * `{status:"invalid event", message:"Event object is invalid", errors:[…]}`.
 */

const SPEC_URL = new URL('../fixtures/pagerduty/events-v2.openapiv3.json', import.meta.url);

/** PagerDuty's documented limits that its OpenAPI schema does not state. */
const SUMMARY_MAX = 1024;
const DEDUP_KEY_MAX = 255;
const EVENT_MAX_BYTES = 512 * 1024;

/**
 * A throwaway self-signed certificate for 127.0.0.1/localhost (valid 2025–2125), used only when the fake
 * serves TLS (`tls: true`) so the pdjs transport — which always speaks https — can be exercised.
 * It protects nothing; trust it per client (`ca`) or via NODE_EXTRA_CA_CERTS in a child process.
 */
export const FAKE_PAGERDUTY_CERT = `-----BEGIN CERTIFICATE-----
MIIBpDCCAUqgAwIBAgIBATAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVnb2xpdmUg
ZmFrZSBQYWdlckR1dHkwIBcNMjUwMTAxMDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBa
MCAxHjAcBgNVBAMMFWdvbGl2ZSBmYWtlIFBhZ2VyRHV0eTBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABNF/hojVddF0gal2xk9WiufJmpfEDG31R3qWYnIIaFUaFkl4
6ScFcjRmhjA6EUHilLZ1XUqQ0GO4NgyQtuEa7gajczBxMBoGA1UdEQQTMBGHBH8A
AAGCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIChDAT
BgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUz1hQ83m8rYCQ6zdKzsFQMOsz
/UUwCgYIKoZIzj0EAwIDSAAwRQIhAKqdXDNWfHNIMqQykNi3I/jwCKxaW1Fp/dax
NLuJ/ZALAiBP5fvvpI72r1J9ZxUEYC8nlGmUJEw3l6i7sBEuNdxogA==
-----END CERTIFICATE-----
`;
const FAKE_PAGERDUTY_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWJKWwMnVDGgg/tBx
tOQYtcfmlXJ4BEOqo2bVddwB4vGhRANCAATRf4aI1XXRdIGpdsZPVornyZqXxAxt
9Ud6lmJyCGhVGhZJeOknBXI0ZoYwOhFB4pS2dV1KkNBjuDYMkLbhGu4G
-----END PRIVATE KEY-----
`;

// ---------------------------------------------------------------------------------------------
// Validation

type Schema = Record<string, unknown>;

/** Keywords the validator enforces; documentation-only ones are skipped. Anything else fails loudly at load. */
const ENFORCED = new Set(['type', 'properties', 'required', 'enum', 'items', '$ref', 'format', 'maxLength', 'minLength', 'additionalProperties', 'nullable']);
const DOC_ONLY = new Set(['description', 'title', 'example', 'examples', 'x-examples', 'deprecated']);
const FORMATS = new Set(['url', 'uri', 'date-time']);

// RFC 3339 date-time; like common validators (ajv), the offset colon is optional, as in PagerDuty's own example (`+0000`).
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function formatOk(format: string, v: string): boolean {
  if (format === 'date-time') return DATE_TIME.test(v);
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Validates JSON values against the JSON-schema subset OpenAPI 3.0 specs use, resolving local `$ref`s. */
class SchemaValidator {
  constructor(
    private readonly spec: Schema,
    private readonly root: Schema,
  ) {
    this.audit(root, new Set());
  }

  private resolve(schema: Schema): Schema {
    let s = schema;
    for (let hops = 0; typeof s.$ref === 'string'; hops += 1) {
      const ref = s.$ref;
      if (!ref.startsWith('#/') || hops > 20) throw new Error(`fake-pagerduty: cannot resolve $ref ${ref}`);
      let node: unknown = this.spec;
      for (const part of ref.slice(2).split('/')) node = isObject(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
      if (!isObject(node)) throw new Error(`fake-pagerduty: $ref ${ref} points nowhere`);
      s = node;
    }
    return s;
  }

  /** Refuses schemas using keywords this validator would silently ignore. */
  private audit(schema: Schema, seen: Set<Schema>): void {
    const s = this.resolve(schema);
    if (seen.has(s)) return;
    seen.add(s);
    for (const key of Object.keys(s)) {
      if (!ENFORCED.has(key) && !DOC_ONLY.has(key)) throw new Error(`fake-pagerduty: the spec uses schema keyword "${key}", which this validator does not enforce`);
    }
    if (typeof s.format === 'string' && !FORMATS.has(s.format)) throw new Error(`fake-pagerduty: unknown format "${s.format}"`);
    if (isObject(s.properties)) for (const p of Object.values(s.properties)) if (isObject(p)) this.audit(p, seen);
    if (isObject(s.items)) this.audit(s.items, seen);
    if (isObject(s.additionalProperties)) this.audit(s.additionalProperties, seen);
  }

  validate(value: unknown): string[] {
    const errors: string[] = [];
    this.check(this.root, value, '', errors);
    return errors;
  }

  private check(schema: Schema, value: unknown, path: string, errors: string[]): void {
    const s = this.resolve(schema);
    const at = path === '' ? 'event' : path;
    if (value === null && s.nullable === true) return;
    if (typeof s.type === 'string') {
      const actual = typeOf(value);
      const ok = s.type === actual || (s.type === 'number' && actual === 'integer');
      if (!ok) {
        errors.push(`${at} must be ${s.type === 'array' || s.type === 'object' || s.type === 'integer' ? 'an' : 'a'} ${s.type} (got ${actual})`);
        return;
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => e === value)) {
      errors.push(`${at} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')} (got ${JSON.stringify(value) ?? 'undefined'})`);
      return;
    }
    if (typeof value === 'string') {
      const length = Array.from(value).length;
      if (typeof s.maxLength === 'number' && length > s.maxLength) errors.push(`${at} must be at most ${s.maxLength} characters (got ${length})`);
      if (typeof s.minLength === 'number' && length < s.minLength) errors.push(`${at} must be at least ${s.minLength} characters`);
      if (typeof s.format === 'string' && !formatOk(s.format, value)) errors.push(`${at} must be a valid ${s.format} (got ${JSON.stringify(value)})`);
    }
    if (Array.isArray(value) && isObject(s.items)) {
      value.forEach((item, i) => this.check(s.items as Schema, item, `${path}[${i}]`, errors));
    }
    if (isObject(value)) {
      const props = isObject(s.properties) ? s.properties : {};
      for (const name of Array.isArray(s.required) ? (s.required as string[]) : []) {
        if (value[name] === undefined) errors.push(`${join(path, name)} is required`);
      }
      for (const [name, v] of Object.entries(value)) {
        const p = props[name];
        if (isObject(p)) this.check(p, v, join(path, name), errors);
        else if (s.additionalProperties === false) errors.push(`${join(path, name)} is not allowed`);
        else if (isObject(s.additionalProperties)) this.check(s.additionalProperties, v, join(path, name), errors);
      }
    }
  }
}

/**
 * Rules PagerDuty applies that its OpenAPI schema does not encode: the first comes from the schema's own
 * description of `dedup_key`, the rest from PagerDuty's Events API v2 documentation.
 */
function pagerDutyRules(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const action = body.event_action;
  const blank = (v: unknown): boolean => typeof v !== 'string' || v.trim() === '';
  if ((action === 'acknowledge' || action === 'resolve') && blank(body.dedup_key)) errors.push(`dedup_key is required for ${action}`);
  if (typeof body.dedup_key === 'string' && Array.from(body.dedup_key).length > DEDUP_KEY_MAX) {
    errors.push(`dedup_key must be at most ${DEDUP_KEY_MAX} characters`);
  }
  if (typeof body.routing_key === 'string' && body.routing_key.trim() === '') errors.push('routing_key is blank');
  if (action === 'trigger') {
    const payload = body.payload;
    if (payload === undefined) errors.push('payload is required for trigger');
    else if (isObject(payload)) {
      for (const field of ['summary', 'source'] as const) {
        if (typeof payload[field] === 'string' && blank(payload[field])) errors.push(`payload.${field} is blank`);
      }
      if (typeof payload.summary === 'string' && Array.from(payload.summary).length > SUMMARY_MAX) {
        errors.push(`payload.summary must be at most ${SUMMARY_MAX} characters (got ${Array.from(payload.summary).length})`);
      }
    }
  }
  return errors;
}

/** Checks an `/v2/enqueue` body; returns PagerDuty-style error strings, empty when valid. */
export type EnqueueValidator = (body: unknown) => string[];

let validatorCache: Promise<EnqueueValidator> | undefined;

/** Loads the `/enqueue` request schema from the fixture spec (once) and returns a validator for it. */
export function loadEnqueueValidator(): Promise<EnqueueValidator> {
  validatorCache ??= readFile(SPEC_URL, 'utf8').then((raw) => {
    const spec = JSON.parse(raw) as Schema;
    const paths = spec.paths as Record<string, Record<string, Schema>>;
    const requestBody = paths['/enqueue']?.post?.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined;
    const root = requestBody?.content?.['application/json']?.schema;
    if (!root) throw new Error(`fake-pagerduty: no POST /enqueue application/json request schema in ${SPEC_URL.pathname}`);
    const schema = new SchemaValidator(spec, root);
    return (body: unknown): string[] => {
      const errors = schema.validate(body);
      if (isObject(body)) for (const e of pagerDutyRules(body)) if (!errors.includes(e)) errors.push(e);
      return errors;
    };
  });
  return validatorCache;
}

// ---------------------------------------------------------------------------------------------
// Server

/** What {@link FakePagerDuty.failNext} makes the next request(s) get. */
export interface FakePagerDutyFault {
  /** Seconds (or an HTTP date) for a `Retry-After` header. */
  retryAfter?: number | string;
  /** How many consecutive requests get this fault (default 1). */
  times?: number;
  /** Replaces the PagerDuty-like JSON body of the answer; a string is sent raw as text/html (a proxy's error page). */
  body?: unknown;
}

/** One request to `POST /v2/enqueue`, as received, with the fake's verdict and answer. */
export interface ReceivedEvent {
  /** Parsed JSON body; the raw text when it was not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests dig into arbitrary event bodies
  body: any;
  /** Whether the body passed validation (schema + PagerDuty's documented rules). Faulted requests are validated too. */
  valid: boolean;
  /** Validation errors, PagerDuty style; empty when valid. */
  errors: string[];
  /** Status answered: 202, 400, the injected fault's status, or 0 when the connection was reset / left hanging. */
  status: number;
  /** The fault that answered this request, if any. */
  fault?: number | 'reset' | 'hang';
  /** The dedup key answered with a 202 (the body's, or a generated one). */
  dedupKey?: string;
  headers: IncomingHttpHeaders;
  /** `Date.now()` on arrival. */
  at: number;
}

export interface FakePagerDutyOptions {
  /** Serve https with {@link FAKE_PAGERDUTY_CERT} instead of http (pdjs always speaks https). */
  tls?: boolean;
  /**
   * Throttle like PagerDuty: at most `perMinute` events in any minute (its Events API takes 120 a minute per
   * integration key), the rest answered 429 with its throttle body and no Retry-After (PagerDuty promises none).
   * `scale` shrinks the minute (0.1: 120 events in any 6 s).
   */
  rateLimit?: { perMinute: number; scale?: number };
}

/** PagerDuty's Events API v2 limit per integration key (PagerDuty's community answer: "Events - 120/min/integration key"). */
export const PAGERDUTY_EVENTS_PER_MINUTE = 120;

export interface FakePagerDuty {
  /** Full Events API URL, e.g. `http://127.0.0.1:PORT/v2/enqueue` (https with `tls`). Use as PAGERDUTY_EVENTS_URL. */
  readonly url: string;
  /** The certificate to trust when serving TLS; undefined otherwise. */
  readonly ca: string | undefined;
  /** Every request received, in arrival order: invalid and faulted ones included (see `valid`, `status`). */
  readonly events: ReceivedEvent[];
  /** Bodies PagerDuty would have acted on (answered 202), in order. */
  accepted(): Record<string, unknown>[];
  /**
   * Makes the next request(s) fail: an HTTP status (429 → PagerDuty's throttle body, with `Retry-After` when given;
   * 5xx → an error body), `'reset'` (connection dropped after the request was read — delivery unknown to the client)
   * or `'hang'` (no answer until close). Faults queue up in order.
   */
  failNext(status: number | 'reset' | 'hang', fault?: FakePagerDutyFault): void;
  /** Validation errors for a body (empty when valid), exactly as the server judges requests. */
  validate(body: unknown): string[];
  /** Polls every ~10 ms until a received event matches; rejects after `timeoutMs` listing what arrived. */
  waitFor(predicate: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** Forgets received events and queued faults. */
  reset(): void;
  /** Stops the server, dropping open (and hanging) connections. */
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function faultBody(status: number): unknown {
  if (status === 429) return { status: 'throttle event', message: 'Requests for this integration are arriving too quickly. Please retry later.' };
  if (status >= 500) return { status: 'error', message: 'Internal Server Error', errors: ['The fake was told to fail'] };
  return { status: 'error', message: `Fault ${status}`, errors: ['The fake was told to fail'] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function summarize(e: ReceivedEvent): string {
  const json = typeof e.body === 'string' ? e.body : (JSON.stringify(e.body) ?? 'undefined');
  return `  ${e.status}${e.fault !== undefined ? ` (fault ${e.fault})` : ''}${e.valid ? '' : ` invalid: ${e.errors.join('; ')}`} ${json.length > 300 ? `${json.slice(0, 300)}…` : json}`;
}

/** Starts a fake PagerDuty Events API v2 on 127.0.0.1 (random port). */
export async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  const validate = await loadEnqueueValidator();
  const events: ReceivedEvent[] = [];
  const faults: { status: number | 'reset' | 'hang'; fault: FakePagerDutyFault; left: number }[] = [];
  const taken: number[] = [];
  const windowMs = 60_000 * (options.rateLimit?.scale ?? 1);
  /** Whether one more event fits PagerDuty's throttle now (counted when it does). */
  const fits = (): boolean => {
    if (!options.rateLimit) return true;
    const now = Date.now();
    while (taken.length > 0 && taken[0]! <= now - windowMs) taken.shift();
    if (taken.length >= options.rateLimit.perMinute) return false;
    taken.push(now);
    return true;
  };

  const send = (res: ServerResponse, answer: Answer): void => {
    // A string body is sent as is (e.g. a proxy's HTML error page); anything else as JSON.
    const text = typeof answer.body === 'string';
    res.writeHead(answer.status, { 'content-type': text ? 'text/html' : 'application/json', ...answer.headers });
    res.end(text ? answer.body : JSON.stringify(answer.body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== '/v2/enqueue') return send(res, { status: 404, body: { status: 'Not Found', message: `No route for ${path}` } });
    if (req.method !== 'POST') return send(res, { status: 405, body: { status: 'Method Not Allowed', message: 'Use POST' } });

    const raw = await readBody(req);
    let body: unknown;
    let parsed = true;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
      parsed = false;
    }
    const errors = parsed ? validate(body) : ['JSON parse error'];
    if (Buffer.byteLength(raw) > EVENT_MAX_BYTES) errors.push(`event is larger than ${EVENT_MAX_BYTES / 1024} KB`);
    const record: ReceivedEvent = { body, valid: errors.length === 0, errors, status: 0, headers: req.headers, at: Date.now() };
    events.push(record);

    const next = faults[0];
    if (next) {
      next.left -= 1;
      if (next.left <= 0) faults.shift();
      record.fault = next.status;
      if (next.status === 'hang') return;
      if (next.status === 'reset') {
        req.socket.destroy();
        return;
      }
      record.status = next.status;
      const headers: Record<string, string> = next.fault.retryAfter !== undefined ? { 'retry-after': String(next.fault.retryAfter) } : {};
      return send(res, { status: next.status, body: next.fault.body ?? faultBody(next.status), headers });
    }

    if (!fits()) {
      record.status = 429;
      record.fault = 429;
      return send(res, { status: 429, body: faultBody(429) });
    }
    if (!parsed) {
      record.status = 400;
      return send(res, { status: 400, body: { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] } });
    }
    if (errors.length > 0) {
      record.status = 400;
      return send(res, { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
    }
    const given = (body as { dedup_key?: unknown }).dedup_key;
    const dedupKey = typeof given === 'string' && given !== '' ? given : randomBytes(16).toString('hex');
    record.status = 202;
    record.dedupKey = dedupKey;
    send(res, { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { status: 'error', message: 'fake-pagerduty crashed', errors: [String(e)] } });
    });
  };
  const server: HttpServer | HttpsServer = options.tls
    ? createHttpsServer({ cert: FAKE_PAGERDUTY_CERT, key: FAKE_PAGERDUTY_KEY }, listener)
    : createHttpServer(listener);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/enqueue`,
    ca: options.tls ? FAKE_PAGERDUTY_CERT : undefined,
    events,
    accepted: () => events.filter((e) => e.status === 202).map((e) => e.body as Record<string, unknown>),
    failNext(status, fault = {}) {
      faults.push({ status, fault, left: Math.max(1, fault.times ?? 1) });
    },
    validate,
    waitFor(predicate, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const tick = (): void => {
          const hit = events.find((e) => {
            try {
              return predicate(e);
            } catch {
              return false;
            }
          });
          if (hit) return resolve(hit);
          if (Date.now() >= deadline) {
            const lines = events.map(summarize);
            return reject(new Error(`fake-pagerduty: nothing matched within ${timeoutMs} ms. Received ${events.length}:\n${lines.join('\n') || '  (none)'}`));
          }
          setTimeout(tick, 10);
        };
        tick();
      });
    },
    reset() {
      events.length = 0;
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Keep-alive and hanging connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
