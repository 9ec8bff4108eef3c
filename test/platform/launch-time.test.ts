import { describe, expect, it } from 'vitest';
import { formatOffset, fromWallTime, parseDuration, parseT0, relativeOffset, resolveTimeRef } from '../../src/platform/launch-time.js';

const T0 = new Date('2026-12-01T02:30:00Z'); // 08:00 IST

describe('launch time', () => {
  it('reads durations and offsets from T-0', () => {
    expect(parseDuration('1d2h30m')).toBe(95_400_000);
    expect(parseDuration('48h')).toBe(172_800_000);
    expect(parseDuration('2x')).toBeUndefined();
    expect(relativeOffset('T-72h')).toBe(-259_200_000);
    expect(relativeOffset('T+30m')).toBe(1_800_000);
    expect(relativeOffset('T-0')).toBe(0);
    expect(relativeOffset('2026-12-01T08:00:00+05:30')).toBeUndefined();
  });

  it('resolves relative times against T-0 and absolute ones without it', () => {
    expect(resolveTimeRef('T+90m', T0)?.toISOString()).toBe('2026-12-01T04:00:00.000Z');
    expect(resolveTimeRef('T+90m', undefined)).toBeUndefined();
    expect(resolveTimeRef('2026-12-03T08:00:00+05:30', undefined)?.toISOString()).toBe('2026-12-03T02:30:00.000Z');
  });

  it('writes a time as an offset from T-0', () => {
    expect(formatOffset(new Date('2026-12-01T04:00:00Z'), T0)).toBe('T+1h30m');
    expect(formatOffset(new Date('2026-11-28T02:30:00Z'), T0)).toBe('T-3d');
    expect(formatOffset(T0, T0)).toBe('T-0');
  });

  it('turns a wall-clock time in a timezone into the instant, across DST', () => {
    expect(fromWallTime(2026, 12, 1, 8, 0, 'Asia/Kolkata').toISOString()).toBe('2026-12-01T02:30:00.000Z');
    // New York: EDT (UTC-4) in July, EST (UTC-5) in December.
    expect(fromWallTime(2026, 7, 1, 9, 0, 'America/New_York').toISOString()).toBe('2026-07-01T13:00:00.000Z');
    expect(fromWallTime(2026, 12, 1, 9, 0, 'America/New_York').toISOString()).toBe('2026-12-01T14:00:00.000Z');
    expect(fromWallTime(2026, 3, 29, 3, 30, 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('reads what people type for /golive t0', () => {
    const opts = { timeZone: 'Asia/Kolkata', now: new Date('2026-11-30T20:00:00Z'), current: T0 }; // 01:30 IST on 1 Dec
    const at = (s: string) => {
      const r = parseT0(s, opts);
      return 'at' in r ? r.at.toISOString() : r.problem;
    };
    expect(at('now')).toBe('2026-11-30T20:00:00.000Z');
    expect(at('2026-12-02T09:15+05:30')).toBe('2026-12-02T03:45:00.000Z');
    expect(at('2026-12-02 09:15')).toBe('2026-12-02T03:45:00.000Z');
    expect(at('09:15')).toBe('2026-12-01T03:45:00.000Z');
    expect(at('+2h')).toBe('2026-12-01T04:30:00.000Z');
    expect(at('-30m')).toBe('2026-12-01T02:00:00.000Z');
    expect(at('25:00')).toBe('"25:00" is not a time of day.');
    expect(at('tomorrow')).toBe('I can\'t read "tomorrow" as a time.');
    // Days the calendar does not have are refused, not rolled over into the next month (31 Feb was 3 March).
    expect(at('2026-02-31 08:00')).toBe('"2026-02-31 08:00" is not a date.');
    expect(at('2026-02-29T08:00+05:30')).toBe('"2026-02-29T08:00+05:30" is not a date.');
    expect(at('2028-02-29 08:00')).toBe('"2028-02-29 08:00" would put T-0 more than 366 days from now; give a time within a year.');
    expect(at('2027-02-28 08:00')).toBe('2027-02-28T02:30:00.000Z');
    // Huge moves were an internal error (+) or year −271765 (−).
    expect(at('+99999999d')).toBe('"+99999999d" moves T-0 by more than 732 days; give a smaller move or a time.');
    expect(at('-99999999d')).toBe('"-99999999d" moves T-0 by more than 732 days; give a smaller move or a time.');
    expect(at('+400d')).toBe('"+400d" would put T-0 more than 366 days from now; give a time within a year.');
    expect(at('2099-01-01T00:00Z')).toBe('"2099-01-01T00:00Z" would put T-0 more than 366 days from now; give a time within a year.');
    expect(parseT0('+1h', { ...opts, current: undefined })).toEqual({ problem: 'T-0 is not set yet, so there is nothing to move; give a time instead.' });
  });
});
