import type { Runbook, Verify } from '../platform/runbook/schema.js';
import { fail, pass, type CheckContext, type CheckResult } from './evidence.js';

type EcsCheck = Extract<Verify, { type: 'ecs_service' }>;

/** The service runs as many tasks as it wants, on one deployment (no rollout under way). */
export async function checkEcsService(v: EcsCheck, { session }: CheckContext, runbook: Runbook): Promise<CheckResult> {
  const s = v.cluster ? undefined : runbook.services.find((x) => x.name === v.service);
  const ref = s ? { cluster: s.cluster, service: s.service, region: s.region } : { cluster: v.cluster!, service: v.service, region: v.region! };
  const state = await session.ecsService(ref);
  const name = `ECS service ${ref.service}`;
  const counts = `${state.runningCount} of ${state.desiredCount} tasks running`;
  const rolling = state.deployments.filter((d) => d.status !== 'INACTIVE');
  const primary = rolling.find((d) => d.status === 'PRIMARY');
  if (state.desiredCount === 0) return fail(`${name} wants 0 tasks (scaled to zero)`);
  if (state.runningCount !== state.desiredCount) return fail(`${name} is not steady: ${counts}${primary?.rolloutState ? ` (rollout ${primary.rolloutState})` : ''}`);
  if (rolling.length > 1) return fail(`${name} is rolling out: ${rolling.length} deployments, ${counts}`);
  // IN_PROGRESS with every task running is a rollout about to be marked COMPLETED; FAILED is a rollout ECS gave up on.
  if (primary?.rolloutState === 'FAILED') return fail(`${name}: ${counts} but its last rollout FAILED${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}`);
  return pass(`${name} is steady: ${counts}`);
}
