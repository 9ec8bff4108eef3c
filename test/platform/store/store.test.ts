import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { Store } from '../../../src/platform/store/store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) if (s.db.open) s.db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-store-'));
  dirs.push(dir);
  return path.join(dir, 'golive.db');
}

function storeAt(file: string): Store {
  const s = new Store(openDatabase(file));
  stores.push(s);
  return s;
}

const memory = () => storeAt(':memory:');

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('Store: checklist items', () => {
  it('changes an item state only when it differs, and leaves the row alone otherwise', () => {
    const s = memory();
    expect(s.setItemState('v2f-agreement', true, 'U1', T1, 'signed by legal')).toBe(true);
    expect(s.setItemState('v2f-agreement', true, 'U2', T2, 'again')).toBe(false);
    expect(s.itemState('v2f-agreement')).toEqual({ item_id: 'v2f-agreement', checked: 1, changed_by: 'U1', changed_at: T1, note: 'signed by legal' });

    expect(s.setItemState('v2f-agreement', false, 'U2', T2, 'contract withdrawn')).toBe(true);
    expect(s.itemState('v2f-agreement')).toEqual({ item_id: 'v2f-agreement', checked: 0, changed_by: 'U2', changed_at: T2, note: 'contract withdrawn' });
    expect(s.setItemState('v2f-agreement', false, 'U3', T3, null)).toBe(false);
    expect(s.itemState('v2f-agreement')).toMatchObject({ changed_by: 'U2', changed_at: T2 });
  });

  it('returns undefined for an item never touched, and all states as a map', () => {
    const s = memory();
    expect(s.itemState('nope')).toBeUndefined();
    s.setItemState('a', true, 'U1', T1, null);
    s.setItemState('b', true, 'U2', T2, 'n');
    s.setItemState('b', false, 'U2', T3, null);
    const states = s.itemStates();
    expect([...states.keys()].sort()).toEqual(['a', 'b']);
    expect(states.get('a')).toEqual({ item_id: 'a', checked: 1, changed_by: 'U1', changed_at: T1, note: null });
    expect(states.get('b')?.checked).toBe(0);
  });

  it('returns false and writes nothing when unchecking an item never touched', () => {
    const s = memory();
    expect(s.setItemState('never-touched', false, 'U1', T1, null)).toBe(false);
    expect(s.itemState('never-touched')).toBeUndefined();
  });
});

describe('Store: sign-offs', () => {
  it('records a sign-off once per gate and role, whoever signs again', () => {
    const s = memory();
    expect(s.addSignoff('preflight', 'cto', 'U1', T1)).toBe(true);
    expect(s.addSignoff('preflight', 'cto', 'U1', T2)).toBe(false);
    expect(s.addSignoff('preflight', 'cto', 'U2', T3)).toBe(false);
    expect(s.signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 }]);
  });

  it('keeps roles and gates apart, lists by time, and clears one gate', () => {
    const s = memory();
    expect(s.addSignoff('preflight', 'qa', 'U2', T2)).toBe(true);
    expect(s.addSignoff('preflight', 'cto', 'U1', T1)).toBe(true);
    expect(s.addSignoff('security', 'cto', 'U1', T3)).toBe(true);
    expect(s.signoffs().map((r) => `${r.gate_id}/${r.role}`)).toEqual(['preflight/cto', 'preflight/qa', 'security/cto']);

    const removed = s.clearSignoffs('preflight');
    expect([...removed].sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 },
      { gate_id: 'preflight', role: 'qa', user_id: 'U2', signed_at: T2 },
    ]);
    expect(s.signoffs()).toEqual([{ gate_id: 'security', role: 'cto', user_id: 'U1', signed_at: T3 }]);
    expect(s.clearSignoffs('preflight')).toEqual([]);
    expect(s.addSignoff('preflight', 'cto', 'U4', T3)).toBe(true);
  });
});

describe('Store: inbound request de-duplication', () => {
  it('claims a request key once, and again only after it was pruned', () => {
    const s = memory();
    expect(s.claimRequest('trigger:123.456', T1)).toBe(true);
    expect(s.claimRequest('trigger:123.456', T2)).toBe(false);
    expect(s.claimRequest('event:Ev01', T2)).toBe(true);
    expect(s.pruneRequests(T2)).toBe(1); // only the key received before T2
    expect(s.claimRequest('event:Ev01', T3)).toBe(false);
    expect(s.claimRequest('trigger:123.456', T3)).toBe(true);
  });
});

