import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { ChecklistService } from '../../src/checklist/checklist-service.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import { SlackCallError, type SlackMessage, type SlackPort } from '../../src/platform/slack/slack-port.js';
import { StatusBoard } from '../../src/checklist/status-board.js';
import { ChecklistRepository } from '../../src/checklist/checklist-repository.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const parsed = parseRunbook(
  `version: 1
launch: { name: Board test, channel: C0OPS }
roles: { ops: { name: Ops, users: [U0OPS] } }
gates: [{ id: g, title: G, items: [{ id: a, title: Alpha, level: blocker, owner: ops }, { id: b, title: Beta, level: blocker, owner: ops }] }]
`,
  'board.yml',
);
if (!parsed.ok) throw new Error('test runbook invalid');
const runbook = parsed.runbook;

async function setup(gapMs = 0) {
  const store = await openTestStore();
  const clock = { now: () => new Date() };
  const updates: { ts: string; text: string }[] = [];
  const gates: (() => void)[] = [];
  const slack = {
    usergroupMembers: async () => [],
    // Each update waits until the test lets it finish, so refreshes overlap as they do under load.
    updateMessage: (_channel: string, ts: string, message: SlackMessage) =>
      new Promise<void>((resolve) => {
        updates.push({ ts, text: JSON.stringify(message.blocks) });
        gates.push(resolve);
      }),
  } as unknown as SlackPort;
  const roles = new RoleDirectory(runbook, slack, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) }, gapMs);
  for (const ts of ['1.1', '1.2']) await new ChecklistRepository(store).addStatusMessage({ channel: 'C0OPS', ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at: clock.now().toISOString() });
  /** Lets Slack answer, one update at a time, until `work` is done. */
  const drive = async (work: Promise<unknown>) => {
    let done = false;
    void work.then(() => (done = true));
    while (!done) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { board, checklist, store, updates, drive };
}

describe('StatusBoard.refreshAll', () => {
  it('runs one more pass for every call made during a refresh, and that pass shows the latest state', async () => {
    const { board, checklist, updates, drive } = await setup();
    const first = board.refreshAll();
    await new Promise((r) => setImmediate(r));
    const during: Promise<void>[] = [];
    for (const item of ['a', 'b']) {
      await checklist.check(item, { userId: 'U0OPS', source: 'command', channel: 'C0OPS' }, null);
      during.push(board.refreshAll(), board.refreshAll());
    }
    await drive(Promise.all([first, ...during]));
    // Two boards: one pass that was running, one queued pass for the four calls made meanwhile.
    // Each pass updates both boards (newest first; the two may share a millisecond, so their order within a pass is not fixed).
    expect(updates.slice(0, 2).map((u) => u.ts).sort()).toEqual(['1.1', '1.2']);
    expect(updates.slice(2).map((u) => u.ts).sort()).toEqual(['1.1', '1.2']);
    expect(updates[0]!.text).not.toContain('✅');
    expect(updates[3]!.text).toContain('Every checklist item is done');
  });

  it('starts a fresh pass for a call after the previous one finished', async () => {
    const { board, updates, drive } = await setup();
    await drive(board.refreshAll());
    await drive(board.refreshAll());
    // Each pass updates both boards (newest first; the two may share a millisecond, so their order within a pass is not fixed).
    expect(updates.slice(0, 2).map((u) => u.ts).sort()).toEqual(['1.1', '1.2']);
    expect(updates.slice(2).map((u) => u.ts).sort()).toEqual(['1.1', '1.2']);
  });

  it('holds a pass asked for right after another until the gap has passed, folding the calls in between into it', async () => {
    const { board, checklist, updates, drive } = await setup(60_000);
    await drive(board.refreshAll());
    await checklist.check('a', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' }, null);
    const calls = [board.refreshAll(), board.refreshAll(), board.refreshAll()];
    expect(calls[1]).toBe(calls[0]);
    expect(calls[2]).toBe(calls[0]);
    await drive(new Promise((r) => setTimeout(r, 50)));
    // Still inside the gap: no second pass yet.
    expect(updates.map((u) => u.ts).sort()).toEqual(['1.1', '1.2']);
    expect(updates[1]!.text).toContain('Alpha');
  });

  it('keeps its promise when the database is gone by the time a queued pass runs', async () => {
    const { board, store, drive } = await setup(50);
    await drive(board.refreshAll());
    const queued = board.refreshAll();
    void store.close();
    await expect(drive(queued)).resolves.toBeUndefined();
  });

  it('does not leave a board frozen when its update fails: a follow-up pass brings it to the latest state', async () => {
    const store = await openTestStore();
    const clock = { now: () => new Date() };
    const shown = new Map<string, string>();
    let failures = 1;
    const slack = {
      usergroupMembers: async () => [],
      updateMessage: async (_channel: string, ts: string, message: SlackMessage) => {
        if (ts === '1.1' && failures-- > 0) throw new SlackCallError('chat.update', 'request_error: socket hang up');
        shown.set(ts, JSON.stringify(message.blocks));
      },
    } as unknown as SlackPort;
    const roles = new RoleDirectory(runbook, slack, clock);
    const checklist = new ChecklistService(runbook, store, roles, clock);
    const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) }, 0);
    for (const ts of ['1.1', '1.2']) await new ChecklistRepository(store).addStatusMessage({ channel: 'C0OPS', ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at: clock.now().toISOString() });
    try {
      await checklist.check('a', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' }, null);
      await board.refreshAll();
      expect([...shown.keys()]).toEqual(['1.2']);
      // Nobody changes anything more: the retry alone (2 s later) must bring 1.1 up to date.
      // (The boards' "Updated HH:MM" line is the wall clock's: the retry may fall in the next minute.)
      const content = (ts: string) => shown.get(ts)?.replace(/Updated \d+ \w+ \d\d:\d\d \w+/, 'Updated (time)');
      await expect.poll(() => content('1.1'), { timeout: 5000, interval: 100 }).toBe(content('1.2'));
      expect(shown.get('1.1')).toContain('1/2 done');
    } finally {
      board.stop();
      void store.close();
    }
  });
});
