import { afterEach, describe, expect, it } from 'vitest';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { closeTestStores, openTestStore } from '../../support/test-store.js';

afterEach(closeTestStores);

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';
const work = { kind: 'command', payload: '{"command":"/golive","text":"check a"}' };

describe('RequestRepository', () => {
  it('receives a request key once, and again only after it was finished and pruned', async () => {
    const s = new RequestRepository(await openTestStore());
    expect(await s.receive('trigger:123.456', T1)).toBe(true);
    expect(await s.receive('trigger:123.456', T2)).toBe(false);
    expect(await s.receive('event:Ev01', T2)).toBe(true);
    expect(await s.prune(T2)).toBe(1); // only the key received before T2
    expect(await s.receive('event:Ev01', T3)).toBe(false);
    expect(await s.receive('trigger:123.456', T3)).toBe(true);
  });

  it('keeps a request with work unfinished until it is finished, and never prunes an unfinished one', async () => {
    const s = new RequestRepository(await openTestStore());
    expect(await s.receive('trigger:1', T1, work)).toBe(true);
    expect(await s.receive('trigger:2', T2)).toBe(true);
    expect(await s.unfinished()).toEqual([{ key: 'trigger:1', kind: 'command', payload: work.payload, receivedAt: T1 }]);
    expect(await s.prune(T3)).toBe(1); // trigger:2 only
    await s.finish('trigger:1', T2);
    expect(await s.unfinished()).toEqual([]);
    expect(await s.receive('trigger:1', T3, work)).toBe(false);
  });
});
