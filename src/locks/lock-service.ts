import type { Clock } from '../platform/clock.js';
import { escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import { GoliveError } from '../platform/errors.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { closestNames } from '../platform/suggest.js';
import { ALL_SERVICES, freezeState, inForce, lockExpiry, parseLockRequest, placeFreeze, restrictionsFor, type LockRow, type PlacedFreeze, type Restriction } from './decide-locks.js';
import { LockRepository } from './lock-repository.js';
import { describeRestriction, holdLines, lockedText, lockReleasedText, lockSetText, scopeLabel } from './describe-locks.js';

/** Who did something to a lock, and from where. */
export interface LockActor {
  userId: string;
  source: AuditSource;
  channel: string | null;
}

/** What holds deploys now and what is coming: for `/golive status`, App Home and the timeline. */
export interface LockOverview {
  /** Locks in force, oldest first. */
  locks: LockRow[];
  /** Freeze windows in force or still to come (relative ones once T-0 is known). */
  freezes: (PlacedFreeze & { state: 'active' | 'upcoming' })[];
}

/**
 * Deploy locks (`/golive lock`, `/golive unlock`) and the runbook's freeze
 * windows. Deploys of a held service are refused, naming who locked it, why
 * and until when; rollbacks never are. A lock always expires: it is not
 * enforced past its time, and the sweep records and announces the expiry.
 * Every change is one transaction with its audit row and its channel post.
 */
export class LockService {
  private readonly rows: LockRepository;
  private readonly audit: AuditRepository;
  private readonly outbox: OutboxRepository;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      clock: Clock;
      roles: RoleDirectory;
      /** T-0 as the timeline holds it; freeze windows relative to it wait until it is known. */
      t0: () => Promise<Date | undefined> | Date | undefined;
      afterCommit: () => void;
    },
  ) {
    this.rows = new LockRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
    this.outbox = new OutboxRepository(deps.store);
  }

  /** The locks and freeze windows that hold deploys of `service` now (a change in progress is the deploy service's to report). */
  async restrictions(service: string): Promise<Restriction[]> {
    const now = this.deps.clock.now();
    return restrictionsFor(service, { locks: await this.rows.allOpen(), freezes: this.deps.runbook.freezes, t0: await this.deps.t0(), now });
  }

  /** The refusal of a deploy of `service` while a lock or freeze window holds it; undefined when nothing does. */
  async deployRefusal(service: string): Promise<GoliveError | undefined> {
    const held = await this.restrictions(service);
    if (held.length === 0) return undefined;
    const t = lockedText(service, held, { timezone: this.deps.runbook.launch.timezone, now: this.deps.clock.now() });
    return new GoliveError('deploy_locked', t.message, t.hint);
  }

  /** What holds deploys of `service` now, in words (the first lock or freeze); undefined when nothing does. */
  async heldBy(service: string): Promise<string | undefined> {
    const first = (await this.restrictions(service))[0];
    return first && describeRestriction(first, { timezone: this.deps.runbook.launch.timezone, now: this.deps.clock.now() });
  }

  /** Locks in force and freeze windows in force or to come. */
  async overview(): Promise<LockOverview> {
    const now = this.deps.clock.now();
    const t0 = await this.deps.t0();
    const freezes: LockOverview['freezes'] = [];
    for (const f of this.deps.runbook.freezes) {
      const w = placeFreeze(f, t0);
      if (!w) continue;
      const state = freezeState(w, now);
      if (state !== 'ended') freezes.push({ ...w, state });
    }
    return { locks: (await this.rows.allOpen()).filter((l) => inForce(l, now)), freezes };
  }

  /** What holds deploys now or soon, one line each (none: nothing does), for the status and App Home. */
  async holdLines(): Promise<string[]> {
    return holdLines(await this.overview(), { timezone: this.deps.runbook.launch.timezone, now: this.deps.clock.now() });
  }

  /** Every freeze window placed on the clock (ended ones too), for the timeline. */
  async placedFreezes(): Promise<PlacedFreeze[]> {
    const t0 = await this.deps.t0();
    return this.deps.runbook.freezes.map((f) => placeFreeze(f, t0)).filter((w): w is PlacedFreeze => w !== undefined);
  }

  /**
   * `/golive lock <service|all> <reason> [for <duration>]`. Locking a scope
   * you already hold changes its reason and expiry; one someone else holds is
   * refused, naming them.
   */
  async lock(rest: string, actor: LockActor): Promise<{ lock: LockRow; extended: boolean; capped: boolean }> {
    const { runbook, store, clock } = this.deps;
    const asked = parseLockRequest(rest);
    if ('problem' in asked) throw new GoliveError('usage', asked.problem, 'Usage: `/golive lock <service|all> <reason> [for <duration>]`');
    this.requireScope(asked.scope);
    await this.requireLocker(actor.userId, asked.scope);
    const now = clock.now();
    const at = now.toISOString();
    const { expiresAt, capped } = lockExpiry(now, asked.durationMs, runbook.locks);
    const result = await store.transaction(async () => {
      let open = await this.rows.open(asked.scope);
      if (open && !inForce(open, now)) {
        // Past its time but not swept yet: it no longer holds anything, so it is recorded as expired first.
        await this.expire(open, at);
        open = undefined;
      }
      if (open && open.locked_by !== actor.userId) {
        throw new GoliveError(
          'already_locked',
          `${scopeLabel(asked.scope)} is already locked by <@${open.locked_by}>: “${escapeText(open.reason)}” — until ${formatTime(open.expires_at, runbook.launch.timezone)}. Nothing was changed.`,
          `If it no longer applies: \`/golive unlock ${asked.scope === ALL_SERVICES ? 'all' : asked.scope}\`, then lock it again.`,
        );
      }
      let id: number;
      if (open) {
        await this.rows.extend(open.id, asked.reason, expiresAt.toISOString());
        id = open.id;
      } else {
        const created = await this.rows.create({ scope: asked.scope, reason: asked.reason, locked_by: actor.userId, locked_at: at, expires_at: expiresAt.toISOString(), channel: actor.channel });
        if (created === undefined) throw new GoliveError('already_locked', `${scopeLabel(asked.scope)} was locked by someone else a moment ago. Nothing was changed.`, 'See `/golive status`.');
        id = created;
      }
      const lock = (await this.rows.get(id))!;
      await this.audit.record({ actor: actor.userId, action: open ? 'lock.extend' : 'lock.set', target: this.target(asked.scope), detail: { lock: id, reason: asked.reason, expires_at: lock.expires_at, capped }, source: actor.source, channel: actor.channel }, at);
      await this.outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: lockSetText(lock, runbook.launch.timezone, { extended: Boolean(open), capped, maxDuration: runbook.locks.max_duration }) }, at);
      return { lock, extended: Boolean(open), capped };
    });
    this.deps.afterCommit();
    return result;
  }

  /** `/golive unlock <service|all>`: releases the scope's lock, whoever set it (anyone who may lock it may unlock it). */
  async unlock(scopeArg: string, actor: LockActor): Promise<{ lock: LockRow; stillHeld: Restriction[] }> {
    const { runbook, store, clock } = this.deps;
    const word = scopeArg.trim().toLowerCase();
    if (!word) throw new GoliveError('usage', '`/golive unlock` needs the service (or `all`) to unlock.', 'Usage: `/golive unlock <service|all>`');
    const scope = word === 'all' ? ALL_SERVICES : word;
    this.requireScope(scope);
    await this.requireLocker(actor.userId, scope);
    const now = clock.now();
    const at = now.toISOString();
    const lock = await store.transaction(async () => {
      const open = await this.rows.open(scope);
      if (!open || !inForce(open, now)) {
        if (open) await this.expire(open, at);
        return undefined;
      }
      await this.rows.release(open.id, 'unlocked', actor.userId, at);
      const released = (await this.rows.get(open.id))!;
      await this.audit.record({ actor: actor.userId, action: 'lock.release', target: this.target(scope), detail: { lock: open.id, reason: open.reason, locked_by: open.locked_by }, source: actor.source, channel: actor.channel }, at);
      await this.outbox.enqueue('chat.postMessage', { channel: runbook.launch.channel, text: lockReleasedText(released, runbook.launch.timezone, now) }, at);
      return released;
    });
    this.deps.afterCommit();
    const stillHeld = scope === ALL_SERVICES ? [] : await this.restrictions(scope);
    if (!lock) {
      const others = stillHeld.length > 0 ? ' It is still held by the lock or freeze below.' : '';
      throw new GoliveError('not_locked', `${scopeLabel(scope)} is not locked; nothing was changed.${others}`, stillHeld.length > 0 ? (await this.deployRefusal(scope))?.hint : undefined);
    }
    return { lock, stillHeld };
  }

  /** Records and announces every lock whose time is up; returns how many. Safe to run from two places: each expires once. */
  async expireDue(): Promise<number> {
    const at = this.deps.clock.now().toISOString();
    let n = 0;
    for (const lock of await this.rows.dueExpiries(at)) {
      if (await this.deps.store.transaction(() => this.expire(lock, at))) n++;
    }
    if (n > 0) this.deps.afterCommit();
    return n;
  }

  private async expire(lock: LockRow, at: string): Promise<boolean> {
    if (!(await this.rows.release(lock.id, 'expired', null, at))) return false;
    const released = (await this.rows.get(lock.id))!;
    await this.audit.record({ actor: 'golive', action: 'lock.expire', target: this.target(lock.scope), detail: { lock: lock.id, reason: lock.reason, locked_by: lock.locked_by, expires_at: lock.expires_at }, source: 'system', channel: lock.channel }, at);
    await this.outbox.enqueue('chat.postMessage', { channel: this.deps.runbook.launch.channel, text: lockReleasedText(released, this.deps.runbook.launch.timezone, new Date(at)) }, at);
    return true;
  }

  /** A lock names a service of the runbook, or every service. */
  private requireScope(scope: string): void {
    if (scope === ALL_SERVICES) return;
    const names = this.deps.runbook.services.map((s) => s.name);
    if (names.includes(scope)) return;
    if (names.length === 0) throw new GoliveError('not_configured', 'This runbook defines no services, so there is nothing to lock.');
    const close = closestNames(scope, names);
    const list = `The services are: ${names.map((n) => `\`${n}\``).join(', ')}, or \`all\`.`;
    throw new GoliveError('unknown_service', `There is no service \`${scope.replace(/[`<>&\n]/g, '').slice(0, 60)}\`.`, close.length > 0 ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? ${list}` : list);
  }

  /** Those who deploy or approve rollbacks of a service (of any service, for `all`), and the runbook's `locks.roles`, may lock and unlock it. */
  private async requireLocker(userId: string, scope: string): Promise<void> {
    const { runbook, roles } = this.deps;
    const services = scope === ALL_SERVICES ? runbook.services : runbook.services.filter((s) => s.name === scope);
    const allowed = [...new Set([...services.flatMap((s) => [...s.deployers, ...s.rollback_approvers]), ...runbook.locks.roles])];
    if ((await roles.rolesOf(userId, allowed)).length > 0) return;
    const names = allowed.map((r) => runbook.roles[r]?.name ?? r).join(', ');
    throw new GoliveError('not_permitted', `Only ${names || 'the roles in `locks.roles`'} can lock or unlock ${scopeLabel(scope)}.`);
  }

  private target(scope: string): string {
    return scope === ALL_SERVICES ? 'all services' : scope;
  }

}
