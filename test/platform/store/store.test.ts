import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { assertNotInTransaction, inTransaction, Store } from '../../../src/platform/store/store.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import { AuditRepository } from '../../../src/platform/store/audit-repository.js';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { ChecklistRepository } from '../../../src/checklist/checklist-repository.js';
import { closeTestStores, openTestStore, openTestStoreWithTarget, reopenTestStore, testStoreKind } from '../../support/test-store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) if (s.isOpen) void s.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await closeTestStores();
});

function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-store-'));
  dirs.push(dir);
  return path.join(dir, 'golive.db');
}

/** A SqliteStore on a file, for the tests about SQLite itself. */
function sqliteStoreAt(file: string): Store {
  const s = new SqliteStore(openDatabase(file));
  stores.push(s);
  return s;
}

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('Store: transactions, and the audit trail', () => {
  it('rolls back the state change and its audit row together when the function throws', async () => {
    const s = await openTestStore();
    await new ChecklistRepository(s).setItemState('a', true, 'U1', T1, null);
    const auditBefore = await new AuditRepository(s).count();
    await expect(
      s.transaction(async () => {
        expect(await new ChecklistRepository(s).setItemState('a', false, 'U2', T2, 'oops')).toBe(true);
        await new AuditRepository(s).record({ actor: 'U2', action: 'item.uncheck', target: 'a', source: 'command' }, T2);
        expect(await new AuditRepository(s).count()).toBe(auditBefore + 1); // visible inside the transaction
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await new ChecklistRepository(s).itemState('a')).toMatchObject({ checked: 1, changed_by: 'U1', changed_at: T1 });
    expect(await new AuditRepository(s).count()).toBe(auditBefore);
    expect(await new AuditRepository(s).history(10)).toEqual([]);
  });

  it('commits both and returns the function’s value', async () => {
    const s = await openTestStore();
    const result = await s.transaction(async () => {
      await new ChecklistRepository(s).setItemState('a', true, 'U1', T1, null);
      return new AuditRepository(s).record({ actor: 'U1', action: 'item.check', target: 'a', source: 'button' }, T1);
    });
    expect(result).toBe(1);
    expect((await new ChecklistRepository(s).itemState('a'))?.checked).toBe(1);
    expect(await new AuditRepository(s).count()).toBe(1);
  });

  it('returns history newest first with parsed detail and defaults', async () => {
    const s = await openTestStore();
    expect(await new AuditRepository(s).record({ actor: 'U1', action: 'item.check', target: 'a', detail: { gate: 'preflight', note: 'ok' }, source: 'command', channel: 'C1' }, T1)).toBe(1);
    expect(await new AuditRepository(s).record({ actor: 'U2', action: 'item.uncheck', target: 'a', source: 'button' }, T2)).toBe(2);
    expect(await new AuditRepository(s).record({ actor: 'system', action: 'gate.signoff', target: 'preflight', detail: { roles: ['cto'] }, source: 'system', channel: null }, T3)).toBe(3);
    expect(await new AuditRepository(s).history(2)).toEqual([
      { id: 3, at: T3, actor: 'system', action: 'gate.signoff', target: 'preflight', detail: { roles: ['cto'] }, source: 'system', channel: null },
      { id: 2, at: T2, actor: 'U2', action: 'item.uncheck', target: 'a', detail: {}, source: 'button', channel: null },
    ]);
    expect((await new AuditRepository(s).history(10)).at(-1)).toEqual({ id: 1, at: T1, actor: 'U1', action: 'item.check', target: 'a', detail: { gate: 'preflight', note: 'ok' }, source: 'command', channel: 'C1' });
    expect(await new AuditRepository(s).count()).toBe(3);
  });
});

describe('Store: transactions across async work', () => {
  const tick = () => new Promise((r) => setImmediate(r));

  it('never lets other async work see or join an open transaction: on SQLite its statement waits for the commit', async () => {
    const s = await openTestStore();
    const items = new ChecklistRepository(s);
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const wasWritten = new Promise<void>((r) => (written = r));
    const tx = s.transaction(async () => {
      await items.setItemState('a', true, 'U1', T1, null);
      seen.push('written');
      written();
      // Only for the test: keeps the transaction open across an await on something else.
      await held;
      seen.push('committing');
    });
    await wasWritten;
    const read = items.itemState('a').then((row) => seen.push(`read ${row?.checked ?? 'nothing'}`));
    if (testStoreKind() === 'sqlite') {
      // One connection: the statement waits for the transaction's lock instead of running inside it.
      await tick();
      expect(seen).toEqual(['written']);
      release();
      await Promise.all([tx, read]);
      expect(seen).toEqual(['written', 'committing', 'read 1']);
    } else {
      // Another connection of the pool: it reads what was committed, without waiting for the open transaction.
      await read;
      expect(seen).toEqual(['written', 'read nothing']);
      release();
      await tx;
      expect(seen).toEqual(['written', 'read nothing', 'committing']);
      expect((await items.itemState('a'))?.checked).toBe(1);
    }
  });

  it('runs a second transaction after the first, not inside it', async () => {
    const s = await openTestStore();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let begun!: () => void;
    const firstBegun = new Promise<void>((r) => (begun = r));
    const first = s.transaction(async () => {
      order.push('first begins');
      begun();
      await held;
      order.push('first ends');
    });
    await firstBegun;
    const second = s.transaction(async () => {
      order.push('second begins');
    });
    // Long enough for PostgreSQL's second BEGIN to reach the write lock it waits on.
    await new Promise((r) => setTimeout(r, testStoreKind() === 'postgres' ? 100 : 0));
    expect(order).toEqual(['first begins']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first begins', 'first ends', 'second begins']);
  });

  it('joins a nested transaction to the outer one, so a failure later rolls both back', async () => {
    const s = await openTestStore();
    const items = new ChecklistRepository(s);
    await expect(
      s.transaction(async () => {
        await s.transaction(() => items.setItemState('a', true, 'U1', T1, null));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await items.itemState('a')).toBeUndefined();
  });

  it('runs afterCommit callbacks once the transaction has committed, and never after a rollback', async () => {
    const s = await openTestStore();
    const calls: string[] = [];
    await s.transaction(async () => {
      s.afterCommit(() => calls.push(`after commit, in a transaction: ${String(inTransaction())}`));
      calls.push('inside');
    });
    await s
      .transaction(async () => {
        s.afterCommit(() => calls.push('never'));
        throw new Error('boom');
      })
      .catch(() => undefined);
    s.afterCommit(() => calls.push('outside: at once'));
    expect(calls).toEqual(['inside', 'after commit, in a transaction: false', 'outside: at once']);
  });

  it('refuses a network call made inside a transaction (outside production)', async () => {
    const s = await openTestStore();
    await expect(s.transaction(async () => assertNotInTransaction('Slack chat.postMessage'))).rejects.toThrow(
      'Slack chat.postMessage was called inside a database transaction; make the call before or after it (see src/platform/store/store.ts)',
    );
    expect(() => assertNotInTransaction('Slack chat.postMessage')).not.toThrow();
  });
});

describe('Store: persistence and concurrency', () => {
  it('keeps everything across close and re-open of a database', async () => {
    const { store: first, target } = await openTestStoreWithTarget({ file: true });
    await first.transaction(async () => {
      await new ChecklistRepository(first).setItemState('a', true, 'U1', T1, 'done');
      await new ChecklistRepository(first).addSignoff('preflight', 'cto', 'U9', T1);
      await new AuditRepository(first).record({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, T1);
      await new RequestRepository(first).receive('trigger:1', T1);
      await new OutboxRepository(first).enqueue('chat.postMessage', { channel: 'C1', text: 'a done' }, T1);
    });
    await first.close();

    const second = await reopenTestStore(target);
    expect(await new ChecklistRepository(second).itemState('a')).toEqual({ item_id: 'a', checked: 1, changed_by: 'U1', changed_at: T1, note: 'done' });
    expect(await new ChecklistRepository(second).signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U9', signed_at: T1 }]);
    expect((await new AuditRepository(second).history(5)).map((r) => r.action)).toEqual(['item.check']);
    expect(await new RequestRepository(second).receive('trigger:1', T2)).toBe(false);
    expect(await new OutboxRepository(second).pendingCount()).toBe(1);
  });

  it('lets exactly one of two connections to the same database record the same sign-off', async () => {
    const { store: a, target } = await openTestStoreWithTarget({ file: true });
    const b = await reopenTestStore(target);
    const results = [await a.transaction(() => new ChecklistRepository(a).addSignoff('preflight', 'cto', 'U1', T1)), await b.transaction(() => new ChecklistRepository(b).addSignoff('preflight', 'cto', 'U2', T2))];
    expect(results).toEqual([true, false]);
    expect(await new ChecklistRepository(b).signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 }]);
  });

  // SQLite only: threads sharing one file through SQLite's file locks (postgres-store.test.ts races replicas).
  it('lets exactly one of three threads racing on the same file win each sign-off', async () => {
    const file = tempFile();
    void sqliteStoreAt(file).close(); // schema in place before the race (see open-database.test.ts for the migration race)
    const GATES = 200;
    const users = ['U1', 'U2', 'U3'];
    // Workers load the TypeScript store through tsx's ESM API (its CommonJS entry cannot register the loader).
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { tsImport } = await import(workerData.tsxApi);
        const { openDatabase } = await tsImport(workerData.openUrl, workerData.openUrl);
        const { SqliteStore } = await tsImport(workerData.storeUrl, workerData.storeUrl);
        const { ChecklistRepository } = await tsImport(workerData.itemsUrl, workerData.itemsUrl);
        const store = new SqliteStore(openDatabase(workerData.file));
        const items = new ChecklistRepository(store);
        const barrier = new Int32Array(workerData.barrier);
        Atomics.add(barrier, 1, 1);
        Atomics.wait(barrier, 0, 0);
        const won = [];
        for (let i = 0; i < workerData.gates; i++) won.push(await items.addSignoff('gate-' + i, 'cto', workerData.user, 't'));
        store.close();
        parentPort.postMessage({ won });
      })().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));`;
    const barrier = new SharedArrayBuffer(8);
    const flags = new Int32Array(barrier);
    const workers = users.map(
      (user) =>
        new Worker(code, {
          eval: true,
          workerData: {
            tsxApi,
            barrier,
            file,
            user,
            gates: GATES,
            openUrl: new URL('../../../src/platform/store/open-database.ts', import.meta.url).href,
            storeUrl: new URL('../../../src/platform/store/sqlite-store.ts', import.meta.url).href,
            itemsUrl: new URL('../../../src/checklist/checklist-repository.ts', import.meta.url).href,
          },
        }),
    );
    const results = workers.map(
      (w) =>
        new Promise<boolean[]>((resolve, reject) => {
          w.once('error', reject);
          w.once('message', (m: { won?: boolean[]; error?: string }) => (m.won ? resolve(m.won) : reject(new Error(m.error))));
        }),
    );
    try {
      const ready = Promise.race([
        (async () => {
          while (Atomics.load(flags, 1) < users.length) await new Promise((r) => setTimeout(r, 5));
        })(),
        ...results, // a worker that fails to start rejects here instead of hanging
      ]);
      await ready;
      Atomics.store(flags, 0, 1);
      Atomics.notify(flags, 0);
      const won = await Promise.all(results);

      for (let i = 0; i < GATES; i++) expect(won.filter((w) => w[i]).length, `gate-${i}`).toBe(1);
      const check = sqliteStoreAt(file);
      const rows = await new ChecklistRepository(check).signoffs();
      expect(rows).toHaveLength(GATES);
      for (const row of rows) {
        const i = Number(row.gate_id.slice('gate-'.length));
        expect(row.user_id).toBe(users[won.findIndex((w) => w[i])]);
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
