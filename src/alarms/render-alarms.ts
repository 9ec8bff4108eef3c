import { alarmConsoleUrl, type AlarmChange, type AlarmRow, type AlarmRule } from './alarm-service.js';
import type { AlarmState } from '../platform/aws/cloudwatch-port.js';
import { clip, escapeText } from '../platform/escape.js';
import { context, MAX_MESSAGE_BLOCKS, MAX_SECTION_CHARS, section } from '../platform/slack/blocks.js';
import type { StormAlarmView, StormView } from './storm-service.js';
import { formatTime } from '../platform/format-time.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

/* Block Kit for alarm posts, their threads and /golive alarms. */

export const ACTION_ALARM_ACK = 'golive_alarm_ack';
export const ACTION_ALARM_DECLARE = 'golive_alarm_declare';

type Block = Record<string, unknown>;

const STATE_EMOJI: Record<AlarmState['state'], string> = { ALARM: '🔴', OK: '✅', INSUFFICIENT_DATA: '⚪' };
const STATE_WORD: Record<AlarmState['state'], string> = { ALARM: 'ALARM', OK: 'OK', INSUFFICIENT_DATA: 'INSUFFICIENT DATA' };

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '≥',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
};

function ruleLine(rule: AlarmRule): string {
  return `severity *${rule.severity}*${rule.page ? ' · pages on-call' : ''}`;
}

function metricLine(m: AlarmChange['metric']): string | undefined {
  if (!m?.name) return undefined;
  const cmp = m.comparison ? (COMPARISON[m.comparison] ?? m.comparison) : undefined;
  const parts = [m.namespace, m.name, m.statistic, m.period ? `${m.period}s` : undefined].filter(Boolean).join(' ');
  return `Metric: ${parts}${cmp !== undefined && m.threshold !== undefined ? ` ${cmp} ${m.threshold}` : ''}`;
}

/** Minutes or hours, whichever reads better. */
export function formatDuration(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'under a minute';
  if (min < 90) return `${min} min`;
  const h = Math.floor(min / 60);
  return `${h} h ${min % 60} min`;
}

/** The channel post for an alarm that started firing, with Acknowledge and Declare incident. */
export function renderFiring(c: AlarmChange, timezone: string, state: { acknowledgedBy?: string; acknowledgedAt?: string; recoveredAt?: string; firedForMs?: number } = {}): SlackMessage {
  const name = escapeText(c.name);
  const lines = [
    state.recoveredAt
      ? `✅ ~ALARM~ → *OK* \`${name}\` · recovered after ${formatDuration(state.firedForMs ?? 0)}`
      : `${STATE_EMOJI.ALARM} *ALARM* \`${name}\` · ${ruleLine(c.rule)}`,
    `Reason: ${escapeText(clip(c.reason || 'not given', 600))}`,
  ];
  if (c.rule.description) lines.push(escapeText(c.rule.description));
  const metric = metricLine(c.metric);
  if (metric) lines.push(escapeText(metric));
  lines.push(`Since ${formatTime(c.row.fired_at ?? c.at, timezone)}${state.recoveredAt ? ` · OK at ${formatTime(state.recoveredAt, timezone)}` : ''} · <${alarmConsoleUrl(c.region, c.name)}|Open in the AWS console>`);
  const blocks: Block[] = [section(lines.join('\n'))];
  if (state.acknowledgedBy) blocks.push(context(`👀 Acknowledged by <@${state.acknowledgedBy}>${state.acknowledgedAt ? ` at ${formatTime(state.acknowledgedAt, timezone)}` : ''}`));
  if (!state.recoveredAt) {
    const elements: Block[] = [];
    if (!state.acknowledgedBy) elements.push({ type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: ACTION_ALARM_ACK, value: clip(c.name, 2000), style: 'primary' });
    elements.push({ type: 'button', text: { type: 'plain_text', text: 'Declare incident' }, action_id: ACTION_ALARM_DECLARE, value: clip(c.name, 2000), style: 'danger' });
    blocks.push({ type: 'actions', block_id: `golive_alarm_${c.row.fired_at ?? c.at}`.slice(0, 255), elements });
  }
  const text = state.recoveredAt ? `✅ ${escapeText(c.name)} recovered after ${formatDuration(state.firedForMs ?? 0)}` : `🔴 ALARM ${escapeText(c.name)} (${c.rule.severity}): ${escapeText(clip(c.reason, 300))}`;
  return { text, blocks };
}

