// Measure 5: the launch report for a launch with 1,000 audit rows and 200 alarm transitions — how long
// gathering and each format take, and how big each is (the files Slack gets, the page people open).
// The store is filled through the features' own repositories and services, as a launch would fill it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AlarmRepository } from '../src/alarms/alarm-repository.js';
import { ChecklistService } from '../src/checklist/checklist-service.js';
import { ApprovalRepository } from '../src/deploys/approval-repository.js';
import { ChangeStories } from '../src/deploys/change-stories.js';
import { DeployRepository } from '../src/deploys/deploy-repository.js';
import { GoNoGoRepository } from '../src/gonogo/gonogo-repository.js';
import { renderHistory } from '../src/history/render-history.js';
import { IncidentRepository } from '../src/incidents/incident-repository.js';
import { OutboxRepository } from '../src/platform/outbox/outbox-repository.js';
import { RoleDirectory } from '../src/platform/roles/resolve-roles.js';
import type { SlackPort } from '../src/platform/slack/slack-port.js';
import { AuditRepository } from '../src/platform/store/audit-repository.js';
import { openDatabase } from '../src/platform/store/open-database.js';
import { SqliteStore } from '../src/platform/store/sqlite-store.js';
import { gatherReport, type ReportSources } from '../src/report/gather-report.js';
import { renderPng } from '../src/report/render-png.js';
import { renderReportHtml, renderReportMarkdown } from '../src/report/render-report.js';
import { renderTimelineSvg } from '../src/report/render-timeline-svg.js';
import { TimelineService } from '../src/timeline/timeline-service.js';
import { TimelineRepository } from '../src/timeline/timeline-repository.js';
import { syntheticRunbook } from './support/runbook.js';
import { ms, summarize, table } from './support/stats.js';

