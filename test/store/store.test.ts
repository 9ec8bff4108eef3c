import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../store/open-database.js';
import { Store } from '../../store/store.js';

const memory = () => new Store(openDatabase(':memory:'));

describe('Store', () => {
  it('changes an item state only when it differs', () => {
    const s = memory();
    expect(s.setItemState('a', true, 'U1', 't1', 'n')).toBe(true);
    expect(s.setItemState('a', true, 'U2', 't2', 'other')).toBe(false);
    expect(s.itemState('a')).toEqual({ item_id: 'a', checked: 1, changed_by: 'U1', changed_at: 't1', note: 'n' });
    expect(s.setItemState('a', false, 'U2', 't3', 'why')).toBe(true);
    expect(s.itemState('a')).toMatchObject({ checked: 0, changed_by: 'U2', note: 'why' });
  });

  it('records a sign-off once per gate and role, and clears them', () => {
    const s = memory();
    expect(s.addSignoff('g', 'cto', 'U1', 't')).toBe(true);
    expect(s.addSignoff('g', 'cto', 'U2', 't')).toBe(false);
    expect(s.clearSignoffs('g')).toEqual([{ gate_id: 'g', role: 'cto', user_id: 'U1', signed_at: 't' }]);
    expect(s.signoffs()).toEqual([]);
  });

  it('claims a request key once', () => {
    const s = memory();
    expect(s.claimRequest('trigger:1', '2026-01-01T00:00:00Z')).toBe(true);
    expect(s.claimRequest('trigger:1', '2026-01-01T00:00:01Z')).toBe(false);
    expect(s.pruneRequests('2026-01-02T00:00:00Z')).toBe(1);
    expect(s.claimRequest('trigger:1', '2026-01-03T00:00:00Z')).toBe(true);
  });

  it('rolls back the change and its audit row together', () => {
    const s = memory();
    expect(() =>
      s.transaction(() => {
        s.setItemState('a', true, 'U1', 't', null);
        s.audit({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, 't');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.itemState('a')).toBeUndefined();
    expect(s.auditCount()).toBe(0);
  });

  it('returns history newest first with parsed detail', () => {
    const s = memory();
    s.audit({ actor: 'U1', action: 'item.check', target: 'a', detail: { note: 'x' }, source: 'command', channel: 'C1' }, 't1');
    s.audit({ actor: 'U2', action: 'item.uncheck', target: 'a', source: 'button' }, 't2');
    expect(s.history(1)).toEqual([{ id: 2, at: 't2', actor: 'U2', action: 'item.uncheck', target: 'a', detail: {}, source: 'button', channel: null }]);
    expect(s.history(5).map((r) => r.detail)).toEqual([{}, { note: 'x' }]);
  });

  it('lets exactly one of two connections record the same sign-off', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-race-')), 'g.db');
    const a = new Store(openDatabase(file));
    const b = new Store(openDatabase(file));
    const results = [a.transaction(() => a.addSignoff('g', 'cto', 'U1', 't')), b.transaction(() => b.addSignoff('g', 'cto', 'U2', 't'))];
    expect(results.sort()).toEqual([false, true]);
    expect(a.signoffs()).toEqual([{ gate_id: 'g', role: 'cto', user_id: 'U1', signed_at: 't' }]);
    a.db.close();
    b.db.close();
  });
});
