import type { Runbook } from '../platform/runbook/schema.js';

/** A person of the sandbox workspace: a runbook user, or an invented member of a runbook user group. */
export interface SandboxPerson {
  id: string;
  /** First name shown in the page and by `users.info`. */
  name: string;
  email: string;
  /** Runbook role ids this person holds through a listed user or a group (roles with `anyone` are left out). */
  roles: string[];
  /** The display names of those roles, e.g. `["DevOps", "DevOps On-Call"]`. */
  roleNames: string[];
}

/** Who is who in a sandbox: people, and the members of each user group. */
export interface SandboxDirectory {
  people: SandboxPerson[];
  usergroups: Map<string, { id: string; handle: string; name: string; users: string[] }>;
}

// Names for the runbook's people, in the order they appear; the first ones match the README's examples.
const NAMES = ['Priya', 'Arjun', 'Meera', 'Rahul', 'Kavya', 'Sam', 'Lena', 'Kiran', 'Nisha', 'Vikram', 'Dana', 'Omar', 'Ines', 'Tomas', 'Yuki', 'Zara', 'Felix', 'Grace', 'Hugo', 'Maya'];

/** How many invented members each user group gets: two, so one member can ask and another approve. */
const GROUP_SIZE = 2;

/**
 * Gives the runbook's Slack IDs faces. Listed users keep their IDs; each user
 * group gets invented members (`U0SANDBOX01`, …). Everyone is named from a
 * fixed list in runbook order, so the same runbook always gives the same people.
 */
export function sandboxDirectory(runbook: Runbook): SandboxDirectory {
  const byId = new Map<string, SandboxPerson>();
  const usergroups: SandboxDirectory['usergroups'] = new Map();
  let invented = 0;
  const person = (id: string): SandboxPerson => {
    let p = byId.get(id);
    if (!p) {
      const name = NAMES[byId.size] ?? `Person ${byId.size + 1}`;
      p = { id, name, email: `${name.toLowerCase().replace(/\s+/g, '.')}@sandbox.golive.invalid`, roles: [], roleNames: [] };
      byId.set(id, p);
    }
    return p;
  };
  const hold = (p: SandboxPerson, roleId: string, roleName: string) => {
    if (p.roles.includes(roleId)) return;
    p.roles.push(roleId);
    p.roleNames.push(roleName);
  };
  for (const [roleId, role] of Object.entries(runbook.roles)) {
    for (const u of role.users) hold(person(u), roleId, role.name);
    for (const g of role.groups) {
      let group = usergroups.get(g);
      if (!group) {
        const users: string[] = [];
        for (let i = 0; i < GROUP_SIZE; i++) {
          invented += 1;
          users.push(person(`U0SANDBOX${String(invented).padStart(2, '0')}`).id);
        }
        group = { id: g, handle: roleId, name: role.name, users };
        usergroups.set(g, group);
      }
      for (const u of group.users) hold(byId.get(u)!, roleId, role.name);
    }
  }
  // A runbook whose roles are all `anyone` still needs someone to type commands.
  if (byId.size === 0) person('U0SANDBOX00');
  return { people: [...byId.values()], usergroups };
}
