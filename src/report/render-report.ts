import type { Block, Doc } from './document.js';
import { toHtml, toMarkdown } from './document.js';
import { clip } from '../platform/escape.js';
import type { LaunchReport, ReportChange, ReportDecision, ReportEvidence, ReportIncident, ReportMilestone } from './launch-report.js';
import { between, dayAndTime, durationText, personName } from './report-text.js';
import { renderTimelineSvg } from './render-timeline-svg.js';

/** The report's sections, in order; each is an `id` in the HTML and a `##` heading in Markdown. */
export const REPORT_SECTIONS = [
  { id: 'launch', title: 'Launch and milestones' },
  { id: 'gates', title: 'Gates and sign-offs' },
  { id: 'gonogo', title: 'Go / No-Go decisions' },
  { id: 'changes', title: 'Deploys and rollbacks' },
  { id: 'alarms', title: 'Alarms' },
  { id: 'incidents', title: 'Incidents' },
  { id: 'timeline', title: 'Timeline' },
] as const;

const LEVEL = { blocker: '🔴 blocker', warning: '⚠️ warning', info: 'ℹ️ info' } as const;

function milestoneState(m: ReportMilestone): string {
  if (m.state === 'posted') return m.lateMs > 0 ? `late by ${durationText(m.lateMs)}` : 'on time';
  if (m.state === 'passed') return 'not posted: its time had passed when T-0 was set';
  if (m.state === 'coming') return 'coming';
  return 'waiting for T-0';
}

function verdict(state: ReportDecision['state']): string {
  return state === 'go' ? '✅ GO' : state === 'no_go' ? '⛔ NO-GO' : '⏳ open';
}

function changeOutcome(c: ReportChange): string {
  if (c.outcome === 'running') return '⏳ running';
  const done = c.outcome === 'succeeded' ? (c.kind === 'rollback' ? '✅ rolled back' : '✅ succeeded') : '❌ failed';
  return c.reason && c.outcome === 'failed' ? `${done}: ${c.reason}` : done;
}

/** The report's Evidence cell: what the item's check found last, and when (the report is read later, so a time, not "4 min ago"). */
function evidenceCell(e: ReportEvidence | null, t: (iso: string | null) => string): string {
  if (!e) return '—';
  if (e.outcome === 'not_run') return 'not checked yet';
  const found = clip(e.text ?? '', 300);
  const result =
    e.outcome === 'pass' ? `✅ passed ${t(e.checkedAt)}: “${found}”` : e.outcome === 'fail' ? `❌ failed ${t(e.checkedAt)}: “${found}”` : `❔ could not check ${t(e.checkedAt)}: ${found}`;
  return e.driftingSince ? `🚨 drifting since ${t(e.driftingSince)} (counts as open) — ${result}` : result;
}

function timeToAck(i: ReportIncident): string {
  return i.ackedAt ? between(i.declaredAt, i.ackedAt) : i.resolvedAt ? 'never acknowledged' : 'not yet';
}

