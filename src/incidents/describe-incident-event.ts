import { formatTime } from '../platform/format-time.js';
import type { IncidentEvent } from './incident-repository.js';

/** How a reader writes what the words contain: Slack markup for a message, plain text for a document. */
export interface EventWriter {
  timezone: string;
  /** A person: `<@U…>` in Slack, `@name` in a document. */
  person(id: string): string;
  /** Text someone typed: escaped for Slack, as it is for a document (its writer escapes). */
  typed(text: string): string;
  /** A name in code style. */
  code(text: string): string;
}

/** One incident-timeline line's words (after who did it), for `/golive incident timeline` and the post-mortem draft alike. */
export function describeIncidentEvent(e: IncidentEvent, w: EventWriter): string {
  const d = e.detail;
  const s = (v: unknown) => String(v ?? '?');
  switch (e.kind) {
    case 'declared':
      return `declared ${s(d.severity)}: ${w.typed(s(d.summary))}`;
    case 'update':
      return `update #${s(d.n)}: ${w.typed(s(d.status))}`;
    case 'resolved':
      return `resolved after ${s(d.duration)}: ${w.typed(s(d.root_cause))}`;
    case 'alarm':
      return `${w.code(s(d.alarm))} ${s(d.from ?? '?')} → ${s(d.to)}: ${w.typed(s(d.reason)).slice(0, 200)}`;
    case 'severity':
      return `severity ${s(d.from)} → ${s(d.to)}`;
    case 'commander':
      return `commander ${w.person(s(d.from))} → ${w.person(s(d.to))}`;
    case 'root_cause':
      return `root cause: ${w.typed(s(d.root_cause))}`;
    case 'escalated':
      return `escalated (not acknowledged) to ${(d.roles as string[] | undefined)?.join(', ') || 'nobody'}`;
    case 'acknowledged':
      return 'acknowledged';
    case 'paged':
      return `paged PagerDuty${d.why ? ` (${s(d.why).trim()})` : ''}`;
    case 'rollback_prompt':
      return `prompted a rollback of ${s(d.service)}`;
    case 'pinned':
      return `said: “${w.typed(s(d.text))}”${d.pinned_by && d.pinned_by !== e.actor ? ` (added by ${w.person(s(d.pinned_by))})` : ''}`;
    case 'deploy':
      return `${d.kind === 'rollback' ? 'rollback' : 'deploy'} of ${w.code(s(d.service))} ${s(d.from)} → ${s(d.to)} started (${s(d.outcome)})`;
    default:
      return e.kind.startsWith('reminder.') ? `reminder sent (${e.kind.slice(9)} due ${formatTime(s(d.due_at), w.timezone)})` : e.kind.replace(/[._]/g, ' ');
  }
}
