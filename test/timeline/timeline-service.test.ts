import { afterEach, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { ChecklistService } from '../../src/checklist/checklist-service.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import { TimelineService } from '../../src/timeline/timeline-service.js';
import { SlackTimelineNotifier } from '../../src/timeline/timeline-notifier.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStoreWithTarget, reopenTestStore } from '../support/test-store.js';

function runbookWith(t0: string | undefined): Runbook {
  const parsed = parseRunbook(
    `version: 1
launch: { name: Launch, channel: C0OPS, timezone: Asia/Kolkata${t0 ? `, t0: "${t0}"` : ''} }
roles:
  ops: { name: Ops, users: [U0OPS] }
gates:
  - { id: g, title: G, items: [{ id: dns, title: DNS records, level: blocker, owner: ops }] }
steps:
  - { id: cutover, title: DNS cutover }
milestones:
  - { at: T-1h, title: Final checks }
  - { at: T-0, title: Deploy begins, text: "Run cdk deploy.", items: [dns], steps: [cutover] }
  - { at: T+30m, title: DNS cutover }
  - { at: "2026-12-03T08:00:00+05:30", title: Go/No-Go meeting }
`,
    'a.yml',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.runbook;
}

afterEach(closeTestStores);

/** A timeline over a database file (or PostgreSQL database), so a "restart" is a second service on the same one. */
async function setup(opts: { t0?: string; at: string; dbPath?: string }) {
  const { store, target: dbPath } = opts.dbPath ? { store: await reopenTestStore(opts.dbPath), target: opts.dbPath } : await openTestStoreWithTarget({ file: true });
  const runbook = runbookWith(opts.t0);
  const clock = clockAt(opts.at);
  const roles = new RoleDirectory(runbook, {} as SlackPort, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit: () => {} });
  timeline.notify(new SlackTimelineNotifier({ runbook, store, clock, checklist, t0: async () => (await timeline.t0())?.at }));
  await timeline.ensureStarted();
  await timeline.syncRunbookT0();
  const posts = async () => (await store.all<{ args: string }>("SELECT args FROM outbox WHERE method = 'chat.postMessage' ORDER BY id")).map((r) => JSON.parse(r.args) as { channel: string; text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] });
  return { store, clock, timeline, posts, dbPath, close: () => store.close() };
}

const T0 = '2026-12-01T08:00:00+05:30'; // 02:30Z

