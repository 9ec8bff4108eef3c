import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isValidSlackRequest } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { query } from '../support/golive-client.js';
import { blockActionPayload, blockActionsBody, postSigned, signSlackRequest, slashCommandBody } from '../support/sign.js';
import { PROJECT_ROOT, SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

const vector = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/slack/slack_signing_vector.json'), 'utf8')) as {
  signing_secret: string;
  timestamp: string;
  body: string;
  expected_signature: string;
};

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

/** The one value a COUNT(*) query answers. */
async function count(sql: string): Promise<number> {
  const [row] = await query<Record<string, number>>(t, sql);
  return Object.values(row!)[0]!;
}

async function rawPost(body: string, headers: Record<string, string>) {
  const res = await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
  return res.status;
}

describe('request verification', () => {
  it("accepts Slack's own signing vector at its timestamp, and the app refuses it as stale now", async () => {
    const headers = { 'x-slack-signature': vector.expected_signature, 'x-slack-request-timestamp': Number(vector.timestamp) };
    expect(isValidSlackRequest({ signingSecret: vector.signing_secret, body: vector.body, headers, nowMilliseconds: Number(vector.timestamp) * 1000 })).toBe(true);
    const stale = await startTestApp({ env: { SLACK_SIGNING_SECRET: vector.signing_secret } });
    try {
      const status = await fetch(`${stale.url}/slack/events`, {
        method: 'POST',
        body: vector.body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': vector.timestamp, 'X-Slack-Signature': vector.expected_signature },
      }).then((r) => r.status);
      expect(status).toBe(401);
      expect(stale.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    } finally {
      await stale.close();
    }
  });

  it('refuses a signature made with another secret, a stale timestamp, a changed byte, and a missing signature', async () => {
    const body = slashCommandBody({ text: 'check secrets-manager', user_id: 'U0DEVOPS', response_url: t.slack.responseUrl() });
    expect(await postSigned(`${t.url}/slack/events`, body, 'another-secret').then((r) => r.status)).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    expect(await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET, { timestamp: old }).then((r) => r.status)).toBe(401);
    const headers = signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>;
    expect(await rawPost(body.replace('secrets-manager', 'secrets-managex'), headers)).toBe(401);
    expect(await rawPost(body, { 'Content-Type': 'application/x-www-form-urlencoded' })).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(await count('SELECT COUNT(*) FROM item_state')).toBe(0);
    expect(await count('SELECT COUNT(*) FROM audit')).toBe(0);
    expect(t.slack.responses).toEqual([]);
  });
});

describe('retries and races', () => {
  it('records one sign-off when Slack retries the same command (X-Slack-Retry-Num)', async () => {
    const body = slashCommandBody({ text: 'check secrets-manager done', user_id: 'U0DEVOPS', response_url: t.slack.responseUrl() });
    const first = await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET);
    const retry = await postSigned(`${t.url}/slack/events`, body, SIGNING_SECRET, { extraHeaders: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' } });
    expect([first.status, retry.status]).toEqual([200, 200]);
    await t.slack.waitForCall('chat.postMessage');
    await new Promise((r) => setTimeout(r, 200));
    expect(await count("SELECT COUNT(*) FROM audit WHERE action = 'item.check'")).toBe(1);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('records one sign-off when two people click the same button at the same moment', async () => {
    const clicks = ['U0DEVOPS', 'U0DEVOPS2', 'U0DEVOPS', 'U0DEVOPS2'].map((user) =>
      blockActionsBody(blockActionPayload({ user, channel: 'C0OPS', actionId: 'golive_check_item', value: 'secrets-manager', messageTs: '1.000001', responseUrl: t.slack.responseUrl() })),
    );
    const statuses = await Promise.all(clicks.map((b) => postSigned(`${t.url}/slack/events`, b, SIGNING_SECRET).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    await t.slack.waitForCall('chat.postMessage');
    await t.slack.waitFor(() => t.slack.responses.length === 3);
    expect(await count("SELECT COUNT(*) FROM audit WHERE action = 'item.check'")).toBe(1);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    for (const r of t.slack.responses) expect(r.body.text).toMatch(/^`secrets-manager` was already signed off by <@U0DEVOPS2?>; nothing changed\.$/);
  });
});
