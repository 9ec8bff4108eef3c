import { formatOffset } from '../platform/launch-time.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChecklistSnapshot } from '../checklist/index.js';
import { humanDuration } from '../platform/format-time.js';
import type { LaunchT0, ScheduledMilestone } from './timeline-service.js';
import { escapeText } from '../platform/escape.js';
import { context, MAX_MESSAGE_BLOCKS, MAX_SECTION_CHARS, section } from '../platform/slack/blocks.js';
import { formatTime } from '../platform/format-time.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

type Block = Record<string, unknown>;


/** When a milestone falls, e.g. "T+30m · 1 Dec 08:30 IST", or just "T+30m" before T-0 is set. */
export function milestoneWhen(m: ScheduledMilestone, tz: string, t0?: Date): string {
  if (!m.dueAt) return m.milestone.at;
  const rel = m.milestone.at.startsWith('T') ? m.milestone.at : t0 ? formatOffset(m.dueAt, t0) : undefined;
  return `${rel ? `${rel} · ` : ''}${formatTime(m.dueAt.toISOString(), tz)}`;
}

/** The milestone post: what is due, the items and steps it concerns with their state, and what comes next. */
export function renderMilestone(m: ScheduledMilestone, ctx: { runbook: Runbook; snapshot: ChecklistSnapshot; t0?: Date; next?: ScheduledMilestone; lateMs: number; total: number }): SlackMessage {
  const tz = ctx.runbook.launch.timezone;
  const late = ctx.lateMs > 0 ? ` _(late by ${humanDuration(ctx.lateMs)}: golive was not running at ${formatTime(m.dueAt!.toISOString(), tz)})_` : '';
  const head = `⏰ *${escapeText(m.milestone.title)}* — ${milestoneWhen(m, tz, ctx.t0)}${late}`;
  const blocks: Block[] = [section(head)];
  if (m.milestone.text) blocks.push(section(escapeText(m.milestone.text)));
  const lines: string[] = [];
  const items = new Map(ctx.snapshot.gates.flatMap((g) => g.items.map((s) => [s.item.id, s] as const)));
  for (const id of m.milestone.items) {
    const s = items.get(id);
    if (!s) continue;
    lines.push(`${s.done ? '✅' : s.item.level === 'blocker' ? '🔴' : '⬜'} \`${id}\` ${escapeText(s.item.title)}${s.done ? '' : ` — ${escapeText(ctx.runbook.roles[s.item.owner]?.name ?? s.item.owner)}`}`);
  }
  for (const id of m.milestone.steps) {
    const step = ctx.runbook.steps.find((x) => x.id === id);
    if (step) lines.push(`▶️ step \`${id}\` ${escapeText(step.title)}`);
  }
  if (lines.length > 0) blocks.push(section(lines.join('\n')));
  const next = ctx.next?.dueAt ? `Next: *${escapeText(ctx.next.milestone.title)}* at ${milestoneWhen(ctx.next, tz, ctx.t0)}` : 'This was the last milestone.';
  blocks.push(context(`Milestone ${m.number} of ${ctx.total} · ${next} · \`/golive timeline\``));
  const text = `⏰ ${m.milestone.title} — ${milestoneWhen(m, tz, ctx.t0)}${ctx.lateMs > 0 ? ` (late by ${humanDuration(ctx.lateMs)})` : ''}`;
  return { text, blocks };
}

const STATE_MARK: Record<ScheduledMilestone['state'], string> = { posted: '✅', passed: '⏭️', due: '⏰', upcoming: '🔜', unscheduled: '❔' };

/** `/golive timeline`: T-0, then every milestone with its time and state. */
export function renderTimeline(schedule: ScheduledMilestone[], ctx: { tz: string; t0?: LaunchT0; now: Date; freezes?: string[] }): SlackMessage {
  const { tz, t0 } = ctx;
  const freezes = ctx.freezes && ctx.freezes.length > 0 ? [section(`*Freeze windows* (deploys refused; rollbacks allowed)\n${ctx.freezes.join('\n')}`)] : [];
  if (schedule.length === 0 && freezes.length > 0) return { text: 'Launch timeline: freeze windows', blocks: [...freezes, context(`Times in ${tz}`)] };
  if (schedule.length === 0) return { text: 'This runbook has no milestones.', blocks: [section('This runbook has no milestones. Add a `milestones:` list to the runbook to have golive keep the clock.')] };
  const t0Line = t0
    ? `*T-0:* ${formatTime(t0.at.toISOString(), tz)} (set by ${t0.setBy === 'runbook' ? 'the runbook' : `<@${t0.setBy}>`}, ${formatTime(t0.setAt, tz)}) · now is ${formatOffset(ctx.now, t0.at)}`
    : '*T-0 is not set*: milestones relative to it wait. `/golive t0 <time>` sets it.';
  const lines = schedule.map((m) => {
    const when = milestoneWhen(m, tz, t0?.at);
    let state = '';
    if (m.state === 'posted') state = `posted ${formatTime(m.postedAt!, tz)}${m.lateMs ? ` (late by ${humanDuration(m.lateMs)})` : ''}`;
    else if (m.state === 'passed') state = 'passed before golive had this T-0; not posted';
    else if (m.state === 'due') state = 'due now';
    else if (m.state === 'upcoming') state = `in ${humanDuration(m.dueAt!.getTime() - ctx.now.getTime())}`;
    else state = 'waits for T-0';
    return `${STATE_MARK[m.state]} \`${when}\` *${escapeText(m.milestone.title)}* — ${state}`;
  });
  const blocks: Block[] = [section(`🗓️ *Launch timeline*\n${t0Line}`)];
  let cur = '';
  for (const l of lines) {
    if (cur && cur.length + 1 + l.length > MAX_SECTION_CHARS) {
      blocks.push(section(cur));
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) blocks.push(section(cur));
  blocks.push(...freezes);
  blocks.push(context(`Times in ${tz} · ✅ posted · 🔜 coming · ⏭️ passed · ❔ waits for T-0`));
  return { text: `Launch timeline: ${schedule.length} milestones`, blocks: blocks.slice(0, MAX_MESSAGE_BLOCKS) };
}

/** The channel post when T-0 is set or moved. */
export function renderT0Change(change: { at: Date; previous?: Date; by: string; passed: ScheduledMilestone[]; next?: ScheduledMilestone }, tz: string): SlackMessage {
  const lines = [
    change.previous
      ? `🕗 <@${change.by}> moved T-0 to *${formatTime(change.at.toISOString(), tz)}* (was ${formatTime(change.previous.toISOString(), tz)}).`
      : `🕗 <@${change.by}> set T-0 to *${formatTime(change.at.toISOString(), tz)}*.`,
  ];
  if (change.next?.dueAt) lines.push(`Next milestone: *${escapeText(change.next.milestone.title)}* at ${milestoneWhen(change.next, tz, change.at)}.`);
  if (change.passed.length > 0) {
    const names = change.passed.slice(0, 8).map((m) => `*${escapeText(m.milestone.title)}*`).join(', ');
    lines.push(`${change.passed.length} milestone${change.passed.length === 1 ? ' is' : 's are'} already past and will not be posted: ${names}${change.passed.length > 8 ? ', …' : ''}.`);
  }
  const text = lines.join('\n');
  return { text, blocks: [section(text)] };
}
