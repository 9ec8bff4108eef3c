import type { AlarmRow } from '../alarms/index.js';
import { gateLines, itemBlock, type ChecklistSnapshot, type StatusRenderContext } from '../checklist/index.js';
import type { ChangeRequestRow } from '../deploys/index.js';
import type { DecisionRow } from '../gonogo/index.js';
import type { IncidentRow } from '../incidents/index.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime, humanDuration } from '../platform/format-time.js';
import { context, MAX_HOME_BLOCKS, section, sections } from '../platform/slack/blocks.js';
import { milestoneWhen, type LaunchT0, type ScheduledMilestone } from '../timeline/index.js';

type Block = Record<string, unknown>;

/** Everything the Home tab shows, gathered by the caller (rendering never reads the store). */
export interface HomeData {
  snapshot: ChecklistSnapshot;
  ctx: StatusRenderContext;
  /** undefined: the runbook watches no alarms. */
  firing?: AlarmRow[];
  /** undefined: the runbook defines no incidents. */
  incidents?: IncidentRow[];
  approvals: ChangeRequestRow[];
  /** undefined: the runbook has no milestones. */
  timeline?: { next?: ScheduledMilestone; t0?: LaunchT0 };
  /** undefined: the runbook has no go/no-go. */
  gonogo?: { latest?: DecisionRow };
}

/** At most this many lines per list; the rest are counted. */
const LIST_MAX = 8;

/** The App Home button that posts the launch report in the ops channel. */
export const ACTION_POST_REPORT = 'golive_post_report';

function list(title: string, lines: string[], empty: string): string {
  if (lines.length === 0) return `*${title}:* ${empty}`;
  const shown = lines.slice(0, LIST_MAX);
  return `*${title}* (${lines.length})\n${shown.join('\n')}${lines.length > shown.length ? `\n…and ${lines.length - shown.length} more` : ''}`;
}

/**
 * The Home tab: the launch at a glance for one viewer — verdict, go/no-go,
 * next milestone, firing alarms, open incidents, pending approvals, progress
 * per gate, then open blockers with their owners (sign-off buttons for the
 * viewer's own) as far as Slack's 100 blocks allow.
 */
export function renderHome(d: HomeData): Block[] {
  const { snapshot, ctx } = d;
  const tz = ctx.timezone;
  const now = ctx.now;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`🚀 ${snapshot.launchName}`, 150), emoji: true } },
    section(ctx.verdict, { type: 'button', text: { type: 'plain_text', text: '📄 Launch report', emoji: true }, action_id: ACTION_POST_REPORT }),
    ...(ctx.degraded && ctx.degraded.length > 0 ? [section(ctx.degraded.join('\n'))] : []),
  ];
  const glance: string[] = [];
  // The decision itself is folded into the verdict line above.
  if (d.gonogo && !d.gonogo.latest) glance.push('🗳️ Go/No-Go: not called yet — `/golive gonogo` when the criteria are met.');
  if (d.timeline) {
    const { next, t0 } = d.timeline;
    if (next?.dueAt) glance.push(`⏰ Next milestone: *${escapeText(next.milestone.title)}* — ${milestoneWhen(next, tz, t0?.at)} (${next.dueAt.getTime() <= now.getTime() ? 'due now' : `in ${humanDuration(next.dueAt.getTime() - now.getTime())}`})`);
    else if (!t0) glance.push('⏰ T-0 is not set: `/golive t0 <time>` starts the timeline.');
    else glance.push('⏰ Every milestone has passed.');
  }
  if (glance.length > 0) blocks.push(section(glance.join('\n')));
  blocks.push({ type: 'divider' });

  const live: string[] = [];
  if (d.firing) {
    live.push(
      list(
        '🚨 Firing alarms',
        d.firing.map((a) => `• \`${escapeText(a.name)}\` since ${formatTime(a.fired_at ?? a.state_at, tz)}${a.acked_by ? ` · acknowledged by <@${a.acked_by}>` : ''}`),
        'none 🟢',
      ),
    );
  }
  if (d.incidents) {
    live.push(list('🔥 Open incidents', d.incidents.map((i) => `• INC-${i.id} ${i.severity} ${escapeText(clip(i.summary, 120))} — <#${i.channel_id}> · commander <@${i.commander}>`), 'none'));
  }
  if (ctx.holds && ctx.holds.length > 0) live.push(list('🔒 Deploy holds', ctx.holds, 'none'));
  live.push(
    list(
      '⏳ Waiting for approval',
      d.approvals.map((r) => `• #${r.id} ${r.kind === 'rollback' ? 'roll back' : 'deploy override of'} \`${escapeText(r.service)}\` — asked by <@${r.requested_by}>, expires ${formatTime(r.expires_at, tz)}`),
      'nothing',
    ),
  );
  blocks.push(...sections(live));
  blocks.push({ type: 'divider' });
  blocks.push(...sections(gateLines(snapshot.gates, ctx)));
  blocks.push({ type: 'divider' });

  const blockers = snapshot.open.blocker;
  const foot = context(`Updated ${formatTime(now.toISOString(), tz)} · refreshed when the launch changes · \`/golive status\` for every open item`);
  if (blockers.length === 0) {
    blocks.push(section('*Open blockers:* none 🎉'));
  } else {
    blocks.push(section(`*Open blockers* (${blockers.length})`));
    // Keep room for the "more" line and the footer.
    const room = MAX_HOME_BLOCKS - blocks.length - 2;
    const shown = blockers.slice(0, Math.max(0, room));
    for (const s of shown) blocks.push(itemBlock(s, ctx, true));
    if (blockers.length > shown.length) blocks.push(section(`…and ${blockers.length - shown.length} more blockers: \`/golive status\``));
  }
  blocks.push(foot);
  return blocks.slice(0, MAX_HOME_BLOCKS);
}
