import { signed, testSigner } from '../support/sns-signer.js';
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSnsAlarmMessage } from '../../src/alarms/parse-alarm-event.js';
import { createSnsVerifier, isTrustedCertUrl, snsStringToSign, type SnsMessage } from '../../src/alarms/verify-sns.js';

const AWS = new URL('../fixtures/aws/', import.meta.url);
const readText = (path: string) => readFileSync(new URL(path, AWS), 'utf8');
const readJson = (path: string) => JSON.parse(readText(path)) as Record<string, string>;

const FIXTURE_CERT = readText('sns-signed/sns-signing-cert-2021.pem');
const SIGNED = readdirSync(new URL('sns-signed/', AWS))
  .filter((f) => /^http_notification_.*\.json$/.test(f))
  .sort();
const DOCS = ['notification.json', 'subscription_confirmation.json', 'unsubscribe_confirmation.json'];

/** A fetchCert that serves the fixture certificate and records what it was asked for. */
function fixtureFetch(pem = FIXTURE_CERT) {
  return vi.fn(async (_url: string) => pem);
}

/** Replaces the character at `index` with a different one from the same alphabet. */
function mutate(text: string, index: number): string {
  const c = text.charAt(index);
  return text.slice(0, index) + (c === 'A' ? 'B' : 'A') + text.slice(index + 1);
}

