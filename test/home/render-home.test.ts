import { describe, expect, it } from 'vitest';
import type { Gate, Item } from '../../src/platform/runbook/schema.js';
import type { AlarmRow } from '../../src/alarms/alarm-service.js';
import type { ChecklistSnapshot, GateStatus, ItemStatus } from '../../src/checklist/checklist-service.js';
import type { DecisionRow } from '../../src/gonogo/gonogo-service.js';
import type { IncidentRow } from '../../src/incidents/incident-service.js';
import type { ScheduledMilestone } from '../../src/timeline/timeline-service.js';
import { renderHome } from '../../src/home/render-home.js';
import type { StatusRenderContext } from '../../src/checklist/render-status.js';
import type { ChangeRequestRow } from '../../src/deploys/approval-repository.js';

type Block = { type: string; text?: { text: string }; accessory?: { value: string }; elements?: { text: string }[] };

function snapshotOf(gates: number, itemsPerGate: number): ChecklistSnapshot {
  const gateStatuses: GateStatus[] = [];
  const open: ChecklistSnapshot['open'] = { blocker: [], warning: [], info: [] };
  for (let g = 0; g < gates; g++) {
    const items: Item[] = Array.from({ length: itemsPerGate }, (_, i) => ({ id: `i-${g}-${i}`, title: `Item ${g}.${i}`, level: (['blocker', 'warning', 'info'] as const)[i % 3]!, owner: 'dev' }));
    const gate: Gate = { id: `g-${g}`, title: `Gate ${g}`, signoff: [], items };
    const statuses: ItemStatus[] = items.map((item) => ({ item, gate, done: false, note: null }));
    for (const s of statuses) open[s.item.level].push(s);
    gateStatuses.push({ gate, items: statuses, done: 0, total: items.length, openBlockers: statuses.filter((s) => s.item.level === 'blocker').length, signoffs: [], missingSignoffs: [] });
  }
  const blockers = open.blocker.length;
  return { launchName: 'GoVisaX', gates: gateStatuses, open, verdict: blockers ? { kind: 'blocked', openBlockers: blockers } : { kind: 'ready' } };
}

const ctx: StatusRenderContext = { timezone: 'UTC', now: new Date('2026-12-01T08:00:00Z'), roleLabel: (r) => (r === 'dev' ? 'Dev' : r), roleMembers: new Map([['dev', ['U1']]]), signable: new Set(['i-0-0']), verdict: '🔴 *1 blocker open — NO-GO until resolved*' };

const firing = { name: 'Prod-5xx', state: 'ALARM', reason: 'high', state_at: '2026-12-01T07:50:00.000Z', fired_at: '2026-12-01T07:50:00.000Z', acked_by: 'U9' } as AlarmRow;
const incident = { id: 4, severity: 'P1', summary: 'Checkout <failing>', channel_id: 'C0INC', commander: 'U2' } as IncidentRow;
const approval = { id: 7, kind: 'rollback', service: 'api', requested_by: 'U3', expires_at: '2026-12-01T08:15:00.000Z' } as ChangeRequestRow;
const next = { milestone: { at: 'T+30m', title: 'DNS cutover', items: [], steps: [] }, key: 'dns cutover', number: 4, dueAt: new Date('2026-12-01T08:30:00Z'), state: 'upcoming' } as ScheduledMilestone;
const decision = { id: 2, state: 'go', decided_at: '2026-12-01T07:00:00.000Z' } as DecisionRow;

const text = (b: Block) => b.text?.text ?? b.elements?.[0]?.text ?? b.type;

