import { StormRepository } from '../../../src/alarms/storm-repository.js';
import { ReplicaRepository } from '../../../src/platform/leadership/replica-repository.js';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlarmRepository } from '../../../src/alarms/alarm-repository.js';
import { CanaryRepository } from '../../../src/canary/canary-repository.js';
import { ChecklistRepository } from '../../../src/checklist/checklist-repository.js';
import { ApprovalRepository } from '../../../src/deploys/approval-repository.js';
import { DeployRepository } from '../../../src/deploys/deploy-repository.js';
import { EscalationRepository } from '../../../src/escalation/escalation-repository.js';
import { EvidenceRepository } from '../../../src/evidence/evidence-repository.js';
import { GoNoGoRepository } from '../../../src/gonogo/gonogo-repository.js';
import { HomeRepository } from '../../../src/home/home-repository.js';
import { IncidentPinRepository } from '../../../src/incidents/incident-pin-repository.js';
import { IncidentRepository } from '../../../src/incidents/incident-repository.js';
import { LockRepository } from '../../../src/locks/lock-repository.js';
import { WatchHealthRepository } from '../../../src/platform/health/watch-health-repository.js';
import { LeaderRepository } from '../../../src/platform/leadership/leader-repository.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { AuditRepository } from '../../../src/platform/store/audit-repository.js';
import { openCheckedDatabase } from '../../../src/platform/store/check-database.js';
import { copyDatabase, CopyRefused, type CopyOptions } from '../../../src/platform/store/copy-database.js';
import { migrations } from '../../../src/platform/store/migrations.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import { ReportLinkRepository } from '../../../src/report/report-link-repository.js';
import { TimelineRepository } from '../../../src/timeline/timeline-repository.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../../support/postgres.js';
import { PROJECT_ROOT } from '../../support/start-app.js';

