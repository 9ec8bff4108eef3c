import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/** What a GET answered. */
export interface HttpAnswer {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text, cut at the probe's limit. */
  body: string;
  /** The URL that answered (after redirects, when followed). */
  url: string;
  ms: number;
}

/** A failed GET: no answer (refused, timed out, TLS error), in words. */
export class HttpProbeError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`GET ${url} failed: ${reason}`);
    this.name = 'HttpProbeError';
  }
}

/** How evidence checks make HTTP requests; the sandbox answers them itself. */
export interface HttpPort {
  get(url: string, opts: { timeoutMs: number; followRedirects: boolean }): Promise<HttpAnswer>;
}

/** Options for the real probe. */
export interface HttpProbeOptions {
  /** Extra trusted certificates (tests trust the self-signed one they made). */
  ca?: string | string[];
  /** How host names resolve (tests point them at 127.0.0.1). */
  lookup?: LookupFunction;
  /** Bodies are read up to this many bytes (default 256 KiB): a health answer is small. */
  maxBodyBytes?: number;
}

const MAX_REDIRECTS = 5;

/** The HttpPort over node:http/https: one GET, redirects followed only when asked (so a `Location` header can be checked). */
export function createHttpProbe(options: HttpProbeOptions = {}): HttpPort {
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  const once = (url: URL, timeoutMs: number): Promise<Omit<HttpAnswer, 'ms'>> =>
    new Promise((resolve, reject) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        url,
        { method: 'GET', headers: { 'user-agent': 'golive-evidence-check', accept: '*/*' }, ...(options.ca ? { ca: options.ca } : {}), ...(options.lookup ? { lookup: options.lookup } : {}), timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < maxBody) chunks.push(c.subarray(0, maxBody - size));
            size += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flatten(res.headers), body: Buffer.concat(chunks).toString('utf8'), url: url.toString() }));
          res.on('error', (err) => reject(new HttpProbeError(url.toString(), reasonOf(err))));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(new HttpProbeError(url.toString(), err.message === 'timeout' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : reasonOf(err))));
      req.end();
    });
  return {
    async get(url, opts) {
      const started = Date.now();
      let current = new URL(url);
      for (let hop = 0; ; hop++) {
        const left = opts.timeoutMs - (Date.now() - started);
        if (left <= 0) throw new HttpProbeError(url, `no answer within ${Math.round(opts.timeoutMs / 1000)} s`);
        const answer = await once(current, left);
        const location = answer.headers.location;
        if (!opts.followRedirects || answer.status < 300 || answer.status >= 400 || !location) return { ...answer, ms: Date.now() - started };
        if (hop >= MAX_REDIRECTS) throw new HttpProbeError(url, `more than ${MAX_REDIRECTS} redirects`);
        current = new URL(location, current);
      }
    },
  };
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function reasonOf(err: Error & { code?: string }): string {
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed (not trusted)',
    SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is not trusted',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate chain is not trusted',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not cover the host name',
  };
  return (err.code && known[err.code]) ?? err.code ?? err.message;
}
