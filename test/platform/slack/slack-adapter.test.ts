import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../src/platform/slack/slack-adapter.js';
import { createWebApiClient } from '../../../src/platform/slack/web-api-client.js';
import { createLogger } from '../../../src/platform/logger.js';

/** A Slack stand-in that keeps each request's body exactly as it arrived. */
let server: Server;
let url: string;
const bodies: { path: string; type: string | undefined; body: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', type: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, channel: 'C0OPS', ts: '1700000000.000100' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  bodies.length = 0;
});

const client = () => new WebClient('xoxb-test', { slackApiUrl: url, retryConfig: { retries: 0 } });
const ours = () => createWebApiClient('xoxb-test', { apiUrl: url, timeoutMs: 2000, retries: { retries: 0, factor: 2, minTimeoutMs: 10, maxTimeoutMs: 10 }, logger: createLogger({ level: 'silent' }) });
const board = {
  channel: 'C0OPS',
  ts: '1700000000.000100',
  text: 'Launch: 2 blockers open — NO-GO until resolved',
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text: '🔴 *2 blockers open*' }, accessory: { type: 'button', action_id: 'golive_check_item', value: 'secrets-manager', text: { type: 'plain_text', text: 'Sign off' } } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'as of 08:00 “quoted” & <escaped>' }] },
  ],
  metadata: { event_type: 'golive_board', event_payload: { gates: ['pre-flight'], n: 2 } },
  unfurl_links: false,
  reply_broadcast: undefined,
  limit: 50,
};

describe('the Slack adapter', () => {
  it('puts on the wire exactly the body @slack/web-api’s client would, and leaves the caller’s arguments as they were', async () => {
    const given = structuredClone(board);
    await createSlackAdapter(ours()).call('chat.update', given);
    await client().apiCall('chat.update', structuredClone(board));
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toEqual(bodies[1]);
    expect(bodies[0]!.path).toBe('/api/chat.update');
    expect(bodies[0]!.type).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(bodies[0]!.body).get('blocks')).toBe(JSON.stringify(board.blocks));
    expect(new URLSearchParams(bodies[0]!.body).get('metadata')).toBe(JSON.stringify(board.metadata));
    expect(new URLSearchParams(bodies[0]!.body).has('reply_broadcast')).toBe(false);
    expect(given).toEqual(board);
  });
});
