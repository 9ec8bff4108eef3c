import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/platform/clock.js';
import { golive, privateReply } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

let t: TestApp;
const clock: Clock & { at: Date } = { at: new Date('2026-12-01T02:30:00Z'), now: () => clock.at };
beforeEach(async () => {
  t = await startTestApp({ clock });
});
afterEach(async () => {
  await t.close();
});

describe('/golive history', () => {
  it('says when nothing has happened yet', async () => {
    expect(await privateReply(t, 'history')).toBe('Nothing has happened yet: the audit trail is empty.');
  });

  it('lists changes newest first with who, when (launch timezone) and from where', async () => {
    await golive(t, 'check secrets-manager all 7 present');
    await t.slack.waitForCall('chat.postMessage');
    clock.at = new Date('2026-12-01T02:45:00Z');
    await golive(t, 'uncheck secrets-manager wrong region');
    await t.slack.waitFor(() => t.slack.callsTo('chat.postMessage').length === 2);
    expect(await privateReply(t, 'history 5')).toBe(
      [
        '*Audit trail — last 2 (all there is), newest first*',
        '`1 Dec 08:15 GMT+5:30` <@U0DEVOPS> reopened `secrets-manager` — “wrong region” _(command in <#C0OPS>)_',
        '`1 Dec 08:00 GMT+5:30` <@U0DEVOPS> signed off `secrets-manager` — “all 7 present” _(command in <#C0OPS>)_',
      ].join('\n'),
    );
  });

  it('refuses a count that is not a number', async () => {
    expect(await privateReply(t, 'history lots')).toBe(':warning: `n` must be a whole number of entries, e.g. `/golive history 50`.');
  });
});
