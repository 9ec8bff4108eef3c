import { escapeText, clip } from '../platform/escape.js';
import { formatTime, humanDuration } from '../platform/format-time.js';
import { formatOffset } from '../platform/launch-time.js';
import type { Freeze } from '../platform/runbook/schema.js';
import { ALL_SERVICES, freezeState, placeFreeze, type LockRow, type PlacedFreeze, type Restriction } from './decide-locks.js';

/* Words for locks and freeze windows (plain text, no Slack blocks): refusals, the status and App Home lines, the channel posts. */

/** `api`, or "all services". */
export function scopeLabel(scope: string): string {
  return scope === ALL_SERVICES ? 'all services' : `\`${scope}\``;
}

/** A freeze window's times: "T+0 → T+2h (1 Dec 08:00 IST – 1 Dec 10:00 IST)". */
export function freezeWhen(w: PlacedFreeze, timezone: string): string {
  const rel = w.freeze.from.startsWith('T') ? `${w.freeze.from} → ${w.freeze.until} ` : '';
  return `${rel}(${formatTime(w.from.toISOString(), timezone)} – ${formatTime(w.until.toISOString(), timezone)})`;
}

/** One restriction in a sentence, for refusals and the status. */
export function describeRestriction(r: Restriction, ctx: { timezone: string; now: Date }): string {
  const { timezone, now } = ctx;
  switch (r.kind) {
    case 'lock': {
      const l = r.lock;
      return `🔒 ${l.scope === ALL_SERVICES ? 'All services are' : `${scopeLabel(l.scope)} is`} locked by <@${l.locked_by}>: “${escapeText(clip(l.reason, 300))}” — until ${formatTime(l.expires_at, timezone)} (in ${humanDuration(Date.parse(l.expires_at) - now.getTime())})`;
    }
    case 'freeze': {
      const w = r.window;
      const services = w.freeze.services.length > 0 ? w.freeze.services.map((s) => `\`${s}\``).join(', ') : 'every service';
      return `🧊 Freeze *${escapeText(w.freeze.title)}* ${freezeWhen(w, timezone)} holds deploys of ${services} — ends in ${humanDuration(w.until.getTime() - now.getTime())}`;
    }
    case 'in_progress': {
      const d = r.deploy;
      return `🔄 A ${d.kind} (#${d.id}) started by <@${d.requested_by}> at ${formatTime(d.started_at, timezone)} is in progress`;
    }
  }
}

/** The refusal of a deploy that a lock or freeze holds. */
export function lockedText(service: string, restrictions: Restriction[], ctx: { timezone: string; now: Date }): { message: string; hint: string } {
  const held = restrictions.filter((r) => r.kind !== 'in_progress');
  const locks = held.filter((r): r is Extract<Restriction, { kind: 'lock' }> => r.kind === 'lock');
  const unlock = locks.length > 0 ? ` To lift ${locks.length === 1 ? 'the lock' : 'the locks'}: ${[...new Set(locks.map((l) => `\`/golive unlock ${l.lock.scope === ALL_SERVICES ? 'all' : l.lock.scope}\``))].join(', ')}.` : '';
  return {
    message: `Deploy of \`${service}\` refused: ${held.length === 1 ? 'it is held' : `${held.length} things hold it`}. Nothing was changed.`,
    hint: `${held.map((r) => `• ${describeRestriction(r, ctx)}`).join('\n')}\nRollbacks are still allowed.${unlock}`,
  };
}

/** The channel post when a lock is set (or extended by its holder). */
export function lockSetText(l: LockRow, timezone: string, opts: { extended: boolean; capped: boolean; maxDuration: string }): string {
  const what = opts.extended ? 'extended the lock on' : 'locked';
  const cap = opts.capped ? ` (the runbook allows at most ${opts.maxDuration})` : '';
  return `🔒 <@${l.locked_by}> ${what} ${scopeLabel(l.scope)} until ${formatTime(l.expires_at, timezone)}${cap}: “${escapeText(clip(l.reason, 500))}”. Deploys are refused until then; rollbacks are still allowed. \`/golive unlock ${l.scope === ALL_SERVICES ? 'all' : l.scope}\` lifts it.`;
}

/** The channel post when a lock is released or runs out. */
export function lockReleasedText(l: LockRow, timezone: string, now: Date): string {
  const held = humanDuration(now.getTime() - Date.parse(l.locked_at));
  if (l.release_kind === 'expired') return `🔓 The lock on ${scopeLabel(l.scope)} by <@${l.locked_by}> (“${escapeText(clip(l.reason, 200))}”) expired at ${formatTime(l.expires_at, timezone)} after ${held}. Deploys are allowed again.`;
  const by = l.released_by && l.released_by !== l.locked_by ? `<@${l.released_by}> unlocked ${scopeLabel(l.scope)} (locked by <@${l.locked_by}>: “${escapeText(clip(l.reason, 200))}”)` : `<@${l.locked_by}> unlocked ${scopeLabel(l.scope)}`;
  return `🔓 ${by} after ${held}. Deploys are allowed again.`;
}

/** A freeze window as a timeline line: "🧊 `T+0 → T+2h (…)` *Launch hypercare* — active, ends in 1 h". */
export function freezeTimelineLine(w: PlacedFreeze, timezone: string, now: Date, t0?: Date): string {
  const state = freezeState(w, now);
  const when = w.freeze.from.startsWith('T') || !t0 ? freezeWhen(w, timezone) : `${formatOffset(w.from, t0)} → ${formatOffset(w.until, t0)} ${freezeWhen(w, timezone)}`;
  const services = w.freeze.services.length > 0 ? ` (${w.freeze.services.map((s) => `\`${s}\``).join(', ')})` : '';
  const status = state === 'active' ? `deploys held now, ends in ${humanDuration(w.until.getTime() - now.getTime())}` : state === 'upcoming' ? `deploys held from then, in ${humanDuration(w.from.getTime() - now.getTime())}` : 'ended';
  return `🧊 \`${when}\` *Freeze: ${escapeText(w.freeze.title)}*${services} — ${status}; rollbacks allowed`;
}

/** Every freeze window of the runbook as a timeline line; a relative one waits for T-0. */
export function freezeTimelineLines(freezes: readonly Freeze[], timezone: string, now: Date, t0?: Date): string[] {
  return freezes.map((f) => {
    const w = placeFreeze(f, t0);
    if (w) return freezeTimelineLine(w, timezone, now, t0);
    return `❔ \`${f.from} → ${f.until}\` *Freeze: ${escapeText(f.title)}* — waits for T-0; rollbacks allowed`;
  });
}

/** What holds deploys now or soon, one line each, for \`/golive status\` and App Home: locks in force, freeze windows in force or to come. */
export function holdLines(overview: { locks: LockRow[]; freezes: (PlacedFreeze & { state: 'active' | 'upcoming' })[] }, ctx: { timezone: string; now: Date }): string[] {
  const locks = overview.locks.map((lock) => describeRestriction({ kind: 'lock', lock }, ctx));
  const active = overview.freezes.filter((w) => w.state === 'active').map((window) => describeRestriction({ kind: 'freeze', window }, ctx));
  const upcoming = overview.freezes
    .filter((w) => w.state === 'upcoming')
    .map((w) => `🧊 Freeze *${escapeText(w.freeze.title)}* ${freezeWhen(w, ctx.timezone)} starts in ${humanDuration(w.from.getTime() - ctx.now.getTime())}${w.freeze.services.length > 0 ? ` (${w.freeze.services.map((s) => `\`${s}\``).join(', ')})` : ''}`);
  return [...locks, ...active, ...upcoming];
}
