import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { vi, afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// Each case starts golive twice as a real process (kill, then restart): ~6–9 s alone, more while the rest of the
// suite shares two cores, so these cases get 30 s instead of the suite's 15 s.
vi.setConfig({ testTimeout: 30_000 });
import { writeAlarmRunbook } from '../support/alarm-fixture.js';
import { appProcessEnv, startAppProcess, type AppProcess } from '../support/app-process.js';
import { startFakePagerDuty } from '../support/fake-pagerduty.js';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { awsTestEnv, type Moto, resetMoto, seedEcs, type SeededEcs, startMoto, TEST_CREDENTIALS } from '../support/moto.js';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../support/fake-slack.js';
import { blockActionPayload, blockActionsBody, postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/start-app.js';
import { openDatabase } from '../../src/platform/store/open-database.js';
import { migrations } from '../../src/platform/store/migrations.js';
import { until } from '../support/golive-client.js';

let slack: FakeSlack;
let dir: string;
let dbPath: string;
let proc: AppProcess | undefined;

beforeEach(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  dir = mkdtempSync(path.join(tmpdir(), 'golive-crash-'));
  dbPath = path.join(dir, 'golive.db');
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return appProcessEnv(slack.url, dbPath, { GOLIVE_TEST_OUTBOX_POLL_MS: '100', ...extra });
}

function query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** SIGKILLs the app the first time Slack has acted on a matching call, before the app hears the answer. */
function killAfterSlackAccepts(match: (call: RecordedCall) => boolean): { killed: () => boolean } {
  let killed = false;
  slack.beforeReply = async (call) => {
    if (killed || !proc || !match(call) || call.result?.ok !== true) return;
    killed = true;
    await proc.kill();
  };
  return { killed: () => killed };
}

const command = (text: string, user = 'U0DEVOPS') =>
  postSigned(`${proc!.url}/slack/events`, slashCommandBody({ text, user_id: user, response_url: slack.responseUrl() }), SIGNING_SECRET).catch(() => ({ status: 0, text: '' }));

const posted = (pattern: RegExp) => [...slack.messages.values()].filter((m) => pattern.test(m.text));

describe('SIGKILL during outbox delivery', () => {
  it('posts the announcement once when the process dies after Slack took it but before the outbox recorded it', async () => {
    proc = await startAppProcess(env());
    const trap = killAfterSlackAccepts((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('secrets-manager'));
    await command('check secrets-manager done');
    await proc.exited;
    expect(trap.killed()).toBe(true);
    // Slack has the post; the database still says it is waiting.
    expect(posted(/secrets-manager/)).toHaveLength(1);
    expect(query("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND method = 'chat.postMessage'")).toEqual([{ n: 1 }]);

    slack.beforeReply = undefined;
    proc = await startAppProcess(env());
    await until('the outbox to settle', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL')[0]!.n === 0);
    const messages = posted(/secrets-manager/);
    expect(messages).toHaveLength(1);
    // The row adopted the ts of the post Slack already had, so threads and updates hang off the right message.
    const row = query<{ result: string }>("SELECT result FROM outbox WHERE method = 'chat.postMessage'")[0]!;
    expect(JSON.parse(row.result)).toEqual({ ts: messages[0]!.ts, channel: 'C0OPS' });
  });
});

describe('SIGKILL while a page is in flight', () => {
  it('sends the same event again after the restart, with the same dedup key, so PagerDuty keeps one incident', async () => {
    const pd = await startFakePagerDuty();
    try {
      const pageEnv = () => env({ GOLIVE_RUNBOOK: writeAlarmRunbook(), PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdef012345', PAGERDUTY_EVENTS_URL: pd.url, AWS_REGION: 'ap-south-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
      proc = await startAppProcess(pageEnv());
      // PagerDuty gets the trigger but never answers; the app is killed while it waits.
      pd.failNext('hang');
      await command('incident declare P1 checkout is down');
      await pd.waitFor(() => true, 10_000);
      await proc.kill();
      expect(query("SELECT COUNT(*) AS n FROM outbox WHERE target = 'pagerduty' AND delivered_at IS NULL")).toEqual([{ n: 1 }]);

      proc = await startAppProcess(pageEnv());
      await until('the page to be delivered', () => query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE target = 'pagerduty' AND delivered_at IS NULL")[0]!.n === 0);
      expect(pd.events.map((e) => [e.status, e.body.event_action, e.body.dedup_key])).toEqual([
        [0, 'trigger', 'golive/incident/1'],
        [202, 'trigger', 'golive/incident/1'],
      ]);
      expect(query('SELECT COUNT(*) AS n FROM incident')).toEqual([{ n: 1 }]);
      expect(slack.callsTo('conversations.create').filter((c) => c.result?.ok === true)).toHaveLength(1);
    } finally {
      await pd.close();
    }
  });
});

describe('SIGKILL during an approved rollback', () => {
  let moto: Moto;
  let tap: AwsTap;
  let smoke: SmokeServer;
  let seeded: SeededEcs;
  let runbook: string;

  beforeAll(async () => {
    moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
    smoke = await startSmokeServer();
    runbook = writeDeployRunbook({ smokeUrl: smoke.url });
  });
  afterAll(async () => {
    await smoke.close();
    await moto.stop();
  });
  beforeEach(async () => {
    await resetMoto(moto.endpoint);
    seeded = await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
    tap = await startAwsTap(moto.endpoint);
  });
  afterEach(async () => {
    await tap.close();
  });

  const rollbackEnv = () => env({ ...awsTestEnv(tap.endpoint), GOLIVE_RUNBOOK: runbook, GOLIVE_TEST_ROLLOUT_POLL_MS: '50' });

  async function serviceTaskDef(): Promise<string> {
    const client = new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1', credentials: TEST_CREDENTIALS });
    try {
      const out = await client.send(new DescribeServicesCommand({ cluster: 'GoVisaX-Prod-Cluster', services: ['GoVisaX-Prod-Service'] }));
      return out.services![0]!.taskDefinition!;
    } finally {
      client.destroy();
    }
  }

  /** Files a rollback as U0DEVOPS, then approves it as U0CTO; returns the card's ts. */
  async function requestAndApprove(beforeApprove: () => void): Promise<string> {
    await command('rollback api 5xx after deploy');
    const card = await slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Rollback of api'), 10_000);
    const ts = String(card.result!.ts);
    beforeApprove();
    const payload = blockActionPayload({ user: 'U0CTO', channel: 'C0OPS', actionId: 'golive_request_approve', value: '1', messageTs: ts, responseUrl: slack.responseUrl() });
    await postSigned(`${proc!.url}/slack/events`, blockActionsBody(payload), SIGNING_SECRET).catch(() => undefined);
    return ts;
  }

  const outcomes = () => posted(/^(✅|❌) Rollback/);

  async function restartAndSettle(): Promise<void> {
    tap.before = undefined;
    tap.after = undefined;
    proc = await startAppProcess(rollbackEnv());
    await until('the rollback to settle', () => query<{ state: string }>('SELECT state FROM change_request WHERE id = 1')[0]!.state.match(/succeeded|failed/) !== null, 20_000);
    await until('the outbox to settle', () => query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL')[0]!.n === 0);
  }

  it('killed after approval, before ECS received UpdateService: on restart the rollback runs once and is reported once', async () => {
    proc = await startAppProcess(rollbackEnv());
    let killed = false;
    await requestAndApprove(() => {
      tap.before = async (call) => {
        if (call.operation !== 'UpdateService' || killed) return;
        killed = true;
        await proc!.kill();
        return 'drop';
      };
    });
    await proc.exited;
    expect(killed).toBe(true);
    expect(query('SELECT state FROM change_request')).toEqual([{ state: 'executing' }]);
    expect(query<{ outcome: string; sent: number }>('SELECT outcome, update_sent_at IS NOT NULL AS sent FROM deploy')).toEqual([{ outcome: 'running', sent: 1 }]);
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);

    await restartAndSettle();
    expect(query('SELECT state, result FROM change_request')).toEqual([{ state: 'succeeded', result: 'govisax-prod:2 is live: 2/2 tasks running' }]);
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[1]);
    expect(tap.forwarded('UpdateService')).toHaveLength(1);
    expect(outcomes().map((m) => m.text)).toEqual(['✅ Rollback of `api` to govisax-prod:2 succeeded: govisax-prod:2 is live: 2/2 tasks running']);
  });

  it('a rollback whose UpdateService never reached ECS, found long after: not sent any more, closed with a clear note', async () => {
    // The state a kill before UpdateService leaves, 31 minutes old (the runbook's approvals expire after 30).
    const db = openDatabase(dbPath);
    const old = new Date(Date.now() - 31 * 60_000).toISOString();
    const from = seeded.serviceTaskDefinitionArn;
    const to = seeded.taskDefinitionArns[1]!;
    db.prepare(
      `INSERT INTO change_request (kind, service, params, requested_by, requested_at, expires_at, approvals_required, state, decided_by, decided_at, channel, updated_at)
       VALUES ('rollback', 'api', ?, 'U0DEVOPS', ?, ?, 1, 'executing', 'U0CTO', ?, 'C0OPS', ?)`,
    ).run(JSON.stringify({ from, to, why: 'test', reason: null }), old, old, old, old);
    db.prepare("INSERT INTO deploy (service, kind, from_task_def, to_task_def, requested_by, request_id, started_at, channel, update_sent_at) VALUES ('api', 'rollback', ?, ?, 'U0DEVOPS', 1, ?, 'C0OPS', ?)").run(from, to, old, old);
    db.close();

    await restartAndSettle();
    expect(tap.forwarded('UpdateService')).toHaveLength(0);
    expect(await serviceTaskDef()).toBe(from);
    expect(query('SELECT state, result FROM change_request')).toEqual([
      { state: 'failed', result: 'golive restarted before ECS took the change, and the rollback is now too old to send; nothing was changed in ECS. Ask again if it is still needed.' },
    ]);
  });

  it('killed after ECS took UpdateService, before golive heard back: on restart it watches the rollout to the end and reports once', async () => {
    proc = await startAppProcess(rollbackEnv());
    let killed = false;
    await requestAndApprove(() => {
      tap.after = async (call) => {
        if (call.operation !== 'UpdateService' || killed) return;
        killed = true;
        await proc!.kill();
        return 'drop';
      };
    });
    await proc.exited;
    expect(killed).toBe(true);
    expect(await serviceTaskDef()).toBe(seeded.taskDefinitionArns[1]);

    await restartAndSettle();
    expect(query('SELECT state FROM change_request')).toEqual([{ state: 'succeeded' }]);
    expect(tap.forwarded('UpdateService')).toHaveLength(1);
    expect(outcomes().map((m) => m.text)).toEqual(['✅ Rollback of `api` to govisax-prod:2 succeeded: govisax-prod:2 is live: 2/2 tasks running']);
  });

  it('killed after approval, before the rollback was recorded as started: on restart it is closed with a clear note and ECS is untouched', async () => {
    proc = await startAppProcess(rollbackEnv());
    let killed = false;
    await requestAndApprove(() => {
      // The first ECS call after the approval is the check of what the service runs now.
      tap.before = async (call) => {
        if (call.operation !== 'DescribeServices' || killed) return;
        killed = true;
        await proc!.kill();
        return 'drop';
      };
    });
    await proc.exited;
    expect(killed).toBe(true);
    expect(query('SELECT state FROM change_request')).toEqual([{ state: 'executing' }]);
    expect(query('SELECT COUNT(*) AS n FROM deploy')).toEqual([{ n: 0 }]);

    await restartAndSettle();
    expect(tap.forwarded('UpdateService')).toHaveLength(0);
    expect(await serviceTaskDef()).toBe(seeded.serviceTaskDefinitionArn);
    expect(query('SELECT state, result FROM change_request')).toEqual([{ state: 'failed', result: 'golive restarted before the change started; nothing was changed in ECS' }]);
    await until('the card to say so', () => JSON.stringify([...slack.messages.values()].find((m) => m.text.startsWith('Rollback of api'))?.blocks).includes('nothing was changed in ECS'));
  });
});

// Every migration the code has, so a migration added later does not need this test edited.
const ALL_VERSIONS = migrations.map((m) => m.version);

describe('SIGKILL during a migration', () => {
  const versions = () => query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version').map((r) => r.version);
  const tables = () => query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((r) => r.name);

  it.each([
    { killIn: 1, before: [], after: ALL_VERSIONS },
    { killIn: 3, before: [1, 2], after: ALL_VERSIONS },
    { killIn: 5, before: [1, 2, 3, 4], after: ALL_VERSIONS },
    { killIn: 6, before: [1, 2, 3, 4, 5], after: ALL_VERSIONS },
  ])('killed inside migration $killIn after its SQL ran: nothing of it is kept, and the next start applies it once', async ({ killIn, before, after }) => {
    const dying = await startAppProcess(env({ GOLIVE_TEST_KILL_IN_MIGRATION: String(killIn) }), { waitForListening: false });
    expect(await dying.exited).toBe('SIGKILL');
    expect(dying.lines.some((l) => l.includes('killing myself inside migration'))).toBe(true);
    expect(versions()).toEqual(before);
    if (killIn === 3) {
      expect(tables()).not.toContain('alarm_state');
      expect(query<{ name: string }>("SELECT name FROM pragma_table_info('outbox')").map((c) => c.name)).not.toContain('target');
    }
    if (killIn === 5) {
      expect(tables()).not.toContain('launch_setting');
      expect(query<{ name: string }>("SELECT name FROM pragma_table_info('alarm_state')").map((c) => c.name)).not.toContain('page_held_since');
    }
    if (killIn === 6) expect(query<{ name: string }>("SELECT name FROM pragma_table_info('outbox')").map((c) => c.name)).not.toContain('sending_at');

    proc = await startAppProcess(env());
    expect(versions()).toEqual(after);
    const health = (await fetch(`${proc.url}/healthz`).then((r) => r.json())) as { database: { ok: boolean; schema_version: number } };
    expect(health.database).toMatchObject({ ok: true, schema_version: ALL_VERSIONS.at(-1) });
    // The schema works: a sign-off goes through and is announced.
    await command('check secrets-manager');
    await until('the announcement', () => posted(/secrets-manager/).length === 1);
  });
});
