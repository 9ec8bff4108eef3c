import { afterEach, describe, expect, it } from 'vitest';
import { privateReply, query } from '../support/golive-client.js';
import { startTestApp, type TestApp } from '../support/start-app.js';
import { clockAt } from '../support/clock.js';
import { writeTimelineRunbook } from '../support/timeline-fixture.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('/golive t0', () => {
  it('moves T-0, announces it, and says so when nothing changes', async () => {
    const clock = clockAt('2026-11-30T02:00:00Z');
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock });
    expect(await privateReply(t, 't0 2026-12-01 10:00', 'U0DEVOPS')).toBe('T-0 is now 1 Dec 10:00 GMT+5:30; the change is announced in <#C0OPS>.');
    const post = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('🕗'));
    expect(post.args.text).toBe('🕗 <@U0DEVOPS> moved T-0 to *1 Dec 10:00 GMT+5:30* (was 1 Dec 08:00 GMT+5:30).\nNext milestone: *Pre-flight signed off* at T-24h · 30 Nov 10:00 GMT+5:30.');
    expect(await privateReply(t, 't0 10:00', 'U0DEVOPS')).toBe('T-0 is now 30 Nov 10:00 GMT+5:30; the change is announced in <#C0OPS>.');
    expect(await privateReply(t, 't0 2026-11-30T10:00+05:30', 'U0DEVOPS')).toBe('T-0 is already 30 Nov 10:00 GMT+5:30; nothing changed.');
    expect(await query(t, "SELECT actor FROM audit WHERE action = 'launch.t0'")).toEqual([{ actor: 'U0DEVOPS' }, { actor: 'U0DEVOPS' }]);
    expect(await privateReply(t, 'history 1')).toBe('*Audit trail — last 1, newest first*\n`30 Nov 07:30 GMT+5:30` <@U0DEVOPS> moved T-0 to 30 Nov 10:00 GMT+5:30 (was 1 Dec 10:00 GMT+5:30) _(command in <#C0OPS>)_');
  });

  it('says that `now` counts from the start of the minute when it drops seconds', async () => {
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock: clockAt('2026-11-30T02:30:42Z') });
    expect(await privateReply(t, 't0 now', 'U0DEVOPS')).toBe('T-0 is now 30 Nov 08:00 GMT+5:30 (`now` counts from the start of the minute: 08:00:00, not 08:00:42); the change is announced in <#C0OPS>.');
    expect(await query(t, "SELECT value FROM launch_setting WHERE key = 't0'")).toEqual([{ value: '2026-11-30T02:30:00.000Z' }]);
  });

  it('refuses what it cannot read, with the forms it takes', async () => {
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock: clockAt('2026-11-30T02:00:00Z') });
    expect(await privateReply(t, 't0 next tuesday', 'U0DEVOPS')).toBe(
      ':warning: I can\'t read "next tuesday" as a time.\n`/golive t0` takes: now, "2026-12-01T08:00+05:30" (ISO with offset), "2026-12-01 08:00" or "08:00" (in the launch timezone), "+2h" / "-30m" (move the current T-0).',
    );
    const forms = '\n`/golive t0` takes: now, "2026-12-01T08:00+05:30" (ISO with offset), "2026-12-01 08:00" or "08:00" (in the launch timezone), "+2h" / "-30m" (move the current T-0).';
    // 31 February was stored as 3 March, +99999999d was an internal error, -99999999d the year −271765.
    expect(await privateReply(t, 't0 2026-02-31 08:00', 'U0DEVOPS')).toBe(`:warning: "2026-02-31 08:00" is not a date.${forms}`);
    expect(await privateReply(t, 't0 +99999999d', 'U0DEVOPS')).toBe(`:warning: "+99999999d" moves T-0 by more than 732 days; give a smaller move or a time.${forms}`);
    expect(await privateReply(t, 't0 -99999999d', 'U0DEVOPS')).toBe(`:warning: "-99999999d" moves T-0 by more than 732 days; give a smaller move or a time.${forms}`);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'launch.t0'")).toEqual([{ n: 0 }]);
  });
});

describe('/golive t0 permissions', () => {
  it('does not let anyone move T-0 through a role open to everyone', async () => {
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock: clockAt('2026-11-30T02:00:00Z') });
    expect(await privateReply(t, 't0 +1h', 'U0STRANGER')).toBe(':warning: Only people named in one of the runbook’s roles may set T-0.\nAsk the launch lead to run `/golive t0 <time>`.');
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'launch.t0'")).toEqual([{ n: 0 }]);
  });
});
