import type { EcsServiceState } from '../platform/aws/ecs-port.js';
import type { CanaryConfig } from '../platform/runbook/schema.js';
import { combine, describeFailure, type CheckOutcome, type MetricScore } from './analyse-metrics.js';

/*
 * The rules a canary lives by, as pure functions of what one look at the
 * world found: when it aborts by itself, when it is promoted without a
 * click, and whether a person's Promote may go through.
 */

/** Where a canary stands. Moves only forward, each step a compare-and-set with an audit row. */
export type CanaryState = 'starting' | 'baking' | 'waiting' | 'promoting' | 'aborting' | 'succeeded' | 'aborted' | 'failed';

/** States in which the canary service runs (or is about to run) the new version and golive must keep watching. */
export const WATCHED_STATES: readonly CanaryState[] = ['starting', 'baking', 'waiting', 'promoting', 'aborting'];

/** The states each state may move to. */
export const NEXT_STATES: Record<CanaryState, readonly CanaryState[]> = {
  starting: ['baking', 'aborting', 'failed'],
  baking: ['waiting', 'promoting', 'aborting'],
  waiting: ['promoting', 'aborting'],
  promoting: ['succeeded', 'failed'],
  aborting: ['aborted'],
  succeeded: [],
  aborted: [],
  failed: [],
};

/** What one analysis interval found. Stored with the canary, so a restart and the Promote button see the same evidence. */
export interface CanaryEvidence {
  /** When it was read. */
  at: string;
  /** The canary service as ECS reports it. */
  tasks: { running: number; desired: number; taskDefinition: string; problem?: string; unread?: string };
  /** Alarms under the canary's prefixes that are in ALARM (the alarm watcher's state), or why they could not be read. */
  alarms: { firing: { name: string; since: string }[] } | { unknown: string };
  /** The metric scores over the bake so far, or why CloudWatch could not be read. */
  metrics: { scores: MetricScore[] } | { unknown: string };
  /** This interval's health check, when the canary has one. */
  health?: { ok: boolean; detail: string };
  /** Failed health checks since the bake began. */
  healthFailures: number;
  /** CloudWatch requests this interval made (GetMetricData pages, plus DescribeAlarms when the watcher's state was stale). */
  cloudwatchCalls: number;
}

/** The verdict on the evidence, with every reason it is not a plain pass. */
export interface EvidenceVerdict {
  verdict: CheckOutcome;
  /** Why it fails, most serious first. */
  failing: string[];
  /** What could not be judged. */
  unknown: string[];
  /** Failures within `failure_limit`: they do not abort it by themselves, but a Promote counts them as failing (and the analysis alone does not promote). */
  tolerated: string[];
}

/** Judges the evidence as the canary's rules say: any failing part fails it; anything unread leaves it unknown. */
export function judgeEvidence(config: CanaryConfig, ev: CanaryEvidence): EvidenceVerdict {
  const failing: string[] = [];
  const unknown: string[] = [];
  const tolerated: string[] = [];
  if (ev.tasks.problem) failing.push(`the canary's tasks are failing: ${ev.tasks.problem}`);
  else if (ev.tasks.unread) unknown.push(`canary tasks: ${ev.tasks.unread}`);
  if ('unknown' in ev.alarms) unknown.push(`alarms: ${ev.alarms.unknown}`);
  else for (const a of ev.alarms.firing) failing.push(`alarm \`${a.name}\` is in ALARM`);
  if ('unknown' in ev.metrics) unknown.push(`metrics: ${ev.metrics.unknown}`);
  else {
    ev.metrics.scores.forEach((s, i) => {
      const m = config.metrics[i];
      if (!m) return;
      if (s.failures > config.failure_limit) failing.push(`${s.label}: ${describeFailure(m, s)} (${plural(s.failures, 'failing interval')}, ${config.failure_limit} allowed)`);
      else if (s.failures > 0) tolerated.push(`${s.label}: ${describeFailure(m, s)} (${plural(s.failures, 'failing interval')}, within the ${config.failure_limit} allowed)`);
      else if (s.verdict === 'unknown') unknown.push(`${s.label}: no data to compare yet`);
    });
  }
  if (config.health_check && ev.healthFailures > config.failure_limit) failing.push(`health check failed ${plural(ev.healthFailures, 'time')} (${config.failure_limit} allowed)${ev.health && !ev.health.ok ? `: ${ev.health.detail}` : ''}`);
  else if (config.health_check && ev.healthFailures > 0) tolerated.push(`health check failed ${plural(ev.healthFailures, 'time')} (within the ${config.failure_limit} allowed)`);
  const verdict = failing.length > 0 ? 'fail' : combine(unknown.length > 0 ? ['unknown'] : ['pass']);
  return { verdict, failing, unknown, tolerated };
}