describe('Store: transactions and audit', () => {
  it('rolls back the state change and its audit row together when the function throws', () => {
    const s = memory();
    s.setItemState('a', true, 'U1', T1, null);
    const auditBefore = s.auditCount();
    expect(() =>
      s.transaction(() => {
        expect(s.setItemState('a', false, 'U2', T2, 'oops')).toBe(true);
        s.audit({ actor: 'U2', action: 'item.uncheck', target: 'a', source: 'command' }, T2);
        expect(s.auditCount()).toBe(auditBefore + 1); // visible inside the transaction
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.itemState('a')).toMatchObject({ checked: 1, changed_by: 'U1', changed_at: T1 });
    expect(s.auditCount()).toBe(auditBefore);
    expect(s.history(10)).toEqual([]);
  });

  it('commits both and returns the function’s value', () => {
    const s = memory();
    const result = s.transaction(() => {
      s.setItemState('a', true, 'U1', T1, null);
      return s.audit({ actor: 'U1', action: 'item.check', target: 'a', source: 'button' }, T1);
    });
    expect(result).toBe(1);
    expect(s.itemState('a')?.checked).toBe(1);
    expect(s.auditCount()).toBe(1);
  });

  it('returns history newest first with parsed detail and defaults', () => {
    const s = memory();
    expect(s.audit({ actor: 'U1', action: 'item.check', target: 'a', detail: { gate: 'preflight', note: 'ok' }, source: 'command', channel: 'C1' }, T1)).toBe(1);
    expect(s.audit({ actor: 'U2', action: 'item.uncheck', target: 'a', source: 'button' }, T2)).toBe(2);
    expect(s.audit({ actor: 'system', action: 'gate.signoff', target: 'preflight', detail: { roles: ['cto'] }, source: 'system', channel: null }, T3)).toBe(3);
    expect(s.history(2)).toEqual([
      { id: 3, at: T3, actor: 'system', action: 'gate.signoff', target: 'preflight', detail: { roles: ['cto'] }, source: 'system', channel: null },
      { id: 2, at: T2, actor: 'U2', action: 'item.uncheck', target: 'a', detail: {}, source: 'button', channel: null },
    ]);
    expect(s.history(10).at(-1)).toEqual({ id: 1, at: T1, actor: 'U1', action: 'item.check', target: 'a', detail: { gate: 'preflight', note: 'ok' }, source: 'command', channel: 'C1' });
    expect(s.auditCount()).toBe(3);
  });
});

describe('Store: status messages', () => {
  it('adds, replaces, lists recent ones newest first, and forgets', () => {
    const s = memory();
    s.addStatusMessage({ channel: 'C1', ts: '1.1', viewer: 'U1', gate_id: null, page: 1, posted_at: T1 });
    s.addStatusMessage({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 1, posted_at: T2 });
    s.addStatusMessage({ channel: 'C2', ts: '1.3', viewer: 'U1', gate_id: null, page: 1, posted_at: T3 });
    s.addStatusMessage({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 2, posted_at: T2 }); // same message, page changed
    expect(s.statusMessage('C1', '1.2')).toEqual({ channel: 'C1', ts: '1.2', viewer: 'U2', gate_id: 'preflight', page: 2, posted_at: T2 });
    expect(s.recentStatusMessages(T2, 10).map((m) => m.ts)).toEqual(['1.3', '1.2']);
    expect(s.recentStatusMessages(T1, 1).map((m) => m.ts)).toEqual(['1.3']);
    s.forgetStatusMessage('C1', '1.2');
    expect(s.statusMessage('C1', '1.2')).toBeUndefined();
    expect(s.statusMessage('C2', '1.2')).toBeUndefined();
  });
});

describe('Store: outbox queries', () => {
  it('enqueues calls due at once and lists due rows oldest first, up to the limit', () => {
    const s = memory();
    const a = s.enqueue('chat.postMessage', { channel: 'C1', text: 'a' }, T1);
    const b = s.enqueue('chat.update', { channel: 'C1', ts: '1.1', text: 'b' }, T2);
    expect([a, b]).toEqual([1, 2]);
    expect(s.dueOutbox(T1, 10)).toEqual([{ id: 1, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'a' }, created_at: T1, attempts: 0, next_attempt_at: T1, depends_on: null, sending_at: null }]);
    expect(s.dueOutbox(T3, 10).map((r) => r.id)).toEqual([1, 2]);
    expect(s.dueOutbox(T3, 1).map((r) => r.id)).toEqual([1]);
    expect(s.pendingOutboxCount()).toBe(2);
  });

  it('reschedules, delivers and fails rows, and hides finished ones', () => {
    const s = memory();
    const retry = s.enqueue('chat.postMessage', { channel: 'C1', text: 'retry' }, T1);
    const ok = s.enqueue('chat.postMessage', { channel: 'C1', text: 'ok' }, T1);
    const bad = s.enqueue('chat.postMessage', { channel: 'C404', text: 'bad' }, T1);

    s.markRetry(retry, 'internal_error', T3);
    s.markDelivered(ok, T2, { ts: '1.5', channel: 'C1' });
    s.markFailed(bad, T2, 'channel_not_found');

    expect(s.dueOutbox(T2, 10)).toEqual([]);
    expect(s.dueOutbox(T3, 10)).toEqual([{ id: retry, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'retry' }, created_at: T1, attempts: 1, next_attempt_at: T3, depends_on: null, sending_at: null }]);
    expect(s.outboxOutcome(ok)).toEqual({ delivered_at: T2, failed_at: null, last_error: null, result: { ts: '1.5', channel: 'C1' } });
    expect(s.outboxOutcome(bad)).toMatchObject({ failed_at: T2, last_error: 'channel_not_found' });
    expect(s.failedOutbox(5).map((r) => r.id)).toEqual([bad]);
    expect(s.pendingOutboxCount()).toBe(1);

    const rows = s.db.prepare('SELECT id, attempts, delivered_at, failed_at, last_error, result FROM outbox ORDER BY id').all();
    expect(rows).toEqual([
      { id: retry, attempts: 1, delivered_at: null, failed_at: null, last_error: 'internal_error', result: null },
      { id: ok, attempts: 1, delivered_at: T2, failed_at: null, last_error: null, result: '{"ts":"1.5","channel":"C1"}' },
      { id: bad, attempts: 1, delivered_at: null, failed_at: T2, last_error: 'channel_not_found', result: null },
    ]);
  });
});

