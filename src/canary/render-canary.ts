import { shortTaskDef } from '../deploys/index.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime, humanDuration } from '../platform/format-time.js';
import type { CanaryConfig, Service } from '../platform/runbook/schema.js';
import { button, context, section, type Block } from '../platform/slack/blocks.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';
import { describeBounds, formatValue, type CheckOutcome } from './analyse-metrics.js';
import type { CanaryRow } from './canary-repository.js';
import { judgeEvidence, trafficShare, type CanaryEvidence } from './decide-canary.js';

/* Block Kit for canary deploys: the canary part of the deploy card, the live scorecard in its thread, the override form. */

export const ACTION_CANARY_PROMOTE = 'golive_canary_promote';
export const ACTION_CANARY_ABORT = 'golive_canary_abort';
export const VIEW_CANARY_OVERRIDE = 'golive_canary_override';
export const BLOCK_OVERRIDE_NOTE = 'canary_override_note';
export const INPUT_OVERRIDE_NOTE = 'value';

const MARK: Record<CheckOutcome, string> = { pass: '✅', fail: '❌', unknown: '❔' };

/** The evidence of one interval as scorecard lines: each metric, canary vs stable, pass/fail; then tasks, alarms, health. */
export function scorecardLines(config: CanaryConfig, ev: CanaryEvidence): string[] {
  const lines: string[] = [];
  if ('unknown' in ev.metrics) lines.push(`❔ Metrics could not be read: ${escapeText(ev.metrics.unknown)}`);
  else {
    ev.metrics.scores.forEach((s, i) => {
      const m = config.metrics[i];
      if (!m) return;
      const latest = s.latest;
      const values = latest ? `canary ${formatValue(latest.canary, m.unit)} vs stable ${formatValue(latest.stable, m.unit)}` : 'no data yet';
      const failures = s.failures > 0 ? ` · ${s.failures} failing interval${s.failures === 1 ? '' : 's'} (${config.failure_limit} allowed)` : '';
      // A failing interval the runbook still tolerates is a warning, not yet a failure.
      const mark = s.failures > config.failure_limit ? MARK.fail : s.failures > 0 ? '⚠️' : MARK[s.verdict];
      lines.push(`${mark} *${escapeText(s.label)}* — ${values} (${describeBounds(m).join(', ')})${failures}`);
    });
  }
  const t = ev.tasks;
  if (t.unread && !t.problem) lines.push(`❔ Canary tasks: ECS could not be read (${escapeText(t.unread)})`);
  else lines.push(`${t.problem ? '❌' : '✅'} Canary tasks: ${t.running}/${t.desired} running ${shortTaskDef(t.taskDefinition)}${t.problem ? ` — ${escapeText(t.problem)}` : ''}`);
  if (config.alarms.length > 0) {
    const prefixes = config.alarms.map((p) => `\`${p}\``).join(', ');
    if ('unknown' in ev.alarms) lines.push(`❔ Alarms ${prefixes}: ${escapeText(ev.alarms.unknown)}`);
    else if (ev.alarms.firing.length > 0) lines.push(`❌ Alarms ${prefixes}: ${ev.alarms.firing.map((a) => `\`${a.name}\` in ALARM`).join(', ')}`);
    else lines.push(`✅ Alarms ${prefixes}: none firing`);
  }
  if (config.health_check) {
    const failures = ev.healthFailures > 0 ? ` · ${ev.healthFailures} failed so far (${config.failure_limit} allowed)` : '';
    lines.push(`${ev.health ? (ev.health.ok ? '✅' : '❌') : '❔'} Health ${escapeText(config.health_check.url)}: ${ev.health ? escapeText(ev.health.detail) : 'not checked yet'}${failures}`);
  }
  return lines;
}

/** Where the bake stands: "6 min left of 10 · interval 4". */
function bakeProgress(c: CanaryRow, now: Date): string {
  if (!c.bake_ends_at || !c.bake_started_at) return '';
  const left = Date.parse(c.bake_ends_at) - now.getTime();
  const total = Date.parse(c.bake_ends_at) - Date.parse(c.bake_started_at);
  return left > 0 ? `${humanDuration(left)} left of ${humanDuration(total)}` : `bake of ${humanDuration(total)} done`;
}

/** The live scorecard in the deploy's thread, updated every analysis interval. */
export function renderScorecard(c: CanaryRow, service: Service, now: Date, timezone: string, withButtons = false): SlackMessage {
  const config = service.canary!;
  const head = `🐤 *Canary scorecard* — \`${service.name}\`: ${c.canary_task_def ? shortTaskDef(c.canary_task_def) : 'new revision'} on \`${escapeText(c.canary_service)}\` vs ${shortTaskDef(c.stable_task_def)}`;
  const ev = c.evidence;
  const blocks: Block[] = [section(head)];
  if (ev) blocks.push(section(scorecardLines(config, ev).join('\n')));
  else blocks.push(section('⏳ Waiting for the first analysis interval.'));
  const state = c.state === 'baking' ? `Baking: ${bakeProgress(c, now)}` : c.state === 'waiting' ? 'Bake done: waiting for Promote or Abort' : `Canary ${c.state}`;
  const at = ev ? ` · measured ${formatTime(ev.at, timezone)}, interval ${c.intervals}` : '';
  const calls = ev ? ` · ${ev.cloudwatchCalls} CloudWatch call${ev.cloudwatchCalls === 1 ? '' : 's'}` : '';
  blocks.push(context(`${state}${at}${calls} · every ${config.interval_seconds} s`));
  if (withButtons) {
    const actions = canaryActions(c);
    if (actions) blocks.push(actions);
  }
  const verdict = ev ? judgeEvidence(config, ev).verdict : 'unknown';
  return { text: `Canary scorecard for ${service.name}: ${verdict}`, blocks };
}

