import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { Store } from '../../../src/platform/store/store.js';

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T10:05:00.000Z';
const T3 = '2026-12-01T10:10:00.000Z';

describe('RequestRepository', () => {
  it('claims a request key once, and again only after it was pruned', async () => {
    const s = new RequestRepository(new Store(openDatabase(':memory:')));
    expect(await s.claim('trigger:123.456', T1)).toBe(true);
    expect(await s.claim('trigger:123.456', T2)).toBe(false);
    expect(await s.claim('event:Ev01', T2)).toBe(true);
    expect(await s.prune(T2)).toBe(1); // only the key received before T2
    expect(await s.claim('event:Ev01', T3)).toBe(false);
    expect(await s.claim('trigger:123.456', T3)).toBe(true);
  });
});
