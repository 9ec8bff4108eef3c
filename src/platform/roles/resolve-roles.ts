import type { Clock } from '../clock.js';
import { GoliveError } from '../errors.js';
import type { Runbook } from '../runbook/schema.js';
import { SlackCallError, type SlackPort } from '../slack/slack-port.js';

/** Who is in a role right now. */
export interface RoleMembers {
  role: string;
  name: string;
  anyone: boolean;
  /** User IDs, listed ones first, then group members; no duplicates. */
  users: string[];
  groups: string[];
}

/**
 * Resolves runbook roles to Slack users. User groups are read with
 * `usergroups.users.list` and cached briefly for showing people (a status
 * render would otherwise call Slack per group). A permission is never granted
 * on an old answer: a cached "yes" older than `confirmMs` is asked of Slack
 * again, and when Slack cannot say, the action is refused. A cached "no" stands
 * for the TTL (it grants nothing).
 */
export class RoleDirectory {
  private cache = new Map<string, { users: string[]; at: number }>();
  /** One `usergroups.users.list` per group at a time: 100 checks at once cost one call. */
  private reading = new Map<string, Promise<{ users: string[]; at: number }>>();

  constructor(
    private readonly runbook: Runbook,
    private readonly slack: SlackPort,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
    private readonly confirmMs = 5_000,
  ) {}

  roleNames(): string[] {
    return Object.keys(this.runbook.roles);
  }

  /** Who is in the role, for showing and inviting (not for permissions): group members up to the TTL old, the last known ones while Slack fails. */
  async members(roleName: string): Promise<RoleMembers> {
    const role = this.runbook.roles[roleName];
    if (!role) throw new Error(`role "${roleName}" is not in the runbook`);
    const users = new Set(role.users);
    for (const g of role.groups) for (const u of await this.groupMembers(g)) users.add(u);
    return { role: roleName, name: role.name, anyone: role.anyone, users: [...users], groups: role.groups };
  }

  /** Whether the user may act as the role now (see the class comment); throws `slack_unavailable` when only Slack could say yes and cannot. */
  async isMember(userId: string, roleName: string): Promise<boolean> {
    const role = this.runbook.roles[roleName];
    if (!role) return false;
    if (role.anyone || role.users.includes(userId)) return true;
    return firstYes(role.groups.map((g) => () => this.inGroup(userId, g)));
  }

  /** The subset of `roleNames` the user belongs to now; a role Slack cannot confirm is left out (and throws only when none is left). */
  async rolesOf(userId: string, roleNames: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    let unconfirmed: unknown;
    for (const r of roleNames) {
      try {
        if (await this.isMember(userId, r)) out.push(r);
      } catch (err) {
        unconfirmed ??= err;
      }
    }
    if (out.length === 0 && unconfirmed) throw unconfirmed;
    return out;
  }

  /**
   * Whether the user is named in some role now, by user ID or user group. A
   * role open to anyone does not count: it must not let any workspace member
   * steer the launch (move T-0, call go/no-go).
   */
  async isNamed(userId: string): Promise<boolean> {
    const roles = Object.values(this.runbook.roles);
    if (roles.some((r) => r.users.includes(userId))) return true;
    return firstYes(roles.flatMap((r) => r.groups.map((g) => () => this.inGroup(userId, g))));
  }

  private async groupMembers(groupId: string): Promise<string[]> {
    const hit = this.cache.get(groupId);
    if (hit && this.clock.now().getTime() - hit.at < this.ttlMs) return hit.users;
    try {
      return (await this.read(groupId)).users;
    } catch (err) {
      // For showing who is in a role, a stale answer beats refusing everyone while Slack hiccups.
      if (hit) return hit.users;
      throw new GoliveError('slack_unavailable', `I couldn't read the members of user group <!subteam^${groupId}> from Slack (${(err as Error).message}).`, 'Try again in a minute.');
    }
  }

  /** Group membership that grants a permission: a "yes" must be at most `confirmMs` old. */
  private async inGroup(userId: string, groupId: string): Promise<boolean> {
    const age = (entry: { at: number }) => this.clock.now().getTime() - entry.at;
    const hit = this.cache.get(groupId);
    if (hit && age(hit) < this.ttlMs && !hit.users.includes(userId)) return false;
    if (hit && age(hit) < this.confirmMs) return true;
    try {
      return (await this.read(groupId)).users.includes(userId);
    } catch (err) {
      throw new GoliveError(
        'slack_unavailable',
        `I couldn't check with Slack that you are in user group <!subteam^${groupId}> (${err instanceof SlackCallError ? err.slackError : (err as Error).message}), so I did not do it.`,
        'Nothing was changed. Try again in a minute.',
      );
    }
  }

  /** Asks Slack, joining a read already under way; the answer counts from when it was asked. */
  private read(groupId: string): Promise<{ users: string[]; at: number }> {
    let pending = this.reading.get(groupId);
    if (!pending) {
      const at = this.clock.now().getTime();
      pending = this.slack
        .usergroupMembers(groupId)
        .then((users) => {
          const entry = { users, at };
          const cached = this.cache.get(groupId);
          if (!cached || cached.at <= at) this.cache.set(groupId, entry);
          return entry;
        })
        .finally(() => this.reading.delete(groupId));
      this.reading.set(groupId, pending);
    }
    return pending;
  }
}

/** True at the first check that says yes; a check that cannot say (throws) counts only when no other says yes. */
async function firstYes(checks: (() => Promise<boolean>)[]): Promise<boolean> {
  let unconfirmed: unknown;
  for (const check of checks) {
    try {
      if (await check()) return true;
    } catch (err) {
      unconfirmed ??= err;
    }
  }
  if (unconfirmed) throw unconfirmed;
  return false;
}