describe('the real signed SNS notifications', () => {
  it('finds the four fixtures', () => {
    expect(SIGNED).toHaveLength(4);
  });

  it.each(SIGNED)('%s verifies with the fixture certificate fetched from its SigningCertURL', async (file) => {
    const body = readJson(`sns-signed/${file}`);
    const fetchCert = fixtureFetch();
    const result = await createSnsVerifier({ fetchCert }).verify(body);
    expect(result).toStrictEqual({ ok: true, message: body });
    expect(fetchCert).toHaveBeenCalledTimes(1);
    expect(fetchCert).toHaveBeenCalledWith(body.SigningCertURL);
  });

  it.each(SIGNED)('%s verifies from its raw text/plain body too', async (file) => {
    const text = readText(`sns-signed/${file}`);
    const result = await createSnsVerifier({ fetchCert: fixtureFetch() }).verify(text);
    expect(result.ok).toBe(true);
    expect(await createSnsVerifier({ fetchCert: fixtureFetch() }).verify(Buffer.from(text))).toStrictEqual(result);
  });

  describe.each(SIGNED)('%s with one character changed', (file) => {
    const body = readJson(`sns-signed/${file}`);
    const fields = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Subject', 'Signature'].filter((f) => body[f] !== undefined);
    const cases = fields.flatMap((field) => {
      const value = body[field] ?? '';
      return [0, Math.floor(value.length / 2), value.length - 1].map((index) => [field, index] as const);
    });
    it.each(cases)('%s at %i is rejected', async (field, index) => {
      const tampered = { ...body, [field]: mutate(body[field] ?? '', index) };
      expect(await createSnsVerifier({ fetchCert: fixtureFetch() }).verify(tampered)).toStrictEqual({
        ok: false,
        reason: 'signature does not match',
      });
    });
  });

  it.each(SIGNED)('%s with the other SignatureVersion is rejected', async (file) => {
    const body = readJson(`sns-signed/${file}`);
    const other = body.SignatureVersion === '1' ? '2' : '1';
    const result = await createSnsVerifier({ fetchCert: fixtureFetch() }).verify({ ...body, SignatureVersion: other });
    expect(result).toStrictEqual({ ok: false, reason: 'signature does not match' });
  });

  it('ignores UnsubscribeURL, which SNS does not sign', async () => {
    const body = readJson('sns-signed/http_notification_1_sigv1.json');
    const result = await createSnsVerifier({ fetchCert: fixtureFetch() }).verify({ ...body, UnsubscribeURL: 'https://example.com/' });
    expect(result.ok).toBe(true);
  });

  it('rejects an unknown SignatureVersion before fetching anything', async () => {
    const fetchCert = fixtureFetch();
    const body = readJson('sns-signed/http_notification_1_sigv1.json');
    for (const version of ['3', '', 'SHA256']) {
      expect(await createSnsVerifier({ fetchCert }).verify({ ...body, SignatureVersion: version })).toStrictEqual({
        ok: false,
        reason: `unsupported SignatureVersion ${version}`,
      });
    }
    expect(fetchCert).not.toHaveBeenCalled();
  });

  it.each([
    'https://evil.example/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem',
    'http://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem',
    'https://sns.us-east-2.amazonaws.com.evil.com/x.pem',
    'https://sns.us-east-2.amazonaws.com@evil.example/x.pem',
    'https://sns.us-east-2.amazonaws.com:8443/x.pem',
    'https://sns.us-east-2.amazonaws.com/x.txt',
    'not a url',
  ])('rejects SigningCertURL %s without calling fetchCert', async (url) => {
    const fetchCert = fixtureFetch();
    const body = readJson('sns-signed/http_notification_2_sigv2.json');
    expect(await createSnsVerifier({ fetchCert }).verify({ ...body, SigningCertURL: url })).toStrictEqual({
      ok: false,
      reason: 'SigningCertURL is not an SNS certificate URL',
    });
    expect(fetchCert).not.toHaveBeenCalled();
  });

  it('fetches a certificate once for every message signed with it', async () => {
    const fetchCert = fixtureFetch();
    const verifier = createSnsVerifier({ fetchCert });
    const results = await Promise.all(SIGNED.map((f) => verifier.verify(readJson(`sns-signed/${f}`))));
    results.push(await verifier.verify(readJson(`sns-signed/${SIGNED[0]}`)));
    expect(results.map((r) => r.ok)).toStrictEqual([true, true, true, true, true]);
    expect(fetchCert).toHaveBeenCalledTimes(1);
  });

  it('keeps at most cacheSize certificates, dropping the least recently used', async () => {
    const { key, pem } = testSigner();
    const fetchCert = fixtureFetch(pem);
    const verifier = createSnsVerifier({ fetchCert, cacheSize: 2 });
    const at = (n: number) => signed(key, { SigningCertURL: `https://sns.us-east-1.amazonaws.com/cert-${n}.pem` });
    for (const n of [1, 2, 1, 3, 1, 2]) expect((await verifier.verify(at(n))).ok).toBe(true);
    expect(fetchCert.mock.calls.map(([url]) => url.slice(-5))).toStrictEqual(['1.pem', '2.pem', '3.pem', '2.pem']);
  });

  it('does not cache a failed fetch', async () => {
    const fetchCert = vi.fn<(url: string) => Promise<string>>().mockRejectedValueOnce(new Error('socket hang up'));
    fetchCert.mockResolvedValue(FIXTURE_CERT);
    const verifier = createSnsVerifier({ fetchCert });
    const body = readJson('sns-signed/http_notification_3_sigv1.json');
    expect(await verifier.verify(body)).toStrictEqual({ ok: false, reason: 'certificate could not be fetched: socket hang up' });
    expect((await verifier.verify(body)).ok).toBe(true);
    expect(fetchCert).toHaveBeenCalledTimes(2);
  });

  it('refuses what is not an X.509 certificate', async () => {
    const body = readJson('sns-signed/http_notification_3_sigv1.json');
    const result = await createSnsVerifier({ fetchCert: async () => '<html>hello</html>' }).verify(body);
    expect(result).toStrictEqual({ ok: false, reason: 'certificate is not an X.509 certificate' });
  });

  it('accepts the expired fixture certificate unless asked to check validity dates', async () => {
    const body = readJson('sns-signed/http_notification_4_sigv2.json');
    const strict = createSnsVerifier({ fetchCert: fixtureFetch(), checkCertValidity: true, now: () => new Date('2026-01-01T00:00:00Z') });
    expect(await strict.verify(body)).toStrictEqual({
      ok: false,
      reason: 'certificate is not valid at 2026-01-01T00:00:00.000Z (valid Sep  7 00:00:00 2021 GMT to Aug 17 23:59:59 2022 GMT)',
    });
    const then = createSnsVerifier({ fetchCert: fixtureFetch(), checkCertValidity: true, now: () => new Date('2022-07-28T23:00:00Z') });
    expect((await then.verify(body)).ok).toBe(true);
  });

  it('rejects messages older than maxAgeMs, only when maxAgeMs is given', async () => {
    const body = readJson('sns-signed/http_notification_1_sigv1.json'); // Timestamp 2022-07-28T21:23:58.317Z
    const fetchCert = fixtureFetch();
    const at = (iso: string) => createSnsVerifier({ fetchCert, maxAgeMs: 3_600_000, now: () => new Date(iso) });
    expect((await at('2022-07-28T22:23:58.317Z').verify(body)).ok).toBe(true);
    expect(await at('2022-07-28T22:23:58.318Z').verify(body)).toStrictEqual({ ok: false, reason: 'message is older than 3600000 ms' });
    expect(await at('2022-07-28T22:00:00Z').verify({ ...body, Timestamp: 'yesterday' })).toStrictEqual({
      ok: false,
      reason: 'Timestamp is not a valid time',
    });
  });
});

