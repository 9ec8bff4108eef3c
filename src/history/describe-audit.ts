import type { AuditRow } from '../platform/store/audit-repository.js';
import { clip, escapeText } from '../platform/escape.js';
import { formatTime, preciseDuration } from '../platform/format-time.js';
import type { ChangeStory } from '../deploys/index.js';

/** What a history line may look up beyond its own row. */
export interface HistoryContext {
  timezone: string;
  /** The deploy or rollback with this id, if golive has it. */
  change(deployId: number): ChangeStory | undefined;
}

const who = (id: string) => (id === 'golive' ? 'golive' : id === 'cloudwatch' ? 'CloudWatch' : `<@${id}>`);
const code = (s: unknown) => `\`${escapeText(clip(String(s), 120)).replace(/`/g, "'")}\``;
const quote = (s: unknown) => `“${escapeText(clip(String(s), 200))}”`;
/** `:5` from a task-definition ARN or `family:5`. */
function rev(taskDef: unknown): string {
  if (typeof taskDef !== 'string' || !taskDef) return '?';
  const m = /:(\d+)$/.exec(taskDef);
  return m ? `:${m[1]}` : escapeText(taskDef);
}
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const people = (ids: string[]) => ids.map(who).join(', ');

/** "@arjun asked to roll back `api` from :5 to :4 — approved by @vikram — rolled back in 2 min 10 s" */
function storyOf(c: ChangeStory): string {
  const took = c.finishedAt ? preciseDuration(Date.parse(c.finishedAt) - Date.parse(c.startedAt)) : undefined;
  const approved = c.approvedBy.length ? ` — approved by ${people(c.approvedBy)}` : '';
  if (c.kind === 'rollback') {
    const end = c.outcome === 'succeeded' ? `rolled back in ${took}` : c.outcome === 'failed' ? `the rollback failed after ${took}${c.reason ? `: ${escapeText(clip(c.reason, 200))}` : ''}` : 'rolling back';
    return `${who(c.requestedBy)} asked to roll back ${code(c.service)} from ${rev(c.from)} to ${rev(c.to)}${approved} — ${end}`;
  }
  const what = `${code(c.service)} ${rev(c.from)} → ${rev(c.to)}${c.image ? ` (image ${code(c.image)})` : ''}`;
  const end = c.outcome === 'succeeded' ? `deployed in ${took}` : c.outcome === 'failed' ? `failed after ${took}${c.reason ? `: ${escapeText(clip(c.reason, 200))}` : ''}` : 'rolling out';
  return `${who(c.requestedBy)} deployed ${what}${approved} — ${end}`;
}

type Describe = (r: AuditRow, d: Record<string, unknown>, ctx: HistoryContext) => string;