/** The canary lines of the deploy card, and its buttons while someone may act. */
export function canaryCardBlocks(c: CanaryRow, service: Service, now: Date, timezone: string): Block[] {
  const config = service.canary!;
  const lines: string[] = [];
  const version = c.canary_task_def ? shortTaskDef(c.canary_task_def) : 'the new revision';
  switch (c.state) {
    case 'starting':
      lines.push(`🐤 Canary starting: ${c.desired_count} task${c.desired_count === 1 ? '' : 's'} of ${version} on \`${escapeText(c.canary_service)}\``);
      break;
    case 'baking':
      lines.push(`🧪 Canary baking: ${bakeProgress(c, now)} · ${c.desired_count} task${c.desired_count === 1 ? '' : 's'} of ${version} beside ${shortTaskDef(c.stable_task_def)} · scorecard in the thread`);
      break;
    case 'waiting': {
      const by = Date.parse(c.bake_ends_at!) + config.decide_within_minutes * 60_000;
      lines.push(`⏸️ Canary bake passed — waiting for *Promote* or *Abort*. It aborts by itself at ${formatTime(new Date(by).toISOString(), timezone)} if nobody decides.`);
      break;
    }
    case 'promoting':
      lines.push(`🚀 Promoting ${version} to \`${escapeText(service.service)}\` — ${promotedBy(c)}`);
      break;
    case 'succeeded':
      lines.push(`✅ Canary promoted — ${promotedBy(c)}; the canary service is back to 0 tasks`);
      break;
    case 'aborting':
    case 'aborted':
      lines.push(`🛑 Canary ${c.state === 'aborting' ? 'aborting' : 'aborted'}${c.aborted_by && c.aborted_by !== 'golive' ? ` ${personAbort(c, c.aborted_by).replace(/^aborted /, '')}` : ` by itself: ${escapeText(c.abort_reason ?? 'no reason recorded')}`}. The main service still runs ${shortTaskDef(c.stable_task_def)}.`);
      break;
    case 'failed':
      lines.push(`❌ Canary failed: ${escapeText(c.abort_reason ?? 'see the thread')}`);
      break;
  }
  const blocks: Block[] = [section(lines.join('\n'))];
  const actions = canaryActions(c);
  if (actions) blocks.push(actions);
  return blocks;
}

/** Promote and Abort once the bake is over; Abort while it starts or bakes; nothing after a decision. */
function canaryActions(c: CanaryRow): Block | undefined {
  const id = String(c.id);
  if (c.state === 'waiting') return { type: 'actions', block_id: `golive_canary_${c.id}`, elements: [button('🚀 Promote', ACTION_CANARY_PROMOTE, id, 'primary'), button('🛑 Abort', ACTION_CANARY_ABORT, id, 'danger')] };
  if (c.state === 'baking' || c.state === 'starting') return { type: 'actions', block_id: `golive_canary_${c.id}`, elements: [button('🛑 Abort', ACTION_CANARY_ABORT, id, 'danger')] };
  return undefined;
}

