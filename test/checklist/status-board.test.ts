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
  const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) }, gapMs, 0);
  // Two channels: each channel's newest board is kept current.
  for (const [channel, ts] of [['C0OPS', '1.1'], ['C0DEV', '1.2']] as const) await new ChecklistRepository(store).addStatusMessage({ channel, ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at: clock.now().toISOString() });
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
    const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) }, 0, 0);
    for (const [channel, ts] of [['C0OPS', '1.1'], ['C0DEV', '1.2']] as const) await new ChecklistRepository(store).addStatusMessage({ channel, ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at: clock.now().toISOString() });
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

/** A board whose Slack answers at once, posts with ts one second apart, and fails the updates `fail` says to (given what the update shows). */
async function boardWith(opts: { updateGapMs?: number; fail?: (ts: string, text: string) => boolean } = {}) {
  const store = await openTestStore();
  const clock = { now: () => new Date() };
  const updates: { channel: string; ts: string; text: string }[] = [];
  let posts = 0;
  const slack = {
    usergroupMembers: async () => [],
    postOnce: async (channel: string) => ({ channel, ts: `${1_700_000_000 + ++posts}.000100` }),
    updateMessage: async (channel: string, ts: string, message: SlackMessage) => {
      // What people see: the message's sections.
      const text = (message.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section').map((b) => b.text!.text).join('\n');
      updates.push({ channel, ts, text });
      if (opts.fail?.(ts, message.text)) throw new SlackCallError('chat.update', 'request_error: socket hang up');
    },
  } as unknown as SlackPort;
  const roles = new RoleDirectory(runbook, slack, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) }, 0, opts.updateGapMs ?? 0);
  const rows = new ChecklistRepository(store);
  const updatesOf = (ts: string) => updates.filter((u) => u.ts === ts).map((u) => u.text);
  return { board, checklist, store, rows, updates, updatesOf };
}

/** What an older board says once board 3 (or 2) is the newest in C0OPS. */
const POINTER_TO_3 = 'This status is out of date — the current one is here: <https://golive-test.slack.com/archives/C0OPS/p1700000003000100>';
const POINTER_TO_2 = 'This status is out of date — the current one is here: <https://golive-test.slack.com/archives/C0OPS/p1700000002000100>';

