import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAppProcess, type AppProcess } from '../support/app-process.js';
import { startAwsTap, type AwsTap, type TapAction, type TappedCall } from '../support/aws-tap.js';
import { canaryYaml, describeCanaryService, putVariantMetrics, seedCanaryService } from '../support/canary-fixture.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { until } from '../support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs, startMoto, type Moto, type SeededEcs } from '../support/moto.js';
import { postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/start-app.js';

const CLUSTER = 'GoVisaX-Prod-Cluster';
const MAIN = 'GoVisaX-Prod-Service';
const CANARY = 'GoVisaX-Prod-Service-Canary';

let moto: Moto;
let tap: AwsTap;
let smoke: SmokeServer;
let slack: FakeSlack;
let seeded: SeededEcs;
let dir: string;
let proc: AppProcess | undefined;
let runbook: string;

beforeAll(async () => {
  moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
  smoke = await startSmokeServer();
  runbook = writeDeployRunbook({ smokeUrl: smoke.url, deployRequires: [], serviceExtra: canaryYaml({ autoPromote: true }) });
});
afterAll(async () => {
  await smoke.close();
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  seeded = await seedEcs(moto.endpoint, { cluster: CLUSTER, service: MAIN, family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  await seedCanaryService(moto.endpoint, { cluster: CLUSTER, service: CANARY, taskDefinition: seeded.serviceTaskDefinitionArn });
  await seedAlarms(moto.endpoint, [{ name: 'GoVisaX-Prod-API-5XX-Rate', state: 'OK' }]);
  tap = await startAwsTap(moto.endpoint);
  slack = await startFakeSlack({ token: BOT_TOKEN });
  dir = mkdtempSync(path.join(tmpdir(), 'golive-canary-crash-'));
  // The processes' clock: a whole minute just behind the real one, moved by the test.
  setClock(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
  await tap.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function setClock(ms: number): void {
  writeFileSync(path.join(dir, 'clock'), String(ms));
}

const start = async () => {
  proc = await startAppProcess({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GOLIVE_RUNBOOK: runbook,
    GOLIVE_DB: path.join(dir, 'golive.db'),
    LOG_LEVEL: 'info',
    ...awsTestEnv(tap.endpoint),
    GOLIVE_TEST_CLOCK_FILE: path.join(dir, 'clock'),
    GOLIVE_TEST_CANARY_POLL_MS: '20',
    GOLIVE_TEST_ROLLOUT_POLL_MS: '50',
    GOLIVE_TEST_OUTBOX_POLL_MS: '100',
  });
};

function query<T>(sql: string): T[] {
  const db = new Database(path.join(dir, 'golive.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}
const canary = () => query<{ state: string; bake_started_at: string | null }>('SELECT state, bake_started_at FROM canary')[0];

/** UpdateService calls that reached moto for one service. */
const updatesOf = (service: string) => tap.forwarded('UpdateService').filter((c) => (JSON.parse(c.body) as { service: string }).service === service);
const isMainUpdate = (c: TappedCall) => c.operation === 'UpdateService' && (JSON.parse(c.body) as { service: string }).service === MAIN;

/** Deploys with --canary, bakes it on passing metrics, and lets the analysis promote it; `trap` kills the process at the promotion's UpdateService. */
async function bakeAndPromote(trap: 'before' | 'after'): Promise<void> {
  await start();
  await postSigned(`${proc!.url}/slack/events`, slashCommandBody({ text: 'deploy api v9 --canary', user_id: 'U0DEVOPS', channel_id: 'C0OPS', response_url: slack.responseUrl() }), SIGNING_SECRET);
  await until('the canary to bake', () => canary()?.state === 'baking', 30_000);
  const bakeStart = Date.parse(canary()!.bake_started_at!);
  for (let k = 0; k < 5; k++) {
    await putVariantMetrics(moto.endpoint, new Date(bakeStart + k * 60_000 + 5_000), { canary: { requests: 100, errors: 0, latencyMs: 100 }, stable: { requests: 1000, errors: 1, latencyMs: 100 } });
  }
  let killed = false;
  const kill = async (call: TappedCall): Promise<TapAction> => {
    if (killed || !isMainUpdate(call)) return;
    killed = true;
    await proc!.kill();
    return 'drop';
  };
  tap[trap] = kill;
  setClock(bakeStart + 5 * 60_000);
  await until('the kill at the promotion', () => killed, 30_000);
  await proc!.exited;
  tap.before = undefined;
  tap.after = undefined;
  expect(canary()!.state).toBe('promoting');
  expect(query('SELECT outcome, update_sent_at IS NOT NULL AS sent FROM deploy')).toEqual([{ outcome: 'running', sent: 1 }]);
}

async function restartAndSettle(): Promise<void> {
  await start();
  await until('the canary to finish', () => ['succeeded', 'failed'].includes(canary()!.state), 30_000);
  await until('the outbox to settle', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL')[0]!.n === 0);
}

const outcomes = () => [...slack.messages.values()].filter((m) => /^(✅|❌) Deploy/.test(m.text)).map((m) => m.text);

describe('SIGKILL during a canary promotion', () => {
  it('killed after ECS took the promotion, before golive heard back: on restart it watches the rollout, takes the canary down and reports once', async () => {
    await bakeAndPromote('after');
    const newDef = seeded.taskDefinitionArns[3]!.replace(':4', ':5');
    expect((await describeCanaryService(moto.endpoint, CLUSTER, MAIN)).taskDefinition).toBe(newDef);

    await restartAndSettle();
    expect(canary()!.state).toBe('succeeded');
    expect(updatesOf(MAIN)).toHaveLength(1);
    expect(await describeCanaryService(moto.endpoint, CLUSTER, CANARY)).toEqual({ taskDefinition: newDef, desiredCount: 0 });
    expect(query('SELECT outcome FROM deploy')).toEqual([{ outcome: 'succeeded' }]);
    expect(outcomes()).toHaveLength(1);
    expect(outcomes()[0]).toMatch(/^✅ Deploy of `api` to govisax-prod:5 succeeded: govisax-prod:5 is live: 2\/2 tasks running, smoke check passed \(200 in \d+ ms\)$/);
  }, 90_000);

  it('killed before ECS received the promotion: on restart it sends it once, then finishes', async () => {
    await bakeAndPromote('before');
    expect((await describeCanaryService(moto.endpoint, CLUSTER, MAIN)).taskDefinition).toBe(seeded.serviceTaskDefinitionArn);

    await restartAndSettle();
    expect(canary()!.state).toBe('succeeded');
    expect(updatesOf(MAIN)).toHaveLength(1);
    expect(query('SELECT outcome FROM deploy')).toEqual([{ outcome: 'succeeded' }]);
    expect(outcomes()).toHaveLength(1);
  }, 90_000);
});
