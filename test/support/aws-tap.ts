import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One AWS call that passed through the tap. */
export interface TappedCall {
  /** `UpdateService`, `DescribeServices`, … (from X-Amz-Target, or the query protocol's Action). */
  operation: string;
  /** The request path: REST APIs (Route 53, SES v2) name the operation there, not in a header. */
  path: string;
  body: string;
  /** HTTP status answered to the app; 0 when the connection was dropped. */
  status: number;
  /** Whether the call reached the real endpoint (moto). */
  forwarded: boolean;
}

/** What {@link AwsTap.before} / {@link AwsTap.after} can do with a call. */
export type TapAction =
  | void
  /** Drop the connection without an answer (and, in `before`, without forwarding). */
  | 'drop'
  /** Never answer (until the tap closes): a call that times out. */
  | 'hang'
  /** Answer with an AWS-style JSON error instead of forwarding. */
  | { status: number; type: string; message: string };

/** A local HTTP proxy in front of moto that sees every AWS call, can fail it, or act (kill the app) at a chosen one. */
export interface AwsTap {
  /** Use as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  readonly calls: TappedCall[];
  /** Runs before a call is forwarded. */
  before?: (call: TappedCall) => TapAction | Promise<TapAction>;
  /** Runs after moto answered, before the answer is passed on. */
  after?: (call: TappedCall) => TapAction | Promise<TapAction>;
  /** Calls of one operation that reached moto. */
  forwarded(operation: string): TappedCall[];
  /** Stops listening, so that every connection to the endpoint is refused (ECONNREFUSED): AWS unreachable. */
  unplug(): Promise<void>;
  /** Listens again on the same port. */
  plugIn(): Promise<void>;
  close(): Promise<void>;
}

function operationOf(req: IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return new URLSearchParams(body).get('Action') ?? 'unknown';
}

export async function startAwsTap(upstream: string): Promise<AwsTap> {
  const up = new URL(upstream);
  const calls: TappedCall[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const call: TappedCall = { operation: operationOf(req, raw.toString('utf8')), path: req.url ?? '', body: raw.toString('utf8'), status: 0, forwarded: false };
    calls.push(call);
    const fail = (action: TapAction): boolean => {
      if (action === 'hang') return true;
      if (action === 'drop') {
        req.socket.destroy();
        return true;
      }
      if (action && typeof action === 'object') {
        call.status = action.status;
        res.writeHead(action.status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-errortype': action.type });
        res.end(JSON.stringify({ __type: action.type, message: action.message }));
        return true;
      }
      return false;
    };
    if (fail(await tap.before?.(call))) return;
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (r) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(parts) }));
        r.on('error', reject);
      });
      out.on('error', reject);
      out.end(raw);
    });
    call.forwarded = true;
    if (fail(await tap.after?.(call))) return;
    call.status = answer.status;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const tap: AwsTap = {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    forwarded: (operation) => calls.filter((c) => c.operation === operation && c.forwarded),
    unplug: close,
    plugIn: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close,
  };
  return tap;
}
