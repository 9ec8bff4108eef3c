import type { EscalationLevel } from '../platform/runbook/schema.js';

/** What the notifications say the escalation is about. */
export type EscalationAbout =
  | { kind: 'incident'; id: number; severity: string; severityName: string; summary: string; channelId: string; channelName: string; commander: string; startedAt: string }
  | { kind: 'alarm'; name: string; severity: string; reason: string; region: string; startedAt: string; consoleUrl: string };

/** What is being escalated: an incident, or one firing of an alarm. */
export interface EscalationSubject {
  kind: 'incident' | 'alarm';
  /** Stable per incident / per firing: `incident:12`, `alarm:<name>@<fired at>`. */
  key: string;
  /** Declared or fired at: the levels count from here. */
  startedAt: string;
  acknowledgedAt?: string;
  resolvedAt?: string;
  levels: readonly EscalationLevel[];
}

/** A level whose time has come: fire it, or record that its condition was met first. */
export type LevelDecision = { level: number; dueAt: string; fire: true } | { level: number; dueAt: string; fire: false; reason: string };

/** When level `i` of the subject is due. */
export function levelDueAt(subject: Pick<EscalationSubject, 'startedAt' | 'levels'>, i: number): string {
  return new Date(Date.parse(subject.startedAt) + subject.levels[i]!.after_minutes * 60_000).toISOString();
}

/**
 * The one rule for escalation levels: each level is decided once, when its
 * time has come, by its condition as things stand then. not_acknowledged
 * holds until someone acknowledges (or it is resolved); not_resolved until it
 * is resolved. Levels already decided (`decided`) are left alone, so a late
 * sweep decides every overdue level once, in order.
 */
export function dueLevels(subject: EscalationSubject, decided: ReadonlySet<number>, now: Date): LevelDecision[] {
  const out: LevelDecision[] = [];
  subject.levels.forEach((l, i) => {
    if (decided.has(i)) return;
    const dueAt = levelDueAt(subject, i);
    if (Date.parse(dueAt) > now.getTime()) return;
    if (subject.resolvedAt) out.push({ level: i, dueAt, fire: false, reason: `resolved at ${subject.resolvedAt}` });
    else if (l.if === 'not_acknowledged' && subject.acknowledgedAt) out.push({ level: i, dueAt, fire: false, reason: `acknowledged at ${subject.acknowledgedAt}` });
    else out.push({ level: i, dueAt, fire: true });
  });
  return out;
}

/** "Level 2 — Slack" as the runbook names it, else "Level 2". */
export function levelName(levels: readonly EscalationLevel[], i: number): string {
  return levels[i]?.name ?? `Level ${i + 1}`;
}