describe('TimelineService', () => {
  it('posts each milestone at its time, once, with its items, steps and what comes next', async () => {
    const s = await setup({ t0: T0, at: '2026-12-01T00:00:00Z' });
    expect(await s.timeline.runDue()).toBe(0);
    s.clock.at = Date.parse('2026-12-01T01:30:00Z'); // T-1h exactly
    expect(await s.timeline.runDue()).toBe(1);
    expect(await s.timeline.runDue()).toBe(0);
    s.clock.at = Date.parse('2026-12-01T02:30:20Z'); // T-0, 20 s into the minute: on time
    expect(await s.timeline.runDue()).toBe(1);
    const posts = await s.posts();
    expect(posts.map((p) => p.text)).toEqual(['⏰ Final checks — T-1h · 1 Dec 07:00 GMT+5:30', '⏰ Deploy begins — T-0 · 1 Dec 08:00 GMT+5:30']);
    expect(posts[1]!.channel).toBe('C0OPS');
    expect(posts[1]!.blocks.map((b) => b.text?.text ?? b.elements?.[0]?.text)).toEqual([
      '⏰ *Deploy begins* — T-0 · 1 Dec 08:00 GMT+5:30',
      'Run cdk deploy.',
      '🔴 `dns` DNS records — Ops\n▶️ step `cutover` DNS cutover',
      'Milestone 2 of 4 · Next: *DNS cutover* at T+30m · 1 Dec 08:30 GMT+5:30 · `/golive timeline`',
    ]);
    expect(await s.store.all("SELECT target, detail FROM audit WHERE action = 'milestone.posted' ORDER BY id")).toEqual([
      { target: 'Final checks', detail: JSON.stringify({ at: 'T-1h', due_at: '2026-12-01T01:30:00.000Z', late_ms: 0 }) },
      { target: 'Deploy begins', detail: JSON.stringify({ at: 'T-0', due_at: '2026-12-01T02:30:00.000Z', late_ms: 0 }) },
    ]);
  });

  it('posts a milestone missed while golive was down on the next start, marked late, and never twice', async () => {
    const first = await setup({ t0: T0, at: '2026-12-01T02:00:00Z' });
    expect(await first.timeline.runDue()).toBe(0);
    await first.close();
    // Down from 02:00 to 03:45: T-0 (02:30) and T+30m (03:00) were missed.
    const second = await setup({ t0: T0, at: '2026-12-01T03:45:00Z', dbPath: first.dbPath });
    expect(await second.timeline.runDue()).toBe(2);
    expect((await second.posts()).map((p) => p.text)).toEqual(['⏰ Deploy begins — T-0 · 1 Dec 08:00 GMT+5:30 (late by 1 h 15 min)', '⏰ DNS cutover — T+30m · 1 Dec 08:30 GMT+5:30 (late by 45 min)']);
    expect((await second.posts())[0]!.blocks[0]!.text!.text).toBe('⏰ *Deploy begins* — T-0 · 1 Dec 08:00 GMT+5:30 _(late by 1 h 15 min: golive was not running at 1 Dec 08:00 GMT+5:30)_');
    await second.close();
    const third = await setup({ t0: T0, at: '2026-12-01T03:46:00Z', dbPath: first.dbPath });
    expect(await third.timeline.runDue()).toBe(0);
    expect(await third.posts()).toHaveLength(2);
    expect((await third.timeline.schedule()).map((m) => [m.milestone.title, m.state, m.lateMs ?? null])).toEqual([
      ['Final checks', 'passed', null],
      ['Deploy begins', 'posted', 4_500_000],
      ['DNS cutover', 'posted', 2_700_000],
      ['Go/No-Go meeting', 'upcoming', null],
    ]);
  });

  it('does not post milestones that had passed before golive first started', async () => {
    const s = await setup({ t0: T0, at: '2026-12-01T03:10:00Z' });
    expect(await s.timeline.runDue()).toBe(0);
    expect((await s.timeline.schedule()).map((m) => m.state)).toEqual(['passed', 'passed', 'passed', 'upcoming']);
  });

  it('waits for T-0 when the runbook has none, and posts absolute milestones regardless', async () => {
    const s = await setup({ at: '2026-12-01T00:00:00Z' });
    expect(await s.timeline.t0()).toBeUndefined();
    expect((await s.timeline.schedule()).map((m) => [m.milestone.title, m.state])).toEqual([
      ['Go/No-Go meeting', 'upcoming'],
      ['Final checks', 'unscheduled'],
      ['Deploy begins', 'unscheduled'],
      ['DNS cutover', 'unscheduled'],
    ]);
    s.clock.at = Date.parse('2026-12-03T02:30:00Z');
    expect(await s.timeline.runDue()).toBe(1);
    expect((await s.posts())[0]!.text).toBe('⏰ Go/No-Go meeting — 3 Dec 08:00 GMT+5:30');
  });

  it('sets and moves T-0: recorded, announced, milestones already past are listed and not posted', async () => {
    const s = await setup({ at: '2026-12-01T02:40:00Z' }); // 08:10 GMT+5:30
    const set = await s.timeline.setT0('08:00', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' });
    expect(set).toMatchObject({ changed: true, previous: undefined });
    expect(set.t0.at.toISOString()).toBe('2026-12-01T02:30:00.000Z');
    expect(set.passed.map((m) => m.milestone.title)).toEqual(['Final checks', 'Deploy begins']);
    expect((await s.posts()).at(-1)!.text).toBe(
      '🕗 <@U0OPS> set T-0 to *1 Dec 08:00 GMT+5:30*.\nNext milestone: *DNS cutover* at T+30m · 1 Dec 08:30 GMT+5:30.\n2 milestones are already past and will not be posted: *Final checks*, *Deploy begins*.',
    );
    expect(await s.timeline.runDue()).toBe(0);
    const again = await s.timeline.setT0('2026-12-01T08:00+05:30', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' });
    expect(again.changed).toBe(false);
    const moved = await s.timeline.setT0('+2h', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' });
    expect(moved.previous?.toISOString()).toBe('2026-12-01T02:30:00.000Z');
    expect((await s.posts()).at(-1)!.text).toBe('🕗 <@U0OPS> moved T-0 to *1 Dec 10:00 GMT+5:30* (was 1 Dec 08:00 GMT+5:30).\nNext milestone: *Final checks* at T-1h · 1 Dec 09:00 GMT+5:30.');
    expect(await s.store.all("SELECT actor, detail FROM audit WHERE action = 'launch.t0' ORDER BY id")).toEqual([
      { actor: 'U0OPS', detail: JSON.stringify({ from: null, to: '2026-12-01T02:30:00.000Z' }) },
      { actor: 'U0OPS', detail: JSON.stringify({ from: '2026-12-01T02:30:00.000Z', to: '2026-12-01T04:30:00.000Z' }) },
    ]);
    s.clock.at = Date.parse('2026-12-01T03:30:00Z');
    expect(await s.timeline.runDue()).toBe(1);
    expect((await s.posts()).at(-1)!.text).toBe('⏰ Final checks — T-1h · 1 Dec 09:00 GMT+5:30');
  });

  it('refuses T-0 from someone in no role, and text it cannot read', async () => {
    const s = await setup({ at: '2026-12-01T00:00:00Z' });
    await expect(s.timeline.setT0('08:00', { userId: 'U0STRANGER', source: 'command', channel: 'C0OPS' })).rejects.toThrow('Only people named in one of the runbook’s roles may set T-0.');
    await expect(s.timeline.setT0('soon', { userId: 'U0OPS', source: 'command', channel: 'C0OPS' })).rejects.toThrow('I can\'t read "soon" as a time.');
    expect(await s.timeline.t0()).toBeUndefined();
  });

  it('takes an edited runbook T-0 on restart, but keeps a /golive t0 move while the file is unchanged', async () => {
    const first = await setup({ t0: T0, at: '2026-11-30T00:00:00Z' });
    await first.timeline.setT0('+1h', { userId: 'U0OPS', source: 'command', channel: null });
    await first.close();
    const same = await setup({ t0: T0, at: '2026-11-30T00:01:00Z', dbPath: first.dbPath });
    expect((await same.timeline.t0())?.at.toISOString()).toBe('2026-12-01T03:30:00.000Z');
    await same.close();
    const edited = await setup({ t0: '2026-12-02T08:00:00+05:30', at: '2026-11-30T00:02:00Z', dbPath: first.dbPath });
    expect(await edited.timeline.t0()).toMatchObject({ setBy: 'runbook' });
    expect((await edited.timeline.t0())?.at.toISOString()).toBe('2026-12-02T02:30:00.000Z');
  });
});
