import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../support/fake-slack.js';
import { postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, PROJECT_ROOT, SIGNING_SECRET } from '../support/start-app.js';

let slack: FakeSlack;
let dir: string;
let dbPath: string;
let proc: AppProcess | undefined;

beforeEach(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  dir = mkdtempSync(path.join(tmpdir(), 'golive-crash-'));
  dbPath = path.join(dir, 'golive.db');
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
    GOLIVE_DB: dbPath,
    LOG_LEVEL: 'info',
    GOLIVE_TEST_OUTBOX_POLL_MS: '100',
    ...extra,
  };
}

function query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGKILLs the app the first time Slack has acted on a matching call, before the app hears the answer. */
function killAfterSlackAccepts(match: (call: RecordedCall) => boolean): { killed: () => boolean } {
  let killed = false;
  slack.beforeReply = async (call) => {
    if (killed || !proc || !match(call) || call.result?.ok !== true) return;
    killed = true;
    await proc.kill();
  };
  return { killed: () => killed };
}

const command = (text: string, user = 'U0DEVOPS') =>
  postSigned(`${proc!.url}/slack/events`, slashCommandBody({ text, user_id: user, response_url: slack.responseUrl() }), SIGNING_SECRET).catch(() => ({ status: 0, text: '' }));

const posted = (pattern: RegExp) => [...slack.messages.values()].filter((m) => pattern.test(m.text));

describe('SIGKILL during outbox delivery', () => {
  it('posts the announcement once when the process dies after Slack took it but before the outbox recorded it', async () => {
    proc = await startAppProcess(env());
    const trap = killAfterSlackAccepts((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('secrets-manager'));
    await command('check secrets-manager done');
    await proc.exited;
    expect(trap.killed()).toBe(true);
    // Slack has the post; the database still says it is waiting.
    expect(posted(/secrets-manager/)).toHaveLength(1);
    expect(query("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND method = 'chat.postMessage'")).toEqual([{ n: 1 }]);

    slack.beforeReply = undefined;
    proc = await startAppProcess(env());
    await until('the outbox to settle', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL')[0]!.n === 0);
    const messages = posted(/secrets-manager/);
    expect(messages).toHaveLength(1);
    // The row adopted the ts of the post Slack already had, so threads and updates hang off the right message.
    const row = query<{ result: string }>("SELECT result FROM outbox WHERE method = 'chat.postMessage'")[0]!;
    expect(JSON.parse(row.result)).toEqual({ ts: messages[0]!.ts, channel: 'C0OPS' });
  });
});
