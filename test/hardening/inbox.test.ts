import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { until, sleep } from '../support/golive-client.js';
import { postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/start-app.js';

// Issue 15 #1 and #2: what golive acknowledged must be recorded and answered, once, whatever stops the process.

const COMMANDS = 100;
/** How long Slack takes to answer usergroups.users.list: longer than the gap between the last ack and the stop. */
const SLOW_SLACK_MS = 1500;

let slack: FakeSlack;
let dir: string;
let dbPath: string;
let runbookPath: string;
let proc: AppProcess | undefined;

const itemId = (k: number) => `item-${String(k).padStart(3, '0')}`;

beforeEach(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  // The owner is in the role only through its user group, so every check asks Slack first.
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  dir = mkdtempSync(path.join(tmpdir(), 'golive-inbox-'));
  dbPath = path.join(dir, 'golive.db');
  runbookPath = path.join(dir, 'launch.yml');
  const items = Array.from({ length: COMMANDS }, (_, k) => `      - { id: ${itemId(k)}, title: Item ${k}, level: info, owner: devops }`).join('\n');
  writeFileSync(
    runbookPath,
    `version: 1
launch: { name: Inbox test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, groups: [S0DEVOPS] }
gates:
  - id: g
    title: G
    items:
${items}
`,
  );
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: slack.url,
  PORT: '0',
  GOLIVE_RUNBOOK: runbookPath,
  GOLIVE_DB: dbPath,
  LOG_LEVEL: 'info',
  GOLIVE_TEST_OUTBOX_POLL_MS: '100',
});

function query<T>(sql: string): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** 100 `/golive check item-k` at once; resolves once every one was acknowledged (HTTP 200). */
async function sendChecks(url: string): Promise<void> {
  const statuses = await Promise.all(
    Array.from({ length: COMMANDS }, (_, k) =>
      postSigned(`${url}/slack/events`, slashCommandBody({ text: `check ${itemId(k)}`, user_id: 'U0DEVOPS2', response_url: slack.responseUrl(`r-${k}`) }), SIGNING_SECRET).then((r) => r.status),
    ),
  );
  expect(statuses.filter((s) => s === 200)).toHaveLength(COMMANDS);
}

/**
 * Per item: audit rows and the channel posts that announced it. A burst of checks is announced in gathered posts
 * that name only their first 20 changes, so a post counts for an item when its metadata lists the outbox row the
 * item's check stored (as every post the outbox makes does).
 */
function outcome(): { recorded: number; announced: number; twice: string[]; errors: string[] } {
  const audit = query<{ target: string; n: number }>("SELECT target, COUNT(*) AS n FROM audit WHERE action = 'item.check' GROUP BY target");
  const rows = query<{ id: number; args: string }>("SELECT id, args FROM outbox WHERE method = 'chat.postMessage'");
  const posts = [...slack.messages.values()].filter((m) => m.channel === 'C0OPS');
  const covered = posts.map((m) => {
    const payload = (m.metadata?.event_payload ?? {}) as { outbox_id?: number; outbox_ids?: number[] };
    return new Set(payload.outbox_ids ?? (payload.outbox_id === undefined ? [] : [payload.outbox_id]));
  });
  const announced = Array.from({ length: COMMANDS }, (_, k) => {
    const ids = rows.filter((r) => String((JSON.parse(r.args) as { text?: string }).text).includes(`\`${itemId(k)}\``)).map((r) => r.id);
    return covered.filter((c) => ids.some((id) => c.has(id))).length;
  });
  return {
    recorded: audit.length,
    announced: announced.filter((n) => n > 0).length,
    twice: [...audit.filter((a) => a.n > 1).map((a) => a.target), ...announced.flatMap((n, k) => (n > 1 ? [itemId(k)] : []))],
    errors: slack.responses.map((r) => String(r.body.text)).filter((t) => t.includes(':warning:')),
  };
}

describe.each([
  ['SIGTERM (a clean stop: docker stop, an ECS deploy)', 'stop'],
  ['SIGKILL (a crash)', 'kill'],
] as const)('%s right after the 100th ack, with Slack slow', (_, how) => {
  it('records and answers every acknowledged command exactly once by the time the restarted app settles', { timeout: 90_000 }, async () => {
    slack.beforeReply = async (call) => {
      if (call.method === 'usergroups.users.list') await sleep(SLOW_SLACK_MS);
    };
    proc = await startAppProcess(env());
    await sendChecks(proc.url);
    await (how === 'stop' ? proc.stop() : proc.kill());
    const recordedAtExit = query<{ n: number }>("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check'")[0]!.n;
    if (how === 'stop') {
      // A clean stop waits for what it acknowledged.
      expect(recordedAtExit).toBe(COMMANDS);
    } else {
      // The crash caught them in flight (Slack still answering): the inbox has every one of them.
      expect(recordedAtExit).toBeLessThan(COMMANDS);
      expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM inbound_request WHERE done_at IS NULL')[0]!.n).toBe(COMMANDS - recordedAtExit);
    }
    proc = await startAppProcess(env());
    await until('every acknowledged command to be finished', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM inbound_request WHERE done_at IS NULL')[0]!.n === 0, 30_000).catch(() => undefined);
    await until('the outbox to settle', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL')[0]!.n === 0, 30_000);
    const seen = outcome();
    process.stdout.write(`${how}: acknowledged ${COMMANDS}, recorded ${seen.recorded}, announced ${seen.announced}, twice ${seen.twice.length} (recorded when the process ended: ${recordedAtExit})\n`);
    expect(seen).toEqual({ recorded: COMMANDS, announced: COMMANDS, twice: [], errors: [] });
  });
});
