import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { Outbox } from '../src/outbox.js';
import { SlackCallError, type SlackPort } from '../src/slack/slack-port.js';
import { openDatabase } from '../store/open-database.js';
import { Store } from '../store/store.js';

function setup(failures: (SlackCallError | null)[] = []) {
  const store = new Store(openDatabase(':memory:'));
  const clock = { at: Date.parse('2026-12-01T00:00:00Z'), now: () => new Date(clock.at) };
  const sent: Record<string, unknown>[] = [];
  let n = 0;
  const slack = {
    call: async (_method: string, args: Record<string, unknown>) => {
      await new Promise((r) => setTimeout(r, 1));
      const f = failures[n++];
      if (f) throw f;
      sent.push(args);
      return { ok: true, ts: `1.${n}`, channel: args.channel };
    },
  } as unknown as SlackPort;
  const outbox = new Outbox(store, slack, clock, createLogger({ level: 'silent' }));
  const row = (id: number) => store.db.prepare('SELECT attempts, next_attempt_at, delivered_at, failed_at, last_error FROM outbox WHERE id = ?').get(id) as Record<string, unknown>;
  return { store, clock, sent, outbox, row, enqueue: (text: string) => store.enqueue('chat.postMessage', { channel: 'C1', text }, clock.now().toISOString()) };
}

describe('Outbox', () => {
  it('delivers once and never again', async () => {
    const { outbox, enqueue, sent, row } = setup();
    const id = enqueue('hello');
    await outbox.flush();
    await outbox.flush();
    expect(sent).toEqual([{ channel: 'C1', text: 'hello' }]);
    expect(row(id)).toMatchObject({ attempts: 1, delivered_at: '2026-12-01T00:00:00.000Z' });
  });

  it('retries a transient failure with exponential backoff', async () => {
    const { outbox, enqueue, sent, row, clock } = setup([new SlackCallError('chat.postMessage', 'internal_error'), new SlackCallError('chat.postMessage', 'internal_error')]);
    const id = enqueue('retry me');
    await outbox.flush();
    expect(row(id)).toMatchObject({ attempts: 1, next_attempt_at: '2026-12-01T00:00:02.000Z', last_error: 'internal_error', delivered_at: null });
    await outbox.flush();
    expect(sent).toEqual([]);
    clock.at += 2000;
    await outbox.flush();
    expect(row(id)).toMatchObject({ attempts: 2, next_attempt_at: '2026-12-01T00:00:06.000Z' });
    clock.at += 4000;
    await outbox.flush();
    expect(sent).toHaveLength(1);
    expect(row(id)).toMatchObject({ attempts: 3, delivered_at: '2026-12-01T00:00:06.000Z', last_error: null });
  });

  it("waits for Slack's Retry-After on a rate limit", async () => {
    const { outbox, enqueue, row } = setup([new SlackCallError('chat.postMessage', 'ratelimited', 30)]);
    const id = enqueue('slow down');
    await outbox.flush();
    expect(row(id)).toMatchObject({ next_attempt_at: '2026-12-01T00:00:30.000Z', last_error: 'ratelimited' });
  });

  it('gives up at once on a permanent error', async () => {
    const { outbox, enqueue, row, sent, clock } = setup([new SlackCallError('chat.postMessage', 'channel_not_found')]);
    const id = enqueue('nowhere');
    await outbox.flush();
    clock.at += 3600_000;
    await outbox.flush();
    expect(sent).toEqual([]);
    expect(row(id)).toMatchObject({ attempts: 1, failed_at: '2026-12-01T00:00:00.000Z', last_error: 'channel_not_found' });
  });

  it('delivers each row exactly once under concurrent flushes', async () => {
    const { outbox, enqueue, sent } = setup();
    for (let i = 0; i < 20; i++) enqueue(`m${i}`);
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush(), outbox.flush()]);
    expect(sent.map((s) => s.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});