describe('Store: persistence and concurrency', () => {
  it('keeps everything across close and re-open of a file database', () => {
    const file = tempFile();
    const first = storeAt(file);
    first.transaction(() => {
      first.setItemState('a', true, 'U1', T1, 'done');
      first.addSignoff('preflight', 'cto', 'U9', T1);
      first.audit({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, T1);
      first.claimRequest('trigger:1', T1);
      first.enqueue('chat.postMessage', { channel: 'C1', text: 'a done' }, T1);
    });
    first.db.close();

    const second = storeAt(file);
    expect(second.itemState('a')).toEqual({ item_id: 'a', checked: 1, changed_by: 'U1', changed_at: T1, note: 'done' });
    expect(second.signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U9', signed_at: T1 }]);
    expect(second.history(5).map((r) => r.action)).toEqual(['item.check']);
    expect(second.claimRequest('trigger:1', T2)).toBe(false);
    expect(second.pendingOutboxCount()).toBe(1);
  });

  it('lets exactly one of two connections to the same file record the same sign-off', () => {
    const file = tempFile();
    const a = storeAt(file);
    const b = storeAt(file);
    const results = [a.transaction(() => a.addSignoff('preflight', 'cto', 'U1', T1)), b.transaction(() => b.addSignoff('preflight', 'cto', 'U2', T2))];
    expect(results).toEqual([true, false]);
    expect(b.signoffs()).toEqual([{ gate_id: 'preflight', role: 'cto', user_id: 'U1', signed_at: T1 }]);
  });

  it('lets exactly one of three threads racing on the same file win each sign-off', async () => {
    const file = tempFile();
    storeAt(file).db.close(); // schema in place before the race (see open-database.test.ts for the migration race)
    const GATES = 200;
    const users = ['U1', 'U2', 'U3'];
    // Workers load the TypeScript store through tsx's ESM API (its CommonJS entry cannot register the loader).
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { tsImport } = await import(workerData.tsxApi);
        const { openDatabase } = await tsImport(workerData.openUrl, workerData.openUrl);
        const { Store } = await tsImport(workerData.storeUrl, workerData.storeUrl);
        const store = new Store(openDatabase(workerData.file));
        const barrier = new Int32Array(workerData.barrier);
        Atomics.add(barrier, 1, 1);
        Atomics.wait(barrier, 0, 0);
        const won = [];
        for (let i = 0; i < workerData.gates; i++) won.push(store.addSignoff('gate-' + i, 'cto', workerData.user, 't'));
        store.db.close();
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
            storeUrl: new URL('../../../src/platform/store/store.ts', import.meta.url).href,
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
      const check = storeAt(file);
      const rows = check.signoffs();
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
