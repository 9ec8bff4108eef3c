import type { Service } from '../platform/runbook/schema.js';
import type { DeployPlan, DeployStep } from './deploy-service.js';
import { shortTaskDef } from './watch-rollout.js';
import type { ChangeRequestRow } from './approval-repository.js';
import type { DeployRow } from './deploy-repository.js';
import { clip, escapeText } from '../platform/escape.js';
import { button, context, section } from '../platform/slack/blocks.js';
import { formatTime } from '../platform/format-time.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

/* Block Kit for deploys, rollbacks and their approval cards. */

export const ACTION_APPROVE = 'golive_request_approve';
export const ACTION_REJECT = 'golive_request_reject';
export const ACTION_CANCEL = 'golive_request_cancel';
export const ACTION_ROLLBACK_FAILED_DEPLOY = 'golive_deploy_rollback';

type Block = Record<string, unknown>;


/** Slack renders this in each reader's own time zone, and `{ago}` stays current. */
function slackDate(iso: string, format: string, fallback: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^${format}|${fallback}>`;
}

const STEP_EMOJI: Record<DeployStep, string> = { registered: '📦', updating: '🔄', rolling_out: '⏳', smoke_check: '🩺', succeeded: '✅', failed: '❌', canary_starting: '🐤', baking: '🧪', waiting: '⏸️', promoting: '🚀' };

/** The private reply to `--dry-run`: exactly what would happen. */
export function renderDryRun(plan: DeployPlan, canary?: { before: string[]; after: string[] }): SlackMessage {
  const s = plan.service;
  const lines = [`*Dry run — nothing was changed.* \`/golive deploy ${s.name}\` would:`];
  if (plan.target.kind === 'tag') {
    lines.push(`1. Register a new revision of \`${s.family}\` copied from ${shortTaskDef(plan.current)}, with container \`${s.container}\` changed from \`${plan.currentImage}\` to \`${plan.image}\``);
  } else {
    lines.push(`1. Use the existing revision ${shortTaskDef(plan.revisionArn!)}${plan.image ? ` (image \`${plan.image}\`)` : ''}`);
  }
  // A canary deploy tries the new revision on the canary service first; its last step is the rollout below.
  const steps = [
    ...(canary?.before ?? []),
    `Update service \`${s.service}\` in cluster \`${s.cluster}\` (${s.region}) from ${shortTaskDef(plan.current)}`,
    `Wait up to ${s.rollout_timeout_minutes} min for the rollout to complete`,
    ...(s.smoke_check ? [`Smoke check: GET ${s.smoke_check.url} expecting ${s.smoke_check.expect_status}${s.smoke_check.expect_text ? ` and ${JSON.stringify(s.smoke_check.expect_text)}` : ''}`] : []),
    ...(canary?.after ?? []),
  ];
  steps.forEach((step, i) => lines.push(`${i + 2}. ${step}`));
  if (plan.blockedBy.length > 0) lines.push('', '*It would be refused now:*', ...plan.blockedBy, ...(plan.alarms ? [`Alarms: ${plan.alarms.source}.`] : []));
  return { text: lines.join('\n'), blocks: [section(lines.join('\n'))] };
}

/** The deploy (or rollback) message in the channel, updated in place as it goes. */
export function renderDeployCard(d: DeployRow, step: DeployStep, detail: string, timezone: string, extra: Block[] = []): SlackMessage {
  const what = d.kind === 'deploy' ? 'Deploy' : 'Rollback';
  const target = d.to_task_def.endsWith(':(registering)') ? `new revision of ${shortTaskDef(d.to_task_def).replace(':(registering)', '')}` : shortTaskDef(d.to_task_def);
  const head = `*${what}* of \`${d.service}\`: ${d.from_task_def ? shortTaskDef(d.from_task_def) : '?'} → ${target}${d.image ? ` (image \`${escapeText(d.image)}\`)` : ''}\nBy <@${d.requested_by}> · started ${formatTime(d.started_at, timezone)}`;
  const status = `${STEP_EMOJI[step]} ${escapeText(detail)}`;
  const text = `${what} of ${d.service}: ${detail}`;
  // A canary adds its own lines and buttons under the status.
  const blocks: Block[] = [section(head), section(status), ...extra];
  if (offersRollback(d)) {
    blocks.push({ type: 'actions', block_id: `golive_deploy_${d.id}`, elements: [button('↩️ Roll back', ACTION_ROLLBACK_FAILED_DEPLOY, String(d.id), 'danger')] });
  }
  blocks.push(context(`${what} #${d.id} · progress in the thread`));
  return { text, blocks };
}

/** One progress line in the deploy's thread. */
export function renderDeployStep(step: DeployStep, detail: string, at: string, timezone: string): SlackMessage {
  const text = `${STEP_EMOJI[step]} ${escapeText(detail)} · ${formatTime(at, timezone)}`;
  return { text };
}

/** A failed deploy offers Roll back only if ECS was actually asked to change (and it has its own message to carry the button). */
function offersRollback(d: DeployRow): boolean {
  return d.outcome === 'failed' && d.kind === 'deploy' && d.update_sent_at !== null && d.request_id === null;
}

