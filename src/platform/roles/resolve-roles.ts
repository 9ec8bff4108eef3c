import type { Clock } from '../clock.js';
import { GoliveError } from '../errors.js';
import type { Runbook } from '../runbook/schema.js';
import type { SlackPort } from '../slack/slack-port.js';

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
 * `usergroups.users.list` and cached briefly: membership changes rarely
 * during a launch, and a status render would otherwise call Slack per group.
 */
export class RoleDirectory {
  private cache = new Map<string, { users: string[]; at: number }>();
  private readonly lookups = new Map<string, Promise<string[]>>();

  constructor(
    private readonly runbook: Runbook,
    private readonly slack: SlackPort,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  roleNames(): string[] {
    return Object.keys(this.runbook.roles);
  }

  async members(roleName: string): Promise<RoleMembers> {
    const role = this.runbook.roles[roleName];
    if (!role) throw new Error(`role "${roleName}" is not in the runbook`);
    const users = new Set(role.users);
    for (const g of role.groups) for (const u of await this.groupMembers(g)) users.add(u);
    return { role: roleName, name: role.name, anyone: role.anyone, users: [...users], groups: role.groups };
  }

  async isMember(userId: string, roleName: string): Promise<boolean> {
    const role = this.runbook.roles[roleName];
    if (!role) return false;
    if (role.anyone || role.users.includes(userId)) return true;
    for (const g of role.groups) if ((await this.groupMembers(g)).includes(userId)) return true;
    return false;
  }

  /** The subset of `roleNames` the user belongs to. */
  async rolesOf(userId: string, roleNames: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of roleNames) if (await this.isMember(userId, r)) out.push(r);
    return out;
  }

  /**
   * Whether the user is named in some role, by user ID or user group. A role
   * open to anyone does not count: it must not let any workspace member steer
   * the launch (move T-0, call go/no-go).
   */
  async isNamed(userId: string): Promise<boolean> {
    for (const role of Object.values(this.runbook.roles)) {
      if (role.users.includes(userId)) return true;
      for (const g of role.groups) if ((await this.groupMembers(g)).includes(userId)) return true;
    }
    return false;
  }

  private async groupMembers(groupId: string): Promise<string[]> {
    const now = this.clock.now().getTime();
    const hit = this.cache.get(groupId);
    if (hit && now - hit.at < this.ttlMs) return hit.users;
    try {
      // One look-up per group at a time: a burst of commands shares it (usergroups.users.list is Tier 2, 20 a minute).
      let lookup = this.lookups.get(groupId);
      if (!lookup) {
        lookup = this.slack
          .usergroupMembers(groupId)
          .then((users) => {
            this.cache.set(groupId, { users, at: now });
            return users;
          })
          .finally(() => this.lookups.delete(groupId));
        this.lookups.set(groupId, lookup);
      }
      return await lookup;
    } catch (err) {
      // A stale answer beats refusing everyone while Slack hiccups.
      if (hit) return hit.users;
      throw new GoliveError('slack_unavailable', `I couldn't read the members of user group <!subteam^${groupId}> from Slack (${(err as Error).message}).`, 'Try again in a minute.');
    }
  }
}
