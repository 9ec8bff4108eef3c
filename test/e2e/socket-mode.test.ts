import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { query } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp | undefined;
let wss: WebSocketServer | undefined;
afterEach(async () => {
  await t?.close();
  await new Promise((r) => (wss ? wss.close(r) : r(undefined)));
  t = undefined;
  wss = undefined;
});

describe('Socket Mode', () => {
  it('connects with the app token through SLACK_API_URL, acks envelopes and runs commands, with no signing secret set', async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const acks: unknown[] = [];
    const connected = new Promise<WebSocket>((resolve) =>
      wss!.on('connection', (ws) => {
        ws.on('message', (data) => acks.push(JSON.parse(String(data))));
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0GOLIVE' } }));
        resolve(ws);
      }),
    );
    const { startFakeSlack } = await import('../support/fake-slack.js');
    const slack = await startFakeSlack({ token: 'xoxb-test-token', appToken: 'xapp-1-test' });
    slack.setSocketModeUrl(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`);
    // Socket Mode needs no SLACK_SIGNING_SECRET: Slack's requests come over the socket, not signed HTTP.
    t = await startTestApp({ slack, env: { SLACK_APP_TOKEN: 'xapp-1-test', SLACK_SIGNING_SECRET: '' } });
    const ws = await connected;
    expect(slack.callsTo('apps.connections.open')[0]!.token).toBe('xapp-1-test');

    const health = await fetch(`${t.url}/healthz`).then((r) => r.json() as Promise<{ mode: string; status: string }>);
    expect(health).toMatchObject({ status: 'ok', mode: 'socket' });

    ws.send(
      JSON.stringify({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          token: 'x', team_id: 'T111', team_domain: 'test', channel_id: 'C0OPS', channel_name: 'ops', user_id: 'U0DEVOPS', user_name: 'dev',
          command: '/golive', text: 'check secrets-manager via socket', api_app_id: 'A0GOLIVE', response_url: slack.responseUrl('sock'), trigger_id: 'sock.1.abc',
        },
      }),
    );
    const post = await slack.waitForCall('chat.postMessage');
    expect(post.args.text).toContain('✅ <@U0DEVOPS> signed off `secrets-manager` (AWS Secrets Manager populated) — “via socket”');
    expect(acks).toEqual([expect.objectContaining({ envelope_id: 'env-1' })]);
    expect(await query(t, 'SELECT source, channel FROM audit')).toEqual([{ source: 'command', channel: 'C0OPS' }]);
    await t.close();
    t = undefined;
    await slack.close();
  });
});