describe('the SNS developer guide examples', () => {
  it.each(DOCS)('%s (placeholder signature) is rejected', async (file) => {
    const body = readJson(`sns-docs/${file}`);
    const fetchCert = fixtureFetch();
    expect(await createSnsVerifier({ fetchCert }).verify(body)).toStrictEqual({ ok: false, reason: 'signature does not match' });
    expect(fetchCert).toHaveBeenCalledWith(body.SigningCertURL);
  });

  it('builds the string to sign of a SubscriptionConfirmation from its seven fields', () => {
    const body = readJson('sns-docs/subscription_confirmation.json') as unknown as SnsMessage;
    expect(snsStringToSign(body)).toBe(
      `Message\n${body.Message}\nMessageId\n${body.MessageId}\nSubscribeURL\n${body.SubscribeURL}\nTimestamp\n${body.Timestamp}\n` +
        `Token\n${body.Token}\nTopicArn\n${body.TopicArn}\nType\nSubscriptionConfirmation\n`,
    );
  });

  it('builds the string to sign of a Notification with its Subject', () => {
    const body = readJson('sns-docs/notification.json') as unknown as SnsMessage;
    expect(snsStringToSign(body)).toBe(
      'Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n' +
        'Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n',
    );
    const { Subject: _omitted, ...withoutSubject } = body;
    expect(snsStringToSign(withoutSubject)).not.toContain('Subject');
  });
});

describe('malformed bodies', () => {
  const base = readJson('sns-signed/http_notification_1_sigv1.json');
  it.each([
    ['a non-JSON text', 'hello', 'not an SNS message'],
    ['null', null, 'not an SNS message'],
    ['an array', [base], 'not an SNS message'],
    ['an EventBridge event', { 'detail-type': 'CloudWatch Alarm State Change' }, 'not an SNS message'],
    ['an unknown Type', { ...base, Type: 'Hello' }, 'unknown SNS message Type "Hello"'],
    ['a missing Signature', { ...base, Signature: undefined }, 'SNS message has no Signature'],
    ['a numeric Timestamp', { ...base, Timestamp: 1 }, 'SNS message has no Timestamp'],
    ['the Lambda event spelling SigningCertUrl', { ...base, SigningCertURL: undefined, SigningCertUrl: base.SigningCertURL }, 'SNS message has no SigningCertURL'],
    ['a confirmation without Token', { ...readJson('sns-docs/subscription_confirmation.json'), Token: undefined }, 'SNS message has no Token'],
    ['a numeric Subject', { ...base, Subject: 7 }, 'SNS message Subject is not a string'],
  ])('refuses %s', async (_what, body, reason) => {
    const fetchCert = fixtureFetch();
    expect(await createSnsVerifier({ fetchCert }).verify(body)).toStrictEqual({ ok: false, reason });
    expect(fetchCert).not.toHaveBeenCalled();
  });

  it('treats a null Subject as absent', async () => {
    const result = await createSnsVerifier({ fetchCert: fixtureFetch() }).verify({ ...base, Subject: null });
    expect(result).toStrictEqual({ ok: true, message: base });
  });
});

