import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { selfSigned, type SelfSigned } from './self-signed.js';

/** A local HTTPS site (and its plain-HTTP twin) with a self-signed certificate, for TLS and header checks without a network. */
export interface LocalSite {
  cert: SelfSigned;
  httpsPort: number;
  httpPort: number;
  /** Every host name resolves to 127.0.0.1 through this. */
  lookup: LookupFunction;
  /** Changes what the site answers; `(req, res)` returning true means it handled the request. */
  handler: (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): Promise<void>;
}

/** Resolves every name to 127.0.0.1, in both forms Node's lookup callback takes. */
export const loopbackLookup: LookupFunction = (_hostname, options, callback) => {
  const cb = callback as (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;
  if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

/**
 * Starts the site: `https://<names>:<httpsPort>/api/health` answers JSON, every
 * HTTPS answer carries HSTS, and plain HTTP redirects to HTTPS.
 */
export async function startLocalSite(names: string[], days: number): Promise<LocalSite> {
  const cert = selfSigned(names, days);
  const site: LocalSite = {
    cert,
    httpsPort: 0,
    httpPort: 0,
    lookup: loopbackLookup,
    handler: () => false,
    close: async () => {
      for (const s of [https, http]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
  const https = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    if (site.handler(req, res)) return;
    res.setHeader('Strict-Transport-Security', 'max-age=63072000; includeSubDomains; preload');
    if (req.url === '/api/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: { status: 'ok', checks: { db: { status: 'pass' } } } }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<h1>Drop</h1>');
  });
  const http = createHttpServer((req, res) => {
    res.writeHead(301, { Location: `https://${(req.headers.host ?? 'localhost').replace(/:\d+$/, '')}:${site.httpsPort}${req.url}` });
    res.end();
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  site.httpsPort = (https.address() as AddressInfo).port;
  site.httpPort = (http.address() as AddressInfo).port;
  return site;
}
