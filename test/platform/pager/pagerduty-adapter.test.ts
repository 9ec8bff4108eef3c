import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PagerError, toEnqueueBody, pagerDedupKey, type PagerEvent } from '../../../src/platform/pager/pager-port.js';
import { chooseTransport, createPagerDutyAdapter, parseRetryAfter, type PagerDutyAdapterOptions } from '../../../src/platform/pager/pagerduty-adapter.js';
import { loadEnqueueValidator, startFakePagerDuty, type FakePagerDuty } from '../../support/fake-pagerduty.js';

const ROUTING_KEY = 'R0UT1NGKEY5ecret0000000000000042';

const TRIGGER: PagerEvent = {
  action: 'trigger',
  dedupKey: 'golive:alarm:GoVisaX-Prod-API-5XX-Rate',
  summary: 'ALARM GoVisaX-Prod-API-5XX-Rate: 5XX rate 3.2% > 1%',
  source: 'golive',
  severity: 'critical',
  component: 'api',
  group: 'govisax-prod',
  class: 'cloudwatch-alarm',
  timestamp: '2026-03-01T10:15:00.000Z',
  customDetails: { reason: 'Threshold Crossed: 1 datapoint [3.2] was greater than the threshold (1.0).', region: 'eu-west-1' },
  links: [{ href: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/GoVisaX-Prod-API-5XX-Rate', text: 'Alarm in the AWS console' }],
};

const TRIGGER_BODY = {
  routing_key: ROUTING_KEY,
  event_action: 'trigger',
  dedup_key: 'golive:alarm:GoVisaX-Prod-API-5XX-Rate',
  payload: {
    summary: 'ALARM GoVisaX-Prod-API-5XX-Rate: 5XX rate 3.2% > 1%',
    source: 'golive',
    severity: 'critical',
    component: 'api',
    group: 'govisax-prod',
    class: 'cloudwatch-alarm',
    timestamp: '2026-03-01T10:15:00.000Z',
    custom_details: { reason: 'Threshold Crossed: 1 datapoint [3.2] was greater than the threshold (1.0).', region: 'eu-west-1' },
  },
  links: [{ href: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/GoVisaX-Prod-API-5XX-Rate', text: 'Alarm in the AWS console' }],
};

/** Every PagerError the tests provoke, to check none of them leaks the routing key. */
const seenErrors: unknown[] = [];

async function sendExpectingError(send: Promise<unknown>): Promise<PagerError> {
  const err = await send.then(
    () => {
      throw new Error('expected the send to fail');
    },
    (e: unknown) => e,
  );
  seenErrors.push(err);
  expect(err).toBeInstanceOf(PagerError);
  return err as PagerError;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('toEnqueueBody', () => {
  let validate: (body: unknown) => string[];
  beforeAll(async () => {
    validate = await loadEnqueueValidator();
  });

  it('builds a full trigger body that the Events v2 schema accepts', () => {
    const body = toEnqueueBody(ROUTING_KEY, TRIGGER);
    expect(body).toEqual(TRIGGER_BODY);
    expect(validate(body)).toEqual([]);
  });

  it('builds acknowledge and resolve with only routing_key, event_action and dedup_key', () => {
    for (const action of ['acknowledge', 'resolve'] as const) {
      const body = toEnqueueBody(ROUTING_KEY, { ...TRIGGER, action });
      expect(body).toEqual({ routing_key: ROUTING_KEY, event_action: action, dedup_key: TRIGGER.dedupKey });
      expect(validate(body)).toEqual([]);
    }
  });

  it('leaves optional fields out rather than sending them empty', () => {
    const body = toEnqueueBody(ROUTING_KEY, { action: 'trigger', dedupKey: 'k', summary: 's', source: 'golive', severity: 'info', links: [], component: '' });
    expect(body).toEqual({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'k', payload: { summary: 's', source: 'golive', severity: 'info' } });
  });

  it('truncates a summary over 1024 characters without splitting a character', () => {
    const body = toEnqueueBody(ROUTING_KEY, { ...TRIGGER, summary: `${'🔥'.repeat(600)}${'x'.repeat(600)}` });
    const summary = body.event_action === 'trigger' ? body.payload.summary : '';
    expect(Array.from(summary)).toHaveLength(1024);
    expect(summary.startsWith('🔥'.repeat(600))).toBe(true);
    expect(summary.endsWith('x…')).toBe(true);
    expect(validate(body)).toEqual([]);
  });

  it('shortens an over-long dedup key the same way every time', () => {
    const long = `golive:alarm:${'A'.repeat(300)}`;
    const key = pagerDedupKey(long);
    expect(Array.from(key).length).toBeLessThanOrEqual(255);
    expect(key).toBe(pagerDedupKey(long));
    expect(key).not.toBe(pagerDedupKey(`${long}B`));
    expect(toEnqueueBody(ROUTING_KEY, { action: 'resolve', dedupKey: long })).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key });
    expect(pagerDedupKey('short')).toBe('short');
  });

  it('drops links that are not http(s) URLs and a timestamp that is not ISO 8601', () => {
    const body = toEnqueueBody(ROUTING_KEY, { ...TRIGGER, timestamp: 'last Tuesday', links: [{ href: 'javascript:alert(1)' }, { href: 'nope' }, { href: 'https://example.com/runbook' }] });
    expect(body).toMatchObject({ links: [{ href: 'https://example.com/runbook' }] });
    expect(body).toMatchObject({ payload: { summary: TRIGGER.summary } });
    expect(body).not.toHaveProperty('payload.timestamp');
    expect(validate(body)).toEqual([]);
  });

  it('refuses, for good, events PagerDuty can never accept', () => {
    const cases: [PagerEvent, RegExp][] = [
      [{ action: 'trigger', dedupKey: 'k', source: 'golive', severity: 'error' }, /a trigger needs summary$/],
      [{ action: 'trigger', dedupKey: 'k', summary: '  ' }, /a trigger needs summary, source, severity/],
      [{ action: 'trigger', dedupKey: 'k', summary: 's', source: 'golive', severity: 'fatal' as 'critical' }, /severity/],
      [{ action: 'resolve', dedupKey: '' }, /a resolve needs a dedup key/],
      [{ action: 'escalate' as 'resolve', dedupKey: 'k' }, /unknown action "escalate"/],
    ];
    for (const [event, message] of cases) {
      let caught: unknown;
      try {
        toEnqueueBody(ROUTING_KEY, event);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(PagerError);
      expect(caught).toMatchObject({ name: 'PagerError', status: undefined, retryable: false });
      expect((caught as Error).message).toMatch(message);
    }
  });
});

describe('chooseTransport', () => {
  it('uses pdjs wherever pdjs can reach the URL, fetch elsewhere', () => {
    expect(chooseTransport('https://events.pagerduty.com/v2/enqueue')).toBe('pdjs');
    expect(chooseTransport('https://events.eu.pagerduty.com/v2/enqueue')).toBe('pdjs');
    expect(chooseTransport('https://127.0.0.1:8443/v2/enqueue')).toBe('pdjs');
    expect(chooseTransport('http://127.0.0.1:8080/v2/enqueue')).toBe('fetch');
    expect(chooseTransport('https://proxy.internal/pagerduty/v2/enqueue')).toBe('fetch');
    expect(chooseTransport('https://events.pagerduty.com/v2/enqueue', fetch)).toBe('fetch');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter('1.5')).toBe(2);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

// The same behaviour over both transports: plain-http fake → fetch; TLS fake → @pagerduty/pdjs.
describe.each([
  { name: 'fetch (http fake)', tls: false, transport: 'fetch' as const },
  { name: 'pdjs (https fake)', tls: true, transport: 'pdjs' as const },
])('PagerDuty adapter via $name', ({ tls, transport }) => {
  let pd: FakePagerDuty;
  const adapter = (extra: Partial<PagerDutyAdapterOptions> = {}) =>
    createPagerDutyAdapter({ routingKey: ROUTING_KEY, eventsUrl: pd.url, ca: pd.ca, rateLimitWaitMs: 10, ...extra });

  beforeAll(async () => {
    pd = await startFakePagerDuty({ tls });
  });
  afterAll(async () => {
    await pd.close();
  });
  beforeEach(() => pd.reset());

  it(`sends with ${transport}`, async () => {
    const a = adapter();
    expect(a.transport).toBe(transport);
    await a.send({ action: 'resolve', dedupKey: 'k' });
    expect(pd.events[0]?.headers['user-agent']).toMatch(transport === 'pdjs' ? /^pdjs\// : /^golive$/);
  });

  it('sends trigger, acknowledge and resolve exactly, each valid per the schema', async () => {
    const a = adapter();
    await expect(a.send(TRIGGER)).resolves.toEqual({ dedupKey: TRIGGER.dedupKey });
    await expect(a.send({ action: 'acknowledge', dedupKey: TRIGGER.dedupKey })).resolves.toEqual({ dedupKey: TRIGGER.dedupKey });
    await expect(a.send({ ...TRIGGER, action: 'resolve' })).resolves.toEqual({ dedupKey: TRIGGER.dedupKey });
    expect(pd.events.map((e) => e.body)).toEqual([
      TRIGGER_BODY,
      { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: TRIGGER.dedupKey },
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: TRIGGER.dedupKey },
    ]);
    expect(pd.events.every((e) => e.valid && e.status === 202)).toBe(true);
  });

  it('returns the dedup key PagerDuty answers with', async () => {
    pd.failNext(202, { body: { status: 'success', message: 'Event processed', dedup_key: 'pd-chose-this' } });
    await expect(adapter().send(TRIGGER)).resolves.toEqual({ dedupKey: 'pd-chose-this' });
  });

  it('sends a summary over 1024 characters truncated, and PagerDuty takes it', async () => {
    await adapter().send({ ...TRIGGER, summary: 'S'.repeat(5000) });
    expect(pd.events[0]).toMatchObject({ valid: true, status: 202 });
    expect((pd.events[0]?.body.payload.summary as string).length).toBe(1024);
  });

  it('maps 429 to a retryable error with Retry-After', async () => {
    // pdjs re-sends a 429 itself up to 3 times, so PagerDuty has to keep refusing for 4 requests.
    pd.failNext(429, { retryAfter: 30, times: 4 });
    const err = await sendExpectingError(adapter().send(TRIGGER));
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 30 });
    expect(err.message).toMatch(/rate-limiting.*retry after 30 s/);
    expect(pd.events).toHaveLength(transport === 'pdjs' ? 4 : 1);
  });

  it('maps 429 without Retry-After to retryable with no wait given', async () => {
    pd.failNext(429, { times: 4 });
    const err = await sendExpectingError(adapter().send(TRIGGER));
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: undefined });
  });

  it('maps 500 and 503 to retryable errors', async () => {
    pd.failNext(500);
    expect(await sendExpectingError(adapter().send(TRIGGER))).toMatchObject({ status: 500, retryable: true });
    pd.failNext(503);
    const err = await sendExpectingError(adapter().send({ action: 'resolve', dedupKey: 'k' }));
    expect(err).toMatchObject({ status: 503, retryable: true });
    expect(err.message).toContain('Internal Server Error');
  });

  it("maps a 502 page that is not JSON (a proxy's) to retryable", async () => {
    pd.failNext(502, { body: '<html><body>Bad Gateway</body></html>' });
    expect(await sendExpectingError(adapter().send(TRIGGER))).toMatchObject({ retryable: true });
  });

  it("maps 400 to a non-retryable error carrying PagerDuty's message and errors, never the routing key", async () => {
    pd.failNext(400, { body: { status: 'invalid event', message: 'Event object is invalid', errors: [`Invalid routing key: ${ROUTING_KEY}`] } });
    const err = await sendExpectingError(adapter().send(TRIGGER));
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect(err.message).toContain('invalid event: Event object is invalid (Invalid routing key: [routing key])');
    expect(err.message).not.toContain(ROUTING_KEY);
  });

  it('maps a connection refused to retryable', async () => {
    const port = await closedPort();
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/enqueue`;
    const err = await sendExpectingError(adapter({ eventsUrl: url }).send(TRIGGER));
    expect(err).toMatchObject({ status: undefined, retryable: true });
    expect(err.message).toContain(`Could not reach PagerDuty at 127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('maps a dropped connection to retryable', async () => {
    pd.failNext('reset');
    expect(await sendExpectingError(adapter().send(TRIGGER))).toMatchObject({ status: undefined, retryable: true });
  });

  it('gives up after the timeout, retryable', async () => {
    pd.failNext('hang');
    const started = Date.now();
    const err = await sendExpectingError(adapter({ timeoutMs: 300 }).send(TRIGGER));
    expect(err).toMatchObject({ status: undefined, retryable: true });
    expect(err.message).toMatch(/did not answer the trigger for ".*" within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses a malformed event without sending anything', async () => {
    const err = await sendExpectingError(adapter().send({ action: 'trigger', dedupKey: 'k', summary: 'no source or severity' }));
    expect(err).toMatchObject({ status: undefined, retryable: false });
    expect(pd.events).toEqual([]);
  });
});

describe('PagerDuty adapter against the schema-checking fake', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(async () => {
    await pd.close();
  });

  it("surfaces the fake's real validation 400 as non-retryable with its errors", async () => {
    // Strip payload.severity on the wire so the body reaches PagerDuty invalid.
    const fetchFn: typeof fetch = (input, init) => {
      const body = JSON.parse(String(init?.body)) as { payload: Record<string, unknown> };
      delete body.payload.severity;
      return fetch(input, { ...init, body: JSON.stringify(body) });
    };
    const a = createPagerDutyAdapter({ routingKey: ROUTING_KEY, eventsUrl: pd.url, fetchFn });
    const err = await sendExpectingError(a.send(TRIGGER));
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect(err.message).toBe(`PagerDuty rejected the trigger for "${TRIGGER.dedupKey}" (400): invalid event: Event object is invalid (payload.severity is required)`);
    expect(pd.events[0]).toMatchObject({ valid: false, status: 400 });
  });

  it('refuses to start without a routing key', () => {
    expect(() => createPagerDutyAdapter({ routingKey: ' ', eventsUrl: pd.url })).toThrow(/routing key/);
  });
});

describe('errors', () => {
  it('never contain the routing key', () => {
    expect(seenErrors.length).toBeGreaterThan(10);
    for (const err of seenErrors) {
      const e = err as Error;
      expect(`${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${String(e)}`).not.toContain(ROUTING_KEY);
    }
  });
});