describe('StatusBoard: the newest board of each channel', () => {
  it('edits an older board in the channel once to point to the newest, and from then on refreshes only the newest of each channel', async () => {
    const { board, checklist, rows, updatesOf } = await boardWith();
    board.useWorkspaceUrl('https://golive-test.slack.com/');
    // 1: C0OPS, 2: C0DEV, 3: C0OPS.
    for (const channel of ['C0OPS', 'C0DEV', 'C0OPS']) await board.post(channel, 'U0OPS', { page: 1 });
    await expect.poll(() => updatesOf('1700000001.000100')).toEqual([POINTER_TO_3]);
    // The pointer is an ordinary message now: nothing edits it again.
    await expect.poll(async () => rows.statusMessage('C0OPS', '1700000001.000100')).toBeUndefined();
    expect(updatesOf('1700000002.000100')).toEqual([]);
    expect(updatesOf('1700000003.000100')).toEqual([]);
    for (const item of ['a', 'b']) {
      await checklist.check(item, { userId: 'U0OPS', source: 'command', channel: 'C0OPS' }, null);
      await board.refreshAll();
    }
    expect(updatesOf('1700000001.000100')).toEqual([POINTER_TO_3]);
    // Another channel's board is its channel's newest: it stays live too.
    for (const ts of ['1700000002.000100', '1700000003.000100']) {
      expect(updatesOf(ts)).toHaveLength(2);
      expect(updatesOf(ts)[0]).toContain('1/2 done');
      expect(updatesOf(ts)[1]).toContain('Every checklist item is done');
    }
  });

  it('points with words when it does not know the workspace URL', async () => {
    const { board, updatesOf } = await boardWith();
    await board.post('C0OPS', 'U0OPS', { page: 1 });
    await board.post('C0OPS', 'U0OPS', { page: 1 });
    await expect.poll(() => updatesOf('1700000001.000100')).toEqual(['This status is out of date — the current one is the newest `/golive status` message in this channel.']);
  });

  it('points a clicked older board to the newest even before its pass has edited it', async () => {
    const { board, rows, updatesOf } = await boardWith();
    board.useWorkspaceUrl('https://golive-test.slack.com');
    const posted_at = new Date().toISOString();
    for (const ts of ['1700000001.000100', '1700000002.000100']) await rows.addStatusMessage({ channel: 'C0OPS', ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at });
    expect(await board.supersedeIfStale('C0OPS', '1700000002.000100')).toBe(false);
    expect(await board.supersedeIfStale('C0OPS', '1700000001.000100')).toBe(true);
    expect(updatesOf('1700000001.000100')).toEqual([POINTER_TO_2]);
    expect(await rows.statusMessage('C0OPS', '1700000001.000100')).toBeUndefined();
  });

  it('points an older board someone pages to the newest instead of paging it, which would make it the newest', async () => {
    const { board, rows, updatesOf } = await boardWith();
    board.useWorkspaceUrl('https://golive-test.slack.com/');
    const posted_at = new Date().toISOString();
    for (const ts of ['1700000001.000100', '1700000002.000100']) await rows.addStatusMessage({ channel: 'C0OPS', ts, viewer: 'U0OPS', gate_id: null, page: 1, posted_at });
    await board.showPage('C0OPS', '1700000001.000100', 'U0OPS', { page: 2 });
    expect(updatesOf('1700000001.000100')).toEqual([POINTER_TO_2]);
    expect(await rows.statusMessage('C0OPS', '1700000001.000100')).toBeUndefined();
    await board.showPage('C0OPS', '1700000002.000100', 'U0OPS', { page: 1 });
    expect(updatesOf('1700000002.000100')[0]).toContain('Alpha');
  });

  it('retries a pointer edit that failed until it is made, without refreshing the boards for it', async () => {
    let failures = 1;
    const { board, rows, updatesOf } = await boardWith({ fail: (_ts, text) => text.startsWith('This status is out of date') && failures-- > 0 });
    board.useWorkspaceUrl('https://golive-test.slack.com/');
    try {
      await board.post('C0OPS', 'U0OPS', { page: 1 });
      await board.post('C0OPS', 'U0OPS', { page: 1 });
      await expect.poll(() => updatesOf('1700000001.000100')).toHaveLength(1);
      // Failed: the board is still remembered, so the edit is not lost.
      expect(await rows.statusMessage('C0OPS', '1700000001.000100')).toBeDefined();
      // The retry alone (2 s later) makes it.
      await expect.poll(() => updatesOf('1700000001.000100'), { timeout: 5000, interval: 100 }).toEqual([POINTER_TO_2, POINTER_TO_2]);
      await expect.poll(async () => rows.statusMessage('C0OPS', '1700000001.000100')).toBeUndefined();
      expect(updatesOf('1700000002.000100')).toEqual([]);
    } finally {
      board.stop();
    }
  });

  it('spaces passes by the chat.update budget the last pass used: more live boards, fewer passes', async () => {
    /** Passes made while the checklist changes every 10 ms for a second, with `channels` live boards and 100 ms per update. */
    const passes = async (channels: number) => {
      const { board, rows, updatesOf } = await boardWith({ updateGapMs: 100 });
      const posted_at = new Date().toISOString();
      for (let i = 0; i < channels; i++) await rows.addStatusMessage({ channel: `C${i}`, ts: `1.${i}`, viewer: 'U0OPS', gate_id: null, page: 1, posted_at });
      const until = performance.now() + 1000;
      while (performance.now() < until) {
        void board.refreshAll();
        await new Promise((r) => setTimeout(r, 10));
      }
      return updatesOf('1.0').length;
    };
    // One board: a pass every 100 ms, about 10 in the second. Five boards: one every 500 ms, so at most 3.
    expect(await passes(1)).toBeGreaterThanOrEqual(6);
    expect(await passes(5)).toBeLessThanOrEqual(3);
  });
});
