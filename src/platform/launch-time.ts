import { isCalendarDate, isIsoWithOffset, RELATIVE_TIME } from './runbook/schema.js';

/*
 * Launch time: T-0 and times relative to it ("T-72h", "T+1d2h"), and wall-clock
 * times typed in the launch's timezone. Pure functions; the clock is passed in.
 */

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };

/** Milliseconds in a duration such as `48h`, `1d2h`, `30m`; undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+[dhm])+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhm])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

/** Offset from T-0 of a relative time (`T-24h` → -86 400 000), or undefined for an absolute one. */
export function relativeOffset(ref: string): number | undefined {
  const m = RELATIVE_TIME.exec(ref);
  if (!m) return undefined;
  const ms = m[2] === '0' ? 0 : parseDuration(m[2]!)!;
  return m[1] === '-' && ms > 0 ? -ms : ms;
}

/** When a time reference falls: relative ones need T-0 (undefined without it). */
export function resolveTimeRef(ref: string, t0: Date | undefined): Date | undefined {
  const offset = relativeOffset(ref);
  if (offset === undefined) return new Date(ref);
  return t0 ? new Date(t0.getTime() + offset) : undefined;
}

/** A time as an offset from T-0, e.g. `T+1d2h`, `T-30m`, `T-0` (whole minutes). */
export function formatOffset(at: Date, t0: Date): string {
  const min = Math.round((at.getTime() - t0.getTime()) / 60_000);
  if (min === 0) return 'T-0';
  const abs = Math.abs(min);
  const d = Math.floor(abs / 1440);
  const h = Math.floor((abs % 1440) / 60);
  const m = abs % 60;
  return `T${min < 0 ? '-' : '+'}${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}`;
}

/** The UTC offset of a timezone at an instant, in minutes (e.g. +330 for Asia/Kolkata). */
function zoneOffsetMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The instant a wall-clock time in `timeZone` names (the earlier one when a DST change repeats it). */
export function fromWallTime(y: number, mo: number, d: number, h: number, mi: number, timeZone: string): Date {
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // Two passes settle the offset even across a DST change between the guess and the answer.
  let at = guess - zoneOffsetMinutes(new Date(guess), timeZone) * 60_000;
  at = guess - zoneOffsetMinutes(new Date(at), timeZone) * 60_000;
  return new Date(at);
}

/** Today's date in a timezone. */
function wallDate(at: Date, timeZone: string): { y: number; mo: number; d: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), mo: get('month'), d: get('day') };
}

/** The forms `/golive t0` takes, for its usage and error messages. */
export const T0_FORMS = ['now', '"2026-12-01T08:00+05:30" (ISO with offset)', '"2026-12-01 08:00" or "08:00" (in the launch timezone)', '"+2h" / "-30m" (move the current T-0)'];

/**
 * Reads a T-0 typed by a person: `now`, an ISO time with offset, `YYYY-MM-DD HH:MM`
 * or `HH:MM` in the launch timezone (today there), or `+2h` / `-30m` from the
 * current T-0. Returns a reason when it cannot.
 */
/** How far from now a typed T-0 may be: a launch is days or weeks away, and anything beyond a year is a typo. */
export const T0_MAX_DISTANCE_DAYS = 366;

export function parseT0(text: string, opts: { timeZone: string; now: Date; current?: Date }): { at: Date; roundedFrom?: Date } | { problem: string } {
  const read = readT0(text.trim(), opts);
  if ('at' in read && Math.abs(read.at.getTime() - opts.now.getTime()) > T0_MAX_DISTANCE_DAYS * UNIT_MS.d!) {
    return { problem: `"${text.trim()}" would put T-0 more than ${T0_MAX_DISTANCE_DAYS} days from now; give a time within a year.` };
  }
  return read;
}

function readT0(s: string, opts: { timeZone: string; now: Date; current?: Date }): { at: Date; roundedFrom?: Date } | { problem: string } {
  if (/^now$/i.test(s)) {
    // To the minute, so that T+1h and the minute-by-minute milestone poster meet; the reply says so when seconds were dropped.
    const at = new Date(Math.floor(opts.now.getTime() / 60_000) * 60_000);
    return at.getTime() === opts.now.getTime() ? { at } : { at, roundedFrom: opts.now };
  }
  const shift = /^([+-])((?:\d+[dhm])+)$/.exec(s);
  if (shift) {
    if (!opts.current) return { problem: 'T-0 is not set yet, so there is nothing to move; give a time instead.' };
    const ms = parseDuration(shift[2]!)!;
    // A huge shift is past what Date can hold (an Invalid Date): refuse it before it gets that far.
    if (ms > T0_MAX_DISTANCE_DAYS * 2 * UNIT_MS.d!) return { problem: `"${s}" moves T-0 by more than ${T0_MAX_DISTANCE_DAYS * 2} days; give a smaller move or a time.` };
    return { at: new Date(opts.current.getTime() + (shift[1] === '-' ? -ms : ms)) };
  }
  if (isIsoWithOffset(s)) return { at: new Date(s) };
  if (/^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s))) return { problem: `"${s}" is not a date.` };
  const wall = /^(?:(\d{4})-(\d{2})-(\d{2})[ T])?(\d{1,2}):(\d{2})$/.exec(s);
  if (wall) {
    const [, y, mo, d, h, mi] = wall;
    if (Number(h) > 23 || Number(mi) > 59) return { problem: `"${s}" is not a time of day.` };
    const date = y ? { y: Number(y), mo: Number(mo), d: Number(d) } : wallDate(opts.now, opts.timeZone);
    if (!isCalendarDate(date.y, date.mo, date.d)) return { problem: `"${s}" is not a date.` };
    return { at: fromWallTime(date.y, date.mo, date.d, Number(h), Number(mi), opts.timeZone) };
  }
  return { problem: `I can't read "${s}" as a time.` };
}