const bin = findPostgresBin();
// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !bin && !process.env.CI;
if (skip) process.stderr.write(`golive: test/platform/store/copy-database.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

const LATEST = Math.max(...migrations.map((m) => m.version));
const T = (minute: number, ms = 0) => new Date(Date.UTC(2026, 11, 1, 10, minute, 0, ms)).toISOString();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(name = 'golive.db'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-copy-'));
  dirs.push(dir);
  return path.join(dir, name);
}

/**
 * A launch in full swing, written the way golive writes it (its repositories, in its transactions): every golive
 * table gets rows, including a delivered and a pending outbox row with a claim, a failed one and a reply waiting for
 * its post, an incident with its timeline and reminders (and a reservation dropped, so SQLite's sequence is past
 * MAX(id)), a deploy and a canary, a go/no-go with votes cast in one millisecond.
 */
async function fillLaunch(file: string): Promise<void> {
  const store = new SqliteStore(openCheckedDatabase(file));
  try {
    const audit = new AuditRepository(store);
    const checklist = new ChecklistRepository(store);
    const outbox = new OutboxRepository(store);
    await store.transaction(async () => {
      await checklist.setItemState('dns', true, 'U0DEVOPS', T(0), 'TTL 60 s');
      await checklist.setItemState('tls', true, 'U0DEVOPS', T(1), null);
      await checklist.setItemState('tls', false, 'U0QA', T(2), 'expires too soon: “renew” ✓');
      await audit.record({ actor: 'U0DEVOPS', action: 'item.check', target: 'dns', detail: { gate: 'preflight' }, source: 'command', channel: 'C0OPS' }, T(0));
      await audit.record({ actor: 'U0QA', action: 'item.uncheck', target: 'tls', source: 'button' }, T(2));
    });
    await store.transaction(async () => {
      await checklist.addSignoff('preflight', 'devops', 'U0DEVOPS', T(3));
      await checklist.addSignoff('preflight', 'qa', 'U0QA', T(3));
      await audit.record({ actor: 'U0QA', action: 'gate.signoff', target: 'preflight', detail: { roles: ['devops', 'qa'] }, source: 'button', channel: 'C0OPS' }, T(3));
    });
    await checklist.addStatusMessage({ channel: 'C0OPS', ts: '1764583200.000100', viewer: 'U0DEVOPS', gate_id: 'preflight', page: 2, posted_at: T(4) });

    // The outbox: delivered, pending with a replica's claim, failed, and a thread reply depending on a post.
    const delivered = await outbox.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'Pre-flight signed off' }, T(3));
    await outbox.markDelivered(delivered, T(3, 400), { ok: true, ts: '1764583380.000200' });
    const reply = await outbox.enqueue('chat.postMessage', { channel: 'C0OPS', thread_ts: '1764583380.000200', text: 'details' }, T(3), { dependsOn: delivered });
    await outbox.markRetry(reply, 'ratelimited', T(5));
    const pending = await outbox.enqueue('chat.postMessage', { channel: 'C0OPS', text: 'T-10 minutes' }, T(4), { priority: 'urgent' });
    expect(await outbox.claim(pending, 'golive-a', T(4), T(4, 30_000))).toBeDefined();
    await outbox.markSending(pending, T(4, 10));
    const failed = await outbox.enqueue('chat.update', { channel: 'C0GONE', ts: '1.2', text: 'x' }, T(4));
    await outbox.markFailed(failed, T(4, 500), 'channel_not_found');
    const page = await outbox.enqueue('trigger', { dedupKey: 'golive-incident-1', summary: 'P1' }, T(6), { target: 'pagerduty' });

    // An incident, then a reservation dropped (so SQLite's sequence, 2, is past MAX(id), 1), with its timeline, reminders and a pin.
    const incidents = new IncidentRepository(store);
    const incident = (await incidents.reserve({ severity: 'P1', summary: 'Checkout 5xx', services: 'api,web', commander: 'U0DEVOPS', declaredBy: 'U0QA', at: T(6), placeholderChannel: 'pending-1', alarm: { name: 'api-5xx', firedAt: T(5) } }))!;
    const dropped = (await incidents.reserve({ severity: 'P3', summary: 'dup', services: '', commander: 'U0DEVOPS', declaredBy: 'U0DEVOPS', at: T(6), placeholderChannel: 'pending-2' }))!;
    await incidents.dropReservation(dropped);
    await incidents.opened(incident, 'C0INC2', 'inc-2-checkout-5xx');
    await incidents.markPaged(incident, T(6));
    await incidents.addEvent(incident, 'declared', 'U0QA', { severity: 'P1' }, T(6));
    await incidents.addEvent(incident, 'update', 'U0DEVOPS', { text: 'rolling back' }, T(8));
    await incidents.acknowledge(incident, 'U0DEVOPS', T(7));
    await incidents.recordUpdate(incident, 1, T(8));
    await incidents.schedule(incident, 'update', T(38));
    await incidents.schedule(incident, 'escalation', T(16));
    await incidents.cancelReminders(incident, 'escalation', T(7));
    await new IncidentPinRepository(store).add({ incident_id: incident, message_ts: '1764583680.000300', author: 'U0QA', author_name: null, text: 'errors started at 10:05', written_at: T(8), pinned_by: 'U0DEVOPS', pinned_at: T(9), via: 'reaction' });
    await new EscalationRepository(store).claim({ subject: `incident:${incident}`, level: 1, dueAt: T(16), at: T(7), fired: false, detail: { reason: 'acknowledged' }, paged: false });

    // A deploy that succeeded, a rollback approval, a canary, a lock.
    const deploys = new DeployRepository(store);
    const deploy = (await deploys.startDeploy({ service: 'api', kind: 'deploy', from_task_def: 'api:41', to_task_def: 'api:42', image: 'ecr/api:1.4.2', requested_by: 'U0DEVOPS', request_id: null, started_at: T(10), channel: 'C0OPS' }))!;
    await deploys.markUpdateSent(deploy, T(10, 50));
    await deploys.finishDeploy(deploy, 'succeeded', null, T(14));
    const canaryDeploy = (await deploys.startDeploy({ service: 'web', kind: 'deploy', from_task_def: 'web:7', to_task_def: 'web:8', image: null, requested_by: 'U0DEVOPS', request_id: null, started_at: T(15), channel: 'C0OPS' }))!;
    const canaries = new CanaryRepository(store);
    const canary = await canaries.create({ deploy_id: canaryDeploy, service: 'web', canary_service: 'web-canary', stable_task_def: 'web:7', desired_count: 1, created_at: T(15), watched_by: 'golive-test' });
    await canaries.transition(canary, 'starting', 'baking', T(16), { bake_started_at: T(16), bake_ends_at: T(26) });
    const approvals = new ApprovalRepository(store);
    const request = (await approvals.createRequest({ kind: 'rollback', service: 'api', params: { to: 'api:41' }, requested_by: 'U0DEVOPS', requested_at: T(12), expires_at: T(27), approvals_required: 1, channel: 'C0OPS' }))!;
    await approvals.addApproval(request, 'U0QA', T(13));
    await approvals.transitionRequest(request, 'requested', 'approved', T(13), { decided_by: 'U0QA' });
    await new LockRepository(store).create({ scope: 'api', reason: 'launch freeze', locked_by: 'U0DEVOPS', locked_at: T(14), expires_at: T(74), channel: 'C0OPS' });

    // Go/no-go: two votes in the same millisecond (the rowid keeps their order).
    const gonogo = new GoNoGoRepository(store);
    const decision = await gonogo.open({ openedBy: 'U0DEVOPS', at: T(20), evidence: { at: T(20), results: [{ type: 'no_firing_alarms', label: 'No alarms', pass: true, value: '0', source: 'CloudWatch', hard: true }], allPass: true }, votesRequired: 2, channel: 'C0OPS' });
    await gonogo.setCard(decision, pending);
    await gonogo.addVote(decision, 'U0ZED', 'go', null, T(21));
    await gonogo.addVote(decision, 'U0ABE', 'no_go', 'wait for the canary', T(21));
    await gonogo.addVote(decision, 'U0MID', 'go', null, T(22));
    await gonogo.decide(decision, 'go', T(23));

    // Alarms, timeline, evidence, the inbox, the report link, Home viewers, watch health, the leader.
    const alarms = new AlarmRepository(store);
    await alarms.upsertState({ name: 'api-5xx', state: 'ALARM', reason: 'Threshold crossed', stateAt: T(5), kind: 'metric', region: 'ap-south-1', seenAt: T(5), trustUntil: T(6) });
    await alarms.fired('api-5xx', T(5));
    await alarms.setPost('api-5xx', page);
    await alarms.addTransition({ name: 'api-5xx', from: 'OK', to: 'ALARM', at: T(5), reason: 'Threshold crossed', source: 'poll', recordedAt: T(5) });
    await alarms.setMeta('last_poll', T(9));
    const timeline = new TimelineRepository(store);
    await timeline.putSetting('t0', T(30), 'U0DEVOPS', T(1));
    await timeline.claimMilestone('t-10', T(20), T(20), 250);
    await timeline.setMilestonePost('t-10', delivered);
    const evidence = new EvidenceRepository(store);
    const check = { item_id: 'dns', outcome: 'pass' as const, text: 'resolves to the ALB', checked_at: T(9), since: T(9), drift_at: null, trigger: 'schedule' };
    await evidence.save(check);
    await evidence.addChange(check);
    const inbox = new RequestRepository(store);
    await inbox.receive('trigger:1', T(9), { kind: 'command', payload: JSON.stringify({ text: 'status' }) });
    await inbox.receive('event:2', T(9));
    await new ReportLinkRepository(store).replace('r-secret-1', 'U0DEVOPS', T(9));
    await new ReportLinkRepository(store).replace('r-secret-2', 'U0DEVOPS', T(10));
    await new HomeRepository(store).opened('U0QA', T(9));
    await new WatchHealthRepository(store).set('pagerduty', { failures: 2, since: T(8), error: 'timeout', announced: false });
    await new LeaderRepository(store).record('leader', 'golive-sqlite', T(0));
    await new ReplicaRepository(store).beat('golive-sqlite', T(0));
    const storms = new StormRepository(store);
    const storm = await storms.start({ region: 'ap-south-1', paging: 'by_rule', at: T(11) });
    await storms.join({ storm_id: storm.id, name: 'GoVisaX-Prod-API-5xx', fired_at: T(11), joined_at: T(11), severity: 'critical', rule: 'GoVisaX-Prod-*', pages: 1, reason: '5xx over 1%', region: 'ap-south-1', own_post: 0, paged: 0 });
    await storms.triggered(storm.id, 'GoVisaX-Prod-*', `golive/alarm-storm/ap-south-1/${storm.id}/GoVisaX-Prod-*`, T(11));
  } finally {
    await store.close();
  }
}

/** A golive table's rows in a stable order (by its key), as plain values. */
function sqliteRows(file: string): Map<string, Record<string, unknown>[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").pluck().all() as string[];
    return new Map(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY ${orderOf(db, t)}`).all() as Record<string, unknown>[]]));
  } finally {
    db.close();
  }
}

