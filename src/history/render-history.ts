import type { AuditRow } from '../platform/store/audit-repository.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import { MAX_MESSAGE_BLOCKS, renderNotice, sections } from '../platform/slack/blocks.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

const ACTION_WORDS: Record<string, string> = {
  'item.check': 'signed off',
  'item.uncheck': 'reopened',
  'gate.signoff': 'signed off gate',
  'deploy.start': 'started a deploy of',
  'deploy.succeeded': '(golive) deploy succeeded for',
  'deploy.failed': '(golive) deploy failed for',
  'rollback.request': 'asked to roll back',
  'rollback.approve': 'approved the rollback of',
  'rollback.reject': 'rejected the rollback of',
  'rollback.cancel': 'cancelled the rollback of',
  'rollback.expire': '(golive) rollback request expired for',
  'rollback.start': 'started rolling back',
  'rollback.succeeded': '(golive) rollback succeeded for',
  'rollback.failed': '(golive) rollback failed for',
  'deploy_override.request': 'asked to override the deploy gate of',
  'deploy_override.approve': 'approved the deploy override of',
  'launch.t0': 'moved',
  'milestone.posted': '(golive) posted the milestone',
  'gonogo.open': 'called go/no-go',
  'gonogo.vote': 'voted on go/no-go',
  'gonogo.refresh': 're-read the evidence of go/no-go',
  'gonogo.decide': '(golive) decided go/no-go',
  'lock.set': 'locked deploys of',
  'lock.extend': 'extended the deploy lock on',
  'lock.release': 'unlocked deploys of',
  'lock.expire': '(golive) deploy lock expired on',
  'canary.start': 'started a canary of',
  'canary.bake': '(golive) canary baking for',
  'canary.wait': '(golive) canary bake over for',
  'canary.promote': 'promoted the canary of',
  'canary.abort': 'aborted the canary of',
  'canary.succeeded': '(golive) canary promoted and done for',
  'canary.aborted': '(golive) canary taken down for',
  'canary.failed': '(golive) canary failed for',
};

/** The audit trail, newest first. */
export function renderHistory(rows: AuditRow[], timezone: string, requested: number): SlackMessage {
  if (rows.length === 0) return renderNotice('Nothing has happened yet: the audit trail is empty.');
  const lines = rows.map((r) => {
    const what = ACTION_WORDS[r.action] ?? r.action;
    const d = r.detail;
    const extra: string[] = [];
    if (typeof d.note === 'string' && d.note) extra.push(`“${escapeText(clip(d.note, 200))}”`);
    if (typeof d.reason === 'string' && d.reason) extra.push(`“${escapeText(clip(d.reason, 200))}”`);
    if (Array.isArray(d.roles)) extra.push(`for ${d.roles.join(', ')}`);
    if (Array.isArray(d.revoked_signoffs) && d.revoked_signoffs.length > 0) extra.push(`withdrew sign-offs: ${d.revoked_signoffs.join(', ')}`);
    if ((r.action === 'lock.set' || r.action === 'lock.extend') && typeof d.expires_at === 'string') extra.push(`until ${formatTime(d.expires_at, timezone)}`);
    if (r.action === 'launch.t0' && typeof d.to === 'string') extra.push(`to ${formatTime(d.to, timezone)}${typeof d.from === 'string' ? ` (was ${formatTime(d.from, timezone)})` : ''}`);
    if ((r.action === 'gonogo.vote' || r.action === 'gonogo.decide') && typeof (d.vote ?? d.outcome) === 'string') extra.push(String(d.vote ?? d.outcome) === 'go' ? 'Go' : 'No-Go');
    const where = r.source === 'button' ? 'button' : r.source === 'command' ? 'command' : 'golive';
    const channel = r.channel ? ` in <#${r.channel}>` : '';
    return `\`${formatTime(r.at, timezone)}\` <@${r.actor}> ${what} \`${r.target}\`${extra.length ? ` — ${extra.join(' · ')}` : ''} _(${where}${channel})_`;
  });
  const title = `*Audit trail — last ${rows.length}${rows.length < requested ? ` (all there is)` : ''}, newest first*`;
  return { text: [title, ...lines].join('\n'), blocks: sections([title, ...lines]).slice(0, MAX_MESSAGE_BLOCKS) };
}
