import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackError } from '../../src/sandbox/block-limits.js';

/** A file as the fake Slack holds it: announced by getUploadURLExternal, filled by the upload, shared by completeUploadExternal. */
export interface FakeFile {
  id: string;
  filename: string;
  /** The byte count getUploadURLExternal was told. */
  length: number;
  altText?: string;
  /** The bytes the upload URL received (the `file`/`body` part of a multipart form, or the raw body). */
  content?: Buffer;
  /** How the bytes came: raw, or as a multipart form (what @slack/web-api's filesUploadV2 sends). */
  encoding?: 'raw' | 'multipart';
  /** Whether the upload request carried an Authorization header (the upload URL needs none). */
  uploadAuthorized?: boolean;
  title?: string;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  completed: boolean;
}

type Body = Record<string, unknown>;

function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The first file part of a multipart/form-data body. */
function multipartFile(body: Buffer, contentType: string): Buffer | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) return undefined;
  const text = body.toString('latin1');
  for (const part of text.split(`--${mark}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    if (!/filename=/i.test(head) && !/name="(file|body)"/i.test(head)) continue;
    return Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1');
  }
  return undefined;
}

/**
 * files.uploadV2's three steps as Slack documents them: getUploadURLExternal
 * hands out an upload URL on another origin (as files.slack.com is to
 * slack.com), the bytes are POSTed there (raw or multipart; HTTP 200 means
 * taken, and the length must match), and completeUploadExternal shares
 * uploaded files, once, posting a file_share message when a channel is given.
 */
export async function startFakeFiles(postShare: (channel: string, text: string, threadTs: string | undefined, file: FakeFile) => void) {
  const files = new Map<string, FakeFile>();
  let counter = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const id = /^\/upload\/v1\/(F[A-Z0-9]+)$/.exec(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)?.[1];
      const file = id ? files.get(id) : undefined;
      const bytes = await readBytes(req);
      if (req.method !== 'POST' || !file || file.completed) {
        res.writeHead(404).end('not found');
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      const content = type.startsWith('multipart/form-data') ? multipartFile(bytes, type) : bytes;
      if (!content || content.byteLength !== file.length) {
        res.writeHead(400).end(`expected ${file.length} bytes, got ${content?.byteLength ?? 'no file part'}`);
        return;
      }
      file.content = content;
      file.encoding = type.startsWith('multipart/form-data') ? 'multipart' : 'raw';
      file.uploadAuthorized = req.headers.authorization !== undefined;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`OK - ${content.byteLength}`);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const uploadBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const handlers = {
    'files.getUploadURLExternal': {
      validate: (args: Body) => {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || !args.filename) return slackError('invalid_arguments', ['[ERROR] missing required field: filename']);
        if (!Number.isInteger(length) || length < 1) return slackError('invalid_arguments', ['[ERROR] missing required field: length']);
        if (typeof args.alt_txt === 'string' && args.alt_txt.length > 1000) return slackError('alt_txt_too_large');
        return undefined;
      },
      run: (args: Body) => {
        counter += 1;
        const id = `F${String(counter).padStart(10, '0')}`;
        files.set(id, { id, filename: String(args.filename), length: Number(args.length), ...(typeof args.alt_txt === 'string' ? { altText: args.alt_txt } : {}), completed: false });
        return { ok: true, upload_url: `${uploadBase}/upload/v1/${id}`, file_id: id };
      },
    },
    'files.completeUploadExternal': {
      validate: (args: Body) => {
        const list = args.files;
        if (!Array.isArray(list) || list.length === 0) return slackError('invalid_arguments', ['[ERROR] missing required field: files']);
        for (const f of list as { id?: unknown }[]) {
          const known = typeof f.id === 'string' ? files.get(f.id) : undefined;
          if (!known) return slackError('file_not_found');
          // "This method can only be called once"; a file whose bytes never arrived cannot be shared.
          if (known.completed) return slackError('file_not_found');
          if (!known.content) return slackError('file_uploads_incomplete');
        }
        return undefined;
      },
      run: (args: Body) => {
        const shared = (args.files as { id: string; title?: string }[]).map((f) => {
          const file = files.get(f.id)!;
          file.completed = true;
          file.title = f.title ?? file.filename;
          if (typeof args.channel_id === 'string') file.channel = args.channel_id;
          if (typeof args.thread_ts === 'string') file.threadTs = args.thread_ts;
          if (typeof args.initial_comment === 'string') file.initialComment = args.initial_comment;
          return file;
        });
        if (typeof args.channel_id === 'string') for (const f of shared) postShare(args.channel_id, f.initialComment ?? '', f.threadTs, f);
        return { ok: true, files: shared.map((f) => ({ id: f.id, title: f.title })) };
      },
    },
  };
  return {
    files,
    handlers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