function orderOf(db: Database.Database, table: string): string {
  const pk = (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; pk: number }[]).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  return pk.length > 0 ? pk.map((c) => `"${c.name}"`).join(', ') : 'rowid';
}

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  // The store's own client settings (BIGINT and COUNT as numbers), for comparing with what SQLite gives.
  const store = new PostgresStore({ url, poolSize: 1 });
  try {
    return await store.all<T>(sql, ...(params as string[]));
  } finally {
    await store.close();
  }
}

describe.skipIf(skip)('copying a launch from SQLite into PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const copy = (opts: CopyOptions) => copyDatabase(opts);
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CopyRefused);
    return (err as Error).message;
  };

  it('copies every table with the same ids and values, moves each sequence past them, and refuses to copy twice', async () => {
    const file = tempFile();
    await fillLaunch(file);
    const url = await cluster.createDatabase();
    const before = sqliteRows(file);
    // Every golive table has something to copy.
    expect([...before].filter(([, rows]) => rows.length === 0).map(([t]) => t)).toEqual([]);

    const result = await copy({ source: file, target: url });
    expect(result.schemaVersion).toBe(LATEST);
    expect(result.targetVersionBefore).toBe(0);
    expect(result.tables.map((t) => t.table).sort()).toEqual([...before.keys()]);
    for (const t of result.tables) expect(t.rows, t.table).toBe(before.get(t.table)!.length);
    // Parents before children.
    const at = (t: string) => result.tables.findIndex((x) => x.table === t);
    expect(at('incident')).toBeLessThan(at('incident_event'));
    expect(at('outbox')).toBeLessThan(at('gonogo_decision'));
    expect(at('gonogo_decision')).toBeLessThan(at('gonogo_vote'));
    expect(at('deploy')).toBeLessThan(at('canary'));
    expect(at('change_request')).toBeLessThan(at('change_approval'));
    expect(result.warnings).toEqual([expect.stringMatching(new RegExp(`^golive wrote to ${file} \\d+ s ago: if it is still running, stop it first`))]);

    const db = new Database(file, { readonly: true });
    for (const [table, rows] of before) {
      const cols = Object.keys(rows[0]!).map((c) => `"${c}"`).join(', ');
      const copied = await pgQuery<Record<string, unknown>>(url, `SELECT ${cols} FROM "${table}" ORDER BY ${orderOf(db, table)}`);
      expect(copied, table).toEqual(rows);
    }
    db.close();

    // The votes keep SQLite's order on PostgreSQL's rowid (the tie-break of votes cast in one millisecond).
    const pgStore = new PostgresStore({ url });
    try {
      await pgStore.ready();
      const gonogo = new GoNoGoRepository(pgStore);
      expect((await gonogo.votes(1)).map((v) => v.user_id)).toEqual(['U0ZED', 'U0ABE', 'U0MID']);
      // A new row gets the next id: past MAX(id), and past ids SQLite handed out and lost (incident 2, a reservation dropped).
      expect(await new AuditRepository(pgStore).record({ actor: 'U0QA', action: 'item.check', target: 'tls', source: 'command' }, T(40))).toBe(before.get('audit')!.length + 1);
      expect(await new OutboxRepository(pgStore).enqueue('chat.postMessage', { channel: 'C0OPS', text: 'after the move' }, T(40))).toBe(6);
      const next = await new IncidentRepository(pgStore).reserve({ severity: 'P2', summary: 'after', services: '', commander: 'U0QA', declaredBy: 'U0QA', at: T(41), placeholderChannel: 'pending-3' });
      expect(next).toBe(3);
      expect((await new GoNoGoRepository(pgStore).open({ openedBy: 'U0QA', at: T(42), evidence: { at: T(42), results: [], allPass: true }, votesRequired: 1, channel: 'C0OPS' }))).toBe(2);
      // Outbox state came along: the pending row is still due, still claimed until its lease runs out.
      const due = await new OutboxRepository(pgStore).due(T(50), 10);
      expect(due.map((r) => r.id)).toEqual([3, 5, 2, 6]);
      expect(await new OutboxRepository(pgStore).claim(3, 'golive-b', T(4, 20_000), T(5))).toBeUndefined();
      expect(await new OutboxRepository(pgStore).claim(3, 'golive-b', T(10), T(11))).toMatchObject({ id: 3, sending_at: T(4, 10) });
      expect((await pgStore.health()).ok).toBe(true);
    } finally {
      await pgStore.close();
    }

    // A second copy into it is refused, and changes nothing.
    expect(await refusal(copy({ source: file, target: url }))).toBe(
      `the PostgreSQL database ${url} already holds golive data (alarm_state: 1 row, alarm_storm: 1 row, alarm_storm_alarm: 1 row, alarm_storm_page: 1 row, alarm_transition: 1 row, and 28 more tables); nothing was copied. Copy into a new, empty database (CREATE DATABASE …), or, if what it holds can go, drop it and create it again.`,
    );
    expect((await pgQuery<{ n: number }>(url, 'SELECT COUNT(*) AS n FROM audit'))[0]!.n).toBe(before.get('audit')!.length + 1);
  }, 60_000);

  it('refuses a target that holds a single golive row, but not one that only has the schema', async () => {
    const file = tempFile();
    await fillLaunch(file);
    const url = await cluster.createDatabase();
    const store = new PostgresStore({ url });
    await store.ready();
    await store.run('INSERT INTO health_probe (id, at) VALUES (1, ?)', T(0));
    await store.close();
    expect(await refusal(copy({ source: file, target: url }))).toBe(
      `the PostgreSQL database ${url} already holds golive data (health_probe: 1 row); nothing was copied. Copy into a new, empty database (CREATE DATABASE …), or, if what it holds can go, drop it and create it again.`,
    );

    // Migrated by a golive that was started on it and stopped before it wrote anything: that is empty enough.
    const schemaOnly = await cluster.createDatabase();
    const migrated = new PostgresStore({ url: schemaOnly });
    await migrated.ready();
    await migrated.close();
    const result = await copy({ source: file, target: schemaOnly });
    expect(result.targetVersionBefore).toBe(LATEST);
    expect(result.rows).toBeGreaterThan(40);
  }, 60_000);

  it('refuses a target whose schema is ahead of the source, and leaves it as it was', async () => {
    const file = tempFile();
    await fillLaunch(file);
    const url = await cluster.createDatabase();
    const store = new PostgresStore({ url });
    await store.ready();
    await store.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', ?)", T(0));
    await store.close();
    expect(await refusal(copy({ source: file, target: url }))).toBe(
      `the PostgreSQL database ${url} is at schema version 99, ahead of ${file} (${LATEST}): a newer golive set it up. Copy into a new, empty database, or copy with that golive version. Nothing was copied.`,
    );
  });

  it('copies in one transaction: rows PostgreSQL refuses leave no table with rows, and the copy can run again', async () => {
    const file = tempFile();
    await fillLaunch(file);
    // SQLite keeps text in an INTEGER column; PostgreSQL does not.
    const db = new Database(file);
    db.prepare("UPDATE incident SET updates = 'lots' WHERE id = 1").run();
    db.close();
    const url = await cluster.createDatabase();
    expect(await refusal(copy({ source: file, target: url }))).toBe('PostgreSQL refused rows of table incident (22P02: invalid input syntax for type integer: "lots"); nothing was copied');
    const counts = await pgQuery<{ n: number }>(url, "SELECT (SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM alarm_state) + (SELECT COUNT(*) FROM deploy) + (SELECT COUNT(*) FROM incident) AS n");
    expect(counts).toEqual([{ n: 0 }]);

    const fix = new Database(file);
    fix.prepare('UPDATE incident SET updates = 1 WHERE id = 1').run();
    fix.close();
    expect((await copy({ source: file, target: url })).tables.find((t) => t.table === 'incident')).toEqual({ table: 'incident', rows: 1 });
  });

  it('copies 100 000 audit rows and 10 000 outbox rows in batches, in seconds', async () => {
    const file = tempFile();
    const db = openDatabase(file);
    db.transaction(() => {
      const audit = db.prepare("INSERT INTO audit (at, actor, action, target, detail, source, channel) VALUES (?, 'U0DEVOPS', 'item.check', ?, ?, 'command', 'C0OPS')");
      for (let i = 0; i < 100_000; i++) audit.run(T(0, i), `item-${i % 40}`, JSON.stringify({ gate: 'preflight', n: i }));
      const outbox = db.prepare("INSERT INTO outbox (method, args, created_at, next_attempt_at, delivered_at, result, priority, lane) VALUES ('chat.postMessage', ?, ?, ?, ?, ?, 1, 'post:C0OPS')");
      const args = JSON.stringify({ channel: 'C0OPS', text: 'x'.repeat(400), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(800) } }] });
      for (let i = 0; i < 10_000; i++) outbox.run(args, T(0, i), T(0, i), i % 10 === 0 ? null : T(1, i), i % 10 === 0 ? null : '{"ok":true}');
    })();
    db.close();
    const url = await cluster.createDatabase();
    const started = performance.now();
    const result = await copy({ source: file, target: url });
    const ms = performance.now() - started;
    process.stderr.write(`copy-database.test: 100 000 audit + 10 000 outbox rows copied in ${Math.round(ms)} ms\n`);
    expect(result.tables.find((t) => t.table === 'audit')).toEqual({ table: 'audit', rows: 100_000 });
    expect(result.tables.find((t) => t.table === 'outbox')).toEqual({ table: 'outbox', rows: 10_000 });
    expect(await pgQuery(url, 'SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM audit')).toEqual([{ lo: 1, hi: 100_000, n: 100_000 }]);
    expect(await pgQuery(url, "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) AS next")).toEqual([{ next: 10_001 }]);
  }, 120_000);

  it('says what is wrong with the source, before touching the target', async () => {
    const url = await cluster.createDatabase();
    const missing = path.join(tmpdir(), 'golive-no-such-dir', 'golive.db');
    expect(await refusal(copy({ source: missing, target: url }))).toBe(
      `there is no SQLite database at ${missing}: name the file golive runs on (its GOLIVE_DB, e.g. /data/golive.db). Nothing was copied.`,
    );

    const garbage = tempFile();
    writeFileSync(garbage, Buffer.alloc(8192, 'not a database '));
    expect(await refusal(copy({ source: garbage, target: url }))).toMatch(new RegExp(`^${garbage} is damaged \\(.*file is not a database.*\\); nothing was copied\\. Copy from a backup instead, or recover`));

    const damaged = tempFile();
    await fillLaunch(damaged);
    {
      // Scribble over the audit table's root page: the schema still reads, that table does not.
      const d = new Database(damaged);
      const page = d.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'audit'").pluck().get() as number;
      const size = d.pragma('page_size', { simple: true }) as number;
      d.close();
      const fd = openSync(damaged, 'r+');
      writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, (page - 1) * size);
      closeSync(fd);
    }
    expect(await refusal(copy({ source: damaged, target: url }))).toMatch(new RegExp(`^${damaged} is damaged \\(.*\\(tables: audit\\)\\); nothing was copied`));

    const older = tempFile();
    openDatabase(older, migrations.filter((m) => m.version < LATEST)).close();
    expect(await refusal(copy({ source: older, target: url }))).toBe(
      `${older} is at schema version ${LATEST - 1}, older than this golive's (${LATEST}). Start this golive on it once (it brings the schema up to date as it starts), stop it, and copy again; or migrate a copy: sqlite3 ${older} ".backup golive-copy.db", start golive on golive-copy.db once, and copy that. Nothing was copied.`,
    );
    // Read-only: nothing in the source was migrated.
    const check = new Database(older, { readonly: true });
    expect(check.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(LATEST - 1);
    check.close();

    const newer = tempFile();
    const n = openDatabase(newer);
    n.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', ?)").run(LATEST + 1, T(0));
    n.close();
    expect(await refusal(copy({ source: newer, target: url }))).toBe(
      `${newer} is at schema version ${LATEST + 1}, newer than this golive knows (${LATEST}): a newer golive has run on it. Copy it with that golive version. Nothing was copied.`,
    );

    const sandbox = tempFile();
    const s = openDatabase(sandbox);
    s.exec('CREATE TABLE sandbox_world (name TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at TEXT NOT NULL)');
    s.close();
    expect(await refusal(copy({ source: sandbox, target: url }))).toBe(
      `${sandbox} has a table golive's schema (version ${LATEST}) does not have: sandbox_world (the sandbox keeps its simulated world there: this is a sandbox database, not a launch’s). Nothing was copied.`,
    );

    const notGolive = tempFile();
    new Database(notGolive).exec('CREATE TABLE t (x)');
    expect(await refusal(copy({ source: notGolive, target: url }))).toBe(`${notGolive} is not a golive database (it has no schema_migrations table). Nothing was copied.`);

    // The target was never connected to for any of these: it has no schema.
    expect(await pgQuery(url, "SELECT to_regclass('schema_migrations')::text AS t")).toEqual([{ t: null }]);
  }, 60_000);

  it('says when PostgreSQL cannot be reached or has no such database, without the password', async () => {
    const file = tempFile();
    await fillLaunch(file);
    const closed = `postgres://golive:hunter2-url@127.0.0.1:${cluster.port + 1}/golive`;
    const message = await refusal(copy({ source: file, target: closed, password: 'env-s3cret', connectTimeoutMs: 2000 }));
    expect(message).toMatch(
      new RegExp(
        `^cannot reach PostgreSQL at postgres://golive@127\\.0\\.0\\.1:${cluster.port + 1}/golive \\(.*ECONNREFUSED.*\\)\\. Check the host and port in the URL, that the server is running, and that this machine may connect to it \\(security group, VPN\\)\\. Nothing was copied\\.$`,
      ),
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('env-s3cret');

    const noDb = cluster.url('golive_no_such_db').replace('postgres@', 'postgres:hunter2-url@');
    const missing = await refusal(copy({ source: file, target: noDb }));
    expect(missing).toBe(
      `PostgreSQL at ${cluster.url('golive_no_such_db')} has no such database (3D000: database "golive_no_such_db" does not exist). Create it first, empty (CREATE DATABASE …), or name another in the URL. Nothing was copied.`,
    );
  });
});

