import type { EscalationLevel } from '../platform/runbook/schema.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import { levelName, type EscalationAbout } from './plan-escalation.js';

export type { EscalationAbout };

/** Where and how the launch is told. */
export interface EscalationContext {
  launch: string;
  timezone: string;
  opsChannel: string;
  levels: readonly EscalationLevel[];
  level: number;
  /** The roles' mentions for the channel post (`<@U…>`, `<!subteam^S…>`). */
  mentions: string[];
  subjectPrefix?: string;
}

/** "INC-3 P1 “Payments down”" or "alarm `Fivestar-High-Error-Rate`". */
function what(a: EscalationAbout): string {
  return a.kind === 'incident' ? `INC-${a.id} ${a.severity} “${escapeText(clip(a.summary, 200))}”` : `alarm \`${escapeText(a.name)}\` (${a.severity})`;
}

/** "not acknowledged after 5 min" / "not resolved after 15 min". */
function why(l: EscalationLevel, a: EscalationAbout): string {
  const since = a.kind === 'incident' ? 'declared' : 'firing';
  const after = l.after_minutes === 0 ? `just ${since}` : `${l.after_minutes} min since ${a.kind === 'incident' ? 'it was declared' : 'it fired'}`;
  return l.if === 'not_resolved' ? `${after}, not resolved` : l.after_minutes === 0 ? after : `${after}, not acknowledged`;
}

function where(a: EscalationAbout): string {
  return a.kind === 'incident' ? `<#${a.channelId}>` : `<${a.consoleUrl}|CloudWatch console>`;
}

/** The heading every notification of a level starts with: "⏫ Level 2 — Slack (2 of 4)". */
function heading(ctx: EscalationContext): string {
  return `⏫ *${escapeText(levelName(ctx.levels, ctx.level))}* (${ctx.level + 1} of ${ctx.levels.length})`;
}

/** The channel post: @channel and the roles when the level says so. */
export function channelPost(a: EscalationAbout, ctx: EscalationContext): string {
  const l = ctx.levels[ctx.level]!;
  const ping = [l.at_channel ? '<!channel>' : '', ...ctx.mentions].filter(Boolean).join(' ');
  const ask = a.kind === 'incident' ? `acknowledge or take it in ${where(a)}` : `acknowledge it on its alarm post, or declare an incident`;
  return `${ping ? `${ping} ` : ''}${heading(ctx)}: ${what(a)} — ${why(l, a)}. Please ${ask}.`;
}

/** A direct message to a member of a level's `dm` roles. */
export function directMessage(a: EscalationAbout, ctx: EscalationContext): string {
  const l = ctx.levels[ctx.level]!;
  return `${heading(ctx)} for ${escapeText(ctx.launch)}: ${what(a)} — ${why(l, a)}. Details: ${where(a)}.`;
}

/** The PagerDuty summary of a level's page. */
export function pageSummary(a: EscalationAbout, ctx: EscalationContext): string {
  const l = ctx.levels[ctx.level]!;
  const subject = a.kind === 'incident' ? `INC-${a.id} ${a.severity}: ${a.summary}` : `${a.name} in ALARM: ${a.reason}`;
  return clip(`${levelName(ctx.levels, ctx.level)} (${l.if === 'not_resolved' ? 'not resolved' : 'not acknowledged'} after ${l.after_minutes} min) ${subject}`, 1024);
}

/** The email of a level, in seed 004's template style ("[INCIDENT] Fivestar Payments - P1 - …"). Plain text: no Slack markup. */
export function escalationEmail(a: EscalationAbout, ctx: EscalationContext): { subject: string; text: string } {
  const l = ctx.levels[ctx.level]!;
  const tz = ctx.timezone;
  const level = `${levelName(ctx.levels, ctx.level)} (${ctx.level + 1} of ${ctx.levels.length})`;
  const prefix = ctx.subjectPrefix ? `${ctx.subjectPrefix} ` : '';
  if (a.kind === 'incident') {
    const subject = `${prefix}[INCIDENT] ${ctx.launch} - ${a.severity} - ${clip(a.summary, 120)}`;
    const text = [
      l.after_minutes === 0
        ? `Escalation ${level}: incident INC-${a.id} was just declared.`
        : `Escalation ${level}: incident INC-${a.id} is ${l.if === 'not_resolved' ? 'not resolved' : 'not acknowledged'} ${l.after_minutes} min after it was declared.`,
      '',
      'Incident Details:',
      `- Severity: ${a.severityName}`,
      `- Start Time: ${formatTime(a.startedAt, tz)}`,
      `- Summary: ${a.summary}`,
      `- Incident channel: #${a.channelName} in Slack`,
      '',
      `Acknowledge it on the incident's first post in #${a.channelName}; updates follow there.`,
      `— golive, for ${ctx.launch}`,
    ].join('\n');
    return { subject: clip(subject, 200), text };
  }
  const subject = `${prefix}[ALARM] ${ctx.launch} - ${a.severity} - ${a.name}`;
  const text = [
    `Escalation ${level}: CloudWatch alarm ${a.name} (${a.region}) has been in ALARM since ${formatTime(a.startedAt, tz)}${l.after_minutes > 0 ? ` (${l.after_minutes} min)` : ''}${l.if === 'not_resolved' ? ' and has not recovered' : ' and nobody has acknowledged it'}.`,
    '',
    `Reason: ${a.reason}`,
    `Console: ${a.consoleUrl}`,
    '',
    `Acknowledge it on its alarm post in the ops channel in Slack.`,
    `— golive, for ${ctx.launch}`,
  ].join('\n');
  return { subject: clip(subject, 200), text };
}
