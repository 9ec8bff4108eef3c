import { readFile } from 'node:fs/promises';
import { createHmac } from 'node:crypto';
import { ErrorCode, LogLevel, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSlack, TEST_SLACK_LIMIT_SCALE, type FakeSlack } from './fake-slack.js';
import {
  blockActionPayload,
  blockActionsBody,
  postSigned,
  signSlackRequest,
  slashCommandBody,
} from './sign.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

interface SigningVector {
  signing_secret: string;
  timestamp: string;
  body: string;
  basestring: string;
  expected_signature: string;
}

let slack: FakeSlack;

// WebClient logs Slack's response_metadata.messages at error level; the tests provoke those on purpose.
const quietLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function client(token = 'xoxb-test-token', extra: ConstructorParameters<typeof WebClient>[1] = {}): WebClient {
  return new WebClient(token, {
    slackApiUrl: slack.url,
    logger: quietLogger,
    retryConfig: { retries: 0 },
    ...extra,
  });
}

async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e, 'expected the call to reject').toBeDefined();
  expect((e as { code?: string }).code).toBe(ErrorCode.PlatformError);
  return e as WebAPIPlatformError;
}

beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.reset();
});

describe('signing', () => {
  it('reproduces Slack’s published signing vector', async () => {
    const v = JSON.parse(await readFile(new URL('slack/slack_signing_vector.json', FIXTURES), 'utf8')) as SigningVector;
    const headers = signSlackRequest(v.signing_secret, v.body, Number(v.timestamp));
    expect(headers['X-Slack-Signature']).toBe(v.expected_signature);
    expect(headers['X-Slack-Request-Timestamp']).toBe(v.timestamp);
    expect(headers['Content-Type']).toBe('application/x-www-form-urlencoded');
  });

  it('encodes slash command bodies the way Slack does', async () => {
    const v = JSON.parse(await readFile(new URL('slack/slack_signing_vector.json', FIXTURES), 'utf8')) as SigningVector;
    // Slack's own body round-trips through URLSearchParams unchanged, so our encoder matches its escaping.
    expect(new URLSearchParams(v.body).toString()).toBe(v.body);

    const body = slashCommandBody({ text: 'start release 1.2 & more' });
    const params = new URLSearchParams(body);
    expect([...params.keys()]).toEqual([
      'token', 'team_id', 'team_domain', 'channel_id', 'channel_name', 'user_id', 'user_name',
      'command', 'text', 'api_app_id', 'is_enterprise_install', 'response_url', 'trigger_id',
    ]);
    expect(params.get('command')).toBe('/golive');
    expect(params.get('text')).toBe('start release 1.2 & more');
    expect(params.get('channel_id')).toBe('C0OPS');
    expect(params.get('user_id')).toBe('U0DEVOPS');
    expect(new URLSearchParams(slashCommandBody()).get('trigger_id')).not.toBe(params.get('trigger_id'));
  });

  it('builds a block_actions body and posts it signed', async () => {
    const payload = blockActionPayload({
      user: 'U0DEVOPS',
      channel: 'C0OPS',
      actionId: 'approve',
      value: 'run-1',
      messageTs: '1700000000.000100',
      responseUrl: slack.responseUrl('act'),
    });
    const body = blockActionsBody(payload);
    expect(JSON.parse(new URLSearchParams(body).get('payload') ?? '')).toEqual(payload);
    expect(payload.container).toEqual({ type: 'message', message_ts: '1700000000.000100', channel_id: 'C0OPS', is_ephemeral: false });

    // The fake's response endpoint doubles as an echo target for postSigned.
    const res = await postSigned(slack.responseUrl('signed'), JSON.stringify({ hi: 1 }), 's3cret', { timestamp: 42 });
    expect(res.status).toBe(200);
    expect(slack.responses[0]).toMatchObject({ id: 'signed', body: { hi: 1 } });
    const expected = `v0=${createHmac('sha256', 's3cret').update(`v0:42:${JSON.stringify({ hi: 1 })}`).digest('hex')}`;
    expect(signSlackRequest('s3cret', JSON.stringify({ hi: 1 }), 42)['X-Slack-Signature']).toBe(expected);
  });
});

