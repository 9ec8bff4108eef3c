import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackAdapter, wireArgs } from '../../../src/platform/slack/slack-adapter.js';

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
/** A client that keeps the arguments each call was given. */
class RecordingClient extends WebClient {
  readonly given: Record<string, unknown>[] = [];
  override apiCall(method: string, options: Record<string, unknown> = {}) {
    this.given.push(options);
    return super.apiCall(method, options);
  }
}
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
  it('puts on the wire exactly the body the client alone would, and leaves the caller’s arguments as they were', async () => {
    const given = structuredClone(board);
    const recording = new RecordingClient('xoxb-test', { slackApiUrl: url, retryConfig: { retries: 0 } });
    await createSlackAdapter(recording).call('chat.update', given);
    expect(typeof recording.given[0]!.blocks).toBe('string');
    await client().apiCall('chat.update', structuredClone(board));
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toEqual(bodies[1]);
    expect(bodies[0]!.path).toBe('/api/chat.update');
    expect(bodies[0]!.type).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(bodies[0]!.body).get('blocks')).toBe(JSON.stringify(board.blocks));
    expect(given).toEqual(board);
  });

  it('hands the client objects and lists as their JSON (so its debug line of the body copies one string), and the rest as they are', () => {
    const wire = wireArgs(board);
    expect(wire).toEqual({ ...board, blocks: JSON.stringify(board.blocks), metadata: JSON.stringify(board.metadata) });
    expect(wireArgs({ channel: 'C0OPS', text: 'hi', limit: 1, exclude_archived: true })).toEqual({ channel: 'C0OPS', text: 'hi', limit: 1, exclude_archived: true });
    const bytes = Buffer.from([1, 2, 3]);
    expect(wireArgs({ file: bytes }).file).toBe(bytes);
  });
});
