import type { LaunchReport } from '../../src/report/launch-report.js';

/** A launch as the renderers see it: hand-made, so renderer tests need no store. */
export function sampleReport(): LaunchReport {
  return {
    launch: { name: 'GoVisaX Production Go-Live', timezone: 'Asia/Kolkata', channel: 'C0OPS' },
    generatedAt: '2026-12-03T06:00:00.000Z',
    generatedBy: 'U0VIKRAM',
    people: { U0VIKRAM: 'vikram', U0ARJUN: 'arjun', U0PRIYA: 'priya' },
    t0: { at: '2026-12-01T02:30:00.000Z', setBy: 'U0ARJUN', setAt: '2026-11-30T10:00:00.000Z' },
    milestones: [
      { title: 'All pre-flight items signed off', ref: 'T-24h', dueAt: '2026-11-30T02:30:00.000Z', postedAt: '2026-11-30T10:00:00.000Z', lateMs: 0, state: 'passed' },
      { title: 'CDK deploy begins', ref: 'T-0', dueAt: '2026-12-01T02:30:00.000Z', postedAt: '2026-12-01T02:30:20.000Z', lateMs: 0, state: 'posted' },
      { title: 'DNS cutover', ref: 'T+30m', dueAt: '2026-12-01T03:00:00.000Z', postedAt: '2026-12-01T03:06:00.000Z', lateMs: 360_000, state: 'posted' },
      { title: 'Public launch decision', ref: 'T+48h', dueAt: '2026-12-03T02:30:00.000Z', postedAt: null, lateMs: 0, state: 'coming' },
    ],
    gates: [
      {
        id: 'pre-flight',
        title: 'Pre-Flight Gates',
        items: [
          { id: 'v2f-agreement', title: 'Visa2Fly B2B API Agreement Signed', level: 'blocker', owner: 'BD Lead', done: true, by: 'U0PRIYA', at: '2026-11-30T09:00:00.000Z', note: 'countersigned | PDF in <drive>', evidence: null },
          { id: 'dns', title: 'Route 53 hosted zone', level: 'warning', owner: 'DevOps', done: false, by: null, at: null, note: null, evidence: { outcome: 'fail', text: 'no public hosted zone named govisax.com.', checkedAt: '2026-11-30T10:30:00.000Z', driftingSince: null } },
        ],
        signoffs: [
          { role: 'devops', roleName: 'DevOps', user: 'U0ARJUN', at: '2026-11-30T11:00:00.000Z' },
          { role: 'cto', roleName: 'CTO', user: null, at: null },
        ],
      },
    ],
    decisions: [
      {
        id: 1,
        state: 'go',
        openedBy: 'U0ARJUN',
        openedAt: '2026-12-01T02:00:00.000Z',
        decidedAt: '2026-12-01T02:10:00.000Z',
        votesRequired: 1,
        evidenceAt: '2026-12-01T02:00:00.000Z',
        criteria: [
          { label: 'All blockers done', pass: true, value: '0 open', source: 'checklist' },
          { label: 'p95 < 800 ms', pass: null, value: 'no data', source: 'CloudWatch GetMetricData' },
        ],
        votes: [{ user: 'U0VIKRAM', vote: 'go', note: 'p95 unknown: ship, watch it', at: '2026-12-01T02:10:00.000Z' }],
      },
    ],
    changes: [
      { id: 1, kind: 'deploy', service: 'api', from: 'govisax-api:4', to: 'govisax-api:5', image: 'govisax/api:1.4.0', requestedBy: 'U0ARJUN', approvedBy: [], startedAt: '2026-12-01T02:35:00.000Z', finishedAt: '2026-12-01T02:41:00.000Z', outcome: 'succeeded', reason: null },
      { id: 2, kind: 'deploy', service: 'api', from: 'govisax-api:5', to: 'govisax-api:6', image: 'govisax/api:1.4.1', requestedBy: 'U0ARJUN', approvedBy: [], startedAt: '2026-12-01T05:00:00.000Z', finishedAt: '2026-12-01T05:04:00.000Z', outcome: 'failed', reason: 'smoke check: 503' },
      { id: 3, kind: 'rollback', service: 'api', from: 'govisax-api:6', to: 'govisax-api:5', image: null, requestedBy: 'U0ARJUN', approvedBy: ['U0VIKRAM'], startedAt: '2026-12-01T05:10:00.000Z', finishedAt: '2026-12-01T05:12:10.000Z', outcome: 'succeeded', reason: null },
    ],
    alarms: [{ name: 'GoVisaX-Prod-5xx', severity: 'critical', firings: [{ firedAt: '2026-12-01T05:03:00.000Z', recoveredAt: '2026-12-01T05:15:00.000Z', reason: 'Threshold Crossed: 5xx > 1%', pagedAt: '2026-12-01T05:03:00.000Z' }] }],
    incidents: [
      { id: 1, severity: 'P1', summary: 'API 5xx after 1.4.1 <!channel>', commander: 'U0ARJUN', declaredBy: 'U0ARJUN', declaredAt: '2026-12-01T05:05:00.000Z', channel: 'inc-20261201-api-5xx', ackedBy: 'U0ARJUN', ackedAt: '2026-12-01T05:06:30.000Z', resolvedAt: '2026-12-01T05:30:00.000Z', rootCause: 'bad connection pool size', resolution: 'rolled back to :5', pagedAt: '2026-12-01T05:05:00.000Z', alarm: 'GoVisaX-Prod-5xx' },
    ],
  };
}