/** A transition posted in a thread (or the channel when there is no firing post). */
export function renderTransition(c: AlarmChange, timezone: string): SlackMessage {
  const text = `${STATE_EMOJI[c.to]} \`${escapeText(c.name)}\` ${c.from ? `${STATE_WORD[c.from]} → ` : ''}*${STATE_WORD[c.to]}* at ${formatTime(c.at, timezone)}: ${escapeText(clip(c.reason || 'no reason given', 600))}`;
  return { text, blocks: [section(text)] };
}

/** The recovery line threaded under the alarm's post. */
export function renderRecovery(c: AlarmChange, timezone: string): SlackMessage {
  const text = `✅ \`${escapeText(c.name)}\` is OK again at ${formatTime(c.at, timezone)}, after firing for ${formatDuration(c.firedForMs ?? 0)}: ${escapeText(clip(c.reason || 'no reason given', 600))}`;
  return { text, blocks: [section(text)] };
}

export function renderFlapping(c: AlarmChange, transitions: number, minutes: number): SlackMessage {
  const text = `🔁 \`${escapeText(c.name)}\` is flapping: ${transitions} state changes in ${minutes} min. Further changes go in this thread only until it settles.${c.rule.page ? ` Its PagerDuty page stays open (not resolved and re-triggered per flap) until it has been OK for ${minutes} min.` : ''}`;
  return { text, blocks: [section(text)] };
}

export function renderSettled(name: string, okSince: string, minutes: number, timezone: string): SlackMessage {
  const text = `🟢 \`${escapeText(name)}\` has stayed OK since ${formatTime(okSince, timezone)} (${minutes} min): it has stopped flapping, and its page is resolved.`;
  return { text, blocks: [section(text)] };
}

/** The one summary the first poll posts, instead of a post per alarm. */
export function renderBaseline(alarms: AlarmState[], prefixes: string[], rules: (name: string) => AlarmRule): SlackMessage {
  const firing = alarms.filter((a) => a.state === 'ALARM');
  const noData = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA');
  const head = `👀 Watching ${alarms.length} alarm${alarms.length === 1 ? '' : 's'} under ${prefixes.map((p) => `\`${escapeText(p)}\``).join(', ')}. ${firing.length === 0 ? 'Nothing is firing.' : `${firing.length} firing now:`}`;
  const lines = [head, ...firing.slice(0, 40).map((a) => `🔴 \`${escapeText(a.name)}\` (${rules(a.name).severity}): ${escapeText(clip(a.reason, 200))}`)];
  if (firing.length > 40) lines.push(`…and ${firing.length - 40} more (see \`/golive alarms\`)`);
  if (noData.length > 0) lines.push(`⚪ ${noData.length} without data yet.`);
  return { text: lines.join('\n'), blocks: sectionsOf(lines) };
}

