import type { Verify } from '../platform/runbook/schema.js';
import type { EvidenceSession } from './evidence-session.js';

/** What a check found: it holds, it does not, or golive could not find out. */
export type Outcome = 'pass' | 'fail' | 'unknown';

/** One check's result: the outcome and, in words, what was found (or why it could not be checked). */
export interface CheckResult {
  outcome: Outcome;
  text: string;
}

/** What every check reads from. */
export interface CheckContext {
  session: EvidenceSession;
  now: Date;
  /** launch.timezone, for the times in the text. */
  timezone: string;
}

/** One check type's evidence function. */
export type CheckFn<T extends Verify> = (v: T, ctx: CheckContext) => Promise<CheckResult>;

export const pass = (text: string): CheckResult => ({ outcome: 'pass', text });
export const fail = (text: string): CheckResult => ({ outcome: 'fail', text });
export const unknown = (text: string): CheckResult => ({ outcome: 'unknown', text });

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** "3 Mar 2027" in the launch's time zone: expiry dates are read by the day. */
export function formatDate(iso: string, timeZone: string): string {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric' });
    dateFormatters.set(timeZone, f);
  }
  return f.format(new Date(iso));
}

/** Whole days from now until `iso` (negative once past). */
export function daysUntil(iso: string, now: Date): number {
  return Math.floor((Date.parse(iso) - now.getTime()) / 86_400_000);
}

/** "1 of 3 …" phrasing helpers. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
