import { afterEach, describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { closeTestStores, openTestStore } from '../../support/test-store.js';

afterEach(closeTestStores);

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('OutboxRepository', () => {
  it('enqueues calls due at once and lists due rows oldest first, up to the limit', async () => {
    const store = await openTestStore();
    const s = new OutboxRepository(store);
    const a = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'a' }, T1);
    const b = await s.enqueue('chat.update', { channel: 'C1', ts: '1.1', text: 'b' }, T2);
    expect([a, b]).toEqual([1, 2]);
    expect(await s.due(T1, 10)).toEqual([{ id: 1, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'a' }, created_at: T1, attempts: 0, next_attempt_at: T1, depends_on: null, sending_at: null, priority: 1, lane: 'post:C1', gather: null }]);
    expect((await s.due(T3, 10)).map((r) => r.id)).toEqual([1, 2]);
    expect((await s.due(T3, 1)).map((r) => r.id)).toEqual([1]);
    expect(await s.pendingCount()).toBe(2);
  });

  it('reschedules, delivers and fails rows, and hides finished ones', async () => {
    const store = await openTestStore();
    const s = new OutboxRepository(store);
    const retry = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'retry' }, T1);
    const ok = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'ok' }, T1);
    const bad = await s.enqueue('chat.postMessage', { channel: 'C404', text: 'bad' }, T1);

    await s.markRetry(retry, 'internal_error', T3);
    await s.markDelivered(ok, T2, { ts: '1.5', channel: 'C1' });
    await s.markFailed(bad, T2, 'channel_not_found');

    expect(await s.due(T2, 10)).toEqual([]);
    expect(await s.due(T3, 10)).toEqual([{ id: retry, target: 'slack', method: 'chat.postMessage', args: { channel: 'C1', text: 'retry' }, created_at: T1, attempts: 1, next_attempt_at: T3, depends_on: null, sending_at: null, priority: 1, lane: 'post:C1', gather: null }]);
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

  it('lists the urgent first, and keeps a lane (one channel\'s posts) in order at the same or a higher priority', async () => {
    const store = await openTestStore();
    const s = new OutboxRepository(store);
    const news = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'announcement' }, T1);
    const alarm = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'alarm' }, T1, { priority: 'urgent' });
    const page = await s.enqueue('trigger', { dedupKey: 'k' }, T1, { target: 'pagerduty' });
    const later = await s.enqueue('chat.postMessage', { channel: 'C1', text: 'second announcement' }, T1);
    const reply = await s.enqueue('chat.postMessage', { channel: '$parent.channel', thread_ts: '$parent.ts', text: 'reply' }, T1, { dependsOn: news });
    const rows = await s.due(T1, 10);
    expect(rows.map((r) => [r.id, r.priority, r.lane])).toEqual([
      [alarm, 0, 'post:C1'],
      [page, 0, null],
      [news, 1, 'post:C1'],
      [later, 1, 'post:C1'],
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(await s.hasOlderPending(byId.get(alarm)!)).toBe(false); // an urgent post overtakes an announcement
    expect(await s.hasOlderPending(byId.get(later)!)).toBe(true); // not another announcement in its channel
    await s.markRetry(news, 'internal_error', T3);
    expect(await s.hasOlderPending(byId.get(later)!)).toBe(true); // even while that one backs off
    await s.markDelivered(news, T2, { ts: '1.1', channel: 'C1' });
    expect(await s.hasOlderPending(byId.get(later)!)).toBe(true); // the older urgent post in its channel is not through yet
    await s.markDelivered(alarm, T2, { ts: '1.2', channel: 'C1' });
    expect(await s.hasOlderPending(byId.get(later)!)).toBe(false);
    expect(reply).toBeGreaterThan(later);
  });
});
