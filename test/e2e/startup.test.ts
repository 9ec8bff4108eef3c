import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { golive, query, until } from '../support/golive-client.js';
import { PROJECT_ROOT, startTestApp, type TestApp } from '../support/start-app.js';
import { migrations } from '../../src/platform/store/migrations.js';
import { startFakeSlack } from '../support/fake-slack.js';

function runMain(env: Record<string, string>) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 20000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** stdout's lines, each of which must be JSON (one log format). */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The one fatal line a failed start-up writes to stdout (on Node < 22 after the version warning), without its time. */
function fatalLine(stdout: string): Record<string, unknown> {
  const lines = jsonLines(stdout).filter((l) => l.level === 60);
  expect(lines).toHaveLength(1);
  const { time, ...rest } = lines[0]!;
  expect(typeof time).toBe('number');
  return rest;
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

// Each case starts golive as a process (6–10 s alone): 30 s, as crash.test's, not the suite's 15 s that busy cores exceed.
describe('start-up', { timeout: 30_000 }, () => {
  it('names every configuration problem at once and exits 1', () => {
    // GOLIVE_SANDBOX=0: without it, no Slack credentials at all starts the sandbox instead (test/sandbox/main.test.ts).
    const res = runMain({ GOLIVE_SANDBOX: '0', PORT: 'abc', SLACK_API_URL: 'not a url' });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      [
        'golive cannot start; fix the configuration:',
        '  - SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)',
        '  - SLACK_SIGNING_SECRET is not set (from the Slack app\'s "Basic Information" page; HTTP mode needs it, Socket Mode with SLACK_APP_TOKEN does not)',
        '  - SLACK_API_URL is not an http(s) URL',
        '  - PORT must be a number from 0 to 65535 (got "abc")',
        '  - GOLIVE_RUNBOOK is not set (the path of the launch runbook YAML, e.g. runbooks/govisax.yml)',
        '',
      ].join('\n'),
    );
    expect(fatalLine(res.stdout)).toStrictEqual({
      level: 60,
      app: 'golive',
      msg: 'golive cannot start; fix the configuration:',
      problems: [
        'SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)',
        'SLACK_SIGNING_SECRET is not set (from the Slack app\'s "Basic Information" page; HTTP mode needs it, Socket Mode with SLACK_APP_TOKEN does not)',
        'SLACK_API_URL is not an http(s) URL',
        'PORT must be a number from 0 to 65535 (got "abc")',
        'GOLIVE_RUNBOOK is not set (the path of the launch runbook YAML, e.g. runbooks/govisax.yml)',
      ],
    });
  });

  it('refuses a malformed runbook with file:line: reason, and never prints a secret', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-bad-'));
    const file = path.join(dir, 'bad.yml');
    writeFileSync(file, ['version: 1', 'launch:', '  name: Bad', '  channel: "#ops"', 'roles:', '  devops: { name: DevOps, users: [U1AB] }', 'gates:', '  - id: pre-flight', '    title: Pre', '    items:', '      - { id: a, title: A, level: critical, owner: ops }', ''].join('\n'));
    const res = runMain({ SLACK_BOT_TOKEN: 'xoxb-secret-bot-token-value', SLACK_SIGNING_SECRET: 'super-secret-signing', GOLIVE_RUNBOOK: file, GOLIVE_DB: path.join(dir, 'db.sqlite') });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      [
        'The runbook is not valid:',
        `${file}:4: launch.channel: must be a Slack channel ID such as "C0123ABCD" (not a #name: names change, IDs do not)`,
        `${file}:11: gates[0].items[0].level: Invalid option: expected one of "blocker"|"warning"|"info"`,
        // A misspelt role is reported with the schema's problems, not once they are fixed.
        `${file}:11: gates[0].items[0].owner: unknown role "ops" — did you mean "devops"? (roles: devops)`,
        '',
      ].join('\n'),
    );
    expect(fatalLine(res.stdout)).toStrictEqual({
      level: 60,
      app: 'golive',
      msg: 'The runbook is not valid:',
      problems: [
        `${file}:4: launch.channel: must be a Slack channel ID such as "C0123ABCD" (not a #name: names change, IDs do not)`,
        `${file}:11: gates[0].items[0].level: Invalid option: expected one of "blocker"|"warning"|"info"`,
        `${file}:11: gates[0].items[0].owner: unknown role "ops" — did you mean "devops"? (roles: devops)`,
      ],
    });
    expect(res.stderr + res.stdout).not.toMatch(/secret-bot-token|super-secret/);
  });
});

