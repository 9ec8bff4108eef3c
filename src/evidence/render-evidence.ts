import type { Item } from '../platform/runbook/schema.js';
import { clip, escapeText } from '../platform/escape.js';
import { humanDuration } from '../platform/format-time.js';
import type { StoredEvidence } from './decide-evidence.js';
import { context, MAX_MESSAGE_BLOCKS, section, sections } from '../platform/slack/blocks.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

/** "4 min ago", "under a minute ago", "2 h 5 min ago". */
export function ago(iso: string, now: Date): string {
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  return ms < 60_000 ? 'just now' : `${humanDuration(ms)} ago`;
}

/** The evidence line shown under an item: ✅ verified 4 min ago: "…" / ❌ check failed … / ❔ could not check … */
export function evidenceLine(e: StoredEvidence, now: Date, max = 300): string {
  const when = ago(e.checked_at, now);
  const text = escapeText(clip(e.text, max));
  if (e.outcome === 'pass') return `✅ verified ${when}: “${text}”`;
  if (e.outcome === 'fail') {
    const failingFor = now.getTime() - Date.parse(e.since);
    return `❌ check failed ${when}${e.since !== e.checked_at && failingFor >= 60_000 ? ` (failing for ${humanDuration(failingFor)})` : ''}: “${text}”`;
  }
  return `❔ could not check ${when}: ${text}`;
}

/** The drift warning shown on a signed-off item whose check fails. */
export function driftLine(e: StoredEvidence, now: Date): string {
  return `🚨 *Drift*: signed off, but its check has failed since ${ago(e.drift_at ?? e.since, now)}; it counts as open`;
}

/** The channel post when a signed-off item's check starts failing. */
export function renderDrift(item: Item, e: StoredEvidence, signedBy: string | undefined, consequence: string): string {
  const by = signedBy ? ` was signed off by ${signedBy === 'golive' ? 'golive' : `<@${signedBy}>`}, but` : '';
  return `🚨 *Drift*: \`${item.id}\` (${escapeText(item.title)})${by} its check now fails: “${escapeText(clip(e.text, 500))}”\n${consequence}`;
}

/** The channel post when a drifting item passes its check again. */
export function renderRecovery(item: Item, e: StoredEvidence): string {
  return `✅ *Recovered*: \`${item.id}\` (${escapeText(item.title)}) passes its check again: “${escapeText(clip(e.text, 500))}” It counts as done again.`;
}

/** The private answer to `/golive verify`: each item's result, then what the pass changed. */
export function renderVerifyRun(run: { items: { item: Item; evidence: StoredEvidence }[]; calls: number; ms: number; autoSigned: string[]; drifted: string[]; recovered: string[] }, now: Date): SlackMessage {
  const counts = { pass: 0, fail: 0, unknown: 0 };
  for (const r of run.items) counts[r.evidence.outcome]++;
  const head = `🔎 Checked ${run.items.length} item${run.items.length === 1 ? '' : 's'} in ${(run.ms / 1000).toFixed(1)} s: ${counts.pass} ✅ · ${counts.fail} ❌ · ${counts.unknown} ❔`;
  const lines = run.items.map(({ item, evidence }) => `${mark(evidence)} \`${item.id}\` ${escapeText(clip(item.title, 120))}\n      ${evidenceLine(evidence, now, 400)}`);
  const after: string[] = [];
  if (run.autoSigned.length > 0) after.push(`✅ golive signed off ${run.autoSigned.map((i) => `\`${i}\``).join(', ')} (their checks pass and the runbook says auto_signoff).`);
  if (run.drifted.length > 0) after.push(`🚨 Drift announced in the channel for ${run.drifted.map((i) => `\`${i}\``).join(', ')}: signed off, but failing now.`);
  if (run.recovered.length > 0) after.push(`✅ Recovery announced for ${run.recovered.map((i) => `\`${i}\``).join(', ')}.`);
  const blocks = [section(head), ...sections(lines).slice(0, MAX_MESSAGE_BLOCKS - 3), ...(after.length > 0 ? [section(after.join('\n'))] : []), context(`${run.calls} AWS, HTTP and TLS question${run.calls === 1 ? '' : 's'} asked · each result is also shown on \`/golive status\``)];
  return { text: head, blocks };
}

function mark(e: StoredEvidence): string {
  return e.outcome === 'pass' ? '✅' : e.outcome === 'fail' ? '❌' : '❔';
}
