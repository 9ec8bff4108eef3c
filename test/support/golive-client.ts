import Database from 'better-sqlite3';
import { blockActionPayload, blockActionsBody, newTriggerId, postSigned, slashCommandBody } from './sign.js';
import { SIGNING_SECRET, type TestApp } from './start-app.js';

/** Sends `/golive <text>` as `user` in #ops, signed like Slack; returns the HTTP status and the response_url id. */
export async function golive(t: TestApp, text: string, user = 'U0DEVOPS', channel = 'C0OPS'): Promise<{ status: number; responseId: string }> {
  const responseId = `r-${Math.random().toString(36).slice(2)}`;
  const res = await postSigned(`${t.url}/slack/events`, slashCommandBody({ text, user_id: user, channel_id: channel, response_url: t.slack.responseUrl(responseId) }), SIGNING_SECRET);
  return { status: res.status, responseId };
}

/** Runs a command and waits for its private reply; returns the reply's text. */
export async function privateReply(t: TestApp, text: string, user = 'U0DEVOPS', channel = 'C0OPS'): Promise<string> {
  const { status, responseId } = await golive(t, text, user, channel);
  if (status !== 200) throw new Error(`HTTP ${status}`);
  const r = await t.slack.waitForResponse((x) => x.id === responseId);
  if (r.body.response_type !== 'ephemeral') throw new Error(`reply was not private: ${JSON.stringify(r.body)}`);
  return r.body.text as string;
}

/** Clicks a button as `user`; returns the response_url id for its private reply. */
export async function click(t: TestApp, actionId: string, value: string, user: string, messageTs = '1.000001'): Promise<string> {
  const responseId = `r-${Math.random().toString(36).slice(2)}`;
  const payload = blockActionPayload({ user, channel: 'C0OPS', actionId, value, messageTs, responseUrl: t.slack.responseUrl(responseId) });
  const res = await postSigned(`${t.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return responseId;
}

/** Submits a modal as `user`, signed like Slack: `values` is `view.state.values`. Returns the HTTP answer (a `response_action`, or empty). */
export function submitView(t: TestApp, user: string, callbackId: string, privateMetadata: string, values: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const payload = {
    type: 'view_submission',
    team: { id: 'T111' },
    user: { id: user, team_id: 'T111' },
    api_app_id: 'A0GOLIVE',
    token: 'x',
    trigger_id: newTriggerId(),
    view: { id: 'V1', type: 'modal', callback_id: callbackId, private_metadata: privateMetadata, state: { values } },
  };
  return postSigned(`${t.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET);
}

/** Runs a read-only query against the app's database. */
export function query<T = unknown>(t: TestApp, sql: string, ...params: unknown[]): T[] {
  const db = new Database(t.dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
