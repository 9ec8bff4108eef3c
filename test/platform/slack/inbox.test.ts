import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { Inbox } from '../../../src/platform/slack/inbox.js';
import type { SlackPort } from '../../../src/platform/slack/slack-port.js';
import { AuditRepository } from '../../../src/platform/store/audit-repository.js';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { clockAt } from '../../support/clock.js';
import { closeTestStores, openTestStore } from '../../support/test-store.js';

afterEach(closeTestStores);

const T0 = '2026-12-01T10:00:00.000Z';
const command = (text: string, trigger: string) => ({ command: '/golive', text, user_id: 'U1', channel_id: 'C0OPS', trigger_id: trigger, response_url: 'http://x/r' });

async function setup() {
  const store = await openTestStore();
  const requests = new RequestRepository(store);
  const clock = clockAt(T0);
  const inbox = new Inbox({ requests, store, clock, logger: createLogger({ level: 'silent' }) });
  const ephemerals: { channel: string; user: string; text: string }[] = [];
  const slack = { postEphemeral: async (channel: string, user: string, m: { text: string }) => void ephemerals.push({ channel, user, text: m.text }) } as unknown as SlackPort;
  return { store, requests, clock, inbox, slack, ephemerals, audit: new AuditRepository(store) };
}

describe('Inbox', () => {
  it('marks a request done in the transaction of its first change, and not by one that rolls back', async () => {
    const { store, requests, inbox, audit } = await setup();
    await inbox.receive('trigger:1', command('check a', '1'));
    await inbox.receive('trigger:2', command('check b', '2'));
    let seenInside: number | undefined;
    await inbox.handle('trigger:1', () =>
      store.transaction(async () => {
        await audit.record({ actor: 'U1', action: 'item.check', target: 'a', source: 'command' }, T0);
        seenInside = (await requests.unfinished()).length;
      }),
    );
    // Still unfinished while the change was being made: both land at COMMIT.
    expect(seenInside).toBe(2);
    let afterRollback: string[] = [];
    await inbox.handle('trigger:2', async () => {
      await store
        .transaction(async () => {
          await audit.record({ actor: 'U1', action: 'item.check', target: 'b', source: 'command' }, T0);
          throw new Error('disk full');
        })
        .catch(() => undefined);
      afterRollback = (await requests.unfinished()).map((r) => r.key);
    });
    expect(afterRollback).toEqual(['trigger:2']);
    // A handler that ended (even with an error its own handler answered) is done; what is left is a crash's.
    expect((await requests.unfinished()).map((r) => r.key)).toEqual([]);
    expect((await audit.history(5)).map((r) => r.target)).toEqual(['a']);
  });

  it('leaves a request unfinished while it is being handled, so a crash then has it run again', async () => {
    const { requests, inbox } = await setup();
    await inbox.receive('trigger:1', command('check a', '1'));
    let release = () => undefined as void;
    const handling = inbox.handle('trigger:1', () => new Promise<void>((r) => (release = r)));
    expect(inbox.busy).toBe(1);
    expect((await requests.unfinished()).map((r) => r.key)).toEqual(['trigger:1']);
    expect(await inbox.drain(20)).toBe(1);
    release();
    await handling;
    expect(inbox.busy).toBe(0);
    expect(await requests.unfinished()).toEqual([]);
  });

  it('does not record App Home events for a second run, and dedupes every kind', async () => {
    const { requests, inbox } = await setup();
    expect(await inbox.receive('event:Ev1', { event_id: 'Ev1', type: 'event_callback', event: { type: 'app_home_opened' } })).toBe(true);
    expect(await inbox.receive('event:Ev1', { event_id: 'Ev1' })).toBe(false);
    expect(await requests.unfinished()).toEqual([]);
  });

  it('after a restart runs recent requests again, oldest first, and answers one too old for its response_url', async () => {
    const { store, clock, requests, inbox, slack, ephemerals } = await setup();
    await inbox.receive('trigger:old', command('check `a`', 'old'));
    clock.at += 20 * 60_000;
    await inbox.receive('trigger:new', command('check b', 'new'));
    clock.at += 10 * 60_000;
    const dispatched: unknown[] = [];
    // The process that received them handles them itself: it runs none of them again.
    await inbox.finishUnfinished(async (body) => void dispatched.push(body.text), slack);
    expect(dispatched).toEqual([]);
    // The next process (after a restart) does.
    const restarted = new Inbox({ requests, store, clock, logger: createLogger({ level: 'silent' }) });
    await restarted.finishUnfinished(async (body) => void dispatched.push(body.text), slack);
    expect(dispatched).toEqual(['check b']);
    expect(ephemerals).toEqual([
      {
        channel: 'C0OPS',
        user: 'U1',
        text: "golive restarted before it could finish `/golive check 'a'` (received 2026-12-01 10:00 UTC), and it is too old to run now; nothing was changed.\nRun it again if it is still needed.",
      },
    ]);
    // The old one is answered and done; the replayed one is finished by its own handling (here: a dispatch that did nothing).
    expect((await requests.unfinished()).map((r) => r.key)).toEqual(['trigger:new']);
  });
});
