import { describe, expect, it } from 'vitest';
import { EarliestTimer } from '../../src/platform/earliest-timer.js';

describe('EarliestTimer', () => {
  it('fires once, at the earliest time asked for; a later time does not move it, an earlier one does', async () => {
    const fired: number[] = [];
    const start = Date.now();
    const timer = new EarliestTimer(() => fired.push(Date.now() - start));
    timer.at(start + 120);
    timer.at(start + 400); // later: ignored
    timer.at(start + 60); // sooner: replaces the 120 ms one
    await new Promise((r) => setTimeout(r, 250));
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(55);
    // Fired and forgotten: a new time sets it again; clear() cancels it.
    timer.at(Date.now() + 30);
    timer.clear();
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toHaveLength(1);
  });
});