describe('messages signed with a test certificate', () => {
  it.each(['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const)('verifies a %s', async (type) => {
    const { key, pem } = testSigner();
    const doc = readJson(type === 'SubscriptionConfirmation' ? 'sns-docs/subscription_confirmation.json' : 'sns-docs/unsubscribe_confirmation.json');
    const body = signed(key, { ...doc, Type: type, SigningCertURL: 'https://sns.us-west-2.amazonaws.com/test.pem' });
    expect(await createSnsVerifier({ fetchCert: fixtureFetch(pem) }).verify(body)).toStrictEqual({ ok: true, message: body });
    const forged = { ...body, SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription' };
    expect(await createSnsVerifier({ fetchCert: fixtureFetch(pem) }).verify(forged)).toStrictEqual({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('verifies a CloudWatch alarm notification whose Message then parses', async () => {
    const { key, pem } = testSigner();
    const alarm = JSON.stringify({ ...JSON.parse(readText('sns-lambda/cloudwatch-alarm-sns-payload-single-metric.Message.json')), Region: 'US East (Ohio)' });
    const body = signed(key, { Message: alarm, Subject: 'ALARM: "EXAMPLE" in US East (Ohio)', SignatureVersion: '1' });
    const result = await createSnsVerifier({ fetchCert: fixtureFetch(pem) }).verify(JSON.stringify(body));
    if (!result.ok) throw new Error(result.reason);
    expect(parseSnsAlarmMessage(result.message.Message, result.message.TopicArn)).toMatchObject({
      ok: true,
      transition: { alarmName: 'EXAMPLE', to: 'ALARM', region: 'us-east-2', source: 'sns' },
    });
  });

  it('refuses a certificate issued to another name, unless the subject check is off', async () => {
    const { key, pem } = testSigner('evil.example');
    const body = signed(key, {});
    expect(await createSnsVerifier({ fetchCert: fixtureFetch(pem) }).verify(body)).toStrictEqual({
      ok: false,
      reason: 'certificate is not an SNS signing certificate (CN=evil.example)',
    });
    expect((await createSnsVerifier({ fetchCert: fixtureFetch(pem), checkCertSubject: false }).verify(body)).ok).toBe(true);
  });

  it.each([
    ['ap-east-1', 'sns-signing.ap-east-1.amazonaws.com', 'https://sns.ap-east-1.amazonaws.com/x.pem'],
    ['cn-north-1', 'sns-cn-north-1.amazonaws.com.cn', 'https://sns.cn-north-1.amazonaws.com.cn/x.pem'],
    ['us-gov-east-1', 'sns-us-gov-west-1.amazonaws.com', 'https://sns.us-gov-east-1.amazonaws.com/x.pem'],
  ])('accepts the regional signing name of %s', async (_region, cn, url) => {
    const { key, pem } = testSigner(cn);
    const result = await createSnsVerifier({ fetchCert: fixtureFetch(pem) }).verify(signed(key, { SigningCertURL: url }));
    expect(result.ok).toBe(true);
  });
});

describe('isTrustedCertUrl', () => {
  it.each([
    'https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem',
    'https://sns.eu-central-2.amazonaws.com/a.pem',
    'https://sns.us-gov-west-1.amazonaws.com/a.pem',
    'https://sns.cn-northwest-1.amazonaws.com.cn/a.pem',
    'https://SNS.US-EAST-1.AMAZONAWS.COM/a.pem',
  ])('trusts %s', (url) => expect(isTrustedCertUrl(url)).toBe(true));

  it.each([
    'https://sns.amazonaws.com/a.pem',
    'https://sns.us-east-1.amazonaws.com.cn/a.pem',
    'https://sns.cn-north-1.amazonaws.com/a.pem',
    'https://sqs.us-east-1.amazonaws.com/a.pem',
    'https://sns.us-east-1.amazonaws.com./a.pem',
    'https://x.sns.us-east-1.amazonaws.com/a.pem',
    'https://user:pw@sns.us-east-1.amazonaws.com/a.pem',
    'https://sns.us-east-1.amazonaws.com/a.pem?x=1',
    'https://sns.us-east-1.amazonaws.com/a.pem#x',
    'https://sns.us-east-1.amazonaws.com/',
    'ftp://sns.us-east-1.amazonaws.com/a.pem',
    'file:///etc/a.pem',
    '',
  ])('does not trust %s', (url) => expect(isTrustedCertUrl(url)).toBe(false));
});

describe('the default certificate fetch', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('uses fetch without following redirects and with a timeout', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(FIXTURE_CERT));
    vi.stubGlobal('fetch', fetchMock);
    const body = readJson('sns-signed/http_notification_2_sigv2.json');
    expect((await createSnsVerifier().verify(body)).ok).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe(body.SigningCertURL);
    expect(init?.redirect).toBe('error');
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('reports an HTTP error and a network error', async () => {
    const body = readJson('sns-signed/http_notification_2_sigv2.json');
    vi.stubGlobal('fetch', async () => new Response('no', { status: 403 }));
    expect(await createSnsVerifier().verify(body)).toStrictEqual({ ok: false, reason: 'certificate could not be fetched: HTTP 403' });
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND sns.us-east-2.amazonaws.com') });
    });
    expect(await createSnsVerifier().verify(body)).toStrictEqual({
      ok: false,
      reason: 'certificate could not be fetched: fetch failed (getaddrinfo ENOTFOUND sns.us-east-2.amazonaws.com)',
    });
  });
});

// ---- a throwaway signer: an RSA key and a self-signed certificate built here, so no key material is checked in ----

