import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeSupportWarning } from '../../src/platform/aws/aws-client.js';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { until } from '../support/golive-client.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { BOT_TOKEN, PROJECT_ROOT, SIGNING_SECRET } from '../support/start-app.js';

const NODE_20_TEXT =
  'Node v20.20.2 is not supported (it works, but is past its end of life): use Node 22 or 24 LTS. AWS SDK for JavaScript releases after the first week of January 2027 need Node >= 22.';

describe('nodeSupportWarning', () => {
  it('says Node 20 is not supported and why, and nothing on 22 or 24', () => {
    expect(nodeSupportWarning('v20.20.2')).toBe(NODE_20_TEXT);
    expect(nodeSupportWarning('v22.12.0')).toBeUndefined();
    expect(nodeSupportWarning('v24.22.3')).toBeUndefined();
  });
});

let proc: AppProcess | undefined;
let slack: FakeSlack | undefined;
afterEach(async () => {
  await proc?.kill();
  await slack?.close();
  proc = undefined;
  slack = undefined;
});

describe('the Node version warning, with the AWS SDK in use', () => {
  it('never reaches stdout or stderr as plain text: on an old Node it is one JSON line, on a supported one nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-node-'));
    const runbook = path.join(dir, 'launch.yml');
    // Alarm rules make golive poll CloudWatch at start, so an AWS SDK client exists (and would warn) at once.
    writeFileSync(runbook, `${readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'), 'utf8')}\nalarms:\n  region: eu-west-1\n  prefixes: [Test]\n  rules:\n    - { match: Test-5XX, severity: critical }\n`);
    slack = await startFakeSlack({ token: BOT_TOKEN });
    proc = await startAppProcess({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      PORT: '0',
      GOLIVE_RUNBOOK: runbook,
      GOLIVE_DB: path.join(dir, 'golive.db'),
      LOG_LEVEL: 'info',
      // Nothing listens there: the poll fails, after the client was made.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    await until('the first alarm poll failed', () => proc!.lines.some((l) => l.includes('alarm poll failed')), 20_000);
    await proc.stop();
    const lines = proc.lines.filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; node?: string }).filter((l) => /Node v\d/.test(l.msg));
    const expected = nodeSupportWarning();
    expect(warnings).toEqual(expected ? [expect.objectContaining({ level: 40, msg: expected, node: process.version })] : []);
  });
});
