import type { PagerSeverity } from '../platform/pager/pager-port.js';
import { FLAPPING_DEFAULTS, type EscalationLevel, type Runbook, type Severity } from '../platform/runbook/schema.js';

/** What the runbook says about one alarm. */
export interface AlarmRule {
  severity: PagerSeverity;
  page: boolean;
  incident?: Severity;
  description?: string;
  /** The services it is about (the affected services of an incident it opens). */
  services?: readonly string[];
  /** Escalation levels by minutes since the alarm fired (src/escalation/). */
  escalation?: readonly EscalationLevel[];
}

const DEFAULT_RULE: AlarmRule = { severity: 'warning', page: false };

/**
 * Where the runbook's alarms live: `alarms.region`, else AWS_REGION, else the
 * first service's region, else us-east-1. The watcher, the deploy gate,
 * go/no-go and the sandbox all ask this, so they read the same alarms.
 */
export function alarmRegion(runbook: Runbook, defaultRegion: string | undefined): string {
  return runbook.alarms?.region ?? defaultRegion ?? runbook.services[0]?.region ?? 'us-east-1';
}

/** The first rule that matches an alarm name: an exact name, or a prefix ending in `*`; an unmatched alarm is a warning that does not page. */
export function alarmRuleFor(runbook: Runbook, name: string): AlarmRule {
  for (const r of runbook.alarms?.rules ?? []) {
    const hit = r.match.endsWith('*') ? name.startsWith(r.match.slice(0, -1)) : name === r.match;
    if (hit) return { severity: r.severity, page: r.page, incident: r.incident, description: r.description, ...(r.services.length > 0 ? { services: r.services } : {}), ...(r.escalation.length > 0 ? { escalation: r.escalation } : {}) };
  }
  return DEFAULT_RULE;
}

/** When an alarm counts as flapping: more than `transitions` within `minutes`. */
export function flappingRule(runbook: Runbook): { transitions: number; minutes: number } {
  return runbook.alarms?.flapping ?? FLAPPING_DEFAULTS;
}

/**
 * Whether a state seen at `at` is news against the state golive holds: a
 * different state, or the same state with a later time (it left and came
 * back in between). Polls and pushes both ask this, so neither records what
 * the other already did.
 */
export function isNewTransition(known: { state: string; state_at: string }, to: string, at: string): boolean {
  return to !== known.state || at > known.state_at;
}