describe('renderHome', () => {
  it('shows the verdict line it is given, once: the decision is folded into it, not listed again under it', () => {
    const blocks = renderHome({ snapshot: snapshotOf(1, 3), ctx: { ...ctx, verdict: '🟢 *GO (override: “p95 is fine by hand”)* — go/no-go decision #2, decided 1 Dec 07:00 UTC.' }, approvals: [], gonogo: { latest: decision } }) as Block[];
    expect(blocks.map(text).filter((t) => /\bGO\b/.test(t))).toEqual(['🟢 *GO (override: “p95 is fine by hand”)* — go/no-go decision #2, decided 1 Dec 07:00 UTC.']);
  });

  it('shows the launch at a glance: verdict, go/no-go, next milestone, alarms, incidents, approvals, gates, blockers', () => {
    const blocks = renderHome({ snapshot: snapshotOf(1, 3), ctx, firing: [firing], incidents: [incident], approvals: [approval], timeline: { next, t0: { at: new Date('2026-12-01T08:00:00Z'), setBy: 'runbook', setAt: '' } }, gonogo: { latest: decision } }) as Block[];
    expect(blocks.map(text)).toEqual([
      '🚀 GoVisaX',
      '🔴 *1 blocker open — NO-GO until resolved*',
      '⏰ Next milestone: *DNS cutover* — T+30m · 1 Dec 08:30 UTC (in 30 min)',
      'divider',
      [
        '*🚨 Firing alarms* (1)\n• `Prod-5xx` since 1 Dec 07:50 UTC · acknowledged by <@U9>',
        '*🔥 Open incidents* (1)\n• INC-4 P1 Checkout &lt;failing&gt; — <#C0INC> · commander <@U2>',
        '*⏳ Waiting for approval* (1)\n• #7 roll back `api` — asked by <@U3>, expires 1 Dec 08:15 UTC',
      ].join('\n'),
      'divider',
      '🔴 *Gate 0* `g-0` — 0/3 done · 1 blocker open',
      'divider',
      '*Open blockers* (1)',
      '🔴 `i-0-0` Item 0.0\nOwner: Dev (<@U1>) · gate `g-0`',
      'Updated 1 Dec 08:00 UTC · refreshed when the launch changes · `/golive status` for every open item',
    ]);
    expect(blocks[9]!.accessory!.value).toBe('i-0-0');
    // The launch report, one click away from the verdict.
    expect(blocks[1]!.accessory).toMatchObject({ type: 'button', action_id: 'golive_post_report', text: { text: '📄 Launch report' } });
  });

  it('says what is quiet, and leaves out what the runbook does not use', () => {
    const blocks = renderHome({ snapshot: snapshotOf(1, 2), ctx, firing: [], incidents: [], approvals: [], timeline: { next: undefined, t0: undefined }, gonogo: { latest: undefined } }) as Block[];
    expect(blocks.map(text).slice(2, 5)).toEqual([
      '🗳️ Go/No-Go: not called yet — `/golive gonogo` when the criteria are met.\n⏰ T-0 is not set: `/golive t0 <time>` starts the timeline.',
      'divider',
      '*🚨 Firing alarms:* none 🟢\n*🔥 Open incidents:* none\n*⏳ Waiting for approval:* nothing',
    ]);
    const bare = renderHome({ snapshot: snapshotOf(1, 2), ctx, approvals: [] }) as Block[];
    expect(bare.map(text).slice(2, 4)).toEqual(['divider', '*⏳ Waiting for approval:* nothing']);
  });

  it.each([50, 300, 1000])('stays within 100 blocks and 3000 characters per text with %i items', (n) => {
    const gates = Math.max(1, Math.round(n / 30));
    const blocks = renderHome({ snapshot: snapshotOf(gates, Math.ceil(n / gates)), ctx, firing: Array(30).fill(firing), incidents: Array(30).fill(incident), approvals: Array(30).fill(approval), gonogo: {} }) as Block[];
    expect(blocks.length).toBeLessThanOrEqual(100);
    for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect(text(blocks.at(-1)!)).toMatch(/^Updated /);
    if (n >= 300) expect(blocks.map(text)).toContain(`…and ${snapshotOf(gates, Math.ceil(n / gates)).open.blocker.length - (blocks.filter((b) => text(b).startsWith('🔴 `')).length)} more blockers: \`/golive status\``);
  });
});
