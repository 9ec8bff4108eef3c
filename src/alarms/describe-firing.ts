import type { AlarmState } from '../platform/aws/cloudwatch-port.js';
import { preciseDuration } from '../platform/format-time.js';

/** Where an answer to "what is firing" came from, and how old it is. */
export type FiringSource =
  /** The alarm watcher's stored state (polls and pushes), as of its last successful poll. */
  | { from: 'watcher'; polledAt: string }
  /** CloudWatch, read for this answer: the watcher's last poll was too old (the read was a watcher poll, so it is stored too). */
  | { from: 'cloudwatch'; readAt: string; why: 'stale'; lastPollAt: string; freshForMs: number }
  /** CloudWatch, read for this answer by the watcher's first poll. */
  | { from: 'cloudwatch'; readAt: string; why: 'never_polled' }
  /** CloudWatch, read for this answer: these prefixes (or this region) are not the watcher's. */
  | { from: 'cloudwatch'; readAt: string; why: 'unwatched'; unwatched: readonly string[] };

/** What is firing for some alarm-name prefixes in a region: one answer for the deploy gate, go/no-go and evidence checks. */
export interface FiringAnswer {
  region: string;
  prefixes: readonly string[];
  /** Every alarm under the prefixes, by name: its state and since when. */
  alarms: { name: string; state: AlarmState['state']; since: string }[];
  /** Those in ALARM. */
  firing: { name: string; since: string }[];
  source: FiringSource;
}

/** The one way to ask "what is firing" (the alarm watcher answers it; see `firingRead` for where it reads from). */
export interface FiringAlarms {
  /** What is firing under `prefixes` (default: the watched ones) in `region` (default: the alarm region). Throws if CloudWatch had to be read and could not be. */
  firing(prefixes?: readonly string[], region?: string): Promise<FiringAnswer>;
}

const quoted = (prefixes: readonly string[]) => prefixes.map((p) => (p ? `"${p}*"` : 'every alarm')).join(', ');

/**
 * Where an answer came from and how old it was at `now`, in words:
 * `CloudWatch DescribeAlarms, eu-west-1, "Prod-*", as of the alarm watcher's poll 40 s ago`, or
 * `…, read now (the alarm watcher's last poll was 7 min ago, past its 2 min limit)`.
 */
export function describeFiringSource(answer: FiringAnswer, now: Date): string {
  const where = `CloudWatch DescribeAlarms, ${answer.region}, ${quoted(answer.prefixes)}`;
  const s = answer.source;
  const ago = (iso: string) => preciseDuration(now.getTime() - Date.parse(iso));
  if (s.from === 'watcher') return `${where}, as of the alarm watcher's poll ${ago(s.polledAt)} ago`;
  if (s.why === 'stale') return `${where}, read now (the alarm watcher's last poll was ${ago(s.lastPollAt)} ago, past its ${preciseDuration(s.freshForMs)} limit)`;
  if (s.why === 'never_polled') return `${where}, read now (the alarm watcher had not polled yet)`;
  return `${where}, read now (the alarm watcher does not watch ${quoted(s.unwatched)} in ${answer.region})`;
}
