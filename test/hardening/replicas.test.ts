/*
 * Several golive replicas on one PostgreSQL (issue 17), as real processes: one throwaway cluster for this file, a
 * fresh database per case, the fake Slack and PagerDuty, moto behind a tap for ECS and CloudWatch. Each case checks
 * that every effect happens once, whichever replica Slack reaches and whichever replica dies.
 *
 * Skipped, saying how to get PostgreSQL, only on a machine without its server binaries and without CI; under CI
 * the cases run and fail instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { appProcessEnv, databaseReader, startAppProcess, type AppProcess, type DatabaseReader } from '../support/app-process.js';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { startSmokeServer, writeDeployRunbook, type SmokeServer } from '../support/deploy-fixture.js';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs, startMoto, type Moto } from '../support/moto.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../support/postgres.js';
import { blockActionPayload, blockActionsBody, newTriggerId, postSigned, slashCommandBody } from '../support/sign.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/start-app.js';

// Every case starts two or three golive processes and waits out a replica's dead time (20 s) at least once.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const skip = !findPostgresBin() && !process.env.CI;
if (skip) process.stderr.write(`golive: test/hardening/replicas.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

const LEADS = 'this replica now leads';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdef012345';
const FIVE_XX = 'GoVisaX-Prod-API-5XX-Rate';

let cluster: PostgresCluster;
let moto: Moto;
let slack: FakeSlack;
let dbUrl: string;
let db: DatabaseReader;
let dir: string;
const procs: AppProcess[] = [];

beforeAll(async () => {
  if (skip) return;
  [cluster, moto] = await Promise.all([startPostgresCluster(), startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } })]);
});
afterAll(async () => {
  await cluster?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  if (skip) return;
  if (!cluster.running) await cluster.startServer();
  slack = await startFakeSlack({ token: BOT_TOKEN });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  dbUrl = await cluster.createDatabase();
  db = databaseReader(dbUrl);
  dir = mkdtempSync(path.join(tmpdir(), 'golive-replicas-'));
  await resetMoto(moto.endpoint);
});
afterEach(async () => {
  if (skip) return;
  await Promise.all(procs.splice(0).map((p) => p.kill()));
  await slack.close();
  await db.close();
  if (!cluster.running) await cluster.startServer();
  await cluster.dropDatabase(dbUrl);
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a replica named `name` on this case's database; `extra` adds to (or overrides) its configuration. */
async function replica(name: string, extra: Record<string, string> = {}): Promise<AppProcess> {
  const p = await startAppProcess(appProcessEnv(slack.url, dbUrl, { GOLIVE_REPLICA: name, GOLIVE_TEST_OUTBOX_POLL_MS: '200', GOLIVE_TEST_EXPIRY_SWEEP_MS: '1000', ...extra }), { timeoutMs: 90_000 });
  procs.push(p);
  return p;
}

interface Health {
  status: number;
  body: { status: string; replica: { name: string; leading: boolean; leader?: string }; database: { ok: boolean; path: string; error?: string } };
}

async function health(p: AppProcess): Promise<Health> {
  const res = await fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Health['body'] };
}

/** Polls `check` (async) until it holds; fails naming `what` after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The one replica that says it leads, once every one of `of` agrees on it. */
async function leaderOf(of: AppProcess[], timeoutMs = 60_000): Promise<AppProcess> {
  let leader: AppProcess | undefined;
  await eventually(
    'one replica to lead, and all to name it',
    async () => {
      const all = await Promise.all(of.map((p) => health(p)));
      const leading = of.filter((_, i) => all[i]!.body.replica.leading);
      if (leading.length !== 1) return false;
      leader = leading[0];
      const name = all[of.indexOf(leader!)]!.body.replica.name;
      return all.every((h) => h.body.replica.leader === name);
    },
    timeoutMs,
  );
  return leader!;
}

const count = async (sql: string, ...params: unknown[]) => (await db.all<{ n: number }>(sql, ...params))[0]!.n;
const pendingOutbox = () => count('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL');
/** Top-level posts and thread replies the bot made, as Slack has them now (after updates). */
const posts = (pattern: RegExp, channel?: string) => [...slack.messages.values()].filter((m) => (!channel || m.channel === channel) && pattern.test(m.text));

const command = (p: AppProcess, text: string, opts: { user?: string; responseUrl?: string } = {}) =>
  postSigned(`${p.url}/slack/events`, slashCommandBody({ text, user_id: opts.user ?? 'U0DEVOPS', channel_id: 'C0OPS', response_url: opts.responseUrl ?? slack.responseUrl() }), SIGNING_SECRET).catch(() => ({ status: 0, text: '' }));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