/** Runs the command as a process, the way an operator does (tsx from the checkout: npm run copy-db). */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/copy-database-cli.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GOLIVE_DB_PASSWORD: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the copy-db command', () => {
  it('prints its usage and exits 2 when the arguments are wrong', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^golive copy-db: expected 2 arguments, got 0\nusage: node dist\/src\/copy-database-cli\.js <sqlite-file> <postgres-url>\n/);
    const swapped = await runCli(['postgres://u:pw@h/db', 'data/golive.db']);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toMatch(/^golive copy-db: the SQLite file comes first, then the PostgreSQL URL\n/);
    expect(swapped.stderr).not.toContain('pw@');
  }, 30_000);

  it('exits 1 naming a missing source file', async () => {
    const missing = path.join(tmpdir(), 'golive-no-such-dir', 'golive.db');
    const res = await runCli([missing, 'postgres://golive:pw-in-url@127.0.0.1:1/golive'], { GOLIVE_DB_PASSWORD: 'pw-from-env' });
    expect(res).toEqual({ code: 1, stdout: '', stderr: `golive copy-db: there is no SQLite database at ${missing}: name the file golive runs on (its GOLIVE_DB, e.g. /data/golive.db). Nothing was copied.\n` });
  }, 30_000);

  describe.skipIf(skip)('against PostgreSQL', () => {
    let cluster: PostgresCluster;
    beforeAll(async () => {
      cluster = await startPostgresCluster();
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('copies, prints a line per table and what to do next, never the password; a second run exits 1', async () => {
      const file = tempFile();
      await fillLaunch(file);
      const url = await cluster.createDatabase();
      // The test cluster trusts every login, so any password does; it must show nowhere.
      const withPassword = url.replace('postgres@', 'postgres:url-pa55word@');
      const res = await runCli([file, withPassword], { GOLIVE_DB_PASSWORD: 'env-pa55word' });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const lines = res.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^warning: golive wrote to .* s ago: if it is still running, stop it first/);
      expect(lines[1]).toBe(`Copying ${file} (schema version ${LATEST}, 33 tables, ${sqliteTotal(file)} rows) to ${url} in one transaction …`);
      // A line per table, by name.
      expect(lines).toHaveLength(2 + 33 + 2);
      const perTable = lines.slice(2, -2);
      expect(perTable.map((l) => l.trim().split(/\s+/)[0])).toEqual([...sqliteRows(file).keys()]);
      expect(perTable).toContain('  alarm_transition   1 row');
      expect(perTable).toContain('  audit              3 rows');
      expect(perTable).toContain('  gonogo_vote        3 rows');
      expect(lines.at(-2)).toMatch(new RegExp(`^Copied 33 tables, ${sqliteTotal(file)} rows in \\d+\\.\\d s; every table's row count matches ${file}\\.$`));
      expect(lines.at(-1)).toBe(`Next: set GOLIVE_DB=${url} (with GOLIVE_DB_PASSWORD as now) and start golive. Keep ${file} as it is: it is the launch as it stood before the move.`);
      expect(res.stdout).not.toContain('pa55word');

      const again = await runCli([file, withPassword], { GOLIVE_DB_PASSWORD: 'env-pa55word' });
      expect(again.code).toBe(1);
      expect(again.stdout).toBe('');
      expect(again.stderr).toMatch(new RegExp(`^golive copy-db: the PostgreSQL database ${url.replace(/[.?]/g, '\\$&')} already holds golive data \\(`));
      expect(again.stderr + again.stdout).not.toContain('pa55word');
    }, 60_000);
  });
});

function sqliteTotal(file: string): number {
  return [...sqliteRows(file).values()].reduce((n, rows) => n + rows.length, 0);
}
