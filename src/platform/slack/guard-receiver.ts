import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';

/** Bolt's own default limit for a request body. */
const BODY_LIMIT = 4 * 1024 * 1024;

/** Whether Bolt's parse of this body would give an object (or fail in a way Bolt answers itself). */
function parsesToObjectOrFails(raw: Buffer, contentType: string | undefined): boolean {
  const text = raw.toString();
  let json = text;
  // The same choice Bolt makes: only this exact content type is read as a form.
  if (contentType === 'application/x-www-form-urlencoded') {
    const { payload } = parse(text);
    if (typeof payload !== 'string') return true;
    json = payload;
  }
  // The usual case: an object, or broken JSON that Bolt answers itself; no need to parse it twice.
  if (/^\s*\{/.test(json)) return true;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return true; // Bolt answers 400 "Malformed request body"
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Bolt's HTTP receiver reads `body.ssl_check` before checking that the parsed
 * body is an object, outside its error handling: one signed `payload=null`
 * (or JSON `null`) becomes an unhandled rejection that ends the process. This
 * reads the body of `POST <path>` first, answers 400 to anything that parses
 * to something other than an object, and hands the rest on already buffered
 * (Bolt reuses `rawBody`, so its signature check sees the same bytes).
 */
export function guardHttpReceiver(receiver: HTTPReceiver, path: string): void {
  const boltListener = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== path) return boltListener(req, res);
    readBody(req, BODY_LIMIT).then(
      (raw) => {
        if (raw === 'too_large') return void res.writeHead(413).end();
        if (!parsesToObjectOrFails(raw, req.headers['content-type'])) return void res.writeHead(400).end();
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
        boltListener(req, res);
      },
      () => {
        if (!res.headersSent) res.writeHead(400).end();
      },
    );
  };
}
