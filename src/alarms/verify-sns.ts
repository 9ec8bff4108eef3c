import { X509Certificate, createVerify } from 'node:crypto';

/** The three kinds of message SNS posts to an HTTP(S) subscription. */
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** The JSON body SNS posts to an HTTP(S) endpoint (only the documented fields are kept). */
export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  /** Notifications only, and only when the publisher gave one. */
  Subject?: string;
  /** Subscription and unsubscribe confirmations only. */
  SubscribeURL?: string;
  /** Subscription and unsubscribe confirmations only. */
  Token?: string;
  /** Notifications only; not covered by the signature. */
  UnsubscribeURL?: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

/** The outcome of verifying an SNS message. */
export type SnsVerifyResult = { ok: true; message: SnsMessage } | { ok: false; reason: string };

/** How {@link createSnsVerifier} fetches certificates and judges time. */
export interface SnsVerifierOptions {
  /**
   * Fetches the PEM text at a SigningCertURL (only ever called with a URL that
   * {@link isTrustedCertUrl} accepts). Defaults to global fetch over HTTPS with
   * a 5 s timeout and no redirects.
   */
  fetchCert?: (url: string) => Promise<string>;
  /** The clock for `maxAgeMs` and `checkCertValidity` (default: the system clock). */
  now?: () => Date;
  /**
   * Rejects messages whose Timestamp is older than this many milliseconds.
   * Off by default. A signed message stays valid forever, so anyone who once
   * captured one could post it again: production turns this on (SNS gives up
   * retrying an HTTP delivery within about an hour, so an hour is a safe
   * bound). Tests leave it off because the real signed fixtures date from 2022.
   */
  maxAgeMs?: number;
  /**
   * Rejects certificates outside their validity dates at `now()`. Off by
   * default, like AWS's PHP and JavaScript validators: the URL and TLS already
   * vouch for the certificate, and the fixtures' certificate expired in 2022.
   */
  checkCertValidity?: boolean;
  /**
   * Requires the certificate to be issued to SNS's signing name for the
   * URL's region (`sns.amazonaws.com`, or `sns-signing.<region>.amazonaws.com`
   * and the China and GovCloud names, as AWS's Java SDK expects). Default true.
   */
  checkCertSubject?: boolean;
  /** How many certificates to keep, by URL (default 50). */
  cacheSize?: number;
}

/** Verifies SNS HTTP(S) messages. */
export interface SnsVerifier {
  /**
   * Verifies one posted body — the parsed JSON object, or its raw text (SNS
   * sends it as text/plain). Never throws; the result says why a message was refused.
   */
  verify(body: unknown): Promise<SnsVerifyResult>;
}

