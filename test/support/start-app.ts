import { Writable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig } from '../../src/config.js';
import { createApp, type AppOptions, type GoliveApp } from '../../src/create-app.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Clock } from '../../src/platform/clock.js';
import { startFakeSlack, TEST_SLACK_LIMIT_SCALE, type FakeSlack } from './fake-slack.js';
import { testDatabase, type TestDatabase } from './test-database.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const BOT_TOKEN = 'xoxb-test-token';
export { TEST_SLACK_LIMIT_SCALE };

/** A running golive on a free port, talking to a fake Slack, with its logs captured. */
export interface TestApp {
  app: GoliveApp;
  slack: FakeSlack;
  url: string;
  /** The GOLIVE_DB value: a SQLite file path, or (GOLIVE_TEST_STORE=postgres) a postgres:// URL. */
  dbPath: string;
  /** Which store the app runs on. */
  dbKind: TestDatabase['kind'];
  logs: string[];
  /** Stops the app (keeps the fake Slack and the database). */
  stopApp(): Promise<void>;
  /** Starts a fresh app process-equivalent on the same database. */
  restart(): Promise<TestApp>;
  /** Stops the app, and closes the fake Slack and removes the database this app (or the one it restarted from) started. */
  close(): Promise<void>;
}

export interface StartTestAppOptions {
  runbook?: string;
  env?: Record<string, string>;
  clock?: Clock;
  slack?: FakeSlack;
  /** A folder to keep the SQLite file golive.db in (kept at close); SQLite only. Default: a fresh testDatabase(). */
  dbDir?: string;
  appOptions?: Partial<Omit<AppOptions, 'config'>>;
}

/** What a restarted app shares with the one it replaces: the database, the fake Slack and who cleans them up. */
interface Shared {
  database: TestDatabase;
  slack: FakeSlack;
  ownsSlack: boolean;
  ownsDatabase: boolean;
  closed: boolean;
}

/**
 * Starts the real app over HTTP against a local fake Slack Web API, on a fresh database of the run's store
 * (test/support/test-database.ts): a SQLite file by default, a new PostgreSQL database under GOLIVE_TEST_STORE=postgres.
 */
export async function startTestApp(opts: StartTestAppOptions = {}): Promise<TestApp> {
  const slack = opts.slack ?? (await startFakeSlack({ token: BOT_TOKEN }));
  const database: TestDatabase = opts.dbDir
    ? { kind: 'sqlite', target: path.join(opts.dbDir, 'golive.db'), cleanup: async () => undefined }
    : await testDatabase();
  return start(opts, { database, slack, ownsSlack: !opts.slack, ownsDatabase: !opts.dbDir, closed: false }, true);
}

async function start(opts: StartTestAppOptions, shared: Shared, first: boolean): Promise<TestApp> {
  const { slack, database } = shared;
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  const config = readConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: opts.runbook ?? path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
    GOLIVE_DB: database.target,
    GOLIVE_REPLICA: 'golive-test',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', secrets: [config.slack.botToken, config.slack.signingSecret], destination });
  const app = createApp({ rolloutPollMs: 20, slackLimitScale: TEST_SLACK_LIMIT_SCALE, ...opts.appOptions, config, clock: opts.clock, logger });
  let port: number;
  try {
    ({ port } = await app.start());
  } catch (err) {
    // A first start that fails (a test expecting it to) leaves nothing behind; after a failed restart, the
    // TestApp it was restarted from still closes them.
    await app.stop().catch(() => undefined);
    if (first) {
      shared.closed = true;
      if (shared.ownsSlack) await slack.close().catch(() => undefined);
      if (shared.ownsDatabase) await database.cleanup().catch(() => undefined);
    }
    throw err;
  }
  // A wait for a Slack call that times out says what the outbox still holds and what it last logged.
  slack.explainTimeout = async () => {
    const rows = stopped ? [] : await app.store.all<Record<string, unknown>>('SELECT id, target, lane, gather, priority, attempts, created_at, next_attempt_at, sending_at, claimed_by, claimed_until, last_error, depends_on FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY id');
    const outboxLogs = logs.filter((l) => /outbox|deliver|retry/i.test(l)).slice(-10);
    return [`At ${new Date().toISOString()} the outbox holds ${rows.length} undelivered row(s):`, ...rows.map((r) => `  ${JSON.stringify(r)}`), 'Its last log lines:', ...outboxLogs.map((l) => `  ${l.trim().slice(0, 400)}`)].join('\n');
  };
  let stopped = false;
  const stopApp = async () => {
    if (!stopped) await app.stop();
    stopped = true;
  };
  return {
    app,
    slack,
    url: `http://127.0.0.1:${port}`,
    dbPath: database.target,
    dbKind: database.kind,
    logs,
    stopApp,
    restart: async () => {
      await stopApp();
      return start(opts, shared, false);
    },
    close: async () => {
      await stopApp();
      if (shared.closed) return;
      shared.closed = true;
      if (shared.ownsSlack) await slack.close();
      if (shared.ownsDatabase) await database.cleanup();
    },
  };
}
