import { AwsCallError, type EcsPort, type EcsServiceState, type ServiceRef } from '../platform/aws/ecs-port.js';
import type { Clock } from '../platform/clock.js';

/** Where a rollout stands after one look at the service. */
export type RolloutAssessment =
  | { done: false; running: number; desired: number }
  | { done: true; ok: true; running: number; desired: number }
  | { done: true; ok: false; reason: string };

/**
 * Decides from one DescribeServices answer whether the rollout to `target`
 * is complete, still going, or failed. Completion: `rolloutState` COMPLETED,
 * or the target is the only deployment and running = desired. Failure:
 * rolloutState FAILED, or ECS moved the service off the target (the
 * deployment circuit breaker rolled it back).
 */
export function assessRollout(state: EcsServiceState, target: string): RolloutAssessment {
  const mine = state.deployments.find((d) => d.taskDefinition === target);
  if (mine) {
    if (mine.rolloutState === 'FAILED') return { done: true, ok: false, reason: `ECS reports the rollout FAILED${mine.rolloutStateReason ? `: ${mine.rolloutStateReason}` : ''}` };
    if (mine.status !== 'PRIMARY' || state.taskDefinition !== target) {
      return { done: true, ok: false, reason: `ECS rolled the service back to ${shortTaskDef(state.taskDefinition)} (deployment circuit breaker)` };
    }
    if (mine.rolloutState === 'COMPLETED') return { done: true, ok: true, running: mine.runningCount, desired: mine.desiredCount };
    if (state.deployments.length === 1 && mine.runningCount === mine.desiredCount && mine.desiredCount > 0) {
      return { done: true, ok: true, running: mine.runningCount, desired: mine.desiredCount };
    }
    return { done: false, running: mine.runningCount, desired: mine.desiredCount };
  }
  if (state.taskDefinition !== target) {
    return { done: true, ok: false, reason: `the service runs ${shortTaskDef(state.taskDefinition)}, not ${shortTaskDef(target)}: ECS rolled it back or someone else deployed` };
  }
  // Some ECS implementations (moto) do not list the new deployment; the service-level counts are all there is.
  if (state.runningCount === state.desiredCount && state.desiredCount > 0) return { done: true, ok: true, running: state.runningCount, desired: state.desiredCount };
  return { done: false, running: state.runningCount, desired: state.desiredCount };
}

/** `arn:aws:ecs:…:task-definition/govisax-prod:42` → `govisax-prod:42`. */
export function shortTaskDef(arnOrName: string): string {
  const i = arnOrName.lastIndexOf('/');
  return i >= 0 ? arnOrName.slice(i + 1) : arnOrName;
}

const TRANSIENT = new Set(['throttled', 'network', 'timeout', 'unknown']);

/** Polls the service until the rollout to `target` completes, fails or times out. */
export async function watchRollout(
  ecs: EcsPort,
  ref: ServiceRef,
  target: string,
  opts: {
    clock: Clock;
    pollMs: number;
    timeoutMs: number;
    startedAt: Date;
    onProgress?: (running: number, desired: number) => Promise<void> | void;
    onTransientError?: (err: AwsCallError) => void;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<RolloutAssessment & { done: true }> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  let a: RolloutAssessment = { done: false, running: 0, desired: 0 };
  for (;;) {
    try {
      a = assessRollout(await ecs.describeService(ref), target);
    } catch (err) {
      // ECS keeps rolling out while we cannot see it; a blip must not end the deploy. Access denied or not-found do.
      if (!(err instanceof AwsCallError) || !TRANSIENT.has(err.kind)) throw err;
      opts.onTransientError?.(err);
      if (opts.clock.now().getTime() - opts.startedAt.getTime() >= opts.timeoutMs) {
        return { done: true, ok: false, reason: `the rollout did not finish within ${Math.round(opts.timeoutMs / 60_000)} minutes, and ECS could not be read at the end (${err.message})` };
      }
      await sleep(opts.pollMs);
      continue;
    }
    if (a.done) return a;
    const key = `${a.running}/${a.desired}`;
    if (key !== last) {
      last = key;
      await opts.onProgress?.(a.running, a.desired);
    }
    if (opts.clock.now().getTime() - opts.startedAt.getTime() >= opts.timeoutMs) {
      return { done: true, ok: false, reason: `the rollout did not finish within ${Math.round(opts.timeoutMs / 60_000)} minutes (${a.running}/${a.desired} tasks running)` };
    }
    await sleep(opts.pollMs);
  }
}