const ALGORITHMS: Readonly<Record<string, string>> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };
const TYPES: readonly string[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];
const CERT_HOST = /^sns\.([a-z]{2,4}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(\.cn)?$/;
const FETCH_TIMEOUT_MS = 5000;
const MAX_CERT_BYTES = 64 * 1024;

/**
 * The canonical string SNS signs: for a Notification the Message, MessageId,
 * Subject (when present), Timestamp, TopicArn and Type; for a subscription or
 * unsubscribe confirmation the Message, MessageId, SubscribeURL, Timestamp,
 * Token, TopicArn and Type — each as `Key\nValue\n`.
 * @throws Error when a confirmation lacks its SubscribeURL or Token.
 */
export function snsStringToSign(msg: SnsMessage): string {
  const keys: (keyof SnsMessage)[] =
    msg.Type === 'Notification'
      ? ['Message', 'MessageId', ...(msg.Subject === undefined ? [] : (['Subject'] as const)), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .map((key) => {
      const value = msg[key];
      if (value === undefined) throw new Error(`${msg.Type} has no ${key}`);
      return `${key}\n${value}\n`;
    })
    .join('');
}

/**
 * Whether a SigningCertURL may be fetched: https, host exactly
 * `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn` for a `cn-` region),
 * default port, no credentials or query, and a path ending in `.pem`.
 */
export function isTrustedCertUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = CERT_HOST.exec(parsed.hostname);
  if (!host) return false;
  const china = host[2] !== undefined;
  return (
    parsed.protocol === 'https:' &&
    china === host[1]?.startsWith('cn-') &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.search === '' &&
    parsed.hash === '' &&
    parsed.pathname.endsWith('.pem')
  );
}

/**
 * A verifier following AWS's "Verifying the signatures of Amazon SNS
 * messages": SignatureVersion 1 (RSA-SHA1) or 2 (RSA-SHA256), the certificate
 * only from an SNS URL (checked before anything is fetched), cached by URL.
 * Reasons are short: "not an SNS message", "unsupported SignatureVersion 3",
 * "SigningCertURL is not an SNS certificate URL", "signature does not match",
 * "certificate could not be fetched: …", among others.
 */
export function createSnsVerifier(options: SnsVerifierOptions = {}): SnsVerifier {
  const fetchCert = options.fetchCert ?? fetchCertificate;
  const now = options.now ?? (() => new Date());
  const cacheSize = Math.max(1, options.cacheSize ?? 50);
  const checkSubject = options.checkCertSubject ?? true;
  const cache = new Map<string, Promise<CertLoad>>();

  function loadCert(url: string): Promise<CertLoad> {
    const hit = cache.get(url);
    if (hit) {
      // Re-inserting keeps the Map in least-recently-used order for eviction.
      cache.delete(url);
      cache.set(url, hit);
      return hit;
    }
    const pending = readCert(url, fetchCert, checkSubject).then((load) => {
      if (!load.ok && cache.get(url) === pending) cache.delete(url);
      return load;
    });
    cache.set(url, pending);
    while (cache.size > cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return pending;
  }

  return {
    async verify(body) {
      const read = readSnsMessage(body);
      if (!read.ok) return read;
      const msg = read.message;
      const algorithm = ALGORITHMS[msg.SignatureVersion];
      if (algorithm === undefined) return fail(`unsupported SignatureVersion ${clip(msg.SignatureVersion)}`);
      if (!isTrustedCertUrl(msg.SigningCertURL)) return fail('SigningCertURL is not an SNS certificate URL');
      if (options.maxAgeMs !== undefined) {
        const sent = Date.parse(msg.Timestamp);
        if (Number.isNaN(sent)) return fail('Timestamp is not a valid time');
        if (now().getTime() - sent > options.maxAgeMs) return fail(`message is older than ${options.maxAgeMs} ms`);
      }
      const load = await loadCert(msg.SigningCertURL);
      if (!load.ok) return load;
      if (options.checkCertValidity) {
        const at = now().getTime();
        if (!(Date.parse(load.cert.validFrom) <= at && at <= Date.parse(load.cert.validTo))) {
          return fail(`certificate is not valid at ${now().toISOString()} (valid ${load.cert.validFrom} to ${load.cert.validTo})`);
        }
      }
      return signatureMatches(msg, algorithm, load.cert) ? { ok: true, message: msg } : fail('signature does not match');
    },
  };
}

type CertLoad = { ok: true; cert: X509Certificate } | { ok: false; reason: string };

async function readCert(url: string, fetchCert: (url: string) => Promise<string>, checkSubject: boolean): Promise<CertLoad> {
  let pem: string;
  try {
    pem = await fetchCert(url);
  } catch (err) {
    return fail(`certificate could not be fetched: ${describeError(err)}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return fail('certificate is not an X.509 certificate');
  }
  if (checkSubject && !signingNames(url).some((name) => cert.checkHost(name) !== undefined)) {
    return fail(`certificate is not an SNS signing certificate (${clip(cert.subject.replace(/\n/g, ', '))})`);
  }
  return { ok: true, cert };
}

/** The names SNS signing certificates are issued to for the region in a trusted cert URL. */
function signingNames(url: string): string[] {
  const region = CERT_HOST.exec(new URL(url).hostname)?.[1] ?? '';
  if (region.startsWith('cn-')) return [`sns-${region}.amazonaws.com.cn`, `sns-signing.${region}.amazonaws.com.cn`];
  // Both GovCloud regions sign with the us-gov-west-1 certificate.
  if (region.startsWith('us-gov-')) return ['sns-us-gov-west-1.amazonaws.com', `sns-signing.${region}.amazonaws.com`];
  return ['sns.amazonaws.com', `sns-signing.${region}.amazonaws.com`];
}

function signatureMatches(msg: SnsMessage, algorithm: string, cert: X509Certificate): boolean {
  // Node's base64 decoder skips junk and ignores trailing bits, so a tampered Signature could decode to the original bytes.
  const signature = Buffer.from(msg.Signature, 'base64');
  if (signature.length === 0 || signature.toString('base64') !== msg.Signature) return false;
  try {
    return createVerify(algorithm).update(snsStringToSign(msg), 'utf8').verify(cert.publicKey, signature);
  } catch {
    return false;
  }
}

type ReadResult = { ok: true; message: SnsMessage } | { ok: false; reason: string };

function readSnsMessage(body: unknown): ReadResult {
  let value = body;
  if (value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return fail('not an SNS message');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not an SNS message');
  const raw = value as Record<string, unknown>;
  if (typeof raw.Type !== 'string') return fail('not an SNS message');
  if (!TYPES.includes(raw.Type)) return fail(`unknown SNS message Type "${clip(raw.Type)}"`);
  const type = raw.Type as SnsMessageType;
  const confirmation = type !== 'Notification';

  const required = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'];
  if (confirmation) required.push('SubscribeURL', 'Token');
  const optional = confirmation ? [] : ['Subject', 'UnsubscribeURL'];
  const message: Record<string, string> = { Type: type };
  for (const key of required) {
    if (typeof raw[key] !== 'string') return fail(`SNS message has no ${key}`);
    message[key] = raw[key];
  }
  for (const key of optional) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return fail(`SNS message ${key} is not a string`);
    message[key] = v;
  }
  return { ok: true, message: message as unknown as SnsMessage };
}

async function fetchCertificate(url: string): Promise<string> {
  // No redirects: the URL was vetted, wherever it might redirect to was not.
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_CERT_BYTES) throw new Error('response is too large for a certificate');
  return text;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause ? `${err.message} (${cause})` : err.message;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
