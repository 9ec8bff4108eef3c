import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The SES account a shim reports (SESv2 GetAccount's fields). */
export interface ShimAccount {
  ProductionAccessEnabled: boolean;
  SendingEnabled: boolean;
  EnforcementStatus: string;
  SendQuota: { Max24HourSend: number; MaxSendRate: number; SentLast24Hours: number };
  Details?: { ReviewDetails?: { Status?: string } };
}

/** A proxy in front of moto that answers SESv2 GetAccount (moto 5.2.1 lacks it) and passes everything else through. */
export interface SesShim {
  /** Use as AWS_ENDPOINT_URL. */
  url: string;
  /** The account GetAccount reports; change it between calls. */
  account: ShimAccount;
  close(): Promise<void>;
}

/**
 * moto records sent mail (SendEmail passes through to it) but has no
 * GetAccount, so SES production access cannot be read or changed there.
 */
export async function startSesShim(motoUrl: string): Promise<SesShim> {
  const target = new URL(motoUrl);
  const account: ShimAccount = { ProductionAccessEnabled: false, SendingEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 } };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'GET' && req.url?.split('?')[0] === '/v2/email/account') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(shim.account));
        return;
      }
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const shim: SesShim = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    account,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return shim;
}

/** One email moto recorded (SESv2 sends land under `ses` in moto's data.json). */
export interface SentMail {
  id: string;
  source: string;
  subject: string;
  body: string;
  destinations: { ToAddresses?: string[] };
}

/** Every email moto has recorded since its last reset. */
export async function sentMail(motoUrl: string): Promise<SentMail[]> {
  const res = await fetch(`${motoUrl}/moto-api/data.json`);
  const data = (await res.json()) as { ses?: { Message?: SentMail[] } };
  return data.ses?.Message ?? [];
}