const RUNS = 20;
const AUDIT_ROWS = 1000;
const TRANSITIONS = 200;
const T0 = Date.parse('2026-12-01T02:30:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const ARN = (n: number) => `arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-prod:${n}`;

export async function reportBench(opts: { log: (s: string) => void }): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-bench-report-'));
  // SQLite: the figures in bench/README.md are the embedded store's (the default GOLIVE_DB).
  const store = new SqliteStore(openDatabase(path.join(dir, 'report.db')));
  try {
    const runbook = syntheticRunbook({ items: 300, service: true });
    const clock = { now: () => new Date(T0 + 48 * 3600_000) };
    const slack = { usergroupMembers: async () => ['U0DEVOPS2'] } as unknown as SlackPort;
    const roles = new RoleDirectory(runbook, slack, clock);
    const checklist = new ChecklistService(runbook, store, roles, clock);
    const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit: () => undefined });
    const audit = new AuditRepository(store);
    const alarms = new AlarmRepository(store);
    const deploys = new DeployRepository(store);
    const approvals = new ApprovalRepository(store);
    const incidents = new IncidentRepository(store);
    const gonogo = new GoNoGoRepository(store);
    const outbox = new OutboxRepository(store);

    opts.log('filling the store: 300 sign-offs, 200 alarm transitions, 100 deploys and rollbacks, 10 incidents');
    const put = (at: string, actor: string, action: string, target: string, detail: Record<string, unknown> = {}) => audit.record({ actor, action, target, detail, source: 'system' }, at);
    await new TimelineRepository(store).putSetting('t0', new Date(T0).toISOString(), 'U0DEVOPS', iso(-60));
    for (const id of checklist.itemIds()) await checklist.check(id, { userId: 'U0DEVOPS', source: 'command', channel: 'C0OPS' }, 'verified on production');
    for (let i = 0; i < TRANSITIONS; i++) {
      const name = `GoVisaX-Prod-alarm-${i % 10}`;
      const firing = Math.floor(i / 10) % 2 === 0;
      const at = iso(i * 7);
      await store.transaction(async () => {
        await alarms.addTransition({ name, from: firing ? 'OK' : 'ALARM', to: firing ? 'ALARM' : 'OK', at, reason: firing ? 'Threshold Crossed: 1 datapoint [2.3] was greater than the threshold (1.0).' : 'Threshold no longer crossed', source: 'poll', recordedAt: at });
        if (firing) await outbox.enqueue('trigger', { dedupKey: `golive/alarm/ap-south-1/${name}` }, at, { target: 'pagerduty' });
        await put(at, 'cloudwatch', 'alarm.transition', name, { from: firing ? 'OK' : 'ALARM', to: firing ? 'ALARM' : 'OK' });
      });
    }
    for (let i = 0; i < 100; i++) {
      const rollback = i % 10 === 9;
      const at = iso(i * 14);
      await store.transaction(async () => {
        const request = rollback ? await approvals.createRequest({ kind: 'rollback', service: 'api', params: { from: ARN(i), to: ARN(i + 1) }, requested_by: 'U0DEVOPS', requested_at: at, expires_at: iso(i * 14 + 30), approvals_required: 1, channel: 'C0OPS' }) : null;
        if (request) await approvals.addApproval(request, 'U0CTO', at);
        if (request) await approvals.transitionRequest(request, 'requested', 'succeeded', at, { decided_by: 'U0CTO' });
        const id = (await deploys.startDeploy({ service: 'api', kind: rollback ? 'rollback' : 'deploy', from_task_def: ARN(i), to_task_def: ARN(i + 1), image: rollback ? null : `govisax/api:1.${i}.0`, requested_by: 'U0DEVOPS', request_id: request ?? null, started_at: at, channel: 'C0OPS' }))!;
        await deploys.finishDeploy(id, i % 10 === 8 ? 'failed' : 'succeeded', i % 10 === 8 ? 'smoke check: 503' : null, iso(i * 14 + 3));
        await put(at, 'U0DEVOPS', `${rollback ? 'rollback' : 'deploy'}.start`, 'api', { deploy: id });
        await put(iso(i * 14 + 3), 'golive', `${rollback ? 'rollback' : 'deploy'}.${i % 10 === 8 ? 'failed' : 'succeeded'}`, 'api', { deploy: id });
      });
    }
    for (let i = 0; i < 10; i++) {
      const at = iso(i * 140);
      await store.transaction(async () => {
        const id = (await incidents.reserve({ severity: 'P2', summary: `API 5xx after deploy ${i}`, services: 'api', commander: 'U0DEVOPS', declaredBy: 'U0DEVOPS', at, placeholderChannel: `pending:${i}` }))!;
        await incidents.opened(id, `C0INC${i}`, `inc-20261201-api-${i}`);
        await incidents.addEvent(id, 'declared', 'U0DEVOPS', { severity: 'P2', summary: `API 5xx after deploy ${i}` }, at);
        await incidents.acknowledge(id, 'U0DEVOPS', iso(i * 140 + 2));
        await incidents.resolve(id, 'U0DEVOPS', iso(i * 140 + 40), 'connection pool too small', 'rolled back');
        await put(at, 'U0DEVOPS', 'incident.declare', `INC-${id}`, { severity: 'P2' });
        await put(iso(i * 140 + 40), 'U0DEVOPS', 'incident.resolve', `INC-${id}`, { root_cause: 'connection pool too small' });
      });
    }
    await store.transaction(async () => {
      const id = await gonogo.open({ openedBy: 'U0DEVOPS', at: iso(-20), evidence: { at: iso(-20), allPass: true, results: [{ type: 'blockers_done', label: 'All blockers done', pass: true, value: '0 open', source: 'checklist' }] }, votesRequired: 1, channel: 'C0OPS' });
      await gonogo.addVote(id, 'U0CTO', 'go', 'ship it', iso(-10));
      await gonogo.decide(id, 'go', iso(-10));
    });
    for (let n = await audit.count(); n < AUDIT_ROWS; n++) await put(iso(n % 2880), 'U0DEVOPS', n % 2 ? 'item.check' : 'item.uncheck', checklist.itemIds()[n % 300]!, { note: 'rechecked' });

    const stories = new ChangeStories(store);
    const sources: ReportSources = {
      runbook,
      checklist: () => checklist.snapshot(),
      t0: () => timeline.t0(),
      milestones: () => timeline.schedule(),
      decisions: async () => Promise.all((await gonogo.decisions()).map(async (decision) => ({ decision, votes: await gonogo.votes(decision.id) }))),
      changes: () => stories.all(),
      alarmTransitions: () => alarms.allTransitions(),
      pagerTriggers: () => outbox.pagerTriggers(),
      incidents: () => incidents.all(),
      alarmSeverity: () => 'critical',
    };
    const at = { now: clock.now(), by: 'U0DEVOPS' };
    const report = await gatherReport(sources, at);
    const svg = renderTimelineSvg(report);
    const steps: { name: string; run: () => unknown; size: () => number }[] = [
      { name: 'gather from the store', run: () => gatherReport(sources, at), size: () => Buffer.byteLength(JSON.stringify(report)) },
      { name: 'Markdown (the file posted)', run: () => renderReportMarkdown(report), size: () => Buffer.byteLength(renderReportMarkdown(report)) },
      { name: 'HTML (the report page, SVG inline)', run: () => renderReportHtml(report), size: () => Buffer.byteLength(renderReportHtml(report)) },
      { name: 'timeline SVG', run: () => renderTimelineSvg(report), size: () => Buffer.byteLength(svg) },
      { name: 'timeline PNG, 2× (the picture posted)', run: () => renderPng(svg, 2), size: () => renderPng(svg, 2).byteLength },
      { name: '`/golive history 100` in words', run: async () => renderHistory(await audit.history(100), { timezone: runbook.launch.timezone, change: () => undefined }, 100), size: () => 0 },
    ];
    const rows: string[][] = [];
    for (const step of steps) {
      opts.log(`report: ${step.name}`);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await step.run();
        times.push(performance.now() - t);
      }
      const s = summarize(times);
      const size = step.size();
      rows.push([step.name, ms(s.p50), ms(s.max), size ? `${(size / 1024).toFixed(1)} KiB` : '–']);
    }
    return [
      `A launch of ${await audit.count()} audit rows: ${checklist.itemIds().length} items signed off, ${TRANSITIONS} alarm transitions (${report.alarms.reduce((n, a) => n + a.firings.length, 0)} firings of 10 alarms, each paged), ${report.changes.length} deploys and rollbacks, ${report.incidents.length} incidents, one go/no-go; ${RUNS} runs each, Node ${process.version}.`,
      table(['step', 'p50 ms', 'max ms', 'size'], rows),
    ].join('\n\n');
  } finally {
    void store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
