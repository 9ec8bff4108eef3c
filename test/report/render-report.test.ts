import { describe, expect, it } from 'vitest';
import { renderReportHtml, renderReportMarkdown } from '../../src/report/render-report.js';
import { sampleReport } from './sample-report.js';

/** The Markdown of one `## heading` section. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`## ${heading}\n`);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end === -1 ? undefined : end);
}

describe('the report’s gates: each item’s automatic evidence beside its sign-off', () => {
  it('shows what the check found and when, a drift, and a check that has not run yet', () => {
    const report = sampleReport();
    const gate = report.gates[0]!;
    gate.items.push(
      { id: 'secrets', title: 'Secrets populated', level: 'blocker', owner: 'DevOps', done: true, by: 'U0ARJUN', at: '2026-11-30T09:30:00.000Z', note: null, evidence: { outcome: 'fail', text: 'prod/db is scheduled for deletion', checkedAt: '2026-12-01T01:00:00.000Z', driftingSince: '2026-11-30T23:00:00.000Z' } },
      { id: 'tls', title: 'Certificate valid', level: 'warning', owner: 'DevOps', done: true, by: 'golive', at: '2026-11-30T09:35:00.000Z', note: null, evidence: { outcome: 'pass', text: 'valid until 2027-03-01 (90 days) for govisax.com', checkedAt: '2026-11-30T09:35:00.000Z', driftingSince: null } },
      { id: 'rds', title: 'Backups recent', level: 'info', owner: 'DevOps', done: false, by: null, at: null, note: null, evidence: { outcome: 'unknown', text: 'AWS refused rds:DescribeDBInstances', checkedAt: '2026-11-30T09:40:00.000Z', driftingSince: null } },
      { id: 'ses', title: 'SES out of sandbox', level: 'info', owner: 'DevOps', done: false, by: null, at: null, note: null, evidence: { outcome: 'not_run', text: null, checkedAt: null, driftingSince: null } },
    );
    const rows = section(renderReportMarkdown(report), 'Gates and sign-offs').split('\n').filter((l) => l.startsWith('| '));
    expect(rows.slice(0, 8)).toEqual([
      '| Item | Level | Owner | Signed off by | When | Note | Evidence |',
      '| ✅ Visa2Fly B2B API Agreement Signed (v2f-agreement) | 🔴 blocker | BD Lead | @priya | 30 Nov 14:30 GMT+5:30 | countersigned \\| PDF in \\<drive\\> | — |',
      '| ⬜ Route 53 hosted zone (dns) | ⚠️ warning | DevOps | — | — | — | ❌ failed 30 Nov 16:00 GMT+5:30: “no public hosted zone named govisax.com.” |',
      '| ✅ Secrets populated (secrets) | 🔴 blocker | DevOps | @arjun | 30 Nov 15:00 GMT+5:30 | — | 🚨 drifting since 1 Dec 04:30 GMT+5:30 (counts as open) — ❌ failed 1 Dec 06:30 GMT+5:30: “prod/db is scheduled for deletion” |',
      '| ✅ Certificate valid (tls) | ⚠️ warning | DevOps | golive | 30 Nov 15:05 GMT+5:30 | — | ✅ passed 30 Nov 15:05 GMT+5:30: “valid until 2027-03-01 (90 days) for govisax.com” |',
      '| ⬜ Backups recent (rds) | ℹ️ info | DevOps | — | — | — | ❔ could not check 30 Nov 15:10 GMT+5:30: AWS refused rds:DescribeDBInstances |',
      '| ⬜ SES out of sandbox (ses) | ℹ️ info | DevOps | — | — | — | not checked yet |',
      '| Role | Name | Signature | Date |',
    ]);
    const html = renderReportHtml(report);
    expect(html).toContain('<th>Evidence</th>');
    expect(html).toContain('❌ failed 30 Nov 16:00 GMT+5:30: “no public hosted zone named govisax.com.”');
  });

  it('has no Evidence column in a gate none of whose items has a check', () => {
    const report = sampleReport();
    for (const i of report.gates[0]!.items) i.evidence = null;
    const gates = section(renderReportMarkdown(report), 'Gates and sign-offs');
    expect(gates).toContain('| Item | Level | Owner | Signed off by | When | Note |\n');
    expect(gates).not.toContain('Evidence');
  });
});
