import { afterEach, describe, expect, it } from 'vitest';
import { ChecklistRepository } from '../../src/checklist/checklist-repository.js';
import { OutboxRepository } from '../../src/platform/outbox/outbox-repository.js';
import { AuditRepository } from '../../src/platform/store/audit-repository.js';
import { migrations } from '../../src/platform/store/migrations.js';
import { closeTestStores, openTestStore, openTestStoreWithTarget, reopenTestStore, testStoreKind } from './test-store.js';
import { usingPostgres } from './test-database.js';

afterEach(closeTestStores);

const T1 = '2026-12-01T10:00:00.000Z';

describe('openTestStore', () => {
  it("opens the run's store, migrated", async () => {
    const store = await openTestStore();
    expect(store.dialect).toBe(usingPostgres() ? 'postgres' : 'sqlite');
    expect(testStoreKind()).toBe(store.dialect);
    expect(await store.health()).toMatchObject({ ok: true, schemaVersion: Math.max(...migrations.map((m) => m.version)) });
  });

  it('gives every test an empty database, its ids starting at 1 again (also a PostgreSQL one reused from an earlier test)', async () => {
    for (let round = 0; round < 3; round++) {
      const store = await openTestStore();
      expect(await new AuditRepository(store).count()).toBe(0);
      expect(await new ChecklistRepository(store).signoffs()).toEqual([]);
      expect(await new AuditRepository(store).record({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, T1)).toBe(1);
      expect(await new OutboxRepository(store).enqueue('chat.postMessage', { channel: 'C1', text: 'a' }, T1)).toBe(1);
      expect(await new ChecklistRepository(store).addSignoff('g', 'cto', 'U1', T1)).toBe(true);
      await closeTestStores();
    }
  });

  it('reopens the same database, and keeps the stores of one test apart', async () => {
    const { store: a, target } = await openTestStoreWithTarget({ file: true });
    const other = await openTestStore();
    await new ChecklistRepository(a).addSignoff('g', 'cto', 'U1', T1);
    await a.close();
    const again = await reopenTestStore(target);
    expect(await new ChecklistRepository(again).signoffs()).toEqual([{ gate_id: 'g', role: 'cto', user_id: 'U1', signed_at: T1 }]);
    expect(await new ChecklistRepository(other).signoffs()).toEqual([]);
  });
});
