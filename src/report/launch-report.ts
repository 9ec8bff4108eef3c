import type { ChangeStory } from '../deploys/index.js';

/**
 * The launch report as data: everything the renderers (Markdown, HTML, the
 * SVG timeline) need, gathered from the store at one moment. It is plain
 * JSON, so a report can be kept and rendered again exactly as it was.
 * Times are ISO strings (UTC); the renderers show them in `launch.timezone`.
 * People are Slack user IDs; `people` maps the ones golive could name.
 */
export interface LaunchReport {
  launch: { name: string; timezone: string; channel: string };
  generatedAt: string;
  generatedBy: string;
  /** Display names by Slack user ID, where Slack told us; the renderers fall back to the ID. */
  people: Record<string, string>;
  t0: { at: string; setBy: string; setAt: string } | null;
  milestones: ReportMilestone[];
  gates: ReportGate[];
  decisions: ReportDecision[];
  changes: ReportChange[];
  alarms: ReportAlarm[];
  incidents: ReportIncident[];
}

export interface ReportMilestone {
  title: string;
  /** As the runbook gives it: `T-24h`, `T+30m` or an ISO time. */
  ref: string;
  dueAt: string | null;
  postedAt: string | null;
  lateMs: number;
  /** posted (on time or late), passed (its time came before golive held this T-0), coming, or unscheduled (no T-0). */
  state: 'posted' | 'passed' | 'coming' | 'unscheduled';
}

export interface ReportItem {
  id: string;
  title: string;
  level: 'blocker' | 'warning' | 'info';
  owner: string;
  done: boolean;
  by: string | null;
  at: string | null;
  note: string | null;
  /** The item's evidence check as it last ran; null when the item has no `verify` check. */
  evidence: ReportEvidence | null;
}

/** An item's automatic evidence: the latest result of its check, or `not_run` when it has a check that has not run yet. */
export interface ReportEvidence {
  outcome: 'pass' | 'fail' | 'unknown' | 'not_run';
  text: string | null;
  checkedAt: string | null;
  /** When a signed-off item's check started failing (it then counts as open); null when it is not drifting. */
  driftingSince: string | null;
}

export interface ReportGate {
  id: string;
  title: string;
  items: ReportItem[];
  /** One row per sign-off role, signed or not (seed 002's final sign-off table). */
  signoffs: { role: string; roleName: string; user: string | null; at: string | null }[];
}

export interface ReportDecision {
  id: number;
  state: 'open' | 'go' | 'no_go';
  openedBy: string;
  openedAt: string;
  decidedAt: string | null;
  votesRequired: number;
  /** The evidence the voters saw. */
  evidenceAt: string;
  criteria: { label: string; pass: boolean | null; value: string; source: string }[];
  votes: { user: string; vote: 'go' | 'no_go'; note: string | null; at: string }[];
}

/** A deploy or rollback; `from` and `to` are revisions as `family:N` (the ARN's tail). */
export type ReportChange = ChangeStory;

export interface ReportAlarmFiring {
  firedAt: string;
  /** When it went back to OK; null while it still fires. */
  recoveredAt: string | null;
  reason: string;
  /** When PagerDuty was asked to page for it, if it was. */
  pagedAt: string | null;
}

export interface ReportAlarm {
  name: string;
  severity: string | null;
  firings: ReportAlarmFiring[];
}

export interface ReportIncident {
  id: number;
  severity: string;
  summary: string;
  commander: string;
  declaredBy: string;
  declaredAt: string;
  channel: string;
  ackedBy: string | null;
  ackedAt: string | null;
  resolvedAt: string | null;
  rootCause: string | null;
  resolution: string | null;
  pagedAt: string | null;
  alarm: string | null;
}

/** What a post-mortem draft is made of: the incident, its timeline in words, and what happened around it. */
export interface PostmortemDraft {
  launch: { name: string; timezone: string };
  generatedAt: string;
  people: Record<string, string>;
  incident: ReportIncident & { services: string; updates: number; resolvedBy: string | null };
  /** Time order; `who` is a Slack user ID or a system (`golive`, `cloudwatch`, `app:<name>`). */
  timeline: { at: string; who: string; what: string }[];
  /** Deploys and rollbacks from an hour before the declaration until the resolution. */
  changes: ReportChange[];
  /** Alarm firings over the same window. */
  alarms: ReportAlarm[];
  /** Pages sent for the incident and its alarm. */
  pages: { at: string; what: string }[];
}