/** One sentence per kind of audit row; anything a feature adds later still reads as words (see `fallback`). */
const SENTENCES: Record<string, Describe> = {
  'item.check': (r, d) => `${who(r.actor)} signed off ${code(r.target)}${str(d.note) ? ` — ${quote(d.note)}` : ''}`,
  'item.uncheck': (r, d) =>
    `${who(r.actor)} reopened ${code(r.target)}${str(d.reason) ? ` — ${quote(d.reason)}` : ''}${Array.isArray(d.revoked_signoffs) && d.revoked_signoffs.length ? `, which withdrew the sign-offs of ${d.revoked_signoffs.map(String).map(escapeText).join(', ')}` : ''}`,
  'gate.signoff': (r, d) => `${who(r.actor)} signed off gate ${code(r.target)}${Array.isArray(d.roles) ? ` as ${d.roles.map(String).map(escapeText).join(', ')}` : ''}`,
  'deploy.start': (r, d) => `${who(r.actor)} started deploying ${code(r.target)} ${rev(d.from)} → ${d.to ? rev(d.to) : 'a new revision'}${str(d.image) ? ` (image ${code(d.image)})` : ''}${d.override ? ' past the deploy gate, with approval' : ''}`,
  'deploy.refused': (r, d) => `The deploy gate refused ${who(r.actor)}'s deploy of ${code(r.target)}${Array.isArray(d.blocked_by) && d.blocked_by.length ? `: ${d.blocked_by.map(String).map((s) => escapeText(clip(s, 200))).join('; ')}` : ''}`,
  'deploy.succeeded': (r, d, ctx) => finished(r, d, ctx, 'succeeded'),
  'deploy.failed': (r, d, ctx) => finished(r, d, ctx, 'failed'),
  'rollback.succeeded': (r, d, ctx) => finished(r, d, ctx, 'succeeded'),
  'rollback.failed': (r, d, ctx) => finished(r, d, ctx, 'failed'),
  'rollback.request': (r, d) => `${who(r.actor)} asked to roll back ${code(r.target)} from ${rev(d.from)} to ${rev(d.to)}${str(d.reason) ? ` — ${quote(d.reason)}` : ''} (request #${num(d.request) ?? '?'})`,
  'rollback.approve': (r, d) => `${who(r.actor)} approved rolling back ${code(r.target)} (request #${num(d.request) ?? '?'}${num(d.needed) && num(d.needed)! > 1 ? `, ${num(d.approvals)} of ${num(d.needed)} approvals` : ''})`,
  'rollback.reject': (r, d) => `${who(r.actor)} rejected rolling back ${code(r.target)} (request #${num(d.request) ?? '?'})`,
  'rollback.cancel': (r, d) => `${who(r.actor)} cancelled the rollback of ${code(r.target)} (request #${num(d.request) ?? '?'})${str(d.reason) ? ` — ${escapeText(clip(String(d.reason), 200))}` : ''}`,
  'rollback.expire': (r, d) => `Nobody approved rolling back ${code(r.target)} in time: request #${num(d.request) ?? '?'} expired`,
  'rollback.execute': (r, d) => `golive began the approved rollback of ${code(r.target)} (request #${num(d.request) ?? '?'})`,
  'rollback.start': (r, d) => `Rolling back ${code(r.target)} from ${rev(d.from)} to ${rev(d.to)} started${r.actor !== 'golive' ? `, approved by ${who(r.actor)}` : ''}`,
  'rollback.closed': (r, d) => `Rollback request #${num(d.request) ?? '?'} for ${code(r.target)} closed: ${d.outcome === 'succeeded' ? 'done' : `failed${str(d.result) ? ` — ${escapeText(clip(String(d.result), 200))}` : ''}`}`,
  'deploy_override.request': (r, d) => `${who(r.actor)} asked to deploy ${code(r.target)} ${str(d.target) ? code(d.target) : ''} past the deploy gate${Array.isArray(d.blocked_by) && d.blocked_by.length ? ` (blocked by ${d.blocked_by.map(String).map((s) => escapeText(clip(s, 80))).join('; ')})` : ''}`,
  'deploy_override.approve': (r) => `${who(r.actor)} approved deploying ${code(r.target)} past the deploy gate`,
  'deploy_override.reject': (r) => `${who(r.actor)} rejected deploying ${code(r.target)} past the deploy gate`,
  'deploy_override.cancel': (r) => `${who(r.actor)} cancelled the deploy-gate override of ${code(r.target)}`,
  'deploy_override.expire': (r) => `Nobody approved the deploy-gate override of ${code(r.target)} in time: it expired`,
  'deploy_override.execute': (r) => `golive began the approved deploy of ${code(r.target)} past the gate`,
  'deploy_override.closed': (r, d) => `The deploy-gate override of ${code(r.target)} closed: ${d.outcome === 'succeeded' ? 'deployed' : 'failed'}`,
  'launch.t0': (r, d, ctx) =>
    `${r.actor === 'golive' && d.by === 'runbook file' ? 'The runbook file' : who(r.actor)} ${d.from ? 'moved' : 'set'} T-0 to ${str(d.to) ? formatTime(String(d.to), ctx.timezone) : '?'}${str(d.from) ? ` (was ${formatTime(String(d.from), ctx.timezone)})` : ''}`,
  'milestone.posted': (r, d) => `golive posted the milestone ${quote(r.target)}${num(d.late_ms) ? `, ${preciseDuration(num(d.late_ms)!)} late` : ''}`,
  'gonogo.open': (r, d) => `${who(r.actor)} called go/no-go (${escapeText(r.target)})${d.all_pass === true ? ': every criterion passed' : Array.isArray(d.failing) && d.failing.length ? `: not passing — ${d.failing.map(String).map((s) => escapeText(clip(s, 80))).join('; ')}` : ''}`,
  'gonogo.refresh': (r) => `${who(r.actor)} re-read the go/no-go evidence (${escapeText(r.target)})`,
  'gonogo.vote': (r, d) => `${who(r.actor)} voted ${d.vote === 'go' ? 'Go' : 'No-Go'} on ${escapeText(r.target)}${str(d.note) ? ` — ${quote(d.note)}` : ''}`,
  'gonogo.decide': (r, d) => `go/no-go ${escapeText(r.target)} decided: ${d.outcome === 'go' ? '✅ GO' : '⛔ NO-GO'}`,
  'lock.set': (r, d, ctx) => `${who(r.actor)} locked deploys of ${code(r.target)}${str(d.reason) ? ` — ${quote(d.reason)}` : ''}${str(d.expires_at) ? ` · until ${formatTime(String(d.expires_at), ctx.timezone)}` : ''}`,
  'lock.extend': (r, d, ctx) => `${who(r.actor)} extended the deploy lock on ${code(r.target)}${str(d.expires_at) ? ` · until ${formatTime(String(d.expires_at), ctx.timezone)}` : ''}`,
  'lock.release': (r, d) => `${who(r.actor)} unlocked deploys of ${code(r.target)}${str(d.reason) ? ` — ${quote(d.reason)}` : ''}`,
  'lock.expire': (r) => `The deploy lock on ${code(r.target)} expired`,
  'canary.start': (r) => `${who(r.actor)} started a canary of ${code(r.target)}`,
  'canary.bake': (r) => `The canary of ${code(r.target)} began baking`,
  'canary.wait': (r) => `The canary of ${code(r.target)} finished baking and waits for a decision`,
  'canary.promote': (r) => `${who(r.actor)} promoted the canary of ${code(r.target)}`,
  'canary.abort': (r, d) => `${who(r.actor)} aborted the canary of ${code(r.target)}${str(d.reason) ? ` — ${quote(d.reason)}` : ''}`,
  'canary.succeeded': (r) => `The canary of ${code(r.target)} was promoted and the rollout is done`,
  'canary.aborted': (r) => `The canary of ${code(r.target)} was taken down`,
  'canary.failed': (r, d) => `The canary of ${code(r.target)} failed${str(d.reason) ? `: ${escapeText(clip(String(d.reason), 200))}` : ''}`,
  'alarm.transition': (r, d) => `CloudWatch: ${code(r.target)} went ${escapeText(String(d.from ?? 'unknown'))} → ${escapeText(String(d.to ?? '?'))}`,
  'alarm.acknowledge': (r) => `${who(r.actor)} acknowledged the alarm ${code(r.target)}`,
  'alarm.settled': (r) => `${code(r.target)} stopped flapping; its held page was resolved`,
  'incident.declare': (r, d) => `${who(r.actor)} declared ${escapeText(r.target)} ${escapeText(String(d.severity ?? ''))}: ${quote(d.summary ?? '')}${str(d.commander) && d.commander !== r.actor ? `, commanded by ${who(String(d.commander))}` : ''}`,
  'incident.update': (r, d) => `${who(r.actor)} posted update #${num(d.n) ?? '?'} on ${escapeText(r.target)}: ${quote(d.status ?? '')}`,
  'incident.resolve': (r, d) => `${who(r.actor)} resolved ${escapeText(r.target)}${str(d.duration) ? ` after ${escapeText(String(d.duration))}` : ''} — root cause ${quote(d.root_cause ?? '')}`,
  'incident.acknowledge': (r) => `${who(r.actor)} acknowledged ${escapeText(r.target)}`,
  'incident.severity': (r, d) => `${who(r.actor)} re-graded ${escapeText(r.target)} from ${escapeText(String(d.from ?? '?'))} to ${escapeText(String(d.to ?? '?'))}`,
  'incident.commander': (r, d) => `${who(r.actor)} handed ${escapeText(r.target)} over to ${str(d.to) ? who(String(d.to)) : '?'}`,
  'incident.root_cause': (r, d) => `${who(r.actor)} recorded the root cause of ${escapeText(r.target)}: ${quote(d.root_cause ?? '')}`,
  'incident.escalate': (r, d) => `Nobody acknowledged ${escapeText(r.target)} in time: golive escalated it${Array.isArray(d.roles) && d.roles.length ? ` to ${d.roles.map(String).map(escapeText).join(', ')}` : ''}`,
  'incident.pin': (r, d) => `${who(r.actor)} added a message${str(d.author) ? ` by ${who(String(d.author))}` : ''} to the timeline of ${escapeText(r.target)}`,
  'report.posted': (r, d) => `${who(r.actor)} posted the ${d.kind === 'postmortem' ? 'post-mortem draft' : 'launch report'}${r.target !== 'launch' ? ` of ${escapeText(r.target)}` : ''}`,
};

function finished(r: AuditRow, d: Record<string, unknown>, ctx: HistoryContext, outcome: 'succeeded' | 'failed'): string {
  const story = num(d.deploy) !== undefined ? ctx.change(num(d.deploy)!) : undefined;
  if (story) return storyOf(story);
  const kind = r.action.startsWith('rollback') ? 'rollback' : 'deploy';
  return `The ${kind} of ${code(r.target)} to ${rev(d.to)} ${outcome}${outcome === 'failed' && str(d.reason) ? `: ${escapeText(clip(String(d.reason), 200))}` : ''}`;
}

/** "canary.promote" → "canary promote": an action a later feature adds, still in words, never a bare code. */
function fallback(r: AuditRow): string {
  return `${who(r.actor)}: ${escapeText(r.action.replace(/[._]/g, ' '))} ${code(r.target)}`;
}

/** One audit row as a sentence a person reads at 3 a.m. */
export function describeAuditRow(row: AuditRow, ctx: HistoryContext): string {
  const describe = SENTENCES[row.action];
  return describe ? describe(row, row.detail, ctx) : fallback(row);
}