describe('paging needs a key', { timeout: 30_000 }, () => {
  it('refuses to start a runbook that pages on-call without PAGERDUTY_ROUTING_KEY', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-page-'));
    const res = runMain({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'sign-secret-value', GOLIVE_RUNBOOK: 'runbooks/govisax.yml', GOLIVE_DB: path.join(dir, 'db.sqlite') });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      [
        'golive cannot start; fix the configuration:',
        "  - PAGERDUTY_ROUTING_KEY is not set, but the runbook pages on-call (GoVisaX-Prod-API-5XX-Rate, GoVisaX-Prod-ECS-TaskStopped, GoVisaX-Prod-V2F-Circuit-Open, GoVisaX-Prod-HealthCheck, incident severity P1, incident severity P2): set the Events API v2 integration key, or set page: false",
        '',
      ].join('\n'),
    );
    expect(fatalLine(res.stdout)).toMatchObject({ level: 60, msg: 'golive cannot start; fix the configuration:', problems: [expect.stringMatching(/^PAGERDUTY_ROUTING_KEY is not set, but the runbook pages on-call/)] });
  });
});

describe('start-up against Slack', { timeout: 30_000 }, () => {
  it('says Slack could not be reached when nothing answers at SLACK_API_URL, not that it refused the token', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-noslack-'));
    // A port that was free a moment ago: nothing listens there, so the connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const res = runMain({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789',
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
      GOLIVE_RUNBOOK: path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
      GOLIVE_DB: path.join(dir, 'golive.db'),
      PORT: '0',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`Slack could not be reached at http://127.0.0.1:${port}/api/ (auth.test: request_error: A request error occurred: fetch failed (ECONNREFUSED)). Check the network (DNS, firewall, proxy) and SLACK_API_URL.\n`);
    expect(fatalLine(res.stdout)).toMatchObject({ level: 60, msg: expect.stringMatching(/^Slack could not be reached at /) });
  });

  it('says Slack refused the bot token when Slack answers invalid_auth', async () => {
    const slack = await startFakeSlack({ token: 'xoxb-test-token' });
    try {
      await expect(startTestApp({ slack, env: { SLACK_BOT_TOKEN: 'xoxb-not-the-right-one' } })).rejects.toThrow(
        'Slack refused the bot token (auth.test: invalid_auth). Check SLACK_BOT_TOKEN and SLACK_API_URL.',
      );
    } finally {
      await slack.close();
    }
  });
});

describe('health and persistence', () => {
  it('answers /healthz with the database and runbook state', async () => {
    t = await startTestApp();
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      mode: 'http',
      replica: { name: 'golive-test', leading: true, leader: 'golive-test', leader_since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      database: { ok: true, kind: t.app.store.dialect, path: t.app.store.target, read: 'ok', write: 'ok', schema_version: migrations.at(-1)!.version, outbox_pending: 0 },
      runbook: { ok: true, path: path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'), launch: 'Test launch', gates: 2, items: 5 },
      pagerduty: { ok: true, failed_deliveries: 0 },
      outbox: { ok: true },
    });
  });

  it('keeps sign-offs across a restart and does not re-run migrations', async () => {
    t = await startTestApp();
    await golive(t, 'check secrets-manager before restart');
    await t.slack.waitForCall('chat.postMessage');
    t = await t.restart();
    t.slack.reset();
    await golive(t, 'status');
    const post = await t.slack.waitForCall('chat.postMessage');
    expect(post.args.text).toBe('Test launch: 2 blockers open — NO-GO until resolved');
    expect(await query(t, 'SELECT version FROM schema_migrations')).toEqual(migrations.map((m) => ({ version: m.version })));
    expect(await query(t, 'SELECT item_id, note FROM item_state')).toEqual([{ item_id: 'secrets-manager', note: 'before restart' }]);
  });

  it('keeps an announcement Slack refused and delivers it once Slack is back', async () => {
    t = await startTestApp();
    // The outbox's client does not retry inside a call, so one 503 fails one delivery attempt.
    t.slack.failNext('chat.postMessage', { status: 503 });
    await golive(t, 'check secrets-manager during outage');
    await t.slack.waitFor(() => t!.slack.callsTo('chat.postMessage').some((c) => c.faulted));
    await until('the failed post to be recorded', async () => (await query<{ n: number }>(t!, 'SELECT COUNT(*) AS n FROM outbox WHERE last_error IS NOT NULL'))[0]?.n === 1);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL')).toEqual([{ n: 1 }]);
    // The row is due again after its backoff; a flush picks it up.
    const [row] = await query<{ next_attempt_at: string }>(t, 'SELECT next_attempt_at FROM outbox');
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(row!.next_attempt_at) - Date.now()) + 20));
    await t.app.outbox.flush();
    const delivered = t.slack.callsTo('chat.postMessage').filter((c) => !c.faulted);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.args.text).toContain('signed off `secrets-manager`');
  });
});