/** What to do after an analysis interval. */
export type CanaryDecision =
  | { kind: 'continue' }
  | { kind: 'abort'; reason: string }
  /** The bake is over and a person decides: why it was not promoted by itself. */
  | { kind: 'wait'; why: string }
  | { kind: 'promote' };

/**
 * Decides after each interval. Failing evidence aborts at once, whatever
 * the state; a canary nobody decided on is aborted rather than left running
 * the new version; at the end of the bake the analysis alone promotes it only
 * where the runbook says so, the evidence passes outright and no lock holds.
 */
export function decideCanary(input: { state: 'baking' | 'waiting'; now: Date; bakeEndsAt: Date; config: CanaryConfig; evidence: CanaryEvidence; lockedBy?: string }): CanaryDecision {
  const { state, now, bakeEndsAt, config } = input;
  const judged = judgeEvidence(config, input.evidence);
  if (judged.verdict === 'fail') return { kind: 'abort', reason: judged.failing[0]! };
  if (state === 'waiting') {
    const decideBy = bakeEndsAt.getTime() + config.decide_within_minutes * 60_000;
    if (now.getTime() >= decideBy) return { kind: 'abort', reason: `nobody promoted or aborted it within ${config.decide_within_minutes} minutes of the bake ending, so the canary is not left running unattended` };
    return { kind: 'continue' };
  }
  if (now.getTime() < bakeEndsAt.getTime()) return { kind: 'continue' };
  if (!config.auto_promote) return { kind: 'wait', why: 'the runbook asks a person to promote it' };
  if (input.lockedBy) return { kind: 'wait', why: `${input.lockedBy}, so it is not promoted by itself` };
  if (judged.verdict !== 'pass') return { kind: 'wait', why: `the analysis could not judge everything (${judged.unknown.join('; ')}), so it is not promoted by itself` };
  if (judged.tolerated.length > 0) return { kind: 'wait', why: `some intervals failed within the runbook's tolerance (${judged.tolerated.join('; ')}), so it is not promoted by itself` };
  return { kind: 'promote' };
}

/**
 * Whether a person's Promote may go through on this evidence: refused while
 * anything fails (failures within `failure_limit` too: the tolerance only
 * keeps a blip from aborting it), unless the runbook allows an override and a
 * note says why.
 */
export function promoteRefusal(
  config: CanaryConfig,
  ev: CanaryEvidence | undefined,
  note: string | undefined,
): { refused: false; override: boolean } | { refused: true; reason: string; needsNote: boolean; failing: string[] } {
  if (!ev) return { refused: true, reason: 'the canary has not been measured yet', needsNote: false, failing: [] };
  const judged = judgeEvidence(config, ev);
  const failing = [...judged.failing, ...judged.tolerated];
  if (failing.length === 0) return { refused: false, override: false };
  if (!config.allow_override) return { refused: true, reason: `the analysis fails: ${failing.join('; ')}. The runbook does not allow promoting over a failing analysis`, needsNote: false, failing };
  if (!note?.trim()) return { refused: true, reason: `the analysis fails: ${failing.join('; ')}. The runbook allows an override, with a note saying why`, needsNote: true, failing };
  return { refused: false, override: true };
}

/**
 * How the canary service's tasks look in one DescribeServices answer: failing
 * when fewer run than it should have, when ECS reports the deployment FAILED,
 * or when someone moved the service off the canary's revision.
 */
export function judgeCanaryTasks(state: EcsServiceState, taskDefinition: string, desired: number): CanaryEvidence['tasks'] {
  const mine = state.deployments.find((d) => d.taskDefinition === taskDefinition);
  // Some ECS implementations (moto) never update the deployment list: the service-level counts are what there is.
  const running = mine && state.deployments.length > 1 ? mine.runningCount : state.runningCount;
  const out = { running, desired, taskDefinition: state.taskDefinition };
  const short = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
  if (state.taskDefinition !== taskDefinition) return { ...out, problem: `the canary service now runs ${short(state.taskDefinition)}, not ${short(taskDefinition)}: it was changed outside this canary` };
  if (mine?.rolloutState === 'FAILED') return { ...out, problem: `ECS reports the canary's deployment FAILED${mine.rolloutStateReason ? `: ${mine.rolloutStateReason}` : ''}` };
  if (state.desiredCount < desired) return { ...out, problem: `its desired count was changed to ${state.desiredCount}` };
  if (running < desired) return { ...out, problem: `${running} of ${desired} task${desired === 1 ? '' : 's'} running${state.events[0] ? ` (ECS: ${state.events[0].message})` : ''}` };
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The canary's share of the traffic when it and the main service sit in the same target group. */
export function trafficShare(canaryTasks: number, mainTasks: number): string {
  const total = canaryTasks + mainTasks;
  return total > 0 ? `≈${Math.round((100 * canaryTasks) / total)} % of traffic` : 'no traffic yet';
}
