import { describe, expect, it } from 'vitest';
import { freezeState, inForce, lockExpiry, parseLockRequest, placeFreeze, restrictionsFor, type LockRow } from '../../src/locks/decide-locks.js';
import type { Freeze } from '../../src/platform/runbook/schema.js';

const lock = (over: Partial<LockRow> = {}): LockRow => ({
  id: 1,
  scope: 'api',
  reason: 'DB migration running',
  locked_by: 'U0DEVOPS',
  locked_at: '2026-12-01T08:00:00.000Z',
  expires_at: '2026-12-01T10:00:00.000Z',
  released_at: null,
  released_by: null,
  release_kind: null,
  channel: 'C0OPS',
  ...over,
});
const freeze: Freeze = { id: 'launch', title: 'Launch hypercare', from: 'T+0', until: 'T+2h', services: [] };
const t0 = new Date('2026-12-01T08:00:00Z');

describe('locks', () => {
  it('are in force until released or expired', () => {
    expect(inForce(lock(), new Date('2026-12-01T09:59:59Z'))).toBe(true);
    expect(inForce(lock(), new Date('2026-12-01T10:00:00Z'))).toBe(false);
    expect(inForce(lock({ released_at: '2026-12-01T08:30:00.000Z' }), new Date('2026-12-01T09:00:00Z'))).toBe(false);
  });

  it('a lock on all services covers every service; a service lock only its own', () => {
    const now = new Date('2026-12-01T09:00:00Z');
    const world = { locks: [lock(), lock({ id: 2, scope: '*', reason: 'payments incident' })], freezes: [], t0, now };
    expect(restrictionsFor('api', world).map((r) => r.kind === 'lock' && r.lock.id)).toEqual([1, 2]);
    expect(restrictionsFor('web', world).map((r) => r.kind === 'lock' && r.lock.id)).toEqual([2]);
  });
});

describe('freeze windows', () => {
  it('are placed on the clock from T-0, and wait while T-0 is unknown', () => {
    expect(placeFreeze(freeze, undefined)).toBeUndefined();
    const w = placeFreeze(freeze, t0)!;
    expect([w.from.toISOString(), w.until.toISOString()]).toEqual(['2026-12-01T08:00:00.000Z', '2026-12-01T10:00:00.000Z']);
    expect(freezeState(w, new Date('2026-12-01T07:59:59Z'))).toBe('upcoming');
    expect(freezeState(w, new Date('2026-12-01T08:00:00Z'))).toBe('active');
    expect(freezeState(w, new Date('2026-12-01T10:00:00Z'))).toBe('ended');
  });

  it('restrict only the services they name, and only while active', () => {
    const only = { ...freeze, services: ['api'] };
    const at = (iso: string) => ({ locks: [], freezes: [only], t0, now: new Date(iso) });
    expect(restrictionsFor('api', at('2026-12-01T09:00:00Z')).map((r) => r.kind)).toEqual(['freeze']);
    expect(restrictionsFor('web', at('2026-12-01T09:00:00Z'))).toEqual([]);
    expect(restrictionsFor('api', at('2026-12-01T10:30:00Z'))).toEqual([]);
  });

  it('a change in progress is an implicit lock, listed last', () => {
    const r = restrictionsFor('api', { locks: [lock()], freezes: [], t0, now: new Date('2026-12-01T09:00:00Z'), running: { id: 7, kind: 'deploy', requested_by: 'U0DEVOPS', started_at: 'x' } });
    expect(r.map((x) => x.kind)).toEqual(['lock', 'in_progress']);
  });
});

describe('parseLockRequest', () => {
  it('reads the scope, the reason and an optional "for <duration>"', () => {
    expect(parseLockRequest('api DB migration running for 2h')).toEqual({ scope: 'api', reason: 'DB migration running', durationMs: 7_200_000 });
    expect(parseLockRequest('ALL payments incident')).toEqual({ scope: '*', reason: 'payments incident' });
    expect(parseLockRequest('api waiting for QA')).toEqual({ scope: 'api', reason: 'waiting for QA' });
    expect(parseLockRequest('api hold for 1d12h')).toEqual({ scope: 'api', reason: 'hold', durationMs: 129_600_000 });
  });
  it('says what is wrong', () => {
    expect(parseLockRequest('')).toEqual({ problem: '`/golive lock` needs a service (or `all`) and a reason.' });
    expect(parseLockRequest('api for 2h')).toEqual({ problem: 'Say why: `/golive lock <service|all> <reason> [for <duration>]`, e.g. `/golive lock api DB migration running for 2h`.' });
    expect(parseLockRequest('api hold for 2hours')).toEqual({ problem: '`2hours` is not a duration; use one like `30m`, `2h` or `1d12h`.' });
    expect(parseLockRequest('api hold for 0m')).toEqual({ problem: 'A lock must last longer than 0 minutes.' });
  });
});

describe('lockExpiry', () => {
  const cfg = { default_duration: '4h', max_duration: '1d' };
  const now = new Date('2026-12-01T08:00:00Z');
  it('uses the asked duration, else the default, and never more than the maximum', () => {
    expect(lockExpiry(now, 3_600_000, cfg)).toEqual({ expiresAt: new Date('2026-12-01T09:00:00Z'), capped: false });
    expect(lockExpiry(now, undefined, cfg)).toEqual({ expiresAt: new Date('2026-12-01T12:00:00Z'), capped: false });
    expect(lockExpiry(now, 3 * 86_400_000, cfg)).toEqual({ expiresAt: new Date('2026-12-02T08:00:00Z'), capped: true });
  });
});
