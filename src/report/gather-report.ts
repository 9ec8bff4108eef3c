import type { ChecklistSnapshot } from '../checklist/index.js';
import type { ChangeStory } from '../deploys/index.js';
import type { DecisionRow, VoteRow } from '../gonogo/index.js';
import type { IncidentRow } from '../incidents/index.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { LaunchT0, ScheduledMilestone } from '../timeline/index.js';
import { isDrifting } from '../evidence/index.js';
import type { LaunchReport, ReportAlarm, ReportEvidence, ReportMilestone } from './launch-report.js';
import { revisionName } from './report-text.js';

type MaybePromise<T> = T | Promise<T>;

/** Where the report's facts come from: each feature's own reader, so the report runs no SQL of its own. */
export interface ReportSources {
  runbook: Runbook;
  checklist(): MaybePromise<ChecklistSnapshot>;
  t0(): MaybePromise<LaunchT0 | undefined>;
  milestones(): MaybePromise<ScheduledMilestone[]>;
  decisions(): MaybePromise<{ decision: DecisionRow; votes: VoteRow[] }[]>;
  changes(): MaybePromise<ChangeStory[]>;
  alarmTransitions(): MaybePromise<{ name: string; at: string; from_state: string | null; to_state: string; reason: string }[]>;
  /** PagerDuty triggers queued (alarm pages carry `golive/alarm/<region>/<name>`). */
  pagerTriggers(): MaybePromise<{ dedupKey: string; at: string }[]>;
  incidents(): MaybePromise<IncidentRow[]>;
  /** The severity the runbook's alarm rules give an alarm. */
  alarmSeverity(name: string): string | null;
  /** A person's display name; best effort. */
  userName?(userId: string): Promise<string | undefined>;
}

/** At most this many people are looked up per report: Slack's users.info is Tier 4, and a report must not eat the budget. */
const MAX_NAME_LOOKUPS = 60;

/** The alarm firings in a list of transitions: each ALARM until the next state that is not ALARM. */
export function firingsOf(transitions: { name: string; at: string; to_state: string; reason: string }[], pages: { dedupKey: string; at: string }[], rules: (name: string) => { severity: string | null }): ReportAlarm[] {
  const byName = new Map<string, ReportAlarm>();
  const open = new Map<string, ReportAlarm['firings'][number]>();
  for (const t of [...transitions].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
    const firing = open.get(t.name);
    if (t.to_state === 'ALARM' && !firing) {
      const f = { firedAt: t.at, recoveredAt: null, reason: t.reason, pagedAt: null };
      const alarm = byName.get(t.name) ?? { name: t.name, severity: rules(t.name).severity, firings: [] };
      alarm.firings.push(f);
      byName.set(t.name, alarm);
      open.set(t.name, f);
    } else if (t.to_state !== 'ALARM' && firing) {
      firing.recoveredAt = t.at;
      open.delete(t.name);
    }
  }
  for (const alarm of byName.values()) {
    for (const f of alarm.firings) {
      // The page of a firing is the first trigger for this alarm's dedup key while it fired.
      const page = pages.find((p) => p.dedupKey.startsWith('golive/alarm/') && p.dedupKey.endsWith(`/${alarm.name}`) && p.at >= f.firedAt && (!f.recoveredAt || p.at <= f.recoveredAt));
      f.pagedAt = page?.at ?? null;
    }
  }
  return [...byName.values()].sort((a, b) => (a.firings[0]!.firedAt < b.firings[0]!.firedAt ? -1 : 1));
}

function evidenceOf(s: ChecklistSnapshot['gates'][number]['items'][number]): ReportEvidence | null {
  if (!s.item.verify) return null;
  const e = s.evidence;
  if (!e) return { outcome: 'not_run', text: null, checkedAt: null, driftingSince: null };
  const drifting = isDrifting(e, { done: s.done, ...(s.changedAt ? { changedAt: s.changedAt } : {}) });
  return { outcome: e.outcome, text: e.text, checkedAt: e.checked_at, driftingSince: drifting ? (e.drift_at ?? e.since) : null };
}

function milestoneOf(m: ScheduledMilestone): ReportMilestone {
  const state = m.state === 'posted' ? 'posted' : m.state === 'passed' ? 'passed' : m.state === 'unscheduled' ? 'unscheduled' : 'coming';
  return { title: m.milestone.title, ref: m.milestone.at, dueAt: m.dueAt?.toISOString() ?? null, postedAt: m.postedAt ?? null, lateMs: m.lateMs ?? 0, state };
}

