import { formatTime, preciseDuration } from '../platform/format-time.js';

/* Words and times shared by the report's renderers (Markdown, HTML, SVG) and the post-mortem draft. */

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/** "14:05" in the launch timezone. */
export function clockTime(iso: string, timeZone: string): string {
  let f = clockFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormatters.set(timeZone, f);
  }
  return f.format(new Date(iso));
}

/** "21 Nov 14:05 IST" in the launch timezone. */
export function dayAndTime(iso: string, timeZone: string): string {
  return formatTime(iso, timeZone);
}

/** A duration to the second where it is short (one rule for golive: platform/format-time.ts). */
export const durationText = preciseDuration;

/** The time between two ISO times, in words; "—" when either is missing. */
export function between(from: string | null, to: string | null): string {
  return from && to ? durationText(Date.parse(to) - Date.parse(from)) : '—';
}

/** A person as the report names them: "@name", or "@U123" when Slack did not say. `golive` and `cloudwatch` are systems. */
export function personName(people: Record<string, string>, id: string): string {
  if (id === 'golive' || id === 'cloudwatch' || id === 'runbook') return id;
  return `@${people[id] ?? id}`;
}

/** `family:42` from a task-definition ARN; anything else as it is. */
export function revisionName(arn: string | null): string | null {
  if (!arn) return arn;
  const m = /task-definition\/([^/]+)$/.exec(arn);
  return m ? m[1]! : arn;
}
