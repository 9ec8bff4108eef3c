import { describe, expect, it } from 'vitest';
import type { Gate, Item } from '../../src/platform/runbook/schema.js';
import type { ChecklistSnapshot, GateStatus, ItemStatus } from '../../src/checklist/checklist-service.js';
import { formatTime } from '../../src/platform/format-time.js';
import { renderChecklistEvent, renderStatus, verdictText, type StatusRenderContext } from '../../src/checklist/render-status.js';
import { renderError } from '../../src/platform/slack/blocks.js';
import { renderHistory } from '../../src/history/render-history.js';

type Block = { type: string; text?: { text: string }; accessory?: { value: string }; elements?: unknown[] };

function snapshotOf(gates: number, itemsPerGate: number, titleLength = 40): ChecklistSnapshot {
  const gateStatuses: GateStatus[] = [];
  const open: ChecklistSnapshot['open'] = { blocker: [], warning: [], info: [] };
  for (let g = 0; g < gates; g++) {
    const items: Item[] = Array.from({ length: itemsPerGate }, (_, i) => ({ id: `i-${g}-${i}`, title: `T${'x'.repeat(titleLength)} <b>`, level: (['blocker', 'warning', 'info'] as const)[i % 3]!, owner: 'dev' }));
    const gate: Gate = { id: `g-${g}`, title: `Gate ${g}`, signoff: ['dev'], items };
    const statuses: ItemStatus[] = items.map((item) => ({ item, gate, done: false, note: null }));
    for (const s of statuses) open[s.item.level].push(s);
    gateStatuses.push({ gate, items: statuses, done: 0, total: items.length, openBlockers: statuses.filter((s) => s.item.level === 'blocker').length, signoffs: [], missingSignoffs: ['dev'] });
  }
  const blockers = open.blocker.length;
  return { launchName: 'L', gates: gateStatuses, open, verdict: blockers ? { kind: 'blocked', openBlockers: blockers } : { kind: 'ready' } };
}

const ctx: StatusRenderContext = {
  timezone: 'UTC',
  now: new Date('2026-12-01T08:00:00Z'),
  roleLabel: (r) => (r === 'dev' ? 'Dev' : r),
  roleMembers: new Map([['dev', ['U1', 'U2']]]),
  signable: new Set(['i-0-0']),
  verdict: '🔴 *1 blocker open — NO-GO until resolved*',
};

function assertWithinLimits(blocks: Block[], max = 50) {
  expect(blocks.length).toBeLessThanOrEqual(max);
  for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
}

describe('renderStatus', () => {
  it('puts a sign-off button only on items the viewer may sign, and escapes titles', () => {
    const out = renderStatus(snapshotOf(1, 3), { page: 1 }, ctx);
    const withButtons = (out.blocks as Block[]).filter((b) => b.accessory).map((b) => b.accessory!.value);
    expect(withButtons).toEqual(['i-0-0']);
    expect(JSON.stringify(out.blocks)).toContain('&lt;b&gt;');
    expect(JSON.stringify(out.blocks)).not.toContain('<b>');
  });

  it('stays within 50 blocks and 3000 characters per section for 60 gates of 40 items', () => {
    const snap = snapshotOf(60, 40, 190);
    const first = renderStatus(snap, { page: 1 }, ctx);
    assertWithinLimits(first.blocks as Block[]);
    expect(first.pages).toBeGreaterThan(1);
    const lines = (first.blocks as Block[]).map((b) => b.text?.text ?? '').join('\n');
    expect(lines).toContain('…and 40 more gates (0/1600 done, 560 blockers open)');
    const last = renderStatus(snap, { page: first.pages }, ctx);
    assertWithinLimits(last.blocks as Block[]);
    expect(last.page).toBe(first.pages);
    // Asking past the end shows the last page rather than an empty one.
    expect(renderStatus(snap, { page: 999 }, ctx).page).toBe(first.pages);
  });

  it('fits the 100-block Home tab when asked to', () => {
    const out = renderStatus(snapshotOf(4, 60), { page: 1 }, ctx, 100);
    expect(out.blocks.length).toBeLessThanOrEqual(100);
    expect(out.blocks.length).toBeGreaterThan(50);
  });
});

describe('texts', () => {
  it('words the verdict for each state', () => {
    const snap = snapshotOf(1, 1);
    expect(verdictText(snap, (r) => r)).toBe('🔴 *1 blocker open — NO-GO until resolved*');
    expect(verdictText({ ...snap, verdict: { kind: 'awaiting_signoff', missing: [{ gate: 'pre', roles: ['dev', 'cto'] }] } }, (r) => r.toUpperCase())).toBe(
      '🟡 *All blockers done — waiting for sign-off:* `pre` (DEV, CTO)',
    );
    expect(verdictText({ ...snap, verdict: { kind: 'ready' } }, (r) => r)).toBe('🟢 *All blockers done and every gate signed off — ready for go/no-go*');
  });

  it('formats times in the launch timezone', () => {
    expect(formatTime('2026-12-01T02:30:00Z', 'Asia/Kolkata')).toBe('1 Dec 08:00 GMT+5:30');
    expect(formatTime('2026-12-01T02:30:00Z', 'UTC')).toBe('1 Dec 02:30 UTC');
  });

  it('announces a gate sign-off', () => {
    const snap = snapshotOf(1, 1);
    const g = snap.gates[0]!;
    const msg = renderChecklistEvent({ type: 'gate_signed', gate: g.gate, roles: ['dev'], by: 'U1', at: '', complete: true }, g, 'V', (r) => r);
    expect(msg.text).toBe('🖊️ <@U1> signed off gate `g-0` for dev — the gate is fully signed off.\nGate 0: 0/1 done, 1 blocker open. V');
  });

  it('shows an internal error with its id and what to do', () => {
    expect(renderError({ code: 'internal', message: 'Something broke (error id `ab12cd34`).', hint: 'Check history.', errorId: 'ab12cd34' }).text).toBe(
      ':warning: Something broke (error id `ab12cd34`).\nCheck history.',
    );
  });

  it('renders history from button clicks and withdrawn sign-offs', () => {
    const msg = renderHistory(
      [{ id: 1, at: '2026-12-01T00:00:00Z', actor: 'U1', action: 'item.uncheck', target: 'b1', detail: { reason: 'x<y', revoked_signoffs: ['cto'] }, source: 'button', channel: null }],
      { timezone: 'UTC', change: () => undefined },
      1,
    );
    expect(msg.text).toBe('*Audit trail — last 1, newest first*\n`1 Dec 00:00 UTC` <@U1> reopened `b1` — “x&lt;y”, which withdrew the sign-offs of cto _(button)_');
  });
});
