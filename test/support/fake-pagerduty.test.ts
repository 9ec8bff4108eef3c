import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadEnqueueValidator, startFakePagerDuty, type FakePagerDuty } from './fake-pagerduty.js';

const FIXTURES = new URL('../fixtures/pagerduty/', import.meta.url);
const fixture = async (name: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;

const KEY = 'R0UT1NGKEY0000000000000000000000';
const trigger = (): Record<string, unknown> => ({
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'alarm:GoVisaX-Prod-API-5XX-Rate',
  payload: { summary: 'API 5XX rate above 1%', source: 'golive', severity: 'critical' },
});

async function post(url: string, body: unknown): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as unknown };
}

describe('the /enqueue request validator', () => {
  let validate: (body: unknown) => string[];
  beforeAll(async () => {
    validate = await loadEnqueueValidator();
  });

  it("accepts the spec's own example request", async () => {
    expect(validate(await fixture('example_enqueue_request.json'))).toEqual([]);
  });

  it('accepts a minimal trigger, acknowledge and resolve', () => {
    expect(validate(trigger())).toEqual([]);
    expect(validate({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'k' })).toEqual([]);
    expect(validate({ routing_key: KEY, event_action: 'resolve', dedup_key: 'k' })).toEqual([]);
  });

  it('rejects a trigger without payload.severity', async () => {
    const example = await fixture('example_enqueue_request.json');
    delete (example.payload as Record<string, unknown>).severity;
    expect(validate(example)).toEqual(['payload.severity is required']);
  });

  it('enforces the enums, types and formats of the schema', () => {
    const bad = trigger();
    bad.event_action = 'escalate';
    (bad.payload as Record<string, unknown>).severity = 'fatal';
    (bad.payload as Record<string, unknown>).custom_details = ['not', 'an', 'object'];
    (bad.payload as Record<string, unknown>).timestamp = 'yesterday';
    bad.links = [{ text: 'no href' }, { href: 'not a url' }];
    bad.images = [{ src: 5 }];
    const errors = validate(bad);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^event_action must be one of "trigger", "acknowledge", "resolve"/),
        expect.stringMatching(/^payload\.severity must be one of "critical", "warning", "error", "info" \(got "fatal"\)/),
        'payload.custom_details must be an object (got array)',
        'payload.timestamp must be a valid date-time (got "yesterday")',
        'links[0].href is required',
        'links[1].href must be a valid url (got "not a url")',
        'images[0].src must be a string (got integer)',
      ]),
    );
    expect(errors).toHaveLength(7);
  });

  it('requires routing_key and event_action, and an object body', () => {
    expect(validate({})).toEqual(['routing_key is required', 'event_action is required']);
    expect(validate([])).toEqual(['event must be an object (got array)']);
  });

  it("applies PagerDuty's rules the schema only describes", () => {
    expect(validate({ routing_key: KEY, event_action: 'resolve' })).toEqual(['dedup_key is required for resolve']);
    expect(validate({ routing_key: KEY, event_action: 'trigger' })).toEqual(['payload is required for trigger']);
    const long = trigger();
    (long.payload as Record<string, unknown>).summary = 'x'.repeat(1025);
    long.dedup_key = 'k'.repeat(256);
    expect(validate(long)).toEqual(['dedup_key must be at most 255 characters', 'payload.summary must be at most 1024 characters (got 1025)']);
    const blank = trigger();
    (blank.payload as Record<string, unknown>).source = '  ';
    expect(validate(blank)).toEqual(['payload.source is blank']);
  });
});

describe('the fake PagerDuty server', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(async () => {
    await pd.close();
  });
  beforeEach(() => pd.reset());

  it('answers a valid event 202 like PagerDuty and records it', async () => {
    const example202 = await fixture('example_enqueue_response_202.json');
    const res = await post(pd.url, trigger());
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ ...example202, dedup_key: 'alarm:GoVisaX-Prod-API-5XX-Rate' });
    expect(pd.events).toHaveLength(1);
    expect(pd.events[0]).toMatchObject({ body: trigger(), valid: true, errors: [], status: 202, dedupKey: 'alarm:GoVisaX-Prod-API-5XX-Rate' });
    expect(pd.accepted()).toEqual([trigger()]);
  });

  it('generates a dedup_key for a trigger without one', async () => {
    const body = trigger();
    delete body.dedup_key;
    const res = await post(pd.url, body);
    expect(res.status).toBe(202);
    expect((res.json as { dedup_key: string }).dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers an invalid event 400 with the errors, and records it flagged', async () => {
    const body = trigger();
    delete (body.payload as Record<string, unknown>).severity;
    const res = await post(pd.url, body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ['payload.severity is required'] });
    expect(pd.events[0]).toMatchObject({ valid: false, status: 400, errors: ['payload.severity is required'] });
    expect(pd.accepted()).toEqual([]);
  });

  it("answers a body that is not JSON with PagerDuty's example error", async () => {
    const res = await post(pd.url, '{not json');
    expect(res.status).toBe(400);
    expect(res.json).toEqual(await fixture('example_error_response.json'));
    expect(pd.events[0]).toMatchObject({ body: '{not json', valid: false, status: 400 });
  });

  it('fails the next requests on demand, then recovers', async () => {
    pd.failNext(429, { retryAfter: 7 });
    pd.failNext(503, { times: 2 });
    const throttled = await post(pd.url, trigger());
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect((await post(pd.url, trigger())).status).toBe(503);
    expect((await post(pd.url, trigger())).status).toBe(503);
    expect((await post(pd.url, trigger())).status).toBe(202);
    expect(pd.events.map((e) => [e.status, e.fault, e.valid])).toEqual([
      [429, 429, true],
      [503, 503, true],
      [503, 503, true],
      [202, undefined, true],
    ]);
    expect(pd.accepted()).toHaveLength(1);
  });

  it("drops the connection on 'reset' after recording the event", async () => {
    pd.failNext('reset');
    await expect(post(pd.url, trigger())).rejects.toThrow();
    expect(pd.events[0]).toMatchObject({ status: 0, fault: 'reset', valid: true });
  });

  it('waits for an event, and explains what arrived when none matches', async () => {
    const waiting = pd.waitFor((e) => e.body.event_action === 'resolve');
    await post(pd.url, { routing_key: KEY, event_action: 'resolve', dedup_key: 'k' });
    await expect(waiting).resolves.toMatchObject({ status: 202 });
    await expect(pd.waitFor((e) => e.body.event_action === 'trigger', 50)).rejects.toThrow(/nothing matched within 50 ms\. Received 1:\n {2}202 .*"resolve"/);
  });

  it('serves only POST /v2/enqueue', async () => {
    expect((await fetch(pd.url.replace('/v2/enqueue', '/v2/change/enqueue'), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(pd.url)).status).toBe(405);
    expect(pd.events).toEqual([]);
  });
});

describe('the fake PagerDuty over TLS', () => {
  it('serves https with a certificate clients can trust via `ca`', async () => {
    const pd = await startFakePagerDuty({ tls: true });
    try {
      expect(pd.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v2\/enqueue$/);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(pd.url, { method: 'POST', ca: pd.ca, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(trigger()));
      });
      expect(status).toBe(202);
      expect(pd.accepted()).toEqual([trigger()]);
    } finally {
      await pd.close();
    }
  });
});