/** Gathers the launch report from every feature's records, as they stand now. */
export async function gatherReport(sources: ReportSources, at: { now: Date; by: string }): Promise<LaunchReport> {
  const { runbook } = sources;
  const roleName = (r: string) => runbook.roles[r]?.name ?? r;
  const [snapshot, t0, schedule, decisions, changes, transitions, pages, incidents] = await Promise.all([
    sources.checklist(),
    sources.t0(),
    sources.milestones(),
    sources.decisions(),
    sources.changes(),
    sources.alarmTransitions(),
    sources.pagerTriggers(),
    sources.incidents(),
  ]);
  const rule = (name: string) => ({ severity: sources.alarmSeverity(name) });
  const report: LaunchReport = {
    launch: { name: runbook.launch.name, timezone: runbook.launch.timezone, channel: runbook.launch.channel },
    generatedAt: at.now.toISOString(),
    generatedBy: at.by,
    people: {},
    t0: t0 ? { at: t0.at.toISOString(), setBy: t0.setBy, setAt: t0.setAt } : null,
    milestones: schedule.map(milestoneOf),
    gates: snapshot.gates.map((g) => ({
      id: g.gate.id,
      title: g.gate.title,
      items: g.items.map((s) => ({
        id: s.item.id,
        title: s.item.title,
        level: s.item.level,
        owner: roleName(s.item.owner),
        done: s.done,
        by: s.done ? (s.changedBy ?? null) : null,
        at: s.done ? (s.changedAt ?? null) : null,
        note: s.done ? (s.note ?? null) : null,
        evidence: evidenceOf(s),
      })),
      signoffs: g.gate.signoff.map((role) => {
        const signed = g.signoffs.find((s) => s.role === role);
        return { role, roleName: roleName(role), user: signed?.user_id ?? null, at: signed?.signed_at ?? null };
      }),
    })),
    decisions: decisions.map(({ decision: d, votes }) => ({
      id: d.id,
      state: d.state,
      openedBy: d.opened_by,
      openedAt: d.opened_at,
      decidedAt: d.decided_at,
      votesRequired: d.votes_required,
      evidenceAt: d.evidence.at,
      criteria: d.evidence.results.map((r) => ({ label: r.label, pass: r.pass, value: r.value, source: r.source })),
      votes: votes.map((v) => ({ user: v.user_id, vote: v.vote, note: v.note, at: v.at })),
    })),
    changes: changes.map((c) => ({ ...c, from: revisionName(c.from), to: revisionName(c.to) ?? c.to })),
    alarms: firingsOf(transitions, pages, rule),
    incidents: incidents.map((i) => ({
      id: i.id,
      severity: i.severity,
      summary: i.summary,
      commander: i.commander,
      declaredBy: i.declared_by,
      declaredAt: i.declared_at,
      channel: i.channel_name,
      ackedBy: i.acked_by,
      ackedAt: i.acked_at,
      resolvedAt: i.resolved_at,
      rootCause: i.root_cause,
      resolution: i.resolution,
      pagedAt: i.paged_at,
      alarm: i.alarm_name,
    })),
  };
  report.people = await namePeople(sources, peopleIn(report));
  return report;
}

/** Every Slack user ID a report mentions. */
export function peopleIn(report: LaunchReport): string[] {
  const ids = new Set<string>([report.generatedBy, report.t0?.setBy ?? '']);
  for (const g of report.gates) {
    for (const i of g.items) if (i.by) ids.add(i.by);
    for (const s of g.signoffs) if (s.user) ids.add(s.user);
  }
  for (const d of report.decisions) [d.openedBy, ...d.votes.map((v) => v.user)].forEach((u) => ids.add(u));
  for (const c of report.changes) [c.requestedBy, ...c.approvedBy].forEach((u) => ids.add(u));
  for (const i of report.incidents) [i.commander, i.declaredBy, i.ackedBy ?? ''].forEach((u) => ids.add(u));
  return [...ids].filter((id) => /^[UW][A-Z0-9]+$/.test(id));
}

/** Display names for the IDs, where Slack answers; a failed look-up leaves the ID. */
export async function namePeople(sources: Pick<ReportSources, 'userName'>, ids: string[]): Promise<Record<string, string>> {
  const people: Record<string, string> = {};
  if (!sources.userName) return people;
  for (const id of ids.slice(0, MAX_NAME_LOOKUPS)) {
    const name = await sources.userName(id).catch(() => undefined);
    if (name) people[id] = name;
  }
  return people;
}
