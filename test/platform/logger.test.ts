import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { SlackCallError } from '../../src/platform/slack/slack-port.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, destination, parsed };
}

const BOT_TOKEN = 'xoxb-1234-5678-BOTSECRET';
const APP_TOKEN = 'xapp-1-A0123-456-APPSECRET';
const SIGNING_SECRET = 'signing-secret-abcdef';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const SECRETS = [BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, ROUTING_KEY];
/** Secret-shaped strings that are not configured, but look like Slack tokens. */
const STRAY_TOKENS = ['xoxb-999-888-stray', 'xoxp-1-2-3-user', 'xapp-9-Z9-stray'];
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

function expectClean(text: string) {
  for (const s of [...SECRETS, ...STRAY_TOKENS, 'BOTSECRET', 'APPSECRET', 'xoxb-', 'xoxp-', 'xapp-']) expect(text).not.toContain(s);
}

describe('createLogger', () => {
  it('never writes a configured secret or a Slack token, at any level, in objects, strings, format args or errors', () => {
    const { lines, destination, parsed } = capture();
    const log = createLogger({ level: 'trace', secrets: [...SECRETS, undefined], destination });
    const err = new Error(`request failed with token ${STRAY_TOKENS[0]} and key ${ROUTING_KEY}`);
    for (const level of LEVELS) {
      log[level](
        {
          token: BOT_TOKEN,
          headers: { authorization: `Bearer ${BOT_TOKEN}` },
          body: `token=${STRAY_TOKENS[1]}&secret=${SIGNING_SECRET}`,
          nested: { deep: [ROUTING_KEY, { appToken: APP_TOKEN }] },
          err,
        },
        `message with ${STRAY_TOKENS[2]} and ${SIGNING_SECRET}`,
      );
      log[level](`plain ${ROUTING_KEY} ${STRAY_TOKENS[1]}`);
      log[level]('format %s and %j', BOT_TOKEN, { key: ROUTING_KEY, t: APP_TOKEN });
      log[level](new SlackCallError('chat.postMessage', `invalid_auth for ${BOT_TOKEN}`));
    }
    expect(lines).toHaveLength(LEVELS.length * 4);
    expect(parsed().map((l) => l.level)).toEqual([10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30, 40, 40, 40, 40, 50, 50, 50, 50, 60, 60, 60, 60]);
    for (const line of lines) expectClean(line);
    const all = lines.join('');
    expect(all).toContain('[redacted]');

    const [first, second, third, fourth] = parsed();
    expect(first).toMatchObject({
      app: 'golive',
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      body: 'token=[redacted]&secret=[redacted]',
      nested: { deep: ['[redacted]', { appToken: '[redacted]' }] },
      msg: 'message with [redacted] and [redacted]',
    });
    expect((first!.err as { message: string }).message).toBe('request failed with token [redacted] and key [redacted]');
    expect(second!.msg).toBe('plain [redacted] [redacted]');
    expect(third!.msg).toBe('format [redacted] and {"key":"[redacted]","t":"[redacted]"}');
    expect(fourth).toMatchObject({ type: 'SlackCallError', message: 'Slack chat.postMessage failed: invalid_auth for [redacted]' });
    expect(fourth!.stack).toMatch(/^SlackCallError: Slack chat\.postMessage failed: invalid_auth for \[redacted\]\n/);
  });

  it('scrubs lines written through a child logger (as Bolt’s adapter uses)', () => {
    const { lines, destination, parsed } = capture();
    const child = createLogger({ level: 'trace', secrets: SECRETS, destination }).child({ component: 'bolt' });
    child.error(`An API error occurred: invalid_auth (token ${BOT_TOKEN})`);
    child.debug({ request: { signingSecret: SIGNING_SECRET, text: ROUTING_KEY } }, 'got request');
    expect(lines).toHaveLength(2);
    for (const line of lines) expectClean(line);
    expect(parsed()).toMatchObject([
      { component: 'bolt', msg: 'An API error occurred: invalid_auth (token [redacted])' },
      { component: 'bolt', request: { signingSecret: '[redacted]', text: '[redacted]' }, msg: 'got request' },
    ]);
  });

  it('ignores secrets shorter than 6 characters instead of redacting common words', () => {
    const { destination, parsed } = capture();
    const log = createLogger({ secrets: ['ok', 'the'], destination });
    log.info('the check is ok');
    expect(parsed()[0]!.msg).toBe('the check is ok');
  });

  it('keeps ordinary content and honours the level', () => {
    const { lines, destination, parsed } = capture();
    const log = createLogger({ level: 'warn', secrets: SECRETS, destination });
    log.info('hidden');
    log.warn({ item: 'v2f-agreement', count: 3, ok: true, none: null }, 'visible %d', 7);
    expect(lines).toHaveLength(1);
    expect(parsed()[0]).toMatchObject({ level: 40, app: 'golive', item: 'v2f-agreement', count: 3, ok: true, none: null, msg: 'visible 7' });
  });

  it("writes nothing at level 'silent'", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'silent', secrets: SECRETS, destination });
    for (const level of LEVELS) log[level](`x ${BOT_TOKEN}`);
    expect(lines).toEqual([]);
  });

  it('scrubs secrets nested deeper than six levels', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', secrets: SECRETS, destination });
    log.info({ a: { b: { c: { d: { e: { f: { g: { h: { text: `${SIGNING_SECRET} ${STRAY_TOKENS[0]}` } } } } } } } } }, 'deep');
    log.info({ blocks: [[[[[[[[ROUTING_KEY]]]]]]]] }, 'deep array');
    expect(lines).toHaveLength(2);
    for (const line of lines) expectClean(line);
  });

  it('redacts a Slack token that directly follows a word character', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info(`GET /oauth?state=a%26token%3D${STRAY_TOKENS[0]}`);
    log.info(JSON.stringify({ body: `line one\n${STRAY_TOKENS[1]}` }));
    expect(lines).toHaveLength(2);
    for (const line of lines) expectClean(line);
  });

  it('scrubs the bindings of a child logger', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', secrets: SECRETS, destination });
    log.child({ request: `token=${STRAY_TOKENS[0]}`, key: ROUTING_KEY }).info('hello');
    expect(lines).toHaveLength(1);
    expectClean(lines[0]!);
  });

  it('keeps the error class of an err property', () => {
    const { destination, parsed } = capture();
    const log = createLogger({ level: 'info', destination });
    log.error({ err: new SlackCallError('chat.postMessage', 'channel_not_found') }, 'unexpected error');
    expect(parsed()[0]!.err).toMatchObject({ type: 'SlackCallError', message: 'Slack chat.postMessage failed: channel_not_found' });
  });
});