/** The launch report as a document: every section, from the report data alone. */
export function launchReportDocument(report: LaunchReport, options: { timelineSrc?: string } = {}): Doc {
  const tz = report.launch.timezone;
  const t = (iso: string | null) => (iso ? dayAndTime(iso, tz) : '—');
  const who = (id: string | null) => (id ? personName(report.people, id) : '—');
  const section = (id: (typeof REPORT_SECTIONS)[number]['id']): Block => ({ type: 'heading', level: 2, text: REPORT_SECTIONS.find((s) => s.id === id)!.title, id });
  const none = (what: string): Block => ({ type: 'paragraph', text: what });
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: `Launch report — ${report.launch.name}` },
    { type: 'paragraph', text: `Generated ${t(report.generatedAt)} by ${who(report.generatedBy)}. Times are in ${tz}.` },
  ];

  blocks.push(section('launch'));
  blocks.push(
    report.t0
      ? { type: 'paragraph', text: `T-0 is ${t(report.t0.at)}, ${report.t0.setBy === 'runbook' ? 'from the runbook' : `set by ${who(report.t0.setBy)} at ${t(report.t0.setAt)}`}.` }
      : none('T-0 is not set.'),
  );
  if (report.milestones.length === 0) blocks.push(none('The runbook has no milestones.'));
  else blocks.push({ type: 'table', head: ['Milestone', 'When', 'Due', 'Posted', 'On time?'], rows: report.milestones.map((m) => [m.title, m.ref, t(m.dueAt), t(m.postedAt), milestoneState(m)]) });

  blocks.push(section('gates'));
  for (const g of report.gates) {
    const done = g.items.filter((i) => i.done).length;
    blocks.push({ type: 'heading', level: 3, text: `${g.title} (${g.id}) — ${done}/${g.items.length} done` });
    // The Evidence column only where a gate has items with checks: most gates have none.
    const checked = g.items.some((i) => i.evidence);
    blocks.push({
      type: 'table',
      head: ['Item', 'Level', 'Owner', 'Signed off by', 'When', 'Note', ...(checked ? ['Evidence'] : [])],
      rows: g.items.map((i) => [
        `${i.done ? '✅' : '⬜'} ${i.title} (${i.id})`,
        LEVEL[i.level],
        i.owner,
        i.done ? who(i.by) : '—',
        i.done ? t(i.at) : '—',
        i.note ?? '—',
        ...(checked ? [evidenceCell(i.evidence, t)] : []),
      ]),
    });
    if (g.signoffs.length > 0) {
      blocks.push({ type: 'paragraph', text: `Sign-off of ${g.title}:` });
      blocks.push({ type: 'table', head: ['Role', 'Name', 'Signature', 'Date'], rows: g.signoffs.map((s) => [s.roleName, s.user ? who(s.user) : '—', s.user ? '✅ signed' : '⏳ missing', t(s.at)]) });
    }
  }
  const roles = report.gates.flatMap((g) => g.signoffs.map((s) => ({ ...s, gate: g.title })));
  if (roles.length > 0) {
    blocks.push({ type: 'heading', level: 3, text: 'Final sign-off by role' });
    blocks.push({ type: 'table', head: ['Role', 'Gate', 'Name', 'Date'], rows: roles.map((s) => [s.roleName, s.gate, s.user ? who(s.user) : '⏳ not signed', t(s.at)]) });
  }

  blocks.push(section('gonogo'));
  if (report.decisions.length === 0) blocks.push(none('No go/no-go decision was called.'));
  for (const d of report.decisions) {
    blocks.push({ type: 'heading', level: 3, text: `Decision #${d.id}: ${verdict(d.state)}${d.decidedAt ? ` at ${t(d.decidedAt)}` : ''}` });
    blocks.push({ type: 'paragraph', text: `Called by ${who(d.openedBy)} at ${t(d.openedAt)}; ${d.votesRequired} Go vote${d.votesRequired === 1 ? ' decides' : 's decide'} GO, one No-Go decides NO-GO. Evidence as the voters saw it (read ${t(d.evidenceAt)}):` });
    blocks.push({ type: 'table', head: ['Criterion', 'Result', 'Measured', 'Source'], rows: d.criteria.map((c) => [c.label, c.pass === true ? '✅ pass' : c.pass === false ? '❌ fail' : '❔ unknown', c.value, c.source]) });
    blocks.push(d.votes.length === 0 ? none('No votes.') : { type: 'table', head: ['Voter', 'Vote', 'Note', 'When'], rows: d.votes.map((v) => [who(v.user), v.vote === 'go' ? 'Go' : 'No-Go', v.note ?? '—', t(v.at)]) });
  }

  blocks.push(section('changes'));
  if (report.changes.length === 0) blocks.push(none('Nothing was deployed or rolled back.'));
  else
    blocks.push({
      type: 'table',
      head: ['#', 'What', 'Service', 'From → to', 'Image', 'Asked by', 'Approved by', 'Started', 'Took', 'Outcome'],
      rows: report.changes.map((c) => [
        String(c.id),
        c.kind === 'rollback' ? 'rollback' : 'deploy',
        c.service,
        `${c.from ?? '?'} → ${c.to}`,
        c.image ?? '—',
        who(c.requestedBy),
        c.approvedBy.length ? c.approvedBy.map((u) => who(u)).join(', ') : '—',
        t(c.startedAt),
        between(c.startedAt, c.finishedAt),
        changeOutcome(c),
      ]),
    });

  blocks.push(section('alarms'));
  const firings = report.alarms.flatMap((a) => a.firings.map((f) => ({ a, f })));
  if (firings.length === 0) blocks.push(none('No watched alarm fired.'));
  else
    blocks.push({
      type: 'table',
      head: ['Alarm', 'Severity', 'Fired', 'Recovered', 'Fired for', 'Paged', 'Reason'],
      rows: firings.map(({ a, f }) => [a.name, a.severity ?? '—', t(f.firedAt), f.recoveredAt ? t(f.recoveredAt) : 'still firing', f.recoveredAt ? between(f.firedAt, f.recoveredAt) : `${between(f.firedAt, report.generatedAt)} so far`, f.pagedAt ? `PagerDuty at ${t(f.pagedAt)}` : 'no', f.reason || '—']),
    });

  blocks.push(section('incidents'));
  if (report.incidents.length === 0) blocks.push(none('No incident was declared.'));
  else
    blocks.push({
      type: 'table',
      head: ['Incident', 'Severity', 'Summary', 'Commander', 'Declared', 'Time to acknowledge', 'Time to resolve', 'Paged', 'Root cause'],
      rows: report.incidents.map((i) => [
        `INC-${i.id}`,
        i.severity,
        i.summary,
        who(i.commander),
        t(i.declaredAt),
        timeToAck(i),
        i.resolvedAt ? between(i.declaredAt, i.resolvedAt) : 'still open',
        i.pagedAt ? `PagerDuty at ${t(i.pagedAt)}` : 'no',
        i.rootCause ?? '—',
      ]),
    });

  blocks.push(section('timeline'));
  blocks.push({ type: 'figure', alt: `Timeline of ${report.launch.name}: milestones, deploys, alarms and incidents, T-0 marked`, svg: renderTimelineSvg(report), src: options.timelineSrc });
  return { title: `Launch report — ${report.launch.name}`, blocks };
}

/** The launch report in Markdown. `timelineSrc` is where the PNG of the timeline is served, if anywhere. */
export function renderReportMarkdown(report: LaunchReport, options: { timelineSrc?: string } = {}): string {
  return toMarkdown(launchReportDocument(report, options));
}

/** The launch report as one self-contained HTML page. */
export function renderReportHtml(report: LaunchReport): string {
  return toHtml(launchReportDocument(report));
}
