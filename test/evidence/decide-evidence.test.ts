import { describe, expect, it } from 'vitest';
import { decideEvidence, isDrifting, type StoredEvidence } from '../../src/evidence/decide-evidence.js';
import { driftLine, evidenceLine } from '../../src/evidence/render-evidence.js';
import type { Item } from '../../src/platform/runbook/schema.js';

const item: Item = { id: 'secrets', title: 'Secrets', level: 'blocker', owner: 'devops', verify: { type: 'secret', region: 'ap-south-1', names: ['a'] } };
const auto: Item = { ...item, auto_signoff: true };
const ok = { outcome: 'pass' as const, text: 'secret a exists' };
const bad = { outcome: 'fail' as const, text: 'secret a does not exist in ap-south-1' };
const dunno = { outcome: 'unknown' as const, text: 'AWS refused ListSecrets' };
const T = (m: number) => new Date(Date.UTC(2026, 11, 1, 8, m)).toISOString();

const signed = { done: true, changedAt: T(0), changedBy: 'U1' };
const open = { done: false };

/** Feeds results one after another, as passes would. */
function run(steps: { result: typeof ok | typeof bad | typeof dunno; signoff: typeof signed | typeof open | { done: boolean; changedAt?: string; changedBy?: string }; at: number }[], it: Item = item) {
  let prior: StoredEvidence | undefined;
  return steps.map((s) => {
    const d = decideEvidence(it, prior, s.result, s.signoff, T(s.at), 'schedule');
    prior = d.row;
    return { announce: d.announce ?? null, drifting: isDrifting(d.row, s.signoff), auto: d.autoSignoff };
  });
}

describe('drift', () => {
  it('starts once when a signed-off item starts failing, holds through unknown and failures, ends on a pass', () => {
    expect(
      run([
        { result: ok, signoff: signed, at: 1 },
        { result: bad, signoff: signed, at: 2 },
        { result: bad, signoff: signed, at: 3 },
        { result: dunno, signoff: signed, at: 4 },
        { result: bad, signoff: signed, at: 5 },
        { result: ok, signoff: signed, at: 6 },
        { result: bad, signoff: signed, at: 7 },
      ]).map((r) => [r.announce, r.drifting]),
    ).toEqual([
      [null, false],
      ['drift', true],
      [null, true],
      [null, true],
      [null, true],
      ['recovered', false],
      ['drift', true],
    ]);
  });

  it('is not drift when the item was signed off while already failing (with a note), nor while it is open', () => {
    expect(
      run([
        { result: bad, signoff: open, at: 1 },
        { result: bad, signoff: { done: true, changedAt: T(2), changedBy: 'U1' }, at: 3 },
        { result: ok, signoff: { done: true, changedAt: T(2), changedBy: 'U1' }, at: 4 },
      ]).map((r) => [r.announce, r.drifting]),
    ).toEqual([
      [null, false],
      [null, false],
      [null, false],
    ]);
  });

  it('ends without an announcement when the item is taken back, and does not restart on a later sign-off while failing', () => {
    expect(
      run([
        { result: ok, signoff: signed, at: 1 },
        { result: bad, signoff: signed, at: 2 },
        { result: bad, signoff: { done: false, changedAt: T(3), changedBy: 'U1' }, at: 4 },
        { result: bad, signoff: { done: true, changedAt: T(5), changedBy: 'U2' }, at: 6 },
      ]).map((r) => [r.announce, r.drifting]),
    ).toEqual([
      [null, false],
      ['drift', true],
      [null, false],
      [null, false],
    ]);
  });

  it('treats a first-ever failing result of a signed-off item as drift', () => {
    expect(run([{ result: bad, signoff: signed, at: 1 }])[0]).toEqual({ announce: 'drift', drifting: true, auto: false });
  });
});

describe('auto sign-off', () => {
  it('signs an open auto_signoff item off when its check passes, not when it fails or is unknown', () => {
    expect(run([{ result: dunno, signoff: open, at: 1 }, { result: bad, signoff: open, at: 2 }, { result: ok, signoff: open, at: 3 }], auto).map((r) => r.auto)).toEqual([false, false, true]);
  });

  it('leaves an item a person took back for a person to sign again, but re-signs one golive itself reopened', () => {
    expect(run([{ result: ok, signoff: { done: false, changedAt: T(0), changedBy: 'U1' }, at: 1 }], auto)[0]?.auto).toBe(false);
    expect(run([{ result: ok, signoff: { done: false, changedAt: T(0), changedBy: 'golive' }, at: 1 }], auto)[0]?.auto).toBe(true);
    expect(run([{ result: ok, signoff: open, at: 1 }])[0]?.auto).toBe(false);
  });
});

describe('evidence lines', () => {
  const now = new Date(T(10));
  const row = (r: typeof ok | typeof bad | typeof dunno, checked: number, since = checked): StoredEvidence => ({ item_id: 'secrets', outcome: r.outcome, text: r.text, checked_at: T(checked), since: T(since), drift_at: null, trigger: 'schedule' });

  it('says what was found and how long ago', () => {
    expect(evidenceLine(row(ok, 6), now)).toBe('✅ verified 4 min ago: “secret a exists”');
    expect(evidenceLine(row(bad, 10), now)).toBe('❌ check failed just now: “secret a does not exist in ap-south-1”');
    expect(evidenceLine(row(bad, 9, 2), now)).toBe('❌ check failed 1 min ago (failing for 8 min): “secret a does not exist in ap-south-1”');
    expect(evidenceLine(row(dunno, 8), now)).toBe('❔ could not check 2 min ago: AWS refused ListSecrets');
    expect(evidenceLine({ ...row(ok, 6), text: 'a <!channel> & b' }, now)).toBe('✅ verified 4 min ago: “a &lt;!channel&gt; &amp; b”');
    expect(driftLine({ ...row(bad, 9), drift_at: T(3) }, now)).toBe('🚨 *Drift*: signed off, but its check has failed since 7 min ago; it counts as open');
  });
});
