import { isHard, type CriterionResult, type DecisionRow, type Evidence, type Vote, type VoteRow } from './gonogo-service.js';
import { clip, escapeText } from '../platform/escape.js';
import { context, MAX_SECTION_CHARS, section } from '../platform/slack/blocks.js';
import { formatTime } from '../platform/format-time.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

export const ACTION_GONOGO_GO = 'golive_gonogo_go';
export const ACTION_GONOGO_NOGO = 'golive_gonogo_nogo';
export const VIEW_GONOGO_VOTE = 'golive_gonogo_vote';

type Block = Record<string, unknown>;


function mark(pass: boolean | null): string {
  return pass === true ? '✅' : pass === false ? '❌' : '❔';
}

/** One criterion: mark, label, measured value, and where the value came from. */
export function criterionLine(r: CriterionResult): string {
  return `${mark(r.pass)} *${escapeText(clip(r.label, 200))}*${isHard(r) ? ' (hard)' : ''} — ${escapeText(clip(r.value, 400))}\n      _${escapeText(clip(r.source, 400))}_`;
}

/** "4 of 6 criteria pass · 1 fails · 1 unknown" */
export function evidenceSummary(e: Evidence): string {
  const pass = e.results.filter((r) => r.pass === true).length;
  const fail = e.results.filter((r) => r.pass === false).length;
  const unknown = e.results.length - pass - fail;
  const parts = [`${pass} of ${e.results.length} criteria pass`];
  if (fail) parts.push(`${fail} fail${fail === 1 ? 's' : ''}`);
  if (unknown) parts.push(`${unknown} unknown`);
  return parts.join(' · ');
}

/** Criteria as section blocks, several per block where they fit (a runbook may list many). */
function criteriaBlocks(e: Evidence, maxBlocks: number): Block[] {
  const out: string[] = [];
  let cur = '';
  for (const line of e.results.map(criterionLine)) {
    if (cur && cur.length + 1 + line.length > MAX_SECTION_CHARS) {
      out.push(cur);
      cur = line;
    } else cur = cur ? `${cur}\n${line}` : line;
  }
  if (cur) out.push(cur);
  return out.slice(0, maxBlocks).map((text) => section(text));
}

/** The private evidence reply (`/golive gonogo` while a decision is already open). */
export function renderEvidence(e: Evidence, tz: string, heading: string): SlackMessage {
  const verdict = e.allPass ? '🟢 *Every criterion passes.*' : `🔴 *${evidenceSummary(e)}.*`;
  const blocks = [section(heading), section(verdict), ...criteriaBlocks(e, 20), context(`Evidence gathered ${formatTime(e.at, tz)}`)];
  return { text: `${heading} ${evidenceSummary(e)}.`, blocks };
}

function voteLine(v: VoteRow, tz: string): string {
  return `${v.vote === 'go' ? '🟢 Go' : '🔴 No-Go'} — <@${v.user_id}> at ${formatTime(v.at, tz)}${v.note ? `: “${escapeText(clip(v.note, 300))}”` : ''}`;
}

/** What the Go voters wrote when a GO was decided against failing or unknown (overridable) criteria; undefined for a GO on all-passing evidence. */
export function overrideNote(d: DecisionRow, votes: VoteRow[]): string | undefined {
  if (d.state !== 'go' || d.evidence.allPass) return undefined;
  const notes = votes.filter((v) => v.vote === 'go' && v.note).map((v) => v.note!);
  return notes.length > 0 ? notes.join('; ') : 'no note';
}

/** The outcome line, for the card, its vote notices, and (through {@link launchVerdict}) status, App Home and announcements. */
export function decisionLine(d: DecisionRow, votes: VoteRow[], tz: string): string {
  if (d.state === 'open') return `🗳️ Go/No-Go decision #${d.id} is open (called ${formatTime(d.opened_at, tz)}): waiting for votes.`;
  const override = overrideNote(d, votes);
  const outcome = d.state === 'no_go' ? '🔴 *NO-GO*' : override === undefined ? '🟢 *GO*' : `🟢 *GO (override: “${escapeText(clip(override, 200))}”)*`;
  return `${outcome} — go/no-go decision #${d.id}, decided ${formatTime(d.decided_at!, tz)}.`;
}

