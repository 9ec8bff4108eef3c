import { describe, expect, it } from 'vitest';
import { describeAuditRow, type HistoryContext } from '../../src/history/describe-audit.js';
import type { ChangeStory } from '../../src/deploys/change-stories.js';
import type { AuditRow } from '../../src/platform/store/audit-repository.js';

const ARN = (n: number) => `arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-api:${n}`;
const rollback: ChangeStory = {
  id: 7,
  kind: 'rollback',
  service: 'api',
  from: ARN(5),
  to: ARN(4),
  image: null,
  requestedBy: 'U0ARJUN',
  approvedBy: ['U0VIKRAM'],
  startedAt: '2026-12-01T05:10:00.000Z',
  finishedAt: '2026-12-01T05:12:10.000Z',
  outcome: 'succeeded',
  reason: null,
};
const ctx: HistoryContext = { timezone: 'Asia/Kolkata', change: (id) => (id === 7 ? rollback : undefined) };
const row = (action: string, target: string, detail: Record<string, unknown>, actor = 'U0ARJUN'): AuditRow => ({ id: 1, at: '2026-12-01T05:12:10.000Z', actor, action, target, detail, source: 'system', channel: null });
const say = (action: string, target: string, detail: Record<string, unknown>, actor?: string) => describeAuditRow(row(action, target, detail, actor), ctx);

describe('history in words', () => {
  it('tells a finished rollback as one story: who asked, from → to, who approved, how long', () => {
    expect(say('rollback.succeeded', 'api', { deploy: 7, to: ARN(4) }, 'golive')).toBe('<@U0ARJUN> asked to roll back `api` from :5 to :4 — approved by <@U0VIKRAM> — rolled back in 2 min 10 s');
    expect(describeAuditRow(row('rollback.failed', 'api', { deploy: 7 }, 'golive'), { ...ctx, change: () => ({ ...rollback, outcome: 'failed', reason: 'ECS: circuit breaker' }) })).toBe(
      '<@U0ARJUN> asked to roll back `api` from :5 to :4 — approved by <@U0VIKRAM> — the rollback failed after 2 min 10 s: ECS: circuit breaker',
    );
    expect(describeAuditRow(row('deploy.failed', 'api', { deploy: 7 }, 'golive'), { ...ctx, change: () => ({ ...rollback, kind: 'deploy', from: ARN(5), to: ARN(6), image: 'govisax/api:1.4.1', approvedBy: [], outcome: 'failed', reason: 'smoke check: 503' }) })).toBe(
      '<@U0ARJUN> deployed `api` :5 → :6 (image `govisax/api:1.4.1`) — failed after 2 min 10 s: smoke check: 503',
    );
  });

  it('still says what happened when the deploy row is gone', () => {
    expect(say('deploy.succeeded', 'api', { deploy: 99, to: ARN(6) }, 'golive')).toBe('The deploy of `api` to :6 succeeded');
  });

  it('words every step, never an action code', () => {
    expect(say('rollback.request', 'api', { request: 3, from: ARN(5), to: ARN(4), reason: '5xx <!here>' })).toBe('<@U0ARJUN> asked to roll back `api` from :5 to :4 — “5xx &lt;!here&gt;” (request #3)');
    expect(say('rollback.approve', 'api', { request: 3, approvals: 1, needed: 1 }, 'U0VIKRAM')).toBe('<@U0VIKRAM> approved rolling back `api` (request #3)');
    expect(say('rollback.start', 'api', { deploy: 7, request: 3, from: ARN(5), to: ARN(4) }, 'U0VIKRAM')).toBe('Rolling back `api` from :5 to :4 started, approved by <@U0VIKRAM>');
    expect(say('rollback.closed', 'api', { request: 3, outcome: 'succeeded' }, 'golive')).toBe('Rollback request #3 for `api` closed: done');
    expect(say('deploy.refused', 'api', { blocked_by: ['🔴 blocker `v2f-agreement` V2F agreement signed (gate `pre-flight`, owner: BD Lead)'] })).toBe(
      "The deploy gate refused <@U0ARJUN>'s deploy of `api`: 🔴 blocker `v2f-agreement` V2F agreement signed (gate `pre-flight`, owner: BD Lead)",
    );
    expect(say('item.check', 'v2f-agreement', { gate: 'pre-flight', note: 'countersigned' })).toBe('<@U0ARJUN> signed off `v2f-agreement` — “countersigned”');
    expect(say('gate.signoff', 'pre-flight', { roles: ['DevOps'] })).toBe('<@U0ARJUN> signed off gate `pre-flight` as DevOps');
    expect(say('launch.t0', 'T-0', { from: '2026-12-01T02:30:00.000Z', to: '2026-12-01T04:30:00.000Z' })).toBe('<@U0ARJUN> moved T-0 to 1 Dec 10:00 GMT+5:30 (was 1 Dec 08:00 GMT+5:30)');
    expect(say('milestone.posted', 'DNS cutover', { late_ms: 360000 }, 'golive')).toBe('golive posted the milestone “DNS cutover”, 6 min late');
    expect(say('gonogo.vote', 'decision #1', { vote: 'no_go', note: 'p95 too high' }, 'U0VIKRAM')).toBe('<@U0VIKRAM> voted No-Go on decision #1 — “p95 too high”');
    expect(say('gonogo.decide', 'decision #1', { outcome: 'go' }, 'golive')).toBe('go/no-go decision #1 decided: ✅ GO');
    expect(say('alarm.transition', 'GoVisaX-5xx', { from: 'OK', to: 'ALARM' }, 'cloudwatch')).toBe('CloudWatch: `GoVisaX-5xx` went OK → ALARM');
    expect(say('incident.declare', 'INC-1', { severity: 'P1', summary: 'API down', commander: 'U0VIKRAM' })).toBe('<@U0ARJUN> declared INC-1 P1: “API down”, commanded by <@U0VIKRAM>');
    expect(say('incident.resolve', 'INC-1', { root_cause: 'pool size', duration: '25 min' })).toBe('<@U0ARJUN> resolved INC-1 after 25 min — root cause “pool size”');
    expect(say('incident.escalate', 'INC-1', { roles: ['cto'] }, 'golive')).toBe('Nobody acknowledged INC-1 in time: golive escalated it to cto');
  });

  it('reads an action it does not know as words too', () => {
    expect(say('backup.verify_now', 'api', {})).toBe('<@U0ARJUN>: backup verify now `api`');
    expect(say('canary.promote', 'api', {})).toBe('<@U0ARJUN> promoted the canary of `api`');
  });
});
