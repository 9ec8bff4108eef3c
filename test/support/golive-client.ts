import Database from 'better-sqlite3';
import { isPostgresUrl } from '../../src/platform/store/database-url.js';
import { PostgresStore } from '../../src/platform/store/postgres-store.js';
import type { SqlValue } from '../../src/platform/store/store.js';
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

/**
 * Runs a read-only query against the app's database, on either store: through the running app's own store (so it
 * waits for a transaction in progress, as another connection would), or, once the app is stopped, on a read
 * connection of its own. `?` placeholders on both. PostgreSQL's booleans (`x IS NOT NULL AS sent`) come back as 1/0,
 * as SQLite gives them, so one assertion holds on both.
 */
export async function query<T = unknown>(t: TestApp, sql: string, ...params: SqlValue[]): Promise<T[]> {
  const rows = t.app.store.isOpen ? await t.app.store.all<Record<string, unknown>>(sql, ...params) : await readStopped(t.dbPath, sql, params);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]))) as T[];
}

async function readStopped(target: string, sql: string, params: SqlValue[]): Promise<Record<string, unknown>[]> {
  if (isPostgresUrl(target)) {
    // A store of its own that is never made ready(): no migration, only the read.
    const store = new PostgresStore({ url: target, poolSize: 1, applicationName: 'golive-test-query' });
    try {
      return await store.all<Record<string, unknown>>(sql, ...params);
    } finally {
      await store.close();
    }
  }
  const db = new Database(target, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (which may be async, e.g. a query()) every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
