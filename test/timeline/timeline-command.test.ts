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

describe('/golive timeline', () => {
  it('shows T-0 and each milestone with its time and state', async () => {
    const clock = clockAt('2026-11-30T02:00:00Z'); // T-24h30m
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock });
    const reply = await privateReply(t, 'timeline');
    expect(reply).toBe('Launch timeline: 3 milestones');
    const response = t.slack.responses.at(-1)!.body as { blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
    expect(response.blocks.map((b) => b.text?.text ?? b.elements![0]!.text)).toEqual([
      '🗓️ *Launch timeline*\n*T-0:* 1 Dec 08:00 GMT+5:30 (set by the runbook, 30 Nov 07:30 GMT+5:30) · now is T-1d30m',
      [
        '🔜 `T-24h · 30 Nov 08:00 GMT+5:30` *Pre-flight signed off* — in 30 min',
        '🔜 `T-0 · 1 Dec 08:00 GMT+5:30` *Deploy begins* — in 24 h 30 min',
        '🔜 `T+30m · 1 Dec 08:30 GMT+5:30` *DNS cutover* — in 25 h',
      ].join('\n'),
      'Times in Asia/Kolkata · ✅ posted · 🔜 coming · ⏭️ passed · ❔ waits for T-0',
    ]);
  });

  it('posts a milestone on time, and one missed during downtime on restart marked late, never twice', async () => {
    const clock = clockAt('2026-11-30T02:00:00Z');
    t = await startTestApp({ runbook: writeTimelineRunbook(), clock });
    clock.at = Date.parse('2026-11-30T02:30:10Z');
    expect(await t.app.services.timeline.runDue()).toBe(1);
    const onTime = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('⏰'));
    expect(onTime.args.text).toBe('⏰ Pre-flight signed off — T-24h · 30 Nov 08:00 GMT+5:30');
    expect((onTime.args.blocks as { text?: { text: string } }[])[1]!.text!.text).toBe('🔴 `v2f-agreement` Visa2Fly B2B API agreement signed — BD Lead\n🔴 `secrets-manager` AWS Secrets Manager populated — DevOps');

    await t.stopApp();
    clock.at = Date.parse('2026-12-01T03:10:00Z'); // down through T-0 and T+30m
    t = await t.restart();
    const late = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('⏰ DNS cutover'));
    expect(late.args.text).toBe('⏰ DNS cutover — T+30m · 1 Dec 08:30 GMT+5:30 (late by 10 min)');
    const posted = t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('⏰')).map((c) => c.args.text);
    expect(posted).toEqual([
      '⏰ Pre-flight signed off — T-24h · 30 Nov 08:00 GMT+5:30',
      '⏰ Deploy begins — T-0 · 1 Dec 08:00 GMT+5:30 (late by 40 min)',
      '⏰ DNS cutover — T+30m · 1 Dec 08:30 GMT+5:30 (late by 10 min)',
    ]);

    await t.stopApp();
    t = await t.restart();
    expect(await t.app.services.timeline.runDue()).toBe(0);
    expect(await query(t, 'SELECT key, late_ms FROM milestone_post ORDER BY due_at')).toEqual([
      { key: 'pre-flight signed off', late_ms: 0 },
      { key: 'deploy begins', late_ms: 2_400_000 },
      { key: 'dns cutover', late_ms: 600_000 },
    ]);
  });
});
