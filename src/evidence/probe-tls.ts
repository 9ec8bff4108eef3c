import { connect, type PeerCertificate } from 'node:tls';
import type { LookupFunction } from 'node:net';

/** The certificate a TLS server presents for a host name. */
export interface ServedCertificate {
  /** The subject's common name. */
  subject: string;
  /** DNS names it covers (subjectAltName), the CN when there are none. */
  names: string[];
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Whether the chain is trusted (by the machine's CAs plus any the probe was given). */
  trusted: boolean;
  /** Why it is not trusted, in words. */
  untrustedBecause?: string;
}

/** A TLS connection that did not get as far as a certificate. */
export class TlsProbeError extends Error {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(`TLS connection to ${target} failed: ${reason}`);
    this.name = 'TlsProbeError';
  }
}

/** How evidence checks read served certificates; the sandbox answers itself. */
export interface TlsPort {
  /** Connects to host:port with SNI `host` and returns the certificate served. */
  servedCertificate(host: string, port: number, timeoutMs: number): Promise<ServedCertificate>;
}

/** Options for the real probe. */
export interface TlsProbeOptions {
  ca?: string | string[];
  lookup?: LookupFunction;
}

const UNTRUSTED: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed certificate nobody trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its issuer is not a trusted authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not a trusted authority',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  CERT_REVOKED: 'it has been revoked',
};

/** The TlsPort over node:tls. The connection verifies nothing itself; the check decides from what it reports. */
export function createTlsProbe(options: TlsProbeOptions = {}): TlsPort {
  return {
    servedCertificate: (host, port, timeoutMs) =>
      new Promise((resolve, reject) => {
        const target = `${host}:${port}`;
        const socket = connect({ host, port, servername: host, rejectUnauthorized: false, ...(options.ca ? { ca: options.ca } : {}), ...(options.lookup ? { lookup: options.lookup } : {}), timeout: timeoutMs });
        socket.once('secureConnect', () => {
          const cert: PeerCertificate = socket.getPeerCertificate();
          const reason = socket.authorizationError ? String(socket.authorizationError) : undefined;
          socket.end();
          if (!cert || Object.keys(cert).length === 0) return reject(new TlsProbeError(target, 'the server presented no certificate'));
          const names = (cert.subjectaltname ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.startsWith('DNS:'))
            .map((s) => s.slice(4).toLowerCase());
          const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
          const issuer = cert.issuer?.O ?? cert.issuer?.CN;
          resolve({
            subject: cn,
            names: names.length > 0 ? names : cn ? [cn.toLowerCase()] : [],
            issuer: typeof issuer === 'string' ? issuer : '',
            validFrom: new Date(cert.valid_from).toISOString(),
            validTo: new Date(cert.valid_to).toISOString(),
            trusted: socket.authorized,
            ...(socket.authorized ? {} : { untrustedBecause: (reason && UNTRUSTED[reason]) ?? reason ?? 'its chain could not be verified' }),
          });
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new TlsProbeError(target, `no answer within ${Math.round(timeoutMs / 1000)} s`));
        });
        socket.once('error', (err: Error & { code?: string }) => reject(new TlsProbeError(target, err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'host not found' : (err.code ?? err.message))));
      }),
  };
}

/** Whether a certificate name (possibly `*.example.com`) covers a host name: a wildcard stands for exactly one leftmost label. */
export function coversName(certName: string, host: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!c.startsWith('*.')) return c === h;
  const rest = c.slice(2);
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === rest;
}
