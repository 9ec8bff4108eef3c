import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clockAt } from '../support/clock.js';
import { golive, privateReply, query } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedEcs, startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { startSesShim, type SesShim } from '../support/ses-shim.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

/**
 * The real app over HTTP, its checks read through the real adapters from
 * moto (SES through the GetAccount shim), with a clock the test moves: a
 * secret deleted after its item was signed off is announced once, refuses
 * the deploy, and its recovery is announced.
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
        verify: { type: secret, region: ap-south-1, names: [visa2fly/prod/api-key, visa2fly/prod/api-secret] }
      - id: ses-access
        title: SES production access approved
        level: warning
        owner: devops
        auto_signoff: true
        verify: { type: ses_production, region: ap-south-1 }
services:
  - name: api
    cluster: GoVisaX-Prod-Cluster
    service: GoVisaX-Prod-Service
    region: ap-south-1
    family: govisax-prod
    container: govisax-api
    deployers: [devops]
    rollback_approvers: [devops]
    deploy_requires: [pre-flight]
verification: { schedule: off }
`;

let moto: Moto;
let shim: SesShim;
let t: TestApp;
let runbookFile: string;
const clock = clockAt('2026-12-01T02:00:00Z');
const secrets = () => new SecretsManagerClient({ endpoint: moto.endpoint, region: 'ap-south-1', credentials: TEST_CREDENTIALS });

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsTestEnv(moto.endpoint));
  shim = await startSesShim(moto.endpoint);
  runbookFile = path.join(mkdtempSync(path.join(tmpdir(), 'golive-evidence-')), 'evidence.yml');
  writeFileSync(runbookFile, RUNBOOK);
});
afterAll(async () => {
  await shim.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 2 });
  shim.account.ProductionAccessEnabled = true;
  clock.at = Date.parse('2026-12-01T02:00:00Z');
  t = await startTestApp({ runbook: runbookFile, clock, env: { AWS_ENDPOINT_URL: shim.url }, appOptions: { verificationPolling: false } });
});
afterEach(async () => {
  await t?.close();
});

const posts = (needle: string) => t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes(needle));
const minutes = (n: number) => (clock.at += n * 60_000);

describe('evidence checks end to end', () => {
  it('a deleted secret after sign-off: drift announced once, the deploy refused, recovery announced', async () => {
    for (const name of ['visa2fly/prod/api-key', 'visa2fly/prod/api-secret']) await secrets().send(new CreateSecretCommand({ Name: name, SecretString: 'never read' }));

    const reply = await privateReply(t, 'verify');
    expect(reply).toBe('🔎 Checked 2 items in ' + reply.slice('🔎 Checked 2 items in '.length, reply.indexOf(' s:')) + ' s: 2 ✅ · 0 ❌ · 0 ❔');
    // ses-access says auto_signoff: golive signed it off itself, with the evidence.
    const auto = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('golive signed off `ses-access`'));
    expect(String(auto.args.text).split('\n').slice(0, 2)).toEqual([
      '✅ golive signed off `ses-access` (SES production access approved)',
      '✅ Its check passes: “SES production access is enabled in ap-south-1, quota 200 emails / 24 h”',
    ]);
    expect(await query(t, "SELECT actor, action, target FROM audit WHERE action = 'item.check'")).toEqual([{ actor: 'golive', action: 'item.check', target: 'ses-access' }]);

    // Past the gathering window after the auto sign-off's announcement (this test's clock stands still otherwise), so it is posted alone.
    clock.at += 1000;
    await golive(t, 'check api-secrets');
    const signed = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('<@U0DEVOPS> signed off `api-secrets`'));
    expect(String(signed.args.text)).toMatch(/\n✅ Its check passes: “all 2 secrets exist in ap-south-1 with a current value: visa2fly\/prod\/api-key \(changed .+\), visa2fly\/prod\/api-secret \(changed .+\)”\n/);

    // The secret goes away after the sign-off.
    await secrets().send(new DeleteSecretCommand({ SecretId: 'visa2fly/prod/api-secret', ForceDeleteWithoutRecovery: true }));
    minutes(5);
    const pass1 = await t.app.services.evidence.verifyAll();
    expect(pass1.drifted).toEqual(['api-secrets']);
    const drift = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('🚨 *Drift*'));
    expect(String(drift.args.text)).toMatch(
      /^🚨 \*Drift\*: `api-secrets` \(V2F production credentials in Secrets Manager\) was signed off by <@U0DEVOPS>, but its check now fails: “secret visa2fly\/prod\/api-secret does not exist in ap-south-1; 1 other is fine”\nIt counts as an open 🔴 blocker of gate `pre-flight`: deploys of `api` are refused until its check passes again \(or its owner signs it off again with a note\)\.$/,
    );

    // Still failing five minutes later: not announced again.
    minutes(5);
    expect((await t.app.services.evidence.verifyAll()).drifted).toEqual([]);
    expect(posts('*Drift*')).toHaveLength(1);

    const refused = await privateReply(t, 'deploy api v9');
    expect(refused.split('\n')).toEqual([
      ':warning: Deploy of `api` refused: 1 thing must be resolved first. Nothing was changed.',
      '• 🔴 blocker `api-secrets` V2F production credentials in Secrets Manager (gate `pre-flight`, owner: DevOps) — signed off, but its check now fails',
    ]);

    // The status shows it open, why, and since when; no Sign off button (signing it again needs a note).
    await golive(t, 'status');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Evidence test:'));
    const item = (status.args.blocks as { text?: { text: string }; accessory?: unknown }[]).find((b) => b.text?.text.includes('`api-secrets`'))!;
    expect(item.text!.text.split('\n')).toEqual([
      '🔴 `api-secrets` V2F production credentials in Secrets Manager',
      'Owner: DevOps (<@U0DEVOPS>) · gate `pre-flight`',
      expect.stringMatching(/^🚨 \*Drift\*: signed off, but its check has failed since 5 min ago; it counts as open \(signed off by <@U0DEVOPS> · .+\)$/),
      '❌ check failed just now (failing for 5 min): “secret visa2fly/prod/api-secret does not exist in ap-south-1; 1 other is fine”',
    ]);
    expect(item.accessory).toBeUndefined();

    // The owner cannot just sign it again without saying why.
    expect(await privateReply(t, 'check api-secrets')).toBe(
      ':warning: `api-secrets` is signed off, but its check has been failing: “secret visa2fly/prod/api-secret does not exist in ap-south-1; 1 other is fine”\nFix it and sign off again, or sign off with a note saying why it is fine anyway: `/golive check api-secrets <note>`.',
    );

    await secrets().send(new CreateSecretCommand({ Name: 'visa2fly/prod/api-secret', SecretString: 'never read' }));
    minutes(5);
    expect((await t.app.services.evidence.verifyAll()).recovered).toEqual(['api-secrets']);
    const recovered = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('✅ *Recovered*'));
    expect(String(recovered.args.text)).toMatch(/^✅ \*Recovered\*: `api-secrets` \(V2F production credentials in Secrets Manager\) passes its check again: “all 2 secrets exist in ap-south-1 with a current value: .+” It counts as done again\.$/);
    expect(posts('*Drift*')).toHaveLength(1);
    expect(await query(t, "SELECT action, target FROM audit WHERE action IN ('item.drift', 'item.recovered') ORDER BY id")).toEqual([
      { action: 'item.drift', target: 'api-secrets' },
      { action: 'item.recovered', target: 'api-secrets' },
    ]);
    expect(await query(t, "SELECT outcome FROM evidence_change WHERE item_id = 'api-secrets' ORDER BY id")).toEqual([{ outcome: 'pass' }, { outcome: 'fail' }, { outcome: 'pass' }]);
  });

  it('a sign-off of an item whose check fails needs a note, and says so', async () => {
    await secrets().send(new CreateSecretCommand({ Name: 'visa2fly/prod/api-key', SecretString: 'never read' }));
    expect(await privateReply(t, 'check api-secrets')).toBe(
      ':warning: `api-secrets` was not signed off: its check fails: “secret visa2fly/prod/api-secret does not exist in ap-south-1; 1 other is fine”\nFix it and sign off again, or sign off with a note saying why it is fine anyway: `/golive check api-secrets <note>`.',
    );
    expect(await query(t, 'SELECT COUNT(*) AS n FROM item_state WHERE checked = 1')).toEqual([{ n: 0 }]);
    await golive(t, 'check api-secrets the secret is created by the deploy pipeline at T-1h');
    const signed = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('signed off `api-secrets`'));
    expect(String(signed.args.text).split('\n').slice(0, 2)).toEqual([
      '✅ <@U0DEVOPS> signed off `api-secrets` (V2F production credentials in Secrets Manager) — “the secret is created by the deploy pipeline at T-1h”',
      '❌ Signed off although its check fails: “secret visa2fly/prod/api-secret does not exist in ap-south-1; 1 other is fine”',
    ]);
    // A decision made with the failure in view is not drift.
    minutes(5);
    expect((await t.app.services.evidence.verifyAll()).drifted).toEqual([]);
  });

  it('SES still in the sandbox: ❌ with why, and no auto sign-off', async () => {
    shim.account.ProductionAccessEnabled = false;
    await privateReply(t, 'verify ses-access').then((r) => expect(r).toMatch(/^🔎 Checked 1 item in \d+\.\d s: 0 ✅ · 1 ❌ · 0 ❔$/));
    const status = await privateReply(t, 'verify pre-flight');
    expect(status).toMatch(/: 0 ✅ · 2 ❌ · 0 ❔$/);
    expect(await query(t, 'SELECT item_id, outcome, text FROM item_evidence ORDER BY item_id')).toEqual([
      { item_id: 'api-secrets', outcome: 'fail', text: 'secret visa2fly/prod/api-key does not exist in ap-south-1; secret visa2fly/prod/api-secret does not exist in ap-south-1' },
      { item_id: 'ses-access', outcome: 'fail', text: 'SES in ap-south-1 is still in the sandbox: it mails only verified addresses (no production access yet)' },
    ]);
    expect(await query(t, 'SELECT COUNT(*) AS n FROM item_state')).toEqual([{ n: 0 }]);
    expect(await privateReply(t, 'verify nope')).toBe(':warning: There is no checked item or gate `nope`.\nChecked items: `api-secrets`, `ses-access`.');
  });
});
