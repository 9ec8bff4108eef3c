/**
 * Runs golive as its own process for crash tests, exactly as src/main.ts does
 * (configuration from the environment, logs to stdout), plus a few test-only
 * knobs that src/ does not know about:
 *  - GOLIVE_TEST_ROLLOUT_POLL_MS / GOLIVE_TEST_OUTBOX_POLL_MS: shorter polls;
 *  - GOLIVE_TEST_CANARY_POLL_MS: a shorter canary analysis poll;
 *  - GOLIVE_TEST_EXPIRY_SWEEP_MS: a shorter sweep (reminders, expiries, take-overs of a dead replica's work);
 *  - GOLIVE_TEST_LEADER_CHECK_MS: how often a replica tries to lead, or checks it still does (default 5 s);
 *  - GOLIVE_TEST_CLOCK_FILE=<path>: "now" is the epoch milliseconds in that
 *    file, read on every call, so a test can move the clock of a process;
 *  - GOLIVE_TEST_KILL_IN_MIGRATION=<version>: runs the migrations up to and
 *    including that one's SQL, then SIGKILLs itself inside its transaction (SQLite only).
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { readConfig } from '../../src/config.js';
import { createApp } from '../../src/create-app.js';
import { migrate } from '../../src/platform/store/open-database.js';
import { migrations } from '../../src/platform/store/migrations.js';

const env = process.env;
const config = readConfig();
const killIn = env.GOLIVE_TEST_KILL_IN_MIGRATION ? Number(env.GOLIVE_TEST_KILL_IN_MIGRATION) : undefined;

if (killIn !== undefined) {
  if (/^postgres(ql)?:\/\//i.test(config.dbPath)) throw new Error('GOLIVE_TEST_KILL_IN_MIGRATION runs SQLite migrations; GOLIVE_DB is a PostgreSQL URL');
  const db = new Database(config.dbPath);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.function('golive_test_kill', () => {
    process.stdout.write(`${JSON.stringify({ msg: 'killing myself inside migration', version: killIn })}\n`);
    process.kill(process.pid, 'SIGKILL');
    return 0;
  });
  migrate(
    db,
    migrations.map((m) => (m.version === killIn ? { ...m, sql: `${m.sql};\nSELECT golive_test_kill();` } : m)),
  );
  throw new Error(`migration ${killIn} did not run`);
}

const ms = (name: string) => (env[name] ? Number(env[name]) : undefined);
const clockFile = env.GOLIVE_TEST_CLOCK_FILE;
const clock = clockFile ? { now: () => new Date(Number(readFileSync(clockFile, 'utf8'))) } : undefined;
const app = createApp({
  config,
  clock,
  rolloutPollMs: ms('GOLIVE_TEST_ROLLOUT_POLL_MS'),
  outboxPollMs: ms('GOLIVE_TEST_OUTBOX_POLL_MS'),
  expirySweepMs: ms('GOLIVE_TEST_EXPIRY_SWEEP_MS'),
  canaryPollMs: ms('GOLIVE_TEST_CANARY_POLL_MS'),
  leaderCheckMs: ms('GOLIVE_TEST_LEADER_CHECK_MS'),
});
await app.start();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.stop().then(() => process.exit(0)));
