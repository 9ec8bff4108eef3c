import { describe, expect, it } from 'vitest';
import { GoliveError } from '../../../src/platform/errors.js';
import { parseRunbook } from '../../../src/platform/runbook/load-runbook.js';
import { RoleDirectory } from '../../../src/platform/roles/resolve-roles.js';
import { SlackCallError, type SlackPort } from '../../../src/platform/slack/slack-port.js';

const parsed = parseRunbook(
  `version: 1
launch: { name: R, channel: C0OPS }
roles:
  ops: { name: Ops, users: [U0ONE], groups: [S0OPS] }
  all: { name: Anyone, anyone: true }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }
`,
  'r.yml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const runbook = parsed.runbook;

function directory(answers: (string[] | Error)[]) {
  let calls = 0;
  const clock = { at: 0, now: () => new Date(clock.at) };
  const slack = {
    usergroupMembers: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as SlackPort;
  return { dir: new RoleDirectory(runbook, slack, clock, 60_000), clock, calls: () => calls };
}

describe('RoleDirectory', () => {
  it('merges listed users and group members, and caches the group for the TTL', async () => {
    const { dir, clock, calls } = directory([['U0TWO', 'U0ONE'], ['U0THREE']]);
    expect((await dir.members('ops')).users).toEqual(['U0ONE', 'U0TWO']);
    expect(await dir.isMember('U0TWO', 'ops')).toBe(true);
    expect(calls()).toBe(1);
    clock.at = 61_000;
    expect(await dir.isMember('U0TWO', 'ops')).toBe(false);
    expect(await dir.isMember('U0THREE', 'ops')).toBe(true);
    expect(calls()).toBe(2);
  });

  it('asks Slack once for a group that many requests need at the same moment', async () => {
    const { dir, calls } = directory([['U0INGROUP']]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => dir.isMember('U0INGROUP', 'ops')));
    expect(answers).toEqual(Array.from({ length: 20 }, () => true));
    expect(calls()).toBe(1);
  });

  it('treats anyone as a member of an "anyone" role without asking Slack', async () => {
    const { dir, calls } = directory([[]]);
    expect(await dir.isMember('U0WHOEVER', 'all')).toBe(true);
    expect(calls()).toBe(0);
  });

  it('shows the last known members when Slack fails, and explains when there are none', async () => {
    const { dir, clock } = directory([['U0TWO'], new Error('ratelimited')]);
    await dir.members('ops');
    clock.at = 120_000;
    expect((await dir.members('ops')).users).toEqual(['U0ONE', 'U0TWO']);
    const cold = directory([new Error('ratelimited')]);
    const err = (await cold.dir.members('ops').catch((e: unknown) => e)) as GoliveError;
    expect(err.code).toBe('slack_unavailable');
    expect(err.message).toBe("I couldn't read the members of user group <!subteam^S0OPS> from Slack (ratelimited).");
  });

  it('asks Slack again before a cached yes older than a few seconds grants anything', async () => {
    const { dir, clock, calls } = directory([['U0TWO'], []]);
    expect(await dir.isMember('U0TWO', 'ops')).toBe(true);
    clock.at = 4_999;
    expect(await dir.isMember('U0TWO', 'ops')).toBe(true);
    expect(calls()).toBe(1);
    clock.at = 5_000;
    expect(await dir.isMember('U0TWO', 'ops')).toBe(false);
    expect(await dir.isNamed('U0TWO')).toBe(false);
    expect(calls()).toBe(2);
  });

  it('lets a cached no stand for the TTL without asking Slack (it grants nothing)', async () => {
    const { dir, clock, calls } = directory([['U0TWO'], ['U0TWO', 'U0NEW']]);
    expect(await dir.isMember('U0NEW', 'ops')).toBe(false);
    clock.at = 59_000;
    expect(await dir.isMember('U0NEW', 'ops')).toBe(false);
    expect(calls()).toBe(1);
    clock.at = 60_000;
    expect(await dir.isMember('U0NEW', 'ops')).toBe(true);
  });

  it('refuses, instead of trusting the old members, when Slack cannot confirm a yes', async () => {
    const { dir, clock } = directory([['U0TWO'], new SlackCallError('usergroups.users.list', 'ratelimited', 30)]);
    expect(await dir.isMember('U0TWO', 'ops')).toBe(true);
    clock.at = 10_000;
    const err = (await dir.isMember('U0TWO', 'ops').catch((e: unknown) => e)) as GoliveError;
    expect(err).toBeInstanceOf(GoliveError);
    expect(err.code).toBe('slack_unavailable');
    expect(err.message).toBe("I couldn't check with Slack that you are in user group <!subteam^S0OPS> (ratelimited), so I did not do it.");
    expect(err.hint).toBe('Nothing was changed. Try again in a minute.');
    await expect(dir.isNamed('U0TWO')).rejects.toThrow(err.message);
    // A role held by user ID needs no answer from Slack.
    expect(await dir.isMember('U0ONE', 'ops')).toBe(true);
    expect(await dir.rolesOf('U0ONE', ['ops', 'all'])).toEqual(['ops', 'all']);
  });

  it('keeps the roles it can confirm when Slack cannot say about another', async () => {
    const { dir } = directory([new Error('fetch failed')]);
    expect(await dir.rolesOf('U0TWO', ['ops', 'all'])).toEqual(['all']);
    await expect(dir.rolesOf('U0TWO', ['ops'])).rejects.toThrow("I couldn't check with Slack that you are in user group <!subteam^S0OPS> (fetch failed), so I did not do it.");
  });

  it('asks Slack once for many checks at the same moment', async () => {
    const { dir, calls } = directory([['U0TWO']]);
    const answers = await Promise.all(Array.from({ length: 100 }, () => dir.isMember('U0TWO', 'ops')));
    expect(answers.every(Boolean)).toBe(true);
    expect(calls()).toBe(1);
  });
});