describe('fake Slack Web API', () => {
  it('answers auth.test and rejects foreign tokens', async () => {
    const me = await client().auth.test();
    expect(me).toMatchObject({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T111' });

    const e = await platformError(client('xoxb-wrong').auth.test());
    expect(e.data.error).toBe('invalid_auth');
    expect(slack.calls.map((c) => c.token)).toEqual(['xoxb-test-token', 'xoxb-wrong']);
  });

  it('posts, records parsed blocks, and updates messages', async () => {
    const web = client();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Go-live* starting' } }];
    const posted = await web.chat.postMessage({ channel: 'C0OPS', text: 'Go-live starting', blocks });
    const posted2 = await web.chat.postMessage({ channel: 'C0OPS', text: 'second', thread_ts: posted.ts as string });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(posted2.ts)).toBeGreaterThan(Number(posted.ts));

    const call = await slack.waitForCall('chat.postMessage');
    expect(call.args.blocks).toEqual(blocks);
    expect(call.token).toBe('xoxb-test-token');

    await web.chat.update({ channel: 'C0OPS', ts: posted.ts as string, text: 'Go-live done' });
    const msg = slack.messages.get(`C0OPS:${posted.ts as string}`);
    expect(msg).toMatchObject({ text: 'Go-live done', blocks, updates: 1 });
    expect(slack.messages.get(`C0OPS:${posted2.ts as string}`)?.thread_ts).toBe(posted.ts);

    expect((await platformError(web.chat.update({ channel: 'C0OPS', ts: '1.000000', text: 'x' }))).data.error).toBe(
      'message_not_found',
    );
    expect((await platformError(web.chat.postMessage({ channel: '', text: 'x' }))).data.error).toBe('channel_not_found');
    expect((await platformError(web.apiCall('chat.postMessage', { channel: 'C0OPS' }))).data.error).toBe('no_text');
  });

  it('enforces Slack block limits', async () => {
    const web = client();
    const many = Array.from({ length: 51 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `row ${i}` } }));
    const tooMany = await platformError(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many }));
    expect(tooMany.data.error).toBe('invalid_blocks');

    const long = [{ type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } }];
    expect((await platformError(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: long }))).data.error).toBe(
      'invalid_blocks',
    );
    expect((await platformError(web.chat.postMessage({ channel: 'C0OPS', text: 'a'.repeat(40_001) }))).data.error).toBe(
      'msg_too_long',
    );
    await expect(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many.slice(0, 50) })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('handles ephemeral messages, usergroups and views', async () => {
    const web = client();
    const eph = await web.chat.postEphemeral({ channel: 'C0OPS', user: 'U1', text: 'only you' });
    expect(eph.message_ts).toBeTruthy();

    slack.setUsergroupMembers('S0ONCALL', ['U1', 'U2']);
    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U1', 'U2']);
    expect((await platformError(web.usergroups.users.list({ usergroup: 'S0NOPE' }))).data.error).toBe('no_such_subteam');

    const home = await web.views.publish({ user_id: 'U1', view: { type: 'home', blocks: [] } });
    expect(home.view?.id).toMatch(/^V/);
    expect(slack.callsTo('views.publish')[0]?.args.view).toEqual({ type: 'home', blocks: [] });
  });

  it('knows Slack’s method list and required arguments', async () => {
    const web = client();
    await expect(web.apiCall('pins.list', { channel: 'C0OPS' })).resolves.toMatchObject({ ok: true });

    const unknown = await web.apiCall('chat.postMessagez', {}).catch((e: unknown) => e);
    expect((unknown as { code?: string }).code).toBe(ErrorCode.HTTPError);
    expect((unknown as { statusCode?: number }).statusCode).toBe(404);
    expect(slack.callsTo('chat.postMessagez')[0]?.result).toEqual({ ok: false, error: 'unknown_method' });

    // reactions.add requires channel, name and timestamp in the spec.
    expect((await platformError(web.apiCall('reactions.add', { channel: 'C0OPS', name: 'tada' }))).data.error).toBe(
      'invalid_arguments',
    );
  });

  it('injects a 429 with Retry-After once, then recovers', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const web = client('xoxb-test-token', { rejectRateLimitedCalls: true });
    const e = (await web.chat.postMessage({ channel: 'C0OPS', text: 'hi' }).catch((x: unknown) => x)) as WebAPIRateLimitedError;
    expect(e.code).toBe(ErrorCode.RateLimitedError);
    expect(e.retryAfter).toBe(7);

    await expect(web.chat.postMessage({ channel: 'C0OPS', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(slack.callsTo('chat.postMessage').map((c) => c.faulted === true)).toEqual([true, false]);
  });

  describe("Slack's rate limits (on by default; here at Slack's own windows)", () => {
    beforeEach(() => slack.setRateLimits(true));
    afterEach(() => slack.setRateLimits({ scale: TEST_SLACK_LIMIT_SCALE }));
    const rateLimited = (p: Promise<unknown>) => p.then(() => undefined, (x: unknown) => x as WebAPIRateLimitedError);

    it('lets a channel take a burst of 5 posts, then answers 429 with Retry-After; another channel still posts', async () => {
      const web = client('xoxb-test-token', { rejectRateLimitedCalls: true });
      for (let i = 0; i < 5; i++) await web.chat.postMessage({ channel: 'C0OPS', text: `post ${i}` });
      const e = await rateLimited(web.chat.postMessage({ channel: 'C0OPS', text: 'one too many' }));
      expect(e?.code).toBe(ErrorCode.RateLimitedError);
      expect(e?.retryAfter).toBeGreaterThanOrEqual(1);
      expect(e?.retryAfter).toBeLessThanOrEqual(5);
      await expect(web.chat.postMessage({ channel: 'C0OTHER', text: 'elsewhere' })).resolves.toMatchObject({ ok: true });
      const refused = slack.callsTo('chat.postMessage').filter((c) => c.rateLimited === true);
      expect(refused.map((c) => [c.status, c.args.text, c.result])).toEqual([[429, 'one too many', { ok: false, error: 'ratelimited' }]]);
      // The refused post was not stored.
      expect([...slack.messages.values()].map((m) => m.text)).not.toContain('one too many');
    });

    it("holds chat.update to Tier 3's 50 a minute, whatever the channel", async () => {
      const web = client('xoxb-test-token', { rejectRateLimitedCalls: true });
      const { ts } = await web.chat.postMessage({ channel: 'C0OPS', text: 'board' });
      for (let i = 0; i < 50; i++) await web.chat.update({ channel: 'C0OPS', ts: ts!, text: `v${i}` });
      const e = await rateLimited(web.chat.update({ channel: 'C0OPS', ts: ts!, text: 'v50' }));
      expect(e?.code).toBe(ErrorCode.RateLimitedError);
      expect(e?.retryAfter).toBeGreaterThan(50);
      expect(e?.retryAfter).toBeLessThanOrEqual(60);
    });

    it('renews a window after it passes, scaled for fast tests, and can be turned off', async () => {
      slack.setRateLimits({ scale: 0.05 });
      const web = client('xoxb-test-token', { rejectRateLimitedCalls: true });
      for (let i = 0; i < 20; i++) await web.apiCall('usergroups.users.list', { usergroup: 'S0DEVOPS' }).catch(() => undefined);
      expect((await rateLimited(web.apiCall('usergroups.users.list', { usergroup: 'S0DEVOPS' })))?.code).toBe(ErrorCode.RateLimitedError);
      // Tier 2's minute is 3 s at this scale: long enough that 21 calls on a busy machine all fall inside it.
      await new Promise((r) => setTimeout(r, 3100));
      const after = await web.apiCall('usergroups.users.list', { usergroup: 'S0DEVOPS' }).then(() => 'ok', (x: unknown) => (x as { code?: string }).code);
      expect(after).not.toBe(ErrorCode.RateLimitedError);

      slack.setRateLimits(false);
      for (let i = 0; i < 30; i++) await web.chat.postMessage({ channel: 'C0OPS', text: `free ${i}` });
      expect(slack.calls.filter((c) => c.rateLimited === true)).toHaveLength(1);
      slack.setRateLimits(true);
    });
  });

  it('records response_url posts and explains waitFor timeouts', async () => {
    await fetch(slack.responseUrl('abc'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'done', replace_original: true }),
    });
    const r = await slack.waitForResponse((x) => x.id === 'abc');
    expect(r.body).toEqual({ text: 'done', replace_original: true });

    await expect(slack.waitForCall('chat.update', undefined, 50)).rejects.toThrow(/nothing matched within 50 ms[\s\S]*response abc/);
  });
});
