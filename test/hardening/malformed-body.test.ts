import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, PROJECT_ROOT, SIGNING_SECRET } from '../support/start-app.js';

let slack: FakeSlack;
let dir: string;
let proc: AppProcess;

beforeAll(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  dir = mkdtempSync(path.join(tmpdir(), 'golive-body-'));
  proc = await startAppProcess({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'),
    GOLIVE_DB: path.join(dir, 'golive.db'),
    LOG_LEVEL: 'info',
  });
});
afterAll(async () => {
  await proc.kill();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed bodies that parse to something other than an object (the real process)', () => {
  it.each([
    ['payload=null', 'application/x-www-form-urlencoded'],
    ['null', 'application/json'],
    ['payload=%5B1%5D', 'application/x-www-form-urlencoded'],
    ['"text"', 'application/json'],
    ['7', 'application/json'],
  ])('%s (%s) is refused with 400 and the process keeps serving', async (body, type) => {
    const res = await postSigned(`${proc.url}/slack/events`, body, SIGNING_SECRET, { extraHeaders: { 'Content-Type': type } }).catch((err: Error) => ({ status: `no answer: ${err.message}` }));
    expect(res.status, `exit: ${String(proc.child.exitCode ?? proc.child.signalCode)}\n${proc.lines.slice(-6).join("\n")}`).toBe(400);
    const alive = await postSigned(`${proc.url}/slack/events`, slashCommandBody({ text: 'help', response_url: slack.responseUrl('alive') }), SIGNING_SECRET).catch((err: Error) => ({ status: `no answer: ${err.message}` }));
    expect(alive.status, proc.lines.slice(-5).join('\n')).toBe(200);
    expect(proc.child.exitCode).toBeNull();
  });
});