function promotedBy(c: CanaryRow): string {
  if (c.promoted_how === 'auto') return 'by the analysis (the runbook lets it promote)';
  const who = c.decided_by ? `by <@${c.decided_by}>` : '';
  if (c.promoted_how === 'override') return `${who} over a failing analysis: “${escapeText(clip(c.decision_note ?? '', 300))}”`;
  return `${who}${c.decision_note ? ` — “${escapeText(clip(c.decision_note, 300))}”` : ''}`;
}

/** The steps `--dry-run` lists for a canary deploy: before the rollout of the service (after registering the revision), and after it. */
export function canaryDryRunSteps(service: Service, mainTasks: number): { before: string[]; after: string[] } {
  const c = service.canary!;
  const judged = [
    ...(c.metrics.length > 0 ? [`${c.metrics.map((m) => `${escapeText(m.label)} ${describeBounds(m).join(', ')}`).join('; ')}`] : []),
    ...(c.alarms.length > 0 ? [`no alarm under ${c.alarms.map((p) => `\`${p}\``).join(', ')} in ALARM`] : []),
    ...(c.health_check ? [`GET ${c.health_check.url} answers ${c.health_check.expect_status}`] : []),
  ];
  return {
    before: [
      `Run it on the canary service \`${c.service}\`: ${c.desired_count} task${c.desired_count === 1 ? '' : 's'} beside the ${mainTasks} of \`${service.service}\` (${trafficShare(c.desired_count, mainTasks)})`,
      `Bake for ${c.bake_minutes} min, judging every ${c.interval_seconds} s: ${judged.join('; ')} — aborting by itself (the canary back to 0 tasks) when any fails`,
      c.auto_promote ? 'Promote by itself if everything passes (the runbook allows it)' : `Wait for someone to click *Promote* (it aborts by itself after ${c.decide_within_minutes} min without a decision)`,
    ],
    after: ['Scale the canary service back to 0 tasks'],
  };
}

/** The form a Promote over a failing analysis opens: the runbook allows it only with a note. */
export function overrideModal(c: CanaryRow, service: Service, failing: string[]): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: VIEW_CANARY_OVERRIDE,
    private_metadata: String(c.id),
    title: { type: 'plain_text', text: 'Promote over the analysis' },
    submit: { type: 'plain_text', text: 'Promote' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(`The canary of \`${service.name}\` fails its analysis:\n${failing.map((f) => `• ${escapeText(f)}`).join('\n')}\nThe runbook allows promoting anyway, with a note saying why. It is recorded and posted.`),
      { type: 'input', block_id: BLOCK_OVERRIDE_NOTE, label: { type: 'plain_text', text: 'Why promote anyway?' }, element: { type: 'plain_text_input', action_id: INPUT_OVERRIDE_NOTE, multiline: true, max_length: 500 } },
    ],
  };
}

/** "aborted by <@U…>: why": the mention golive built stays a mention, the reason the person typed is escaped. */
function personAbort(c: CanaryRow, userId: string): string {
  const by = `aborted by <@${userId}>`;
  const reason = c.abort_reason ?? by;
  return reason.startsWith(by) ? `${by}${escapeText(reason.slice(by.length))}` : escapeText(reason);
}

/** The private reply to a Promote or Abort on a canary that was already decided: who decided what, when. */
export function decidedText(c: CanaryRow, timezone: string): string {
  const when = (iso: string | null) => (iso ? ` at ${formatTime(iso, timezone)}` : '');
  switch (c.state) {
    case 'promoting':
    case 'succeeded':
      return `This canary was already promoted ${promotedBy(c)}${when(c.decided_at)}; nothing changed.`;
    case 'aborting':
    case 'aborted':
      if (c.aborted_by && c.aborted_by !== 'golive') return `This canary was already ${personAbort(c, c.aborted_by)}; nothing changed.`;
      return `This canary already aborted by itself: ${escapeText(c.abort_reason ?? 'no reason recorded')}; nothing changed.`;
    case 'failed':
      return `This canary failed: ${escapeText(c.abort_reason ?? 'see its deploy card')}; nothing changed.`;
    default:
      return `This canary is ${c.state}; nothing changed.`;
  }
}
