import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/platform/logger.js';
import { SlackCallError } from '../../../src/platform/slack/slack-port.js';
import { createWebApiClient, type WebApiRetries } from '../../../src/platform/slack/web-api-client.js';

/** A Web API stand-in answering each request with the next of `answers` (the last one repeats). */
let server: Server;
let url: string;
let answers: ((req: IncomingMessage, res: ServerResponse) => void)[] = [];
const seen: { path: string; auth?: string; body: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen.length = 0;
  vi.restoreAllMocks();
});

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  // Made into text now, not while answering: the last test counts JSON.stringify calls.
  const text = JSON.stringify(body);
  return (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
}
const noRetries: WebApiRetries = { retries: 0, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 10 };

function client(opts: { retries?: WebApiRetries; timeoutMs?: number; apiUrl?: string } = {}) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  const api = createWebApiClient('xoxb-secret', { apiUrl: opts.apiUrl ?? url, timeoutMs: opts.timeoutMs ?? 2000, retries: opts.retries ?? noRetries, logger: createLogger({ level: 'info', destination }) });
  return { api, lines };
}

async function failure(p: Promise<unknown>): Promise<SlackCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlackCallError);
  return err as SlackCallError;
}

describe('the Web API client', () => {
  it('posts the call form-encoded to the method’s URL with the bot token, and returns Slack’s answer', async () => {
    answers = [json(200, { ok: true, channel: 'C0OPS', ts: '1.2' })];
    const { api } = client();
    expect(await api.apiCall('chat.postMessage', { channel: 'C0OPS', text: 'hi & bye', unfurl_links: false, limit: 3, thread_ts: undefined })).toEqual({ ok: true, channel: 'C0OPS', ts: '1.2' });
    expect(seen).toEqual([{ path: '/api/chat.postMessage', auth: 'Bearer xoxb-secret', body: 'channel=C0OPS&text=hi%20%26%20bye&unfurl_links=false&limit=3' }]);
  });

  it('turns a 429 into `ratelimited` with its Retry-After, without waiting or trying again (the call scheduler does)', async () => {
    answers = [json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '7' })];
    const err = await failure(client({ retries: { retries: 2, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 10 } }).api.apiCall('chat.update', { channel: 'C0OPS' }));
    expect([err.method, err.slackError, err.retryAfterSeconds]).toEqual(['chat.update', 'ratelimited', 7]);
    expect(seen).toHaveLength(1);
  });

  it('turns `ok: false` into Slack’s error, logging the messages Slack gives with it, and does not try again', async () => {
    answers = [json(200, { ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]'] } })];
    const { api, lines } = client({ retries: { retries: 2, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 10 } });
    const err = await failure(api.apiCall('chat.postMessage', { channel: 'C0OPS' }));
    expect(err.message).toBe('Slack chat.postMessage failed: invalid_blocks');
    expect(seen).toHaveLength(1);
    expect(lines.map((l) => [l.msg, l.messages])).toEqual([['Slack refused chat.postMessage', ['[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]']]]);
  });

  it('tries again when no answer came back (a 5xx), waiting longer each time, then says so as an http_error', async () => {
    answers = [json(503, { ok: false }), json(502, { ok: false }), json(200, { ok: true, ts: '3.4' })];
    expect(await client({ retries: { retries: 2, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 15 } }).api.apiCall('chat.postMessage', {})).toEqual({ ok: true, ts: '3.4' });
    expect(seen).toHaveLength(3);
    seen.length = 0;
    answers = [json(503, { ok: false })];
    const err = await failure(client({ retries: { retries: 1, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 10 } }).api.apiCall('chat.postMessage', {}));
    expect(err.slackError).toBe('http_error: An HTTP protocol error occurred: statusCode = 503');
    expect(seen).toHaveLength(2);
  });

  it('says why a request got no answer at all: refused, or timed out', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failure(client({ apiUrl: `http://127.0.0.1:${port}/api/` }).api.apiCall('auth.test', {}));
    expect(refused.slackError).toBe('request_error: A request error occurred: fetch failed (ECONNREFUSED)');
    answers = [() => undefined];
    const slow = await failure(client({ timeoutMs: 100 }).api.apiCall('auth.test', {}));
    expect(slow.slackError).toMatch(/^request_error: A request error occurred: The operation was aborted due to timeout/);
  });

  it('logs each call at debug level: the method and the answer’s verdict, never the arguments', async () => {
    answers = [json(200, { ok: true, ts: '1.2' }), json(200, { ok: false, error: 'channel_not_found' })];
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const api = createWebApiClient('xoxb-secret', { apiUrl: url, timeoutMs: 2000, retries: noRetries, logger: createLogger({ level: 'debug', destination }) });
    await api.apiCall('chat.postMessage', { channel: 'C0OPS', text: 'the text' });
    await failure(api.apiCall('chat.postMessage', { channel: 'C0NONE', text: 'the text' }));
    expect(lines.map((l) => [l.msg, l.method, l.ok, l.error])).toEqual([
      ['Slack answered a call', 'chat.postMessage', true, undefined],
      ['Slack answered a call', 'chat.postMessage', false, 'channel_not_found'],
    ]);
    expect(JSON.stringify(lines)).not.toContain('the text');
  });

  it('logs the warnings Slack sends with a successful call', async () => {
    answers = [json(200, { ok: true, response_metadata: { warnings: ['missing_charset'] } })];
    const { api, lines } = client();
    await api.apiCall('conversations.info', { channel: 'C0OPS' });
    expect(lines.map((l) => [l.level, l.msg, l.warning])).toEqual([[40, 'Slack warned about a call', 'missing_charset']]);
  });

  it('builds no debug text of a call or its answer at info level (@slack/web-api’s client builds it whatever the level)', async () => {
    const board = { ok: true, channel: 'C0OPS', ts: '1.2', message: { blocks: Array.from({ length: 40 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `item ${i}` } })) } };
    answers = [json(200, board)];
    const args = { channel: 'C0OPS', ts: '1.2', text: 'board' };
    const ours = client().api;
    const theirs = new WebClient('xoxb-secret', { slackApiUrl: url, logLevel: LogLevel.INFO, retryConfig: { retries: 0 } });
    const stringify = vi.spyOn(JSON, 'stringify');
    await theirs.apiCall('chat.update', args);
    // Theirs: the redacted body, its headers and the redacted answer (with every block) as JSON.
    expect(stringify.mock.calls.some(([v]) => (v as { message?: unknown } | null)?.message !== undefined)).toBe(true);
    stringify.mockClear();
    expect(await ours.apiCall('chat.update', args)).toEqual(board);
    expect(stringify).not.toHaveBeenCalled();
  });
});