describe.skipIf(skip)('replicas on one PostgreSQL', () => {
  describe('an alarm firing while three replicas poll', () => {
    let pd: FakePagerDuty;
    beforeEach(async () => {
      pd = await startFakePagerDuty();
    });
    afterEach(async () => {
      await pd.close();
    });

    it('is posted once and paged once, also after the leader is killed and another polls', async () => {
      const runbook = path.join(dir, 'alarms.yml');
      writeFileSync(
        runbook,
        `
version: 1
launch: { name: Replica alarm test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }
alarms:
  region: ap-south-1
  prefixes: [GoVisaX-Prod]
  schedule: "*/2 * * * * *"
  rules:
    - { match: ${FIVE_XX}, severity: critical, page: true, description: ">1% 5xx errors over 5 min" }
    - { match: "GoVisaX-Prod-*", severity: warning }
pagerduty: { source: govisax-prod }
`,
      );
      await seedAlarms(moto.endpoint, [{ name: FIVE_XX, state: 'OK' }]);
      const env = { GOLIVE_RUNBOOK: runbook, ...awsTestEnv(moto.endpoint), PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url };
      // Started together: they migrate the empty database at the same moment (once, under the migration lock).
      const all = await Promise.all(['r1', 'r2', 'r3'].map((n) => replica(n, env)));
      const first = await leaderOf(all);
      await eventually('the first poll to see the alarm OK', async () => (await db.all<{ state: string }>('SELECT state FROM alarm_state WHERE name = ?', FIVE_XX))[0]?.state === 'OK');

      await seedAlarms(moto.endpoint, [{ name: FIVE_XX, state: 'ALARM', reason: '5xx over 1%' }]);
      await pd.waitFor((e) => e.body?.event_action === 'trigger', 60_000);
      await eventually('the alarm post', () => posts(new RegExp(FIVE_XX), 'C0OPS').filter((m) => !m.thread_ts).length > 0);
      // Recorded as delivered before the kill: a leader killed between PagerDuty's answer and that record would have
      // its page sent again by the next one, with the same dedup key (PagerDuty keeps one incident; the crash tests cover it).
      await eventually('the page to be recorded as delivered', async () => (await count("SELECT COUNT(*) AS n FROM outbox WHERE target = 'pagerduty' AND delivered_at IS NOT NULL")) === 1);

      // The leader dies; another takes the polls over and must not announce the same firing again.
      await first.kill();
      const rest = all.filter((p) => p !== first);
      const second = await leaderOf(rest);
      const lastPoll = async () => (await db.all<{ value: string }>("SELECT value FROM watcher_meta WHERE key = 'alarm_last_poll_at'"))[0]!.value;
      const polled = await lastPoll();
      // A few polls (every 2 s) by the new leader after the hand-over.
      await eventually('the new leader to poll', async () => (await lastPoll()) > new Date(Date.parse(polled) + 5_000).toISOString());
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0);

      expect(posts(new RegExp(FIVE_XX), 'C0OPS').filter((m) => !m.thread_ts)).toHaveLength(1);
      expect(pd.events.filter((e) => e.body?.event_action === 'trigger').map((e) => e.body.dedup_key)).toHaveLength(1);
      expect(await count("SELECT COUNT(*) AS n FROM alarm_transition WHERE name = ? AND to_state = 'ALARM'", FIVE_XX)).toBe(1);
      expect((await health(second)).body.replica.leading).toBe(true);
      for (const p of rest) expect(p.child.exitCode).toBeNull();
    });
  });

  describe('the same signed request sent to two replicas', () => {
    it('a /golive check and a Sign off click each take effect once: one audit row, one announcement', async () => {
      const [a, b] = await Promise.all([replica('a'), replica('b')]);
      await leaderOf([a, b]);

      // A slash command delivered to both at once (Slack's retry reaching the other replica behind the load balancer).
      const check = slashCommandBody({ text: 'check secrets-manager', user_id: 'U0DEVOPS', channel_id: 'C0OPS', trigger_id: newTriggerId(), response_url: slack.responseUrl() });
      await Promise.all([a, b].map((p) => postSigned(`${p.url}/slack/events`, check, SIGNING_SECRET)));

      // A Sign off click: once to both together, then again to each as Slack's retry, after the first was handled.
      const click = blockActionsBody(blockActionPayload({ user: 'U0DEVOPS', channel: 'C0OPS', actionId: 'golive_check_item', value: 'acm-certificate', messageTs: '1.000001', responseUrl: slack.responseUrl() }));
      await Promise.all([a, b].map((p) => postSigned(`${p.url}/slack/events`, click, SIGNING_SECRET)));
      await eventually('both sign-offs to be recorded', async () => (await count("SELECT COUNT(*) AS n FROM item_state WHERE checked = 1 AND item_id IN ('secrets-manager', 'acm-certificate')")) === 2);
      for (const p of [b, a]) await postSigned(`${p.url}/slack/events`, click, SIGNING_SECRET, { extraHeaders: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' } });
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0);
      await eventually('both announcements', () => posts(/secrets-manager/, 'C0OPS').length >= 1 && posts(/acm-certificate/, 'C0OPS').length >= 1);

      expect(await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'secrets-manager'")).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'acm-certificate'")).toBe(1);
      expect(posts(/secrets-manager/, 'C0OPS').filter((m) => !m.thread_ts)).toHaveLength(1);
      expect(posts(/acm-certificate/, 'C0OPS').filter((m) => !m.thread_ts)).toHaveLength(1);
      // Each request is in the inbox once, marked by the one replica that took it.
      expect(await db.all('SELECT replica FROM inbound_request WHERE done_at IS NOT NULL AND payload IS NOT NULL')).toHaveLength(2);
      const lines = [...a.lines, ...b.lines];
      expect(lines.filter((l) => l.includes('duplicate request ignored')).length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('SIGKILL of the leader', () => {
    let tap: AwsTap;
    let smoke: SmokeServer;
    let runbook: string;
    beforeAll(async () => {
      if (skip) return;
      smoke = await startSmokeServer();
      runbook = writeDeployRunbook({ smokeUrl: smoke.url, deployRequires: [] });
    });
    afterAll(async () => {
      await smoke?.close();
    });
    beforeEach(async () => {
      await seedEcs(moto.endpoint, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
      tap = await startAwsTap(moto.endpoint);
    });
    afterEach(async () => {
      await tap.close();
    });

    it('with a rollout running and an outbox row in flight: the other replica takes over, and each effect happens once', async () => {
      const env = { GOLIVE_RUNBOOK: runbook, ...awsTestEnv(tap.endpoint), GOLIVE_TEST_ROLLOUT_POLL_MS: '100' };
      const a = await replica('a', env);
      await leaderOf([a]);
      const b = await replica('b', env);
      await leaderOf([a, b]);

      // A's rollout: UpdateService reaches ECS, then every look at the service is held until A is dead.
      let killed: () => void = () => undefined;
      const dead = new Promise<void>((r) => (killed = r));
      let holding = false;
      void dead.then(() => (holding = false));
      tap.after = (call) => {
        if (call.operation === 'UpdateService') holding = true;
      };
      tap.before = async (call) => {
        if (call.operation !== 'DescribeServices' || !holding) return;
        await dead;
        return 'drop';
      };
      await command(a, 'deploy api v9');
      await eventually('the rollout to be running on a', async () => (await db.all<{ sent: number }>("SELECT COUNT(*) AS sent FROM deploy WHERE outcome = 'running' AND update_sent_at IS NOT NULL AND watched_by = 'a'"))[0]!.sent === 1 && holding);

      // An announcement A is sending: Slack takes it, and A dies before it hears back.
      let killedAt = 0;
      slack.beforeReply = async (call) => {
        if (killedAt || call.method !== 'chat.postMessage' || !String(call.args.text).includes('dns-ready') || call.result?.ok !== true) return;
        killedAt = Date.now();
        await a.kill();
        killed();
      };
      await command(a, 'check dns-ready');
      await eventually('the kill', () => killedAt > 0, 30_000);
      slack.beforeReply = undefined;
      expect(await a.exited).toBe('SIGKILL');
      expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND claimed_by = 'a' AND sending_at IS NOT NULL")).toBe(1);

      const leads = await b.waitForLine(LEADS, 60_000);
      await eventually('b to say on /healthz that it leads', async () => (await health(b)).body.replica.leading);
      const leadingAt = Date.now();
      const rollout = await b.waitForLine('taking over a rollout', 90_000);
      await eventually('the deploy to finish', async () => (await db.all<{ outcome: string }>('SELECT outcome FROM deploy'))[0]!.outcome !== 'running', 90_000);
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0, 90_000);
      process.stdout.write(`replicas: takeover after SIGKILL: "now leads" ${leads.at - killedAt} ms, /healthz leading ${leadingAt - killedAt} ms, rollout taken over ${rollout.at - killedAt} ms\n`);

      expect(await db.all('SELECT outcome, watched_by FROM deploy')).toEqual([{ outcome: 'succeeded', watched_by: 'b' }]);
      expect(tap.forwarded('UpdateService')).toHaveLength(1);
      expect(posts(/^✅ Deploy of `api`/)).toHaveLength(1);
      expect(posts(/^❌/)).toHaveLength(0);
      expect(await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'deploy.succeeded'")).toBe(1);
      // The announcement Slack already had was adopted, not posted again.
      expect(posts(/dns-ready/, 'C0OPS').filter((m) => !m.thread_ts)).toHaveLength(1);
      expect(await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'dns-ready'")).toBe(1);
      expect(b.lines.some((l) => l.includes('already in Slack from an earlier attempt'))).toBe(true);
      // Taking the lead is within the follower's retry (5 s), far inside the poll interval + 15 s.
      expect(leads.at - killedAt).toBeLessThan(20_000);
    });

    it('a request a follower acknowledged and did not finish: left to it while it lives (a replica starting meanwhile does not run it), run once by the leader after it dies', async () => {
      const env = { GOLIVE_RUNBOOK: runbook, ...awsTestEnv(tap.endpoint), GOLIVE_TEST_ROLLOUT_POLL_MS: '100' };
      const a = await replica('a', env);
      await leaderOf([a]);
      const b = await replica('b', env);
      await leaderOf([a, b]);

      // b's deploy command stops at its first look at ECS: acknowledged, in the inbox, nothing changed yet.
      let bDied: () => void = () => undefined;
      const dead = new Promise<void>((r) => (bDied = r));
      let held = 0;
      tap.before = async (call) => {
        if (call.operation !== 'DescribeServices' || held > 0) return;
        held++;
        await dead;
        return 'drop';
      };
      const responseUrl = slack.responseUrl('deploy');
      expect((await command(b, 'deploy api v9', { responseUrl })).status).toBe(200);
      await eventually('b to be handling it', () => held === 1);
      expect(await db.all('SELECT replica FROM inbound_request WHERE done_at IS NULL')).toEqual([{ replica: 'b' }]);

      // A rolling update starts a new replica meanwhile, and the leader sweeps: b is alive, so neither runs it.
      const c = await replica('c', env);
      // c's start-up replay has run, and the leader has swept (every second) for as long as c took to beat once more.
      const seen = async () => (await db.all<{ seen_at: string }>("SELECT seen_at FROM replica WHERE name = 'c'"))[0]?.seen_at ?? '';
      const first = await seen();
      await eventually('c to beat again', async () => (await seen()) > first, 30_000);
      expect(tap.calls.filter((x) => x.operation === 'DescribeServices')).toHaveLength(1);
      expect([...a.lines, ...c.lines].some((l) => l.includes('taking over a request') || l.includes('running again a request'))).toBe(false);

      const killedAt = Date.now();
      await b.kill();
      bDied();
      const taken = await a.waitForLine('taking over a request of a replica that is no longer running', 90_000);
      await eventually('the deploy to finish', async () => (await db.all<{ outcome: string }>('SELECT outcome FROM deploy'))[0]?.outcome === 'succeeded', 90_000);
      // The outcome's post is stored after the outcome itself: the outbox can be empty in between.
      await eventually('the deploy post', () => posts(/^✅ Deploy of `api`/).length > 0, 60_000);
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0, 60_000);
      process.stdout.write(`replicas: a dead follower's unfinished request run again by the leader ${taken.at - killedAt} ms after the kill\n`);

      expect(await db.all('SELECT replica, done_at IS NOT NULL AS done FROM inbound_request WHERE payload IS NOT NULL')).toEqual([{ replica: 'a', done: true }]);
      expect(await count('SELECT COUNT(*) AS n FROM deploy')).toBe(1);
      expect(tap.forwarded('UpdateService')).toHaveLength(1);
      expect(posts(/^✅ Deploy of `api`/)).toHaveLength(1);
      expect(c.lines.some((l) => l.includes('running again a request'))).toBe(false);
    });

    it('the lead passes to a survivor within seconds, kill after kill', async () => {
      const kills = 8;
      let live = [await replica('k0'), await replica('k1')];
      const times: number[] = [];
      for (let k = 0; k < kills; k++) {
        const leader = await leaderOf(live);
        const survivor = live.find((p) => p !== leader)!;
        // At a random point of the survivor's 5-s retry (otherwise every kill lands just after the new replica's start).
        await new Promise((r) => setTimeout(r, Math.random() * 5_000));
        const from = survivor.lines.length;
        const at = Date.now();
        await leader.kill();
        const leads = await survivor.waitForLine(LEADS, 60_000, from);
        times.push(leads.at - at);
        // The replaced task: a new replica with a new name, as ECS starts one.
        live = [survivor, await replica(`k${k + 2}`)];
      }
      process.stdout.write(`replicas: leader takeover after SIGKILL over ${kills} kills: min ${Math.min(...times)} ms, median ${median(times)} ms, max ${Math.max(...times)} ms (${times.join(', ')})\n`);
      for (const t of times) expect(t).toBeLessThan(20_000);
    });
  });

  describe('a rolling update (start the new replica, then SIGTERM the old)', () => {
    it('across a due milestone and a due reminder: each is posted once', async () => {
      const clockFile = path.join(dir, 'clock');
      const start = Date.now();
      writeFileSync(clockFile, String(start));
      const milestoneAt = new Date(start + 5 * 60_000 + 15_000).toISOString().replace('Z', '+00:00');
      const runbook = path.join(dir, 'rolling.yml');
      writeFileSync(
        runbook,
        `
version: 1
launch: { name: Rolling update test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }
milestones:
  - { at: "${milestoneAt}", title: Handover milestone }
incidents:
  severities:
    P2: { name: High, response_minutes: 30, update_every_minutes: 5 }
`,
      );
      const env = { GOLIVE_RUNBOOK: runbook, GOLIVE_TEST_CLOCK_FILE: clockFile };
      const old = await replica('old', env);
      await leaderOf([old]);
      await command(old, 'incident declare P2 Checkout is slow');
      await eventually('the incident and its reminder', async () => (await count("SELECT COUNT(*) AS n FROM reminder WHERE kind = 'update' AND sent_at IS NULL AND cancelled_at IS NULL")) === 1);

      const fresh = await replica('new', env);
      await leaderOf([old, fresh]);
      // Both come due; the old replica is stopped at once, while either may be posting them.
      writeFileSync(clockFile, String(start + 5 * 60_000 + 30_000));
      const stopped = old.stop();
      await eventually('the new replica to lead', async () => (await health(fresh)).body.replica.leading, 60_000);
      expect(await stopped).toBe('0');
      await eventually('the milestone post', () => posts(/Handover milestone/, 'C0OPS').length > 0, 90_000);
      await eventually('the reminder', () => posts(/a status update for INC-1 is due/).length > 0, 90_000);
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0);

      expect(posts(/Handover milestone/, 'C0OPS').filter((m) => !m.thread_ts)).toHaveLength(1);
      expect(posts(/a status update for INC-1 is due/)).toHaveLength(1);
      expect(await count('SELECT COUNT(*) AS n FROM milestone_post')).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM incident_event WHERE kind = 'reminder.update'")).toBe(1);
      // The old replica's clean stop handed the lead over and removed its sign of life.
      expect(await db.all('SELECT name FROM replica')).toEqual([{ name: 'new' }]);
    });
  });

  describe('PostgreSQL stopped and restarted under load', () => {
    it('answers every request, says 503 naming the database while it is down, then delivers what was waiting once and goes on', async () => {
      const [a, b] = await Promise.all([replica('a'), replica('b')]);
      await leaderOf([a, b]);
      const replicas = [a, b];

      // Load all along: a read-only command every 250 ms, alternating replicas, each with its own response_url.
      const sent: { id: string; at: number; down: boolean }[] = [];
      let down = false;
      let loading = true;
      const load = (async () => {
        for (let n = 0; loading; n++) {
          const id = `load-${n}`;
          sent.push({ id, at: Date.now(), down });
          void command(replicas[n % 2]!, 'timeline', { responseUrl: slack.responseUrl(id) });
          await new Promise((r) => setTimeout(r, 250));
        }
      })();

      // Sign-offs whose announcements Slack takes but whose answers are lost: the outbox still has them when the database goes.
      let dropping = true;
      slack.beforeReply = (call) => (dropping && call.method === 'chat.postMessage' && call.args.channel === 'C0OPS' ? 'drop' : undefined);
      const items = ['secrets-manager', 'acm-certificate', 's3-bucket-names'];
      for (const [i, item] of items.entries()) await command(replicas[i % 2]!, `check ${item}`);
      await eventually('the sign-offs to be recorded', async () => (await count('SELECT COUNT(*) AS n FROM item_state WHERE checked = 1')) === items.length);
      // The first is in Slack with its answer lost; the others wait behind it in the channel's lane.
      await eventually('Slack to have the first announcement', () => posts(new RegExp(`signed off \`${items[0]}\``), 'C0OPS').length > 0);
      const pendingAtStop = await pendingOutbox();
      expect(pendingAtStop).toBeGreaterThan(0);

      await cluster.stopServer();
      down = true;
      dropping = false;
      const downAt = Date.now();
      // While it is down: 503 naming the database on every replica.
      for (const p of replicas) {
        await eventually(`${p === a ? 'a' : 'b'} to say 503`, async () => (await health(p)).status === 503, 30_000);
        const h = await health(p);
        expect(h.body.database.ok).toBe(false);
        expect(h.body.database.error).toContain(`127.0.0.1:${cluster.port}`);
      }
      // A command that changes something, on each replica: answered, nothing changed.
      const refused = replicas.map((p, i) => ({ p, id: `down-check-${i}` }));
      for (const { p, id } of refused) await command(p, 'check e2e-transaction', { responseUrl: slack.responseUrl(id) });
      const answers = await Promise.all(refused.map(({ id }) => slack.waitForResponse((r) => r.id === id, 15_000)));
      for (const answer of answers) {
        expect(answer.body.response_type).toBe('ephemeral');
        expect(answer.body.text).toBe('⚠️ golive cannot reach its database; nothing was changed.\nTry again in a minute. Whoever runs golive: `/healthz` names the database and what failed.');
      }
      // Down for about 20 s in all.
      await eventually('20 s of outage', () => Date.now() - downAt >= 20_000, 30_000);
      await cluster.startServer();
      down = false;

      for (const p of replicas) await eventually('/healthz 200 again', async () => (await health(p)).status === 200, 60_000);
      await leaderOf(replicas, 60_000);
      await eventually('the outbox to settle', async () => (await pendingOutbox()) === 0, 90_000);
      loading = false;
      await load;
      // It goes on: a change on each replica after the outage.
      await command(a, 'uncheck secrets-manager back to work');
      await command(b, 'check e2e-transaction');
      // Each by name: the sign-off of secrets-manager from before the outage must not stand in for either.
      await eventually(
        'both changes',
        async () =>
          (await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.uncheck' AND target = 'secrets-manager'")) === 1 &&
          (await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'e2e-transaction'")) === 1,
        60_000,
      );
      await eventually('every load request to be answered', () => sent.every((s) => slack.responses.some((r) => r.id === s.id)), 60_000);

      const answeredIn = sent.filter((s) => s.down).map((s) => slack.responses.find((r) => r.id === s.id)!.at - s.at);
      process.stdout.write(`replicas: ${pendingAtStop} outbox rows waiting when the database stopped; ${sent.length} load requests, ${answeredIn.length} while the database was down, answered in max ${Math.max(...answeredIn)} ms (median ${median(answeredIn)} ms)\n`);
      // Said on a failure: what Slack has in the channel, what it was asked, and what the outbox recorded for it.
      const explain = async () =>
        [
          `C0OPS: ${JSON.stringify([...slack.messages.values()].filter((m) => m.channel === 'C0OPS').map((m) => [m.ts, m.thread_ts ?? null, m.text.slice(0, 160)]))}`,
          `calls: ${JSON.stringify(slack.calls.filter((c) => c.args.channel === 'C0OPS').map((c) => [c.method, String(c.args.text ?? '').slice(0, 80), c.result?.ok ?? null, c.result?.error ?? null]))}`,
          `outbox: ${JSON.stringify(await db.all("SELECT id, gather, attempts, created_at, sending_at, delivered_at, failed_at, last_error, result FROM outbox WHERE lane = 'post:C0OPS' ORDER BY id"))}`,
        ].join('\n');
      for (const item of items) {
        const found = posts(new RegExp(`signed off \`${item}\``), 'C0OPS').filter((m) => !m.thread_ts);
        expect(found, found.length === 1 ? undefined : `${item} announced ${found.length} times\n${await explain()}`).toHaveLength(1);
      }
      expect(await count("SELECT COUNT(*) AS n FROM audit WHERE action = 'item.check' AND target = 'e2e-transaction'")).toBe(1);
      for (const p of replicas) expect(p.child.exitCode).toBeNull();
      expect(await Promise.all(replicas.map((p) => p.stop()))).toEqual(['0', '0']);
    });
  });
});
