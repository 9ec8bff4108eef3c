import { parseDuration, resolveTimeRef } from '../platform/launch-time.js';
import type { Freeze } from '../platform/runbook/schema.js';

/*
 * Deploy locks and freeze windows, as pure functions: which locks are in
 * force at an instant, which freeze windows cover a service, and what
 * `/golive lock` was asked to do. Rollbacks are never subject to any of it.
 */

/** The scope of a lock on every service. */
export const ALL_SERVICES = '*';

/** A lock as stored: set by a person, released by a person or by expiring. */
export interface LockRow {
  id: number;
  /** A service name, or `*` for every service. */
  scope: string;
  reason: string;
  locked_by: string;
  locked_at: string;
  expires_at: string;
  released_at: string | null;
  released_by: string | null;
  release_kind: 'unlocked' | 'expired' | null;
  channel: string | null;
}

/** A freeze window placed on the clock (relative times need T-0). */
export interface PlacedFreeze {
  freeze: Freeze;
  from: Date;
  until: Date;
}

/** Something that stops a deploy of a service right now. */
export type Restriction =
  | { kind: 'lock'; lock: LockRow }
  | { kind: 'freeze'; window: PlacedFreeze }
  /** A deploy or canary in progress holds the service until it ends. */
  | { kind: 'in_progress'; deploy: { id: number; kind: string; requested_by: string; started_at: string } };

/** Whether a lock is in force at `now`: not released, not past its expiry. */
export function inForce(lock: LockRow, now: Date): boolean {
  return lock.released_at === null && Date.parse(lock.expires_at) > now.getTime();
}

/** Whether a lock covers a service: its own lock, or one on every service. */
export function covers(scope: string, service: string): boolean {
  return scope === ALL_SERVICES || scope === service;
}

/** A freeze window's instants; undefined while T-0 is unknown for a relative one. */
export function placeFreeze(freeze: Freeze, t0: Date | undefined): PlacedFreeze | undefined {
  const from = resolveTimeRef(freeze.from, t0);
  const until = resolveTimeRef(freeze.until, t0);
  return from && until ? { freeze, from, until } : undefined;
}

/** Where a freeze window stands at `now`. */
export function freezeState(w: PlacedFreeze, now: Date): 'upcoming' | 'active' | 'ended' {
  if (now.getTime() < w.from.getTime()) return 'upcoming';
  return now.getTime() < w.until.getTime() ? 'active' : 'ended';
}

/** Every reason a deploy of `service` must wait at `now`: locks first, then freeze windows, then a change in progress. */
export function restrictionsFor(
  service: string,
  world: { locks: readonly LockRow[]; freezes: readonly Freeze[]; t0: Date | undefined; now: Date; running?: Extract<Restriction, { kind: 'in_progress' }>['deploy'] },
): Restriction[] {
  const out: Restriction[] = [];
  for (const lock of world.locks) if (inForce(lock, world.now) && covers(lock.scope, service)) out.push({ kind: 'lock', lock });
  for (const f of world.freezes) {
    if (f.services.length > 0 && !f.services.includes(service)) continue;
    const w = placeFreeze(f, world.t0);
    if (w && freezeState(w, world.now) === 'active') out.push({ kind: 'freeze', window: w });
  }
  if (world.running) out.push({ kind: 'in_progress', deploy: world.running });
  return out;
}

/** What `/golive lock` was asked: the scope, the reason, and how long (undefined: the runbook's default). */
export type LockRequest = { scope: string; reason: string; durationMs?: number } | { problem: string };

/**
 * Reads `<service|all> <reason> [for <duration>]`. The duration is the last
 * two words when they are "for" and something starting with a digit, which
 * must then be a duration such as `2h` or `1d12h`.
 */
export function parseLockRequest(rest: string): LockRequest {
  const text = rest.trim();
  const [first = '', ...words] = text.split(/\s+/);
  if (!first) return { problem: '`/golive lock` needs a service (or `all`) and a reason.' };
  const scope = first.toLowerCase() === 'all' ? ALL_SERVICES : first.toLowerCase();
  let reasonWords = words;
  let durationMs: number | undefined;
  const n = words.length;
  // "waiting for QA" is a reason; "for 2h" a duration, and "for 2hours" a duration mistyped.
  if (n >= 2 && words[n - 2]!.toLowerCase() === 'for' && /^\d/.test(words[n - 1]!)) {
    const ms = parseDuration(words[n - 1]!.toLowerCase());
    if (ms === undefined) return { problem: `\`${clean(words[n - 1]!)}\` is not a duration; use one like \`30m\`, \`2h\` or \`1d12h\`.` };
    if (ms === 0) return { problem: 'A lock must last longer than 0 minutes.' };
    durationMs = ms;
    reasonWords = words.slice(0, n - 2);
  }
  const reason = reasonWords.join(' ').trim();
  if (!reason) return { problem: 'Say why: `/golive lock <service|all> <reason> [for <duration>]`, e.g. `/golive lock api DB migration running for 2h`.' };
  return { scope, reason, ...(durationMs === undefined ? {} : { durationMs }) };
}

/** The expiry of a lock set at `now`: the asked duration, else the runbook's default, capped at its maximum. */
export function lockExpiry(now: Date, asked: number | undefined, config: { default_duration: string; max_duration: string }): { expiresAt: Date; capped: boolean } {
  const max = parseDuration(config.max_duration)!;
  const want = asked ?? parseDuration(config.default_duration)!;
  return { expiresAt: new Date(now.getTime() + Math.min(want, max)), capped: want > max };
}

function clean(s: string): string {
  const t = s.replace(/[`<>&\n]/g, '');
  return t.length > 30 ? `${t.slice(0, 29)}…` : t;
}
