// Measure 10: the CPU a Web API call costs golive's process — golive's own client against
// @slack/web-api's WebClient (the baseline), both calling chat.update with a board-sized
// message that Slack echoes back, as it does. The answering server is a process of its own,
// so the CPU counted is the caller's alone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { LogLevel, WebClient } from '@slack/web-api';
import { createLogger } from '../src/platform/logger.js';
import { createWebApiClient, type WebApiCaller } from '../src/platform/slack/web-api-client.js';
import { freePort } from '../test/support/free-port.js';
import { ms, table } from './support/stats.js';

/** A status board's worth of blocks: 40 items, each a section with its Sign off button. */
function boardBlocks(): Record<string, unknown>[] {
  return Array.from({ length: 40 }, (_, i) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: `⬜ *check-${i}* — the thing to verify before T0, owner <@U0OWNER${i}> · due 08:${String(i).padStart(2, '0')}` },
    accessory: { type: 'button', action_id: 'golive_check_item', value: `check-${i}`, text: { type: 'plain_text', text: 'Sign off' } },
  }));
}

// The server: answers every call with the message it was sent, as chat.update does.
const SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const form = new URLSearchParams(body);
    const blocks = JSON.parse(form.get('blocks') || '[]');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, channel: form.get('channel'), ts: form.get('ts'), text: form.get('text'), message: { type: 'message', user: 'U0GOLIVE', text: form.get('text'), blocks } }));
  });
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.send('ready'));
`;

async function cpuPerCall(client: WebApiCaller, calls: number, args: Record<string, unknown>): Promise<{ cpuUs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < calls; i++) await client.apiCall('chat.update', args);
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / calls, wallMs: (performance.now() - started) / calls };
}

export async function webApiBench(opts: { calls: number; rounds: number; log: (s: string) => void }): Promise<string> {
  const port = await freePort();
  const server = spawn(process.execPath, ['-e', SERVER, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(server, 'message');
  try {
    const url = `http://127.0.0.1:${port}/api/`;
    const blocks = boardBlocks();
    const args = { channel: 'C0OPS', ts: '1700000000.000100', text: 'Launch: 40 items open', blocks };
    const bytes = JSON.stringify(blocks).length;
    const ours = createWebApiClient('xoxb-bench', { apiUrl: url, timeoutMs: 10_000, retries: { retries: 0, factor: 2, minTimeoutMs: 250, maxTimeoutMs: 2000 }, logger: createLogger({ level: 'info' }) });
    // As golive configured it before: info level, rate limits handed back, no retries for the comparison.
    const webClient = new WebClient('xoxb-bench', { slackApiUrl: url, logLevel: LogLevel.INFO, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
    // And handed the blocks as their JSON, as golive's adapter did (so the client's debug line of the body copied one string).
    const theirs: WebApiCaller = { apiCall: (method, a) => webClient.apiCall(method, { ...a, blocks: JSON.stringify(a.blocks) }) };
    await cpuPerCall(ours, 200, args);
    await cpuPerCall(theirs, 200, args);
    const runs: Record<'ours' | 'theirs', { cpuUs: number; wallMs: number }[]> = { ours: [], theirs: [] };
    for (let r = 0; r < opts.rounds; r++) {
      opts.log(`web api round ${r + 1}/${opts.rounds}`);
      runs.theirs.push(await cpuPerCall(theirs, opts.calls, args));
      runs.ours.push(await cpuPerCall(ours, opts.calls, args));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const us = (v: number) => v.toFixed(0);
    const row = (name: string, rs: { cpuUs: number; wallMs: number }[]) => [name, us(median(rs.map((r) => r.cpuUs))), rs.map((r) => us(r.cpuUs)).join(' / '), ms(median(rs.map((r) => r.wallMs)))];
    return [
      `chat.update with ${blocks.length} blocks (${(bytes / 1024).toFixed(1)} KB of JSON, echoed back in the answer), ${opts.calls.toLocaleString('en-US')} calls one after another per round, ${opts.rounds} rounds; CPU of the calling process only.`,
      table(['client', 'CPU per call, median (µs)', 'each round (µs)', 'wall per call, median (ms)'], [row('@slack/web-api WebClient (baseline)', runs.theirs), row("golive's client", runs.ours)]),
    ].join('\n\n');
  } finally {
    server.kill();
  }
}
