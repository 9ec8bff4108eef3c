import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { golive, privateReply } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

/**
 * What moto cannot do — refuse a call for want of a permission, or throttle
 * past the SDK's retries — through the real app: the Secrets Manager client
 * the app's own adapter builds is mocked (aws-sdk-client-mock replaces every
 * instance's send), and the person is told ❔ with the reason and the fix.
 */
const RUNBOOK = `
version: 1
launch: { name: Evidence test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - id: pre-flight
    title: Pre-flight
    items:
      - id: api-secrets
        title: V2F production credentials in Secrets Manager
        level: blocker
        owner: devops
        verify: { type: secret, region: ap-south-1, names: [visa2fly/prod/api-key] }
verification: { schedule: off }
`;

const sm = mockClient(SecretsManagerClient);
const failure = (name: string, message: string) => new SecretsManagerServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
const denied = (action: string) => failure('AccessDeniedException', `User: arn:aws:sts::123456789012:assumed-role/golive/x is not authorized to perform: ${action}`);
let t: TestApp;
let runbookFile: string;

beforeAll(() => {
  runbookFile = path.join(mkdtempSync(path.join(tmpdir(), 'golive-evidence-refused-')), 'evidence.yml');
  writeFileSync(runbookFile, RUNBOOK);
});
afterAll(() => sm.restore());
beforeEach(async () => {
  sm.reset();
  t = await startTestApp({ runbook: runbookFile, env: { AWS_REGION: 'ap-south-1' }, appOptions: { verificationPolling: false } });
});
afterEach(async () => {
  await t?.close();
});

/** The item's lines on a fresh `/golive status` board. */
async function statusLines(): Promise<string[]> {
  t.slack.reset();
  await golive(t, 'status');
  const board = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Evidence test:'));
  const item = (board.args.blocks as { text?: { text: string } }[]).find((b) => b.text?.text.includes('`api-secrets`'))!;
  return item.text!.text.split('\n');
}

describe('evidence checks AWS refuses, through the app', () => {
  it('a role without the permission: ❔ with the IAM action it lacks, on the answer and the status', async () => {
    sm.on(ListSecretsCommand).rejects(denied('secretsmanager:ListSecrets'));
    sm.on(DescribeSecretCommand).rejects(denied('secretsmanager:DescribeSecret'));

    expect(await privateReply(t, 'verify api-secrets')).toMatch(/^🔎 Checked 1 item in \d+\.\d s: 0 ✅ · 0 ❌ · 1 ❔$/);
    expect((await statusLines()).at(-1)).toBe('❔ could not check just now: AWS refused DescribeSecret for secret "visa2fly/prod/api-key" (ap-south-1): the bot\'s IAM role lacks secretsmanager:DescribeSecret');
    // Both ways of reading were tried (a role may be allowed one and not the other); a secret's value never was.
    expect(sm.commandCalls(ListSecretsCommand)).toHaveLength(1);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
    expect(sm.calls().map((c) => c.args[0].constructor.name).filter((n) => n === 'GetSecretValueCommand')).toEqual([]);
  });

  it('throttling past the retries: ❔ saying so, and the next check reads again', async () => {
    sm.on(ListSecretsCommand).rejects(failure('ThrottlingException', 'Rate exceeded'));

    expect(await privateReply(t, 'verify')).toMatch(/: 0 ✅ · 0 ❌ · 1 ❔$/);
    expect((await statusLines()).at(-1)).toBe('❔ could not check just now: AWS Secrets Manager is throttling ListSecrets (ap-south-1) and still refused after retries; try again in a minute');

    sm.reset();
    sm.on(ListSecretsCommand).resolves({ SecretList: [{ Name: 'visa2fly/prod/api-key', LastChangedDate: new Date('2026-12-01T09:14:00Z'), SecretVersionsToStages: { v1: ['AWSCURRENT'] } }] });
    expect(await privateReply(t, 'verify')).toMatch(/: 1 ✅ · 0 ❌ · 0 ❔$/);
    expect((await statusLines()).at(-1)).toBe('✅ verified just now: “secret visa2fly/prod/api-key exists in ap-south-1, last changed 1 Dec 14:44 GMT+5:30”');
  });
});
