import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readConfig } from '../../src/config.js';
import { createApp, type AppOptions, type GoliveApp } from '../../src/create-app.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Clock } from '../../src/platform/clock.js';
import { startFakeSlack, TEST_SLACK_LIMIT_SCALE, type FakeSlack } from './fake-slack.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const BOT_TOKEN = 'xoxb-test-token';
export { TEST_SLACK_LIMIT_SCALE };

/** A running golive on a free port, talking to a fake Slack, with its logs captured. */
export interface TestApp {
  app: GoliveApp;
  slack: FakeSlack;
  url: string;
  dbPath: string;
  logs: string[];
  /** Stops the app (keeps the fake Slack and the database). */
  stopApp(): Promise<void>;
  /** Starts a fresh app process-equivalent on the same database. */
  restart(): Promise<TestApp>;
  close(): Promise<void>;
}

/** Starts the real app over HTTP against a local fake Slack Web API. */
export async function startTestApp(
  opts: { runbook?: string; env?: Record<string, string>; clock?: Clock; slack?: FakeSlack; dbDir?: string; appOptions?: Partial<Omit<AppOptions, 'config'>> } = {},
): Promise<TestApp> {
  const slack = opts.slack ?? (await startFakeSlack({ token: BOT_TOKEN }));
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  const dir = opts.dbDir ?? mkdtempSync(path.join(tmpdir(), 'golive-test-'));
  const dbPath = path.join(dir, 'golive.db');
  const config = readConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: opts.runbook ?? path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
    GOLIVE_DB: dbPath,
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
  const { port } = await app.start();
  let stopped = false;
  const stopApp = async () => {
    if (!stopped) await app.stop();
    stopped = true;
  };
  return {
    app,
    slack,
    url: `http://127.0.0.1:${port}`,
    dbPath,
    logs,
    stopApp,
    restart: async () => {
      await stopApp();
      return startTestApp({ ...opts, slack, dbDir: dir });
    },
    close: async () => {
      await stopApp();
      if (!opts.slack) await slack.close();
      if (!opts.dbDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