function endSentence(s: string): string {
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function failureAdvice(d: DeployRow): string {
  if (d.kind !== 'deploy') return '';
  if (d.update_sent_at === null) return /nothing was changed/.test(d.reason ?? '') ? '' : ' The service was not changed.';
  return d.request_id === null ? ` Use *Roll back* on the deploy message, or \`/golive rollback ${d.service}\`.` : ` To undo it: \`/golive rollback ${d.service}\`.`;
}

/** The outcome, in the thread and broadcast to the channel. */
export function renderDeployOutcome(d: DeployRow): SlackMessage {
  const what = d.kind === 'deploy' ? 'Deploy' : 'Rollback';
  const text =
    d.outcome === 'succeeded'
      ? `✅ ${what} of \`${d.service}\` to ${shortTaskDef(d.to_task_def)} succeeded: ${escapeText(d.reason ?? '')}`
      : `❌ ${what} of \`${d.service}\` failed: ${escapeText(endSentence(d.reason ?? 'unknown reason'))}${failureAdvice(d)}`;
  return { text, blocks: [section(text)] };
}

const STATE_LINE: Record<ChangeRequestRow['state'], (r: ChangeRequestRow, tz: string) => string> = {
  requested: (r) => `⏳ Waiting for approval · expires ${slackDate(r.expires_at, '{time}', r.expires_at)}`,
  approved: (r, tz) => `👍 Approved by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)} — starting`,
  executing: (r, tz) => `🔄 Approved by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)} — running, progress in the thread`,
  succeeded: (r, tz) => `✅ Approved by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)} — done: ${escapeText(r.result ?? '')}`,
  failed: (r, tz) => `❌ Approved by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)} — failed: ${escapeText(r.result ?? '')}`,
  rejected: (r, tz) => `🚫 Rejected by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)}`,
  expired: (r, tz) => `⌛ Expired at ${formatTime(r.expires_at, tz)} without enough approvals`,
  cancelled: (r, tz) => `✖️ Cancelled by <@${r.decided_by}> at ${formatTime(r.decided_at!, tz)}`,
};

/** The approval card: who asked for what and why, its state, and the buttons while it is open. */
export function renderRequestCard(r: ChangeRequestRow, service: Service, approverNames: string, approvals: string[], timezone: string): SlackMessage {
  const p = r.params;
  const lines: string[] = [];
  if (r.kind === 'rollback') {
    lines.push(`↩️ *Rollback requested* for \`${service.name}\` (\`${service.service}\`, ${service.region}): ${shortTaskDef(String(p.from))} → ${shortTaskDef(String(p.to))}`);
    lines.push(`Target: ${p.why}`);
  } else {
    lines.push(`⚠️ *Deploy override requested* for \`${service.name}\`: deploy \`${escapeText(String(p.target))}\` despite:`);
    for (const b of (p.blocked_by as string[] | undefined) ?? []) lines.push(`• ${b}`);
  }
  if (typeof p.reason === 'string' && p.reason) lines.push(`Reason: “${escapeText(clip(p.reason, 500))}”`);
  lines.push(`Requested by <@${r.requested_by}> ${slackDate(r.requested_at, '{ago}', formatTime(r.requested_at, timezone))} · approvers: ${approverNames}${r.approvals_required > 1 ? ` · ${approvals.length}/${r.approvals_required} approvals${approvals.length ? ` (${approvals.map((u) => `<@${u}>`).join(', ')})` : ''}` : ''}`);
  const blocks: Block[] = [section(lines.join('\n')), section(STATE_LINE[r.state](r, timezone))];
  if (r.state === 'requested') {
    const id = String(r.id);
    blocks.push({ type: 'actions', block_id: `golive_request_${r.id}`, elements: [button('Approve', ACTION_APPROVE, id, 'primary'), button('Reject', ACTION_REJECT, id, 'danger'), button('Cancel', ACTION_CANCEL, id)] });
  }
  blocks.push(context(`Request #${r.id} · the requester cannot approve their own request`));
  const text = `${r.kind === 'rollback' ? 'Rollback' : 'Deploy override'} of ${service.name} requested by <@${r.requested_by}>: ${r.state}`;
  return { text, blocks };
}

/** The private reply to a click on a card that is no longer open. */
export function renderAlreadyDecided(r: ChangeRequestRow, timezone: string): string {
  const what = r.kind === 'rollback' ? 'rollback' : 'deploy override';
  switch (r.state) {
    case 'approved':
    case 'executing':
    case 'succeeded':
    case 'failed':
      return `This ${what} was already approved by <@${r.decided_by}> at ${formatTime(r.decided_at!, timezone)}; nothing changed.`;
    case 'rejected':
      return `This ${what} was already rejected by <@${r.decided_by}> at ${formatTime(r.decided_at!, timezone)}; nothing changed.`;
    case 'cancelled':
      return `This ${what} was cancelled by <@${r.decided_by}> at ${formatTime(r.decided_at!, timezone)}; nothing changed.`;
    case 'expired':
      return `This ${what} expired at ${formatTime(r.expires_at, timezone)}; nothing changed. Ask again with \`/golive ${r.kind === 'rollback' ? `rollback ${r.service}` : `deploy ${r.service} ${String(r.params.target)} --override`}\` if it is still needed.`;
    default:
      return `This ${what} is still waiting for approval.`;
  }
}
