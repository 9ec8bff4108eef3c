import { shortestCronGapMs } from '../platform/cron-gap.js';
import type { PagerSeverity } from '../platform/pager/pager-port.js';
import { FLAPPING_DEFAULTS, STORM_DEFAULTS, type EscalationLevel, type Runbook, type Severity, type StormPaging } from '../platform/runbook/schema.js';

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

/** The `match` of the rule that applies to an alarm (what a storm pages once for, under `paging: by_rule`); undefined when none does. */
export function alarmRuleMatch(runbook: Runbook, name: string): string | undefined {
  return (runbook.alarms?.rules ?? []).find((r) => (r.match.endsWith('*') ? name.startsWith(r.match.slice(0, -1)) : name === r.match))?.match;
}

/** When alarms count as a storm, and how it pages (`alarms.storm`). */
export function stormRule(runbook: Runbook): { threshold: number; quiet_minutes: number; paging: StormPaging } {
  return runbook.alarms?.storm ?? STORM_DEFAULTS;
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

/**
 * How long the watcher's stored state answers "what is firing": two of its
 * poll intervals (`alarms.schedule`'s shortest gap; every minute by default,
 * so 2 min). One late or failed poll is tolerated; after a second, the state
 * is read from CloudWatch instead.
 */
export function watcherFreshForMs(runbook: Runbook): number {
  return 2 * shortestCronGapMs(runbook.alarms?.schedule ?? '* * * * *');
}

/** Where an answer to "what is firing" is read from: the watcher's stored state, a watcher poll now, or CloudWatch directly. */
export type FiringRead = { from: 'watcher' } | { from: 'poll'; why: 'stale' | 'never_polled' } | { from: 'live'; why: 'unwatched' };

/**
 * Decides where "what is firing for these prefixes in this region" is read
 * from. The watcher's state when it covers the question (its region, and
 * each prefix under one it watches) and its last successful poll is younger
 * than {@link watcherFreshForMs}; a poll now when it covers the question but
 * is stale or has never polled; CloudWatch directly for alarms it does not watch.
 */
export function firingRead(runbook: Runbook, ask: { region: string; prefixes: readonly string[] }, watcher: { region: string; lastPollAt?: string }, now: Date): FiringRead {
  const watched = runbook.alarms?.prefixes ?? [];
  const covered = ask.region === watcher.region && ask.prefixes.length > 0 && ask.prefixes.every((p) => watched.some((w) => p.startsWith(w)));
  if (!covered) return { from: 'live', why: 'unwatched' };
  if (!watcher.lastPollAt) return { from: 'poll', why: 'never_polled' };
  if (now.getTime() - Date.parse(watcher.lastPollAt) >= watcherFreshForMs(runbook)) return { from: 'poll', why: 'stale' };
  return { from: 'watcher' };
}
