import { afterEach, describe, expect, it } from 'vitest';
import { ChecklistRepository } from '../../src/checklist/checklist-repository.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('ChecklistRepository: items', () => {
  it('changes an item state only when it differs, and leaves the row alone otherwise', async () => {
    const s = new ChecklistRepository(await openTestStore());
    expect(await s.setItemState('v2f-agreement', true, 'U1', T1, 'signed by legal')).toBe(true);
    expect(await s.setItemState('v2f-agreement', true, 'U2', T2, 'again')).toBe(false);
    expect(await s.itemState('v2f-agreement')).toEqual({ item_id: 'v2f-agreement', checked: 1, changed_by: 'U1', changed_at: T1, note: 'signed by legal' });

    expect(await s.setItemState('v2f-agreement', false, 'U2', T2, 'contract withdrawn')).toBe(true);
    expect(await s.itemState('v2f-agreement')).toEqual({ item_id: 'v2f-agreement', checked: 0, changed_by: 'U2', changed_at: T2, note: 'contract withdrawn' });
    expect(await s.setItemState('v2f-agreement', false, 'U3', T3, null)).toBe(false);
    expect(await s.itemState('v2f-agreement')).toMatchObject({ changed_by: 'U2', changed_at: T2 });
  });

  it('returns undefined for an item never touched, and all states as a map', async () => {
    const s = new ChecklistRepository(await openTestStore());
    expect(await s.itemState('nope')).toBeUndefined();
    await s.setItemState('a', true, 'U1', T1, null);
    await s.setItemState('b', true, 'U2', T2, 'n');
    await s.setItemState('b', false, 'U2', T3, null);
    const states = await s.itemStates();
    expect([...states.keys()].sort()).toEqual(['a', 'b']);
    expect(states.get('a')).toEqual({ item_id: 'a', checked: 1, changed_by: 'U1', changed_at: T1, note: null });
    expect(states.get('b')?.checked).toBe(0);
  });

  it('returns false and writes nothing when unchecking an item never touched', async () => {
    const s = new ChecklistRepository(await openTestStore());
    expect(await s.setItemState('never-touched', false, 'U1', T1, null)).toBe(false);
    expect(await s.itemState('never-touched')).toBeUndefined();
  });
});

describe('ChecklistRepository: sign-offs', () => {
  it('records a sign-off once per gate and role, whoever signs again', async () => {
    const s = new ChecklistRepository(await openTestStore());
    expect(await s.addSignoff('preflight', 'cto', 'U1', T1)).toBe(true);
    expect(await s.addSignoff('preflight', 'cto', 'U1', T2)).toBe(false);
    expect(await s.addSignoff('preflight', 'cto', 'U2', T3)).toBe(false);
    expect(await s.signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 }]);
  });

  it('keeps roles and gates apart, lists by time, and clears one gate', async () => {
    const s = new ChecklistRepository(await openTestStore());
    expect(await s.addSignoff('preflight', 'qa', 'U2', T2)).toBe(true);
    expect(await s.addSignoff('preflight', 'cto', 'U1', T1)).toBe(true);
    expect(await s.addSignoff('security', 'cto', 'U1', T3)).toBe(true);
    expect((await s.signoffs()).map((r) => `${r.gate_id}/${r.role}`)).toEqual(['preflight/cto', 'preflight/qa', 'security/cto']);

    const removed = await s.clearSignoffs('preflight');
    expect([...removed].sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 },
      { gate_id: 'preflight', role: 'qa', user_id: 'U2', signed_at: T2 },
    ]);
    expect(await s.signoffs()).toEqual([{ gate_id: 'security', role: 'cto', user_id: 'U1', signed_at: T3 }]);
    expect(await s.clearSignoffs('preflight')).toEqual([]);
    expect(await s.addSignoff('preflight', 'cto', 'U4', T3)).toBe(true);
  });
});

describe('ChecklistRepository: status messages', () => {
  it('adds, replaces, lists those posted since a time newest first, and forgets', async () => {
    const s = new ChecklistRepository(await openTestStore());
    await s.addStatusMessage({ channel: 'C1', ts: '1.1', viewer: 'U1', gate_id: null, page: 1, posted_at: T1 });
    await s.addStatusMessage({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 1, posted_at: T2 });
    await s.addStatusMessage({ channel: 'C2', ts: '1.3', viewer: 'U1', gate_id: null, page: 1, posted_at: T3 });
    await s.addStatusMessage({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 2, posted_at: T2 }); // same message, page changed
    expect(await s.statusMessage('C1', '1.2')).toEqual({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 2, posted_at: T2 });
    expect((await s.statusMessagesSince(T2)).map((m) => m.ts)).toEqual(['1.3', '1.2']);
    expect((await s.statusMessagesSince(T1)).map((m) => m.ts)).toEqual(['1.3', '1.2', '1.1']);
    // Posted in the same millisecond: Slack's later ts is the newer board.
    await s.addStatusMessage({ channel: 'C2', ts: '1.4', viewer: 'U1', gate_id: null, page: 1, posted_at: T3 });
    expect((await s.statusMessagesSince(T3)).map((m) => m.ts)).toEqual(['1.4', '1.3']);
    await s.forgetStatusMessage('C2', '1.4');
    await s.forgetStatusMessage('C1', '1.2');
    expect(await s.statusMessage('C1', '1.2')).toBeUndefined();
    expect(await s.statusMessage('C2', '1.2')).toBeUndefined();
  });
});
