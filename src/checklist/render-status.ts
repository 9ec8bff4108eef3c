import type { ChecklistEvent, ChecklistSnapshot, GateStatus, ItemStatus } from './checklist-service.js';
import type { ItemLevel } from '../platform/runbook/schema.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import { button, context, MAX_MESSAGE_BLOCKS, section, sections, type Block } from '../platform/slack/blocks.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';
import { driftLine, evidenceLine } from '../evidence/index.js';

export const ACTION_CHECK_ITEM = 'golive_check_item';
export const ACTION_STATUS_PAGE = 'golive_status_page';

const LEVEL_EMOJI: Record<ItemLevel, string> = { blocker: '🔴', warning: '⚠️', info: 'ℹ️' };
const LEVEL_TITLE: Record<ItemLevel, string> = { blocker: 'Open blockers', warning: 'Open warnings', info: 'Open info items' };

/** A person as a mention; golive itself (auto sign-off) by name. */
export function who(userId: string | undefined): string {
  return userId === 'golive' ? 'golive' : `<@${userId}>`;
}

function people(users: string[], max = 8): string {
  if (users.length === 0) return 'nobody yet';
  const shown = users.slice(0, max).map((u) => `<@${u}>`).join(', ');
  return users.length > max ? `${shown} and ${users.length - max} more` : shown;
}

/** The verdict line, e.g. "🔴 3 blockers open — NO-GO until resolved". */
export function verdictText(snapshot: ChecklistSnapshot, roleLabel: (r: string) => string): string {
  const v = snapshot.verdict;
  if (v.kind === 'blocked') return `🔴 *${v.openBlockers} blocker${v.openBlockers > 1 ? 's' : ''} open — NO-GO until resolved*`;
  if (v.kind === 'awaiting_signoff') {
    const list = v.missing.map((m) => `\`${m.gate}\` (${m.roles.map(roleLabel).join(', ')})`).join(', ');
    return `🟡 *All blockers done — waiting for sign-off:* ${list}`;
  }
  return '🟢 *All blockers done and every gate signed off — ready for go/no-go*';
}

/** Facts about the people in roles, resolved before rendering (rendering never calls Slack). */
export interface StatusRenderContext {
  timezone: string;
  now: Date;
  roleLabel: (role: string) => string;
  roleMembers: Map<string, string[]>;
  /** Items the viewer may sign off; those get a button. */
  signable: Set<string>;
  /** The launch's one verdict line (the checklist's, with the go/no-go decision folded in): see StatusBoard.verdictLine. */
  verdict: string;
  /** What holds deploys now or soon (locks, freeze windows), one line each. */
  holds?: string[];
  /** What golive itself cannot do now (see alarms, page, deliver), one line each. */
  degraded?: string[];
}

/** What to show: the overview or one gate, and which page. */
export interface StatusView {
  gateId?: string;
  page: number;
}

function gateLine(g: GateStatus, ctx: StatusRenderContext): string {
  const mark = g.openBlockers > 0 ? '🔴' : g.done === g.total ? '✅' : '🟡';
  const parts = [`${mark} *${escapeText(g.gate.title)}* \`${g.gate.id}\` — ${g.done}/${g.total} done`];
  if (g.openBlockers > 0) parts.push(`${g.openBlockers} blocker${g.openBlockers > 1 ? 's' : ''} open`);
  if (g.gate.signoff.length > 0) {
    const signed = g.signoffs.map((s) => `✅ ${ctx.roleLabel(s.role)} (<@${s.user_id}>, ${formatTime(s.signed_at, ctx.timezone)})`);
    const missing = g.missingSignoffs.map((r) => `⏳ ${ctx.roleLabel(r)}`);
    parts.push(`sign-off: ${[...signed, ...missing].join(', ')}`);
  }
  return parts.join(' · ');
}

/** Most gates listed in the overview; the rest are summarised so a huge runbook still fits one message. */
const MAX_GATE_LINES = 20;

export function gateLines(gates: GateStatus[], ctx: StatusRenderContext): string[] {
  const lines = gates.slice(0, MAX_GATE_LINES).map((g) => gateLine(g, ctx));
  const rest = gates.slice(MAX_GATE_LINES);
  if (rest.length > 0) {
    const blockers = rest.reduce((n, g) => n + g.openBlockers, 0);
    lines.push(`…and ${rest.length} more gates (${rest.reduce((n, g) => n + g.done, 0)}/${rest.reduce((n, g) => n + g.total, 0)} done, ${blockers} blocker${blockers === 1 ? '' : 's'} open) — \`/golive status <gate>\` shows one`);
  }
  return lines;
}