/** Lines packed into as few sections as Slack's 3000-character limit allows. */
function sectionsOf(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let cur = '';
  for (const l of lines) {
    if (cur && cur.length + l.length + 1 > 2900) {
      blocks.push(section(cur));
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) blocks.push(section(cur));
  return blocks.slice(0, 50);
}

/** `/golive alarms`: every watched alarm, firing first, and deliveries that failed for good. */
export function renderAlarmList(rows: AlarmRow[], rules: (name: string) => AlarmRule, timezone: string, failed: { method: string; target: string; last_error: string | null; failed_at: string }[], polledAt?: string, degraded: string[] = []): SlackMessage {
  if (rows.length === 0) return { text: [...degraded, 'No alarms are watched yet: the first poll has not run, or nothing matches the runbook’s prefixes.'].join('\n') };
  const lines = rows.slice(0, 150).map((r) => {
    const rule = rules(r.name);
    const extra = [r.state === 'ALARM' && r.acked_by ? `acknowledged by <@${r.acked_by}>` : undefined, r.flapping_since ? 'flapping' : undefined].filter(Boolean).join(', ');
    return `${STATE_EMOJI[r.state as AlarmState['state']] ?? '•'} \`${escapeText(r.name)}\` ${STATE_WORD[r.state as AlarmState['state']] ?? r.state} since ${formatTime(r.state_at, timezone)} · ${rule.severity}${rule.page ? ', pages' : ''}${extra ? ` · ${extra}` : ''}`;
  });
  if (rows.length > 150) lines.push(`…and ${rows.length - 150} more.`);
  const firing = rows.filter((r) => r.state === 'ALARM').length;
  const title = `*Alarms — ${firing} firing of ${rows.length} watched*${polledAt ? ` (last poll ${formatTime(polledAt, timezone)})` : ' (no successful poll yet)'}`;
  // What golive itself cannot do comes first: while it is blind, the states below are as of the last poll.
  const out = [...degraded, title, ...lines];
  if (failed.length > 0) {
    out.push('', '*Deliveries that failed for good:*');
    for (const f of failed) out.push(`❌ ${f.target === 'pagerduty' ? `PagerDuty ${f.method}` : `Slack ${f.method}`} at ${formatTime(f.failed_at, timezone)}: ${escapeText(f.last_error ?? 'unknown error')}`);
  }
  return { text: out.join('\n'), blocks: sectionsOf(out) };
}

/* Alarm storms: one post for many alarms (counts, every critical alarm), their lines in its thread. */

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'] as const;

/** How many sections the storm post may spend on naming critical alarms before it says "and N more". */
const CRITICAL_SECTIONS = 10;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Names as `a`, `b`, `c`, in sections of at most 3000 characters and at most `maxSections` of them; the rest as "and N more". */
function namedSections(head: string, names: string[], maxSections: number, more: (n: number) => string): { lines: string[]; shown: number } {
  const out: string[] = [];
  let cur = head;
  let shown = 0;
  for (const [i, n] of names.entries()) {
    const item = `\`${escapeText(n)}\`${i < names.length - 1 ? ',' : ''}`;
    if (cur.length + 1 + item.length > MAX_SECTION_CHARS - 60) {
      if (out.length + 1 >= maxSections) break;
      out.push(cur);
      cur = item;
    } else cur = cur === '' ? item : `${cur} ${item}`;
    shown++;
  }
  if (shown < names.length) cur = `${cur.replace(/,$/, '')} … and ${more(names.length - shown)}`;
  out.push(cur);
  return { lines: out, shown };
}

/** The storm post: how many alarms, how they stand, by severity, every critical one named, how it pages. */
export function renderStorm(v: StormView, timezone: string): SlackMessage {
  const counts = [`*${v.firing} ${v.endedAt ? 'still firing' : 'firing'}*`, `${v.recovered} recovered`, ...(v.noData > 0 ? [`${v.noData} without data`] : [])].join(', ');
  const head = v.endedAt
    ? `🌤️ *Alarm storm over*: ${plural(v.alarms, 'alarm')} went to ALARM ${formatTime(v.startedAt, timezone) === formatTime(v.lastFiringAt, timezone) ? `at ${formatTime(v.startedAt, timezone)}` : `from ${formatTime(v.startedAt, timezone)} to ${formatTime(v.lastFiringAt, timezone)}`}, none in the ${v.quietMinutes} min since: ${counts}.`
    : `🌩️ *Alarm storm*: ${plural(v.alarms, 'alarm')} went to ALARM since ${formatTime(v.startedAt, timezone)}: ${counts}.`;
  const bySeverity = `By severity: ${SEVERITY_ORDER.filter((s) => v.bySeverity[s] > 0).map((s) => `${v.bySeverity[s]} ${s}`).join(' · ')}`;
  const blocks: Block[] = [section(`${head}\n${bySeverity}`)];
  const groups: [StormView['critical'][number]['state'], string][] = [
    ['firing', '🔴 *Critical, firing'],
    ['recovered', '✅ *Critical, recovered'],
    ['no_data', '⚪ *Critical, without data'],
  ];
  let budget = CRITICAL_SECTIONS;
  for (const [state, label] of groups) {
    const names = v.critical.filter((c) => c.state === state).map((c) => c.name);
    if (names.length === 0 || budget === 0) continue;
    const { lines } = namedSections(`${label} (${names.length}):*`, names, budget, (n) => `${n} more (all in the thread)`);
    budget -= lines.length;
    blocks.push(...lines.map((l) => section(l)));
  }
  const paging =
    v.paging === 'by_rule'
      ? v.rulePages.length === 0
        ? '📟 None of them pages on-call.'
        : `📟 Paged once per alarm rule: ${v.rulePages.map((p) => `\`${escapeText(p.rule)}\` (${plural(p.alarms, 'alarm')}${p.resolved ? ', resolved' : ''})`).join(', ')}.`
      : v.pagingAlarms === 0
        ? '📟 None of them pages on-call.'
        : `📟 ${v.pagingAlarms} of them ${v.pagingAlarms === 1 ? 'pages' : 'page'} on-call, one PagerDuty page each.`;
  const thread = v.ownPosts > 0 ? `${plural(v.ownPosts, 'alarm was', 'alarms were')} posted on their own before the storm began; the others are in the thread, critical first.` : 'Each alarm is in the thread, critical first.';
  blocks.push(context(clip(`${paging} ${thread}`, MAX_SECTION_CHARS)));
  const critical = v.bySeverity.critical > 0 ? ` (${v.bySeverity.critical} critical)` : '';
  const text = v.endedAt
    ? `🌤️ Alarm storm over: ${plural(v.alarms, 'alarm')}${critical}, ${v.firing} still firing, ${v.recovered} recovered`
    : `🌩️ Alarm storm: ${plural(v.alarms, 'alarm')} in ALARM${critical}, ${v.firing} firing, ${v.recovered} recovered`;
  return { text, blocks: blocks.slice(0, MAX_MESSAGE_BLOCKS) };
}

/** One alarm of a storm as its thread shows it: what today's alarm post says, with its buttons while it fires. */
function stormAlarmBlocks(a: StormAlarmView, index: number, timezone: string): Block[] {
  const name = escapeText(a.name);
  const rule = `severity *${a.severity}*${a.pages ? ' · pages on-call' : ''}`;
  const firedFor = a.endedAt ? formatDuration(Date.parse(a.endedAt) - Date.parse(a.firedAt)) : '';
  const head =
    a.state === 'firing'
      ? `${STATE_EMOJI.ALARM} *ALARM* \`${name}\` · ${rule}`
      : a.state === 'recovered'
        ? `✅ ~ALARM~ → *OK* \`${name}\` · ${rule} · recovered after ${firedFor}`
        : `⚪ ~ALARM~ → *INSUFFICIENT DATA* \`${name}\` · ${rule} · after ${firedFor}`;
  const lines = [head, `Reason: ${escapeText(clip(a.reason || 'not given', 500))}`];
  if (a.description) lines.push(escapeText(a.description));
  const ended = a.endedAt ? ` · ${a.state === 'recovered' ? 'OK' : 'no data'} at ${formatTime(a.endedAt, timezone)}` : '';
  lines.push(`Since ${formatTime(a.firedAt, timezone)}${ended} · <${alarmConsoleUrl(a.region, a.name)}|Open in the AWS console>`);
  if (a.acknowledgedBy && a.state === 'firing') lines.push(`👀 Acknowledged by <@${a.acknowledgedBy}>${a.acknowledgedAt ? ` at ${formatTime(a.acknowledgedAt, timezone)}` : ''}`);
  const blocks: Block[] = [section(lines.join('\n'))];
  if (a.state === 'firing') {
    const elements: Block[] = [];
    if (!a.acknowledgedBy) elements.push({ type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: ACTION_ALARM_ACK, value: clip(a.name, 2000), style: 'primary' });
    elements.push({ type: 'button', text: { type: 'plain_text', text: 'Declare incident' }, action_id: ACTION_ALARM_DECLARE, value: clip(a.name, 2000), style: 'danger' });
    // Unique within the message (two alarms may fire at the same time), and new for each firing.
    blocks.push({ type: 'actions', block_id: `golive_storm_${index}_${a.firedAt}`.slice(0, 255), elements });
  }
  return blocks;
}

