import { afterEach, describe, expect, it } from 'vitest';
import { GoliveError } from '../../src/platform/errors.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { ChecklistService, type ChecklistEvent } from '../../src/checklist/checklist-service.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { AuditRepository } from '../../src/platform/store/audit-repository.js';
import { ChecklistRepository } from '../../src/checklist/checklist-repository.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const RUNBOOK = `
version: 1
launch: { name: Unit, channel: C0OPS }
roles:
  dev: { name: Dev, users: [U0DEV] }
  qa: { name: QA, groups: [S0QA] }
  all: { name: Anyone, anyone: true }
gates:
  - id: g1
    title: Gate one
    signoff: [dev, qa]
    items:
      - { id: b1, title: Blocker one, level: blocker, owner: dev }
      - { id: w1, title: Warning one, level: warning, owner: qa }
      - { id: i1, title: Info one, level: info, owner: all }
  - id: g2
    title: Gate two
    items:
      - { id: b2, title: Blocker two, level: blocker, owner: qa }
`;

async function setup() {
  const parsed = parseRunbook(RUNBOOK, 'unit.yml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const store = await openTestStore();
  const clock = { now: () => new Date('2026-12-01T00:00:00Z') };
  const slack = { usergroupMembers: async (g: string) => (g === 'S0QA' ? ['U0QA'] : []) } as unknown as SlackPort;
  const checklist = new ChecklistService(parsed.runbook, store, new RoleDirectory(parsed.runbook, slack, clock), clock);
  const events: ChecklistEvent[] = [];
  checklist.onChange((e) => {
    events.push(e);
  });
  return { checklist, store, events };
}

const dev = { userId: 'U0DEV', source: 'command' as const, channel: 'C0OPS' };
const qa = { userId: 'U0QA', source: 'button' as const, channel: 'C0OPS' };

describe('ChecklistService', () => {
  it('starts blocked with every blocker open, blockers listed before warnings and info', async () => {
    const { checklist } = await setup();
    const s = await checklist.snapshot();
    expect(s.verdict).toEqual({ kind: 'blocked', openBlockers: 2 });
    expect(s.open.blocker.map((x) => x.item.id)).toEqual(['b1', 'b2']);
    expect(s.open.warning.map((x) => x.item.id)).toEqual(['w1']);
    expect(s.open.info.map((x) => x.item.id)).toEqual(['i1']);
    expect(s.gates.map((g) => [g.gate.id, g.done, g.total, g.missingSignoffs])).toEqual([
      ['g1', 0, 3, ['dev', 'qa']],
      ['g2', 0, 1, []],
    ]);
  });

  it('checks once, emits one event and writes one audit row', async () => {
    const { checklist, store, events } = await setup();
    expect((await checklist.check('b1', dev, 'done')).changed).toBe(true);
    expect((await checklist.check('B1 ', dev, 'again')).changed).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['item_checked']);
    expect((await new AuditRepository(store).history(10)).map((r) => [r.action, r.target, r.detail])).toEqual([['item.check', 'b1', { gate: 'g1', note: 'done' }]]);
  });

  it('resolves group members as owners and refuses others with a coded error', async () => {
    const { checklist } = await setup();
    await expect(checklist.check('b2', qa, null)).resolves.toMatchObject({ changed: true });
    const err = await checklist.check('b2', dev, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoliveError);
    expect((err as GoliveError).code).toBe('not_permitted');
  });

  it('moves the verdict from blocked to awaiting sign-off to ready', async () => {
    const { checklist } = await setup();
    await checklist.check('b1', dev, null);
    await checklist.check('b2', qa, null);
    expect((await checklist.snapshot()).verdict).toEqual({ kind: 'awaiting_signoff', missing: [{ gate: 'g1', roles: ['dev', 'qa'] }] });
    await checklist.signoff('g1', dev);
    await checklist.signoff('g1', qa);
    expect((await checklist.snapshot()).verdict).toEqual({ kind: 'ready' });
  });

  it('refuses a sign-off while blockers are open and names them', async () => {
    const { checklist } = await setup();
    const err = (await checklist.signoff('g1', dev).catch((e: unknown) => e)) as GoliveError;
    expect(err.code).toBe('blockers_open');
    expect(err.hint).toBe('• `b1` Blocker one (owner: Dev)');
  });

  it('withdraws sign-offs when a blocker is reopened, in the same transaction', async () => {
    const { checklist, store, events } = await setup();
    await checklist.check('b1', dev, null);
    await checklist.signoff('g1', dev);
    const change = await checklist.uncheck('b1', dev, 'broken');
    expect(change.revokedSignoffs.map((s) => s.role)).toEqual(['dev']);
    expect(await new ChecklistRepository(store).signoffs()).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['item_checked', 'gate_signed', 'item_unchecked']);
  });

  it('rolls the change back when a listener fails', async () => {
    const { checklist, store } = await setup();
    checklist.onChange(() => {
      throw new Error('outbox full');
    });
    await expect(checklist.check('b1', dev, null)).rejects.toThrow('outbox full');
    expect(await new ChecklistRepository(store).itemState('b1')).toBeUndefined();
    expect(await new AuditRepository(store).count()).toBe(0);
  });

  it('suggests close item ids', async () => {
    const { checklist } = await setup();
    const err = (() => {
      try {
        checklist.findItem('b3');
      } catch (e) {
        return e as GoliveError;
      }
    })();
    expect(err?.code).toBe('unknown_item');
    expect(err?.hint).toBe('Did you mean `b1` or `b2`?');
  });
});
