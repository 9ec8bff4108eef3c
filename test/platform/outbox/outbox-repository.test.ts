import { describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { Store } from '../../../src/platform/store/store.js';

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('OutboxRepository', () => {
  it('enqueues calls due at once and lists due rows oldest first, up to the limit', async () => {
    const store = new Store(openDatabase(':memory:'));
    const s = new OutboxRepository(store);
    const a = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'a' }, T1);
    const b = await s.enqueue('chat.update', { channel: 'C1', ts: '1.1', text: 'b' }, T2);
    expect([a, b]).toEqual([1, 2]);
    expect(await s.due(T1, 10)).toEqual([{ id: 1, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'a' }, created_at: T1, attempts: 0, next_attempt_at: T1, depends_on: null, sending_at: null }]);
    expect((await s.due(T3, 10)).map((r) => r.id)).toEqual([1, 2]);
    expect((await s.due(T3, 1)).map((r) => r.id)).toEqual([1]);
    expect(await s.pendingCount()).toBe(2);
  });

  it('reschedules, delivers and fails rows, and hides finished ones', async () => {
    const store = new Store(openDatabase(':memory:'));
    const s = new OutboxRepository(store);
    const retry = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'retry' }, T1);
    const ok = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'ok' }, T1);
    const bad = await s.enqueue('chat.postMessage', { channel: 'C404', text: 'bad' }, T1);

    await s.markRetry(retry, 'internal_error', T3);
    await s.markDelivered(ok, T2, { ts: '1.5', channel: 'C1' });
    await s.markFailed(bad, T2, 'channel_not_found');

    expect(await s.due(T2, 10)).toEqual([]);
    expect(await s.due(T3, 10)).toEqual([{ id: retry, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'retry' }, created_at: T1, attempts: 1, next_attempt_at: T3, depends_on: null, sending_at: null }]);
    expect(await s.outcome(ok)).toEqual({ delivered_at: T2, failed_at: null, last_error: null, result: { ts: '1.5', channel: 'C1' } });
    expect(await s.outcome(bad)).toMatchObject({ failed_at: T2, last_error: 'channel_not_found' });
    expect((await s.failed(5)).map((r) => r.id)).toEqual([bad]);
    expect(await s.pendingCount()).toBe(1);

    const rows = await store.all('SELECT id, attempts, delivered_at, failed_at, last_error, result FROM outbox ORDER BY id');
    expect(rows).toEqual([
      { id: retry, attempts: 1, delivered_at: null, failed_at: null, last_error: 'internal_error', result: null },
      { id: ok, attempts: 1, delivered_at: T2, failed_at: null, last_error: null, result: '{"ts":"1.5","channel":"C1"}' },
      { id: bad, attempts: 1, delivered_at: null, failed_at: T2, last_error: 'channel_not_found', result: null },
    ]);
  });
});
