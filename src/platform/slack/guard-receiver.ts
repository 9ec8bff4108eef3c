import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';

/** Bolt's own default limit for a request body. */
export const BODY_LIMIT = 4 * 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether an envelope of a type golive handles has the fields Bolt reads
 * before any listener runs (`actions`, `user`, `view`, `view.state.values`,
 * `event`). Slack always sends them; a body without them would make Bolt (or
 * the form handler) throw, and the sender get a 500.
 */
function wellFormedEnvelope(value: Record<string, unknown>): boolean {
  const hasUser = isObject(value.user) && typeof value.user.id === 'string';
  switch (value.type) {
    case 'block_actions':
      return hasUser && Array.isArray(value.actions) && value.actions.every(isObject);
    case 'view_submission':
      return hasUser && isObject(value.view) && isObject(value.view.state) && isObject(value.view.state.values);
    case 'view_closed':
      return hasUser && isObject(value.view);
    case 'event_callback':
      return isObject(value.event);
    default:
      return true;
  }
}

/** Whether Bolt's parse of this body gives an object it can route (or fails in a way Bolt answers itself). */
function parsesToObjectOrFails(raw: Buffer, contentType: string | undefined): boolean {
  const parsed = parseAsBolt(raw.toString(), contentType);
  // A slash command is a flat form; a body that is not JSON, Bolt answers 400 "Malformed request body" itself.
  return parsed.form !== undefined || parsed.unparsable === true || (isObject(parsed.json) && wellFormedEnvelope(parsed.json));
}

/** The same reading as Bolt's: only this exact content type is a form, whose `payload` (if any) is JSON. */
function parseAsBolt(text: string, contentType: string | undefined): { form?: Record<string, unknown>; json?: unknown; unparsable?: true } {
  let json = text;
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = parse(text);
    if (typeof form.payload !== 'string') return { form: { ...form } };
    json = form.payload;
  }
  try {
    return { json: JSON.parse(json) as unknown };
  } catch {
    return { unparsable: true };
  }
}

/** The request body (`text`, as read) as Bolt reads it, when it is a well-formed envelope (or a slash command's form); else undefined. */
export function slackBody(text: string, contentType: string | undefined): Record<string, unknown> | undefined {
  const parsed = parseAsBolt(text, contentType);
  if (parsed.form) return parsed.form;
  return isObject(parsed.json) && wellFormedEnvelope(parsed.json) ? parsed.json : undefined;
}

/** Reads a request's body, at most `limit` bytes (more: 'too_large', the rest read and dropped). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
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
 * (or JSON `null`) becomes an unhandled rejection that ends the process, and
 * an envelope without the fields Slack always sends (`actions: null`, a click
 * without `user`, `view: null`, `event: null`) a 500. This reads the body of
 * `POST <path>` first, answers 400 to anything that parses to something other
 * than a well-formed envelope, and hands the rest on already buffered
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
