import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/start-sandbox.js';
import { clockAt } from '../support/clock.js';
import { sandboxApi, sandboxState } from '../support/sandbox-client.js';
import { PROJECT_ROOT } from '../support/start-app.js';

/*
 * runbooks/zero-downtime.yml (seed 003) in the sandbox: its canary runs on the
 * simulated ECS service, judged on the simulated CloudWatch metrics, which the
 * page makes pass or fail. The clock is moved instead of waiting for the bake.
 */

interface PageMessage {
  ts: string;
  text: string;
  kind?: string;
  ephemeral: boolean;
  blocks: { elements?: { type: string; action_id?: string; value?: string; text?: { text: string } }[] }[];
}
interface PageState {
  people: { id: string; name: string; roles: string[] }[];
  channels: { id: string }[];
  messages: PageMessage[];
  world: { canaries: { service: string; failing: boolean }[]; services: { name: string; desiredCount: number; taskDefinition: string }[] };
}

let dir: string;
let sandbox: RunningSandbox;
const clock = clockAt('2026-12-02T04:00:00.000Z');

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'golive-sandbox-canary-'));
  sandbox = await startSandbox(
    { runbookPath: path.join(PROJECT_ROOT, 'runbooks/zero-downtime.yml'), dbPath: path.join(dir, 'sandbox.db'), port: 0, host: '127.0.0.1', logLevel: 'silent', rolloutMs: 200 },
    { alarmPolling: false, clock, canaryPollMs: 20 },
  );
  await sandbox.app.services.alarms.poll();
});
afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (route: string, body: Record<string, unknown>) => sandboxApi(sandbox.url, route, body);
const state = (user = '') => sandboxState<PageState>(sandbox.url, user);
async function until(pick: (s: PageState) => PageMessage | boolean | undefined, what: string): Promise<PageMessage> {
  const deadline = Date.now() + 10_000;
  let last: PageState | undefined;
  while (Date.now() < deadline) {
    last = await state(devops);
    const found = pick(last);
    if (found) return found as PageMessage;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw ${what}; messages:\n${last?.messages.map((m) => `  ${m.text}`).join('\n')}`);
}
const message = (text: string) => (s: PageState) => [...s.messages].reverse().find((m) => m.kind !== 'command' && m.text.includes(text));

let devops = '';

describe('seed 003 canary in the sandbox', () => {
  it('aborts a canary the page makes fail, and offers Promote on one that passes its bake', async () => {
    const s = await state();
    const who = (role: string) => s.people.find((p) => p.roles.includes(role))!.id;
    devops = who('DevOps On-Call');
    const channel = s.channels[0]!.id;
    expect(s.world.canaries).toEqual([{ service: 'app', failing: false }]);
    expect(s.world.services.map((x) => x.name)).toEqual(['app', 'app-canary']);

    // The deploy gate: the pre-launch checklist's blockers, each signed off by its owner.
    for (const [item, role] of [
      ['stakeholders-notified', 'Release Manager'],
      ['low-traffic-window', 'Release Manager'],
      ['final-ci-artifact', 'DevOps On-Call'],
      ['db-backup-restore-point', 'DevOps On-Call'],
      ['third-party-quotas', 'Backend Lead'],
    ] as const) {
      // Past the gathering window on the sandbox's clock, so each sign-off is announced on its own, at once.
      clock.at += 10_000;
      await api('/sandbox/command', { user: who(role), channel, text: `/golive check ${item}` });
      await until(message(`signed off \`${item}\``), `the ${item} sign-off`);
    }

    // The runbook sends every deploy of `app` through its canary.
    await api('/sandbox/command', { user: devops, channel, text: '/golive deploy app v2' });
    await until(message('Canary up'), 'the canary baking');
    expect((await state()).world.services.find((x) => x.name === 'app-canary')!.desiredCount).toBe(1);
    expect(await api('/sandbox/canary', { user: devops, service: 'app', failing: true })).toEqual({ ok: true });
    clock.at += 60_000;
    const failed = await until(message('❌ Deploy of `app` failed: canary aborted: 5xx rate'), 'the abort');
    expect(failed.text).toMatch(/^❌ Deploy of `app` failed: canary aborted: 5xx rate: canary [\d.]+ % &gt; stable [\d.]+ % \+ 0\.5 \(1 failing interval, 0 allowed\)\. The canary service is back to 0 tasks; nothing was changed in `App-Prod-Service`/);
    expect((await state()).world.services.find((x) => x.name === 'app-canary')!.desiredCount).toBe(0);

    await api('/sandbox/canary', { user: devops, service: 'app', failing: false });
    await api('/sandbox/command', { user: devops, channel, text: '/golive deploy app v2' });
    await until((x) => x.messages.filter((m) => m.text.includes('Canary up')).length === 2, 'the second canary baking');
    for (let k = 0; k < 10; k++) clock.at += 60_000;
    const card = await until((x) => x.messages.find((m) => m.text.startsWith('Deploy of app') && JSON.stringify(m.blocks).includes('golive_canary_promote')), 'Promote on the card');
    expect(JSON.stringify(card.blocks)).toContain('🚀 Promote');
  });
});