/** The decision card: evidence, rule, votes, outcome; Go / No-Go buttons while it is open. */
export function renderDecisionCard(d: DecisionRow, votes: VoteRow[], ctx: { tz: string; launchName: string; voters: string }): SlackMessage {
  const e = d.evidence;
  const goVotes = votes.filter((v) => v.vote === 'go').length;
  const rule = `GO needs ${d.votes_required} Go vote${d.votes_required === 1 ? '' : 's'}; one No-Go decides NO-GO.`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`🗳️ Go/No-Go #${d.id} — ${ctx.launchName}`, 150), emoji: true } },
    section(`Called by <@${d.opened_by}> at ${formatTime(d.opened_at, ctx.tz)}. Voters: ${escapeText(ctx.voters)}. ${rule}`),
    section(e.allPass ? '🟢 *Evidence: every criterion passes.*' : `🔴 *Evidence: ${evidenceSummary(e)}.*`),
    ...criteriaBlocks(e, 30),
    context(
      [`Evidence gathered ${formatTime(e.at, ctx.tz)}`, ...(e.results.some(isHard) ? ['(hard) criteria must pass before anyone may vote Go'] : []), ...(e.results.some((r) => !isHard(r) && r.pass !== true) ? ['a Go vote against any other failing or unknown criterion needs a note'] : [])].join(' · '),
    ),
    { type: 'divider' },
  ];
  const tally = `*Votes* (${goVotes} of ${d.votes_required} Go)${votes.length ? `\n${votes.map((v) => voteLine(v, ctx.tz)).join('\n')}` : ': none yet'}`;
  blocks.push(section(tally));
  if (d.state === 'open') {
    blocks.push({
      type: 'actions',
      block_id: 'golive_gonogo_vote',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Go' }, style: 'primary', action_id: ACTION_GONOGO_GO, value: String(d.id) },
        { type: 'button', text: { type: 'plain_text', text: 'No-Go' }, style: 'danger', action_id: ACTION_GONOGO_NOGO, value: String(d.id) },
      ],
    });
  } else {
    blocks.push(section(decisionLine(d, votes, ctx.tz)));
  }
  const override = overrideNote(d, votes);
  const text = d.state === 'open' ? `Go/No-Go #${d.id}: ${evidenceSummary(e)}; vote Go or No-Go.` : `Go/No-Go #${d.id}: ${d.state === 'no_go' ? 'NO-GO' : override === undefined ? 'GO' : `GO (override: “${escapeText(clip(override, 200))}”)`}.`;
  return { text, blocks };
}

/** The channel line when a vote is recorded (a thread under the card). */
export function renderVoteNotice(d: DecisionRow, votes: VoteRow[], v: VoteRow, tz: string): SlackMessage {
  const decided = d.state === 'open' ? '' : `\n${decisionLine(d, votes, tz)}`;
  const text = `${voteLine(v, tz)}${decided}`;
  return { text, blocks: [section(text)] };
}

/** The note modal behind the Go / No-Go buttons. */
export function voteModal(d: DecisionRow, vote: Vote) {
  const needsNote = vote === 'go' && !d.evidence.allPass;
  return {
    type: 'modal',
    callback_id: VIEW_GONOGO_VOTE,
    private_metadata: JSON.stringify({ d: d.id, v: vote }),
    title: { type: 'plain_text', text: vote === 'go' ? `Vote Go on #${d.id}` : `Vote No-Go on #${d.id}` },
    submit: { type: 'plain_text', text: vote === 'go' ? 'Vote Go' : 'Vote No-Go' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(needsNote ? `Not every criterion passes (${evidenceSummary(d.evidence)}). Say why the launch should go ahead anyway.` : vote === 'go' ? 'Every criterion passed when the card was posted.' : 'One No-Go decides NO-GO.'),
      {
        type: 'input',
        block_id: 'note',
        optional: !needsNote,
        label: { type: 'plain_text', text: needsNote ? 'Why Go anyway' : 'Note (optional)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000 },
      },
    ],
  };
}