export function itemBlock(s: ItemStatus, ctx: StatusRenderContext, withGate: boolean): Block {
  const owner = `${ctx.roleLabel(s.item.owner)} (${people(ctx.roleMembers.get(s.item.owner) ?? [])})`;
  const evidence = s.evidence ? evidenceLine(s.evidence, ctx.now, 250) : undefined;
  if (s.done) {
    const note = s.note ? ` — “${escapeText(clip(s.note, 300))}”` : '';
    return section(`✅ \`${s.item.id}\` ${escapeText(s.item.title)}\nSigned off by ${who(s.changedBy)} · ${formatTime(s.changedAt!, ctx.timezone)}${note}${evidence ? `\n${evidence}` : ''}`);
  }
  const lines = [`${LEVEL_EMOJI[s.item.level]} \`${s.item.id}\` ${escapeText(s.item.title)}`, `Owner: ${owner}${withGate ? ` · gate \`${s.gate.id}\`` : ''}`];
  if (s.drift && s.evidence) lines.push(`${driftLine(s.evidence, ctx.now)} (signed off by ${who(s.changedBy)} · ${formatTime(s.changedAt!, ctx.timezone)})`);
  else if (s.note && s.changedBy) lines.push(`_Reopened by ${who(s.changedBy)}: “${escapeText(clip(s.note, 200))}”_`);
  if (evidence) lines.push(evidence);
  // A drifting item is signed again only with a note, which a button cannot take.
  const accessory = ctx.signable.has(s.item.id) && !s.drift ? button('Sign off', ACTION_CHECK_ITEM, s.item.id, 'primary') : undefined;
  return section(lines.join('\n'), accessory);
}

/** A rendered status message and where it sits among its pages. */
export interface RenderedStatus extends SlackMessage {
  blocks: Block[];
  page: number;
  pages: number;
}

/**
 * The status message: header, verdict, one line per gate, then open items
 * (blockers first, then warnings, then info) — or, for one gate, all of its
 * items. Item lists longer than one message are paginated with buttons.
 */
export function renderStatus(snapshot: ChecklistSnapshot, view: StatusView, ctx: StatusRenderContext, maxBlocks = MAX_MESSAGE_BLOCKS): RenderedStatus {
  const gateView = view.gateId ? snapshot.gates.find((g) => g.gate.id === view.gateId) : undefined;
  const head: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`🚀 ${snapshot.launchName}${gateView ? ` — ${gateView.gate.title}` : ''}`, 150), emoji: true } },
    section(ctx.verdict),
    ...(ctx.degraded && ctx.degraded.length > 0 ? [section(ctx.degraded.join('\n'))] : []),
    ...(ctx.holds && ctx.holds.length > 0 ? [section(`*Deploy holds* (rollbacks are always allowed)\n${ctx.holds.join('\n')}`)] : []),
    ...sections(gateLines(gateView ? [gateView] : snapshot.gates, ctx)),
  ];
  if (gateView?.gate.description) head.push(context(escapeText(clip(gateView.gate.description, 500))));

  // Entries are [level heading | item] blocks in display order; pagination slices them.
  const entries: Block[] = [];
  const levels: ItemLevel[] = ['blocker', 'warning', 'info'];
  if (gateView) {
    for (const level of levels) {
      const open = gateView.items.filter((s) => !s.done && s.item.level === level);
      if (open.length === 0) continue;
      entries.push(section(`*${LEVEL_TITLE[level]}* (${open.length})`));
      for (const s of open) entries.push(itemBlock(s, ctx, false));
    }
    const done = gateView.items.filter((s) => s.done);
    if (done.length > 0) {
      entries.push(section(`*Done* (${done.length})`));
      for (const s of done) entries.push(itemBlock(s, ctx, false));
    }
  } else {
    for (const level of levels) {
      const open = snapshot.open[level];
      if (open.length === 0) continue;
      entries.push(section(`*${LEVEL_TITLE[level]}* (${open.length})`));
      for (const s of open) entries.push(itemBlock(s, ctx, true));
    }
    if (entries.length === 0) entries.push(section('Every checklist item is done. 🎉'));
  }

  const footerBlocks = 2; // context line + pagination actions
  const perPage = Math.max(1, maxBlocks - head.length - 1 - footerBlocks);
  const pages = Math.max(1, Math.ceil(entries.length / perPage));
  const page = Math.min(Math.max(1, view.page), pages);
  const slice = entries.slice((page - 1) * perPage, page * perPage);

  const blocks: Block[] = [...head, { type: 'divider' }, ...slice];
  const foot = [`Updated ${formatTime(ctx.now.toISOString(), ctx.timezone)}`];
  if (pages > 1) foot.push(`page ${page} of ${pages}`);
  if (!gateView) foot.push('`/golive status <gate>` for one gate in full');
  foot.push('`/golive check <item> [note]` to sign off');
  blocks.push(context(foot.join(' · ')));
  if (pages > 1) {
    const nav: Block[] = [];
    const value = (p: number) => JSON.stringify({ g: view.gateId ?? null, p });
    if (page > 1) nav.push(button('◀ Previous', `${ACTION_STATUS_PAGE}_prev`, value(page - 1)));
    if (page < pages) nav.push(button('Next ▶', `${ACTION_STATUS_PAGE}_next`, value(page + 1)));
    blocks.push({ type: 'actions', block_id: 'golive_status_pages', elements: nav });
  }
  const text = `${snapshot.launchName}: ${plainVerdict(ctx.verdict)}`;
  return { text, blocks, page, pages };
}

/** The verdict line for the notification text: the same words, without the emoji and bold marks. */
function plainVerdict(line: string): string {
  return line.replace(/^\p{Extended_Pictographic}\uFE0F?\s*/u, '').replace(/\*/g, '');
}

/** The channel line announcing a checklist change. */
export function renderChecklistEvent(event: ChecklistEvent, gate: GateStatus, verdict: string, roleLabel: (r: string) => string): SlackMessage {
  const { line, status } = checklistEventParts(event, gate, verdict, roleLabel);
  const text = `${line}\n${status}`;
  return { text, blocks: [section(text)] };
}

/** An announcement's two parts: what changed (one line or more), and where its gate and the launch stand after it. */
export interface ChecklistEventParts {
  line: string;
  status: string;
}

export function checklistEventParts(event: ChecklistEvent, gate: GateStatus, verdict: string, roleLabel: (r: string) => string): ChecklistEventParts {
  const progress = `${gate.gate.title}: ${gate.done}/${gate.total} done${gate.openBlockers > 0 ? `, ${gate.openBlockers} blocker${gate.openBlockers > 1 ? 's' : ''} open` : ''}.`;
  let line: string;
  if (event.type === 'item_checked') {
    line = `✅ ${who(event.by)} signed off \`${event.item.id}\` (${escapeText(event.item.title)})${event.again ? ' again' : ''}${event.note ? ` — “${escapeText(clip(event.note, 500))}”` : ''}`;
    const e = event.evidence;
    if (e) {
      const text = escapeText(clip(e.text, 500));
      line += e.outcome === 'pass' ? `\n✅ Its check passes: “${text}”` : e.outcome === 'fail' ? `\n❌ Signed off although its check fails: “${text}”` : `\n❔ Its check could not run: ${text}`;
    }
  } else if (event.type === 'item_unchecked') {
    line = `↩️ ${who(event.by)} reopened \`${event.item.id}\` (${escapeText(event.item.title)})${event.reason ? ` — “${escapeText(clip(event.reason, 500))}”` : ''}`;
    if (event.revokedSignoffs.length > 0) line += `\nThe sign-off of gate \`${event.gate.id}\` by ${event.revokedSignoffs.map((s) => `${roleLabel(s.role)} (<@${s.user_id}>)`).join(', ')} is withdrawn: a blocker it vouched for is open again.`;
  } else {
    line = `🖊️ ${who(event.by)} signed off gate \`${event.gate.id}\` for ${event.roles.map(roleLabel).join(', ')}${event.complete ? ' — the gate is fully signed off.' : '.'}`;
  }
  return { line, status: `${progress} ${verdict}` };
}

/** Most changes a gathered announcement lists; the rest are counted (every change is in `/golive history`). */
const MAX_GATHERED_LINES = 20;

/**
 * Several checklist announcements as one post, oldest first: a heading, the first line of each (up to
 * {@link MAX_GATHERED_LINES}), then where the newest one's gate and the launch stand (the earlier ones' is out of date).
 */
export function renderGatheredChecklistEvents(changes: { parts: ChecklistEventParts; at: string }[], now: Date): SlackMessage {
  const seconds = Math.max(1, Math.ceil((now.getTime() - Math.min(...changes.map((c) => Date.parse(c.at)))) / 1000));
  const span = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  const lines = changes.slice(0, MAX_GATHERED_LINES).map((c) => clip(c.parts.line.split('\n')[0]!, 600));
  const more = changes.length - lines.length;
  if (more > 0) lines.push(`…and ${more} more (\`/golive history\` lists every change)`);
  const all = [`📋 ${changes.length} checklist changes in the last ${span}:`, ...lines, changes[changes.length - 1]!.parts.status];
  return { text: all.join('\n'), blocks: sections(all) };
}
