import { describe, expect, it } from 'vitest';
import type { EcsDeployment, EcsPort, EcsServiceState } from '../../src/platform/aws/ecs-port.js';
import { assessRollout, shortTaskDef, watchRollout } from '../../src/deploys/watch-rollout.js';

const TD = (n: number) => `arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-prod:${n}`;

function state(taskDefinition: number, deployments: Partial<EcsDeployment>[], counts = { running: 0, desired: 2 }): EcsServiceState {
  return {
    cluster: 'c',
    service: 's',
    taskDefinition: TD(taskDefinition),
    desiredCount: counts.desired,
    runningCount: counts.running,
    deployments: deployments.map((d, i) => ({ id: String(i), status: 'PRIMARY', taskDefinition: TD(5), desiredCount: 2, runningCount: 0, ...d })),
    events: [],
  };
}

describe('assessRollout', () => {
  it('is complete when the target is the only deployment with running = desired', () => {
    expect(assessRollout(state(5, [{ runningCount: 2 }]), TD(5))).toEqual({ done: true, ok: true, running: 2, desired: 2 });
  });

  it('is still going while the old deployment drains, even with running = desired', () => {
    expect(assessRollout(state(5, [{ runningCount: 2 }, { status: 'ACTIVE', taskDefinition: TD(3), runningCount: 1 }]), TD(5))).toEqual({ done: false, running: 2, desired: 2 });
  });

  it('trusts rolloutState COMPLETED and FAILED', () => {
    expect(assessRollout(state(5, [{ runningCount: 2, rolloutState: 'COMPLETED' }, { status: 'ACTIVE', taskDefinition: TD(3) }]), TD(5))).toMatchObject({ done: true, ok: true });
    expect(assessRollout(state(5, [{ rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }]), TD(5))).toEqual({ done: true, ok: false, reason: 'ECS reports the rollout FAILED: tasks failed to start' });
  });

  it('sees a circuit-breaker rollback', () => {
    expect(assessRollout(state(3, [{ taskDefinition: TD(3), runningCount: 2 }, { status: 'ACTIVE', taskDefinition: TD(5) }]), TD(5))).toEqual({
      done: true,
      ok: false,
      reason: 'ECS rolled the service back to govisax-prod:3 (deployment circuit breaker)',
    });
  });

  it('falls back to service counts when the new deployment is not listed (moto)', () => {
    expect(assessRollout(state(5, [{ taskDefinition: TD(3), runningCount: 2 }], { running: 2, desired: 2 }), TD(5))).toMatchObject({ done: true, ok: true });
    expect(assessRollout(state(5, [{ taskDefinition: TD(3) }], { running: 0, desired: 2 }), TD(5))).toEqual({ done: false, running: 0, desired: 2 });
    expect(assessRollout(state(4, [{ taskDefinition: TD(4) }]), TD(5))).toMatchObject({ done: true, ok: false });
  });

  it('shortens ARNs', () => {
    expect(shortTaskDef(TD(42))).toBe('govisax-prod:42');
    expect(shortTaskDef('govisax-prod:7')).toBe('govisax-prod:7');
  });
});

describe('watchRollout', () => {
  it('reports progress only when the counts change, then completes', async () => {
    const answers = [state(5, [{ runningCount: 0 }]), state(5, [{ runningCount: 0 }]), state(5, [{ runningCount: 1 }]), state(5, [{ runningCount: 2 }])];
    const ecs = { describeService: async () => answers.shift()! } as unknown as EcsPort;
    const progress: string[] = [];
    const result = await watchRollout(ecs, { cluster: 'c', service: 's', region: 'r' }, TD(5), {
      clock: { now: () => new Date(0) },
      pollMs: 0,
      timeoutMs: 60_000,
      startedAt: new Date(0),
      onProgress: (r, d) => {
        progress.push(`${r}/${d}`);
      },
      sleep: async () => {},
    });
    expect(result).toEqual({ done: true, ok: true, running: 2, desired: 2 });
    expect(progress).toEqual(['0/2', '1/2']);
  });
});