function stormAlarmText(a: StormAlarmView): string {
  const name = escapeText(a.name);
  if (a.state === 'recovered') return `✅ ${name} (${a.severity}) recovered`;
  if (a.state === 'no_data') return `⚪ ${name} (${a.severity}) has no data`;
  return `🔴 ALARM ${name} (${a.severity}): ${escapeText(clip(a.reason, 150))}`;
}

/** How much of Slack's 40,000 characters a reply's notification text may use. */
const STORM_REPLY_TEXT = 30_000;

/** A storm's alarms in replies of as many as Slack's limits allow (50 blocks: 25 firing alarms with their buttons). */
export function packStormAlarms(alarms: StormAlarmView[]): StormAlarmView[][] {
  const replies: StormAlarmView[][] = [];
  let cur: StormAlarmView[] = [];
  let blocks = 0;
  let text = 0;
  for (const a of alarms) {
    // Counted as firing: a line redrawn later never needs more blocks than it was packed with.
    const b = 2;
    const t = stormAlarmText(a).length + 1;
    if (cur.length > 0 && (blocks + b > MAX_MESSAGE_BLOCKS || text + t > STORM_REPLY_TEXT)) {
      replies.push(cur);
      cur = [];
      blocks = 0;
      text = 0;
    }
    cur.push(a);
    blocks += b;
    text += t;
  }
  if (cur.length > 0) replies.push(cur);
  return replies;
}

/** One reply in a storm's thread: several alarms, each as its own post would show it. */
export function renderStormAlarms(alarms: StormAlarmView[], timezone: string): SlackMessage {
  return { text: alarms.map(stormAlarmText).join('\n'), blocks: alarms.flatMap((a, i) => stormAlarmBlocks(a, i, timezone)) };
}
