import { describe, expect, it } from 'vitest';
import { dueLevels, type EscalationSubject } from '../../src/escalation/plan-escalation.js';
import { channelPost, directMessage, escalationEmail, pageSummary, type EscalationAbout, type EscalationContext } from '../../src/escalation/render-escalation.js';
import type { EscalationLevel } from '../../src/platform/runbook/schema.js';

const level = (l: Partial<EscalationLevel> & { after_minutes: number }): EscalationLevel => ({ if: 'not_acknowledged', email: [], at_channel: false, mention: [], page: false, dm: [], ...l });

/** Seed 004's matrix: email 0–5 min, Slack 5–15 if not acknowledged, PagerDuty 15+ if not resolved, executives 30+. */
const MATRIX: EscalationLevel[] = [
  level({ after_minutes: 0, name: 'Level 1 — Email', email: ['devops-team@1cloudhub.example'] }),
  level({ after_minutes: 5, name: 'Level 2 — Slack', channel: 'ops', at_channel: true, mention: ['devops-oncall'] }),
  level({ after_minutes: 15, name: 'Level 3 — PagerDuty', if: 'not_resolved', page: true }),
  level({ after_minutes: 30, name: 'Level 4 — Executive', if: 'not_resolved', dm: ['cto'], email: ['cto@fivestar.example'] }),
];
const start = '2026-12-01T08:00:00.000Z';
const at = (min: number) => new Date(Date.parse(start) + min * 60_000);
const subject = (s: Partial<EscalationSubject> = {}): EscalationSubject => ({ kind: 'incident', key: 'incident:1', startedAt: start, levels: MATRIX, ...s });

describe('escalation levels', () => {
  it('fires each level once its minutes have passed', () => {
    expect(dueLevels(subject(), new Set(), at(0)).map((d) => [d.level, d.fire])).toEqual([[0, true]]);
    expect(dueLevels(subject(), new Set([0]), at(4.9))).toEqual([]);
    expect(dueLevels(subject(), new Set([0]), at(5)).map((d) => [d.level, d.fire, d.dueAt])).toEqual([[1, true, '2026-12-01T08:05:00.000Z']]);
  });

  it('decides every overdue level in order after a late start', () => {
    expect(dueLevels(subject(), new Set(), at(31)).map((d) => d.level)).toEqual([0, 1, 2, 3]);
  });

  it('skips not_acknowledged levels once acknowledged, but still fires not_resolved ones', () => {
    const acked = subject({ acknowledgedAt: at(3).toISOString() });
    expect(dueLevels(acked, new Set([0]), at(16))).toEqual([
      { level: 1, dueAt: '2026-12-01T08:05:00.000Z', fire: false, reason: 'acknowledged at 2026-12-01T08:03:00.000Z' },
      { level: 2, dueAt: '2026-12-01T08:15:00.000Z', fire: true },
    ]);
  });

  it('skips everything once resolved', () => {
    expect(dueLevels(subject({ resolvedAt: at(10).toISOString() }), new Set([0, 1]), at(40)).map((d) => d.fire)).toEqual([false, false]);
  });
});

describe('escalation messages', () => {
  const incident: EscalationAbout = { kind: 'incident', id: 3, severity: 'P1', severityName: 'Severity 1 — Critical', summary: 'Payment system <down>', channelId: 'C0INC3', channelName: 'inc-20261201-payment-system-down', commander: 'U0CMD', startedAt: start };
  const alarm: EscalationAbout = { kind: 'alarm', name: 'Fivestar-High-Error-Rate', severity: 'critical', reason: 'Threshold Crossed: 2 datapoints > 5', region: 'ap-south-1', startedAt: start, consoleUrl: 'https://console.aws.amazon.com/cloudwatch/home?region=ap-south-1#alarmsV2:alarm/Fivestar-High-Error-Rate' };
  const ctx = (l: number, mentions: string[] = []): EscalationContext => ({ launch: 'Fivestar Payments', timezone: 'Asia/Kolkata', opsChannel: 'C0OPS', levels: MATRIX, level: l, mentions });

  it('posts with @channel and the roles, escaping the summary', () => {
    expect(channelPost(incident, ctx(1, ['<!subteam^S0ONCALL>']))).toBe(
      '<!channel> <!subteam^S0ONCALL> ⏫ *Level 2 — Slack* (2 of 4): INC-3 P1 “Payment system &lt;down&gt;” — 5 min since it was declared, not acknowledged. Please acknowledge or take it in <#C0INC3>.',
    );
    expect(channelPost(alarm, ctx(1))).toBe(
      '<!channel> ⏫ *Level 2 — Slack* (2 of 4): alarm `Fivestar-High-Error-Rate` (critical) — 5 min since it fired, not acknowledged. Please acknowledge it on its alarm post, or declare an incident.',
    );
  });

  it('writes the DM, the page and the email', () => {
    expect(directMessage(incident, ctx(3))).toBe('⏫ *Level 4 — Executive* (4 of 4) for Fivestar Payments: INC-3 P1 “Payment system &lt;down&gt;” — 30 min since it was declared, not resolved. Details: <#C0INC3>.');
    expect(pageSummary(incident, ctx(2))).toBe('Level 3 — PagerDuty (not resolved after 15 min) INC-3 P1: Payment system <down>');
    expect(escalationEmail(incident, ctx(0))).toEqual({
      subject: '[INCIDENT] Fivestar Payments - P1 - Payment system <down>',
      text: [
        'Escalation Level 1 — Email (1 of 4): incident INC-3 was just declared.',
        '',
        'Incident Details:',
        '- Severity: Severity 1 — Critical',
        '- Start Time: 1 Dec 13:30 GMT+5:30',
        '- Summary: Payment system <down>',
        '- Incident channel: #inc-20261201-payment-system-down in Slack',
        '',
        "Acknowledge it on the incident's first post in #inc-20261201-payment-system-down; updates follow there.",
        '— golive, for Fivestar Payments',
      ].join('\n'),
    });
    expect(escalationEmail(alarm, ctx(0)).subject).toBe('[ALARM] Fivestar Payments - critical - Fivestar-High-Error-Rate');
  });
});
