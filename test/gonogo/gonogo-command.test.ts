import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudWatchClient, PutMetricDataCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { signSlackRequest } from '../support/sign.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { click, golive, privateReply, query, submitView } from '../support/golive-client.js';
import { awsTestEnv, type Moto, resetMoto, seedAlarms, startMoto, TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';
import { PROJECT_ROOT, SIGNING_SECRET, startTestApp, type TestApp } from '../support/start-app.js';

const LB = 'app/test-alb/0123';
const runbookFile = path.join(mkdtempSync(path.join(tmpdir(), 'golive-gonogo-')), 'launch.yml');
writeFileSync(
  runbookFile,
  `${readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'), 'utf8')}
gonogo:
  voters: [cto, bd-lead]
  votes_required: 1
  criteria:
    - type: blockers_done
      label: All blockers done
    - type: no_firing_alarms
      prefixes: [Test-Prod-]
      label: No Test-Prod alarm firing
    - type: metric
      label: Latency under 800 ms over the last hour
      namespace: AWS/ApplicationELB
      metric: TargetResponseTime
      dimensions: { LoadBalancer: ${LB} }
      stat: Maximum
      period_seconds: 3600
      window: 1h
      op: "<"
      threshold: 0.8
      unit: seconds
`,
);

let moto: Moto;
let t: TestApp;
beforeAll(async () => {
  moto = await startMoto();
  // The SDK reads credentials from the process environment, not from golive's config.
  Object.assign(process.env, awsTestEnv(moto.endpoint));
});
afterAll(async () => {
  await moto.stop();
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await seedAlarms(moto.endpoint, [
    { name: 'Test-Prod-5xx', state: 'OK' },
    { name: 'Other-Alarm', state: 'ALARM' },
  ]);
  const client = new CloudWatchClient({ region: TEST_REGION, endpoint: moto.endpoint, credentials: TEST_CREDENTIALS });
  await client.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/ApplicationELB',
      MetricData: [0.31, 0.42].map((v, i) => ({ MetricName: 'TargetResponseTime', Dimensions: [{ Name: 'LoadBalancer', Value: LB }], Value: v, Timestamp: new Date(Date.now() - (20 - i) * 60_000) })),
    }),
  );
  t = await startTestApp({ runbook: runbookFile, env: awsTestEnv(moto.endpoint), appOptions: { homeDebounceMs: 10 } });
});
afterEach(async () => {
  await t?.close();
});

function submitVote(user: string, metadata: string, note: string | null) {
  return submitView(t, user, 'golive_gonogo_vote', metadata, { note: { value: { type: 'plain_text_input', value: note } } });
}

type Block = { type: string; text?: { text: string }; elements?: { text?: string | { text: string }; action_id?: string; value?: string }[] };
const texts = (blocks: Block[]) => blocks.map((b) => b.text?.text ?? (b.type === 'actions' ? b.elements!.map((e) => (e.text as { text: string }).text).join(' | ') : ((b.elements?.[0]?.text as string | undefined) ?? b.type)));

async function firing(name: string) {
  const client = new CloudWatchClient({ region: TEST_REGION, endpoint: moto.endpoint, credentials: TEST_CREDENTIALS });
  await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'test' }));
}

/** Opens the Home tab as `user` and resolves with the blocks golive published. */
async function openHome(user: string): Promise<Block[]> {
  const before = t.slack.callsTo('views.publish').length;
  const body = JSON.stringify({ token: 'x', team_id: 'T111', api_app_id: 'A0GOLIVE', type: 'event_callback', event_id: `Ev${Math.random().toString(36).slice(2)}`, event_time: 1700000000, event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', event_ts: '1.1' } });
  await fetch(`${t.url}/slack/events`, { method: 'POST', body, headers: { ...(signSlackRequest(SIGNING_SECRET, body) as unknown as Record<string, string>), 'Content-Type': 'application/json' } });
  await t.slack.waitForCall('views.publish', () => t.slack.callsTo('views.publish').length > before);
  return (t.slack.callsTo('views.publish').at(-1)!.args.view as { blocks: Block[] }).blocks;
}

async function signOffBlockers() {
  await golive(t, 'check v2f-agreement', 'U0BDLEAD');
  await golive(t, 'check secrets-manager', 'U0DEVOPS');
  await golive(t, 'check e2e-transaction', 'U0DEVOPS');
  await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('e2e-transaction'));
}

describe('/golive gonogo', () => {
  it('posts a decision card with every criterion, its value and its source, for the voters', async () => {
    const reply = await privateReply(t, 'gonogo', 'U0DEVOPS');
    expect(reply).toBe('Go/No-Go decision #1 is posted in <#C0OPS> for CTO, BD Lead to vote on.');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Go/No-Go #1'));
    expect(card.args.channel).toBe('C0OPS');
    const blocks = texts(card.args.blocks as Block[]);
    expect(blocks[0]).toBe('🗳️ Go/No-Go #1 — Test launch');
    expect(blocks[1]).toMatch(/^Called by <@U0DEVOPS> at \d+ \w+ \d\d:\d\d GMT\+5:30\. Voters: CTO, BD Lead\. GO needs 1 Go vote; one No-Go decides NO-GO\.$/);
    expect(blocks[2]).toBe('🔴 *Evidence: 2 of 3 criteria pass · 1 fails.*');
    expect(blocks[3]).toBe(
      [
        '❌ *All blockers done* (hard) — 3 open: v2f-agreement, secrets-manager, e2e-transaction',
        '      _golive checklist_',
        '✅ *No Test-Prod alarm firing* — 0 of 1 in ALARM',
        '      _CloudWatch DescribeAlarms, ap-south-1, "Test-Prod-*", read now (the alarm watcher does not watch "Test-Prod-*" in ap-south-1)_',
        '✅ *Latency under 800 ms over the last hour* — 0.42 s (one datapoint; needs &lt; 0.8 s)',
        '      _CloudWatch GetMetricData, ap-south-1: AWS/ApplicationELB TargetResponseTime Maximum per 3600 s over the last 1 h_',
      ].join('\n'),
    );
    expect(blocks.at(-2)).toBe('*Votes* (0 of 1 Go): none yet');
    expect(blocks.at(-1)).toBe('Go | No-Go');
    expect(await query(t, 'SELECT id, state, opened_by FROM gonogo_decision')).toEqual([{ id: 1, state: 'open', opened_by: 'U0DEVOPS' }]);
  });

  it('refreshes the open card while nobody has voted, and only points to it once someone has', async () => {
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Go/No-Go #1'));
    const ts = (card.result as { ts: string }).ts;
    await signOffBlockers();
    const refreshed = await privateReply(t, 'gonogo', 'U0CTO');
    expect(refreshed).toBe('Go/No-Go decision #1 is already open in <#C0OPS> with no votes yet; its card now shows the criteria as they stand: 3 of 3 criteria pass.');
    const update = await t.slack.waitForCall('chat.update', (c) => c.args.ts === ts);
    expect(update.args.text).toBe('Go/No-Go #1: 3 of 3 criteria pass; vote Go or No-Go.');
    expect(await query(t, "SELECT actor FROM audit WHERE action = 'gonogo.refresh'")).toEqual([{ actor: 'U0CTO' }]);

    const payload = JSON.stringify({ d: 1, v: 'go' });
    // The refreshed evidence is what the vote is checked against: all pass now, so a Go needs no note.
    expect((await submitVote('U0BDLEAD', payload, null)).text).toBe('');
    expect((await t.slack.waitForCall('chat.postEphemeral')).args.text).toBe('Your Go vote on decision #1 is recorded; that decides it: GO.');
    expect(await query(t, 'SELECT state FROM gonogo_decision')).toEqual([{ state: 'go' }]);
  });

  it('points to an open card that has votes instead of changing its evidence or posting a second one', async () => {
    const rb = runbookFile.replace('launch.yml', 'launch-2.yml');
    writeFileSync(rb, readFileSync(runbookFile, 'utf8').replace('votes_required: 1', 'votes_required: 2'));
    await t.close();
    t = await startTestApp({ runbook: rb, env: awsTestEnv(moto.endpoint) });
    await signOffBlockers();
    await firing('Test-Prod-5xx');
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    await submitVote('U0CTO', JSON.stringify({ d: 1, v: 'go' }), 'the 5xx alarm is a known false positive');
    await t.slack.waitForCall('chat.postEphemeral');
    const again = await privateReply(t, 'gonogo', 'U0BDLEAD');
    expect(again).toBe('Go/No-Go decision #1 is already open in <#C0OPS> (1 vote so far); vote on its card. The criteria as they stand now: 2 of 3 criteria pass · 1 fails.');
    expect(t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Go/No-Go #'))).toHaveLength(1);
    expect(await query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'gonogo.refresh'")).toEqual([{ n: 0 }]);
  });

  it('takes a vote through the note modal, decides, updates the card and shows the decision in status', async () => {
    await signOffBlockers();
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Go/No-Go #1'));
    const ts = (card.result as { ts: string }).ts;

    const refused = await click(t, 'golive_gonogo_go', '1', 'U0DEVOPS', ts);
    expect((await t.slack.waitForResponse((r) => r.id === refused)).body.text).toBe(':warning: Only CTO, BD Lead vote on go/no-go.');

    await click(t, 'golive_gonogo_go', '1', 'U0CTO', ts);
    const modal = await t.slack.waitForCall('views.open');
    const view = modal.args.view as { callback_id: string; private_metadata: string; blocks: { optional?: boolean; block_id?: string }[] };
    expect(view.callback_id).toBe('golive_gonogo_vote');
    expect(view.blocks.find((b) => b.block_id === 'note')!.optional).toBe(true);
    expect((await submitVote('U0CTO', view.private_metadata, 'All green, ship it')).status).toBe(200);

    const confirm = await t.slack.waitForCall('chat.postEphemeral');
    expect(confirm.args).toMatchObject({ channel: 'C0OPS', user: 'U0CTO', text: 'Your Go vote on decision #1 is recorded; that decides it: GO.' });
    const update = await t.slack.waitForCall('chat.update', (c) => c.args.ts === ts && String(c.args.text) === 'Go/No-Go #1: GO.');
    const updated = texts(update.args.blocks as Block[]);
    expect(updated.at(-2)).toMatch(/^\*Votes\* \(1 of 1 Go\)\n🟢 Go — <@U0CTO> at .+: “All green, ship it”$/);
    expect(updated.at(-1)).toMatch(/^🟢 \*GO\* — go\/no-go decision #1, decided .+\.$/);
    const broadcast = await t.slack.waitForCall('chat.postMessage', (c) => c.args.thread_ts === ts);
    expect(String(broadcast.args.reply_broadcast)).toBe('true'); // form-encoded by the Web API client

    const late = await click(t, 'golive_gonogo_nogo', '1', 'U0BDLEAD', ts);
    expect((await t.slack.waitForResponse((r) => r.id === late)).body.text).toMatch(/^:warning: Go\/no-go decision #1 is already decided: GO at .+\. Your vote was not recorded\.\nRun `\/golive gonogo` to call a new decision\.$/);
    expect(await query(t, 'SELECT user_id, vote, note FROM gonogo_vote')).toEqual([{ user_id: 'U0CTO', vote: 'go', note: 'All green, ship it' }]);

    await golive(t, 'status', 'U0DEVOPS');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Test launch:'));
    expect(texts(status.args.blocks as Block[])[1]).toMatch(/^🟢 \*GO\* — go\/no-go decision #1, decided .+\.$/);
  });

  it('refuses a Go vote while a hard criterion fails, even with a note, and status and App Home show one verdict', async () => {
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Go/No-Go #1'));
    const refused = await click(t, 'golive_gonogo_go', '1', 'U0CTO', (card.result as { ts: string }).ts);
    expect((await t.slack.waitForResponse((r) => r.id === refused)).body.text).toBe(
      ':warning: A Go vote is refused while a hard criterion fails or is unknown: ❌ All blockers done: 3 open: v2f-agreement, secrets-manager, e2e-transaction. Your vote was not recorded.\nResolve it, then run `/golive gonogo` for a card with fresh evidence. A No-Go vote is still possible.',
    );
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    // A form opened earlier cannot get around it.
    await submitVote('U0CTO', JSON.stringify({ d: 1, v: 'go' }), 'blockers are paperwork');
    await t.slack.waitForCall('chat.postEphemeral', (c) => String(c.args.text).includes('A Go vote is refused'));
    expect(await query(t, 'SELECT COUNT(*) AS n FROM gonogo_vote')).toEqual([{ n: 0 }]);

    const verdict = /^🔴 \*3 blockers open — NO-GO until resolved\* · 🗳️ Go\/No-Go decision #1 is open \(called .+\): waiting for votes\.$/;
    await golive(t, 'status', 'U0DEVOPS');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Test launch:'));
    const board = texts(status.args.blocks as Block[]);
    expect(board[1]).toMatch(verdict);
    expect(board.filter((b) => /NO-GO|\bGO\b/.test(b))).toHaveLength(1);
    const home = (await openHome('U0DEVOPS')).map((b) => b.text?.text ?? '');
    expect(home[1]).toMatch(verdict);
    expect(home.filter((b) => /NO-GO|\bGO\b|Go\/No-Go/.test(b))).toHaveLength(1);
  });

  it('shows an overridden GO as "GO (override: …)" in one verdict line on the card, status and App Home', async () => {
    await signOffBlockers();
    await firing('Test-Prod-5xx');
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const card = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Go/No-Go #1'));
    const ts = (card.result as { ts: string }).ts;
    expect(texts(card.args.blocks as Block[])[3]).toContain('❌ *No Test-Prod alarm firing* — 1 of 1 in ALARM: Test-Prod-5xx');
    await submitVote('U0CTO', JSON.stringify({ d: 1, v: 'go' }), 'the 5xx alarm is a known false positive');
    expect((await t.slack.waitForCall('chat.postEphemeral')).args.text).toBe('Your Go vote on decision #1 is recorded; that decides it: GO.');
    const update = await t.slack.waitForCall('chat.update', (c) => c.args.ts === ts && String(c.args.text).startsWith('Go/No-Go #1: GO'));
    expect(update.args.text).toBe('Go/No-Go #1: GO (override: “the 5xx alarm is a known false positive”).');
    const line = /^🟢 \*GO \(override: “the 5xx alarm is a known false positive”\)\* — go\/no-go decision #1, decided .+\.$/;
    expect(texts(update.args.blocks as Block[]).at(-1)).toMatch(line);

    await golive(t, 'status', 'U0DEVOPS');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Test launch:'));
    const board = texts(status.args.blocks as Block[]);
    expect(board[1]).toMatch(line);
    expect(board.filter((b) => /NO-GO|\bGO\b/.test(b))).toHaveLength(1);
    expect(status.args.text).toMatch(/^Test launch: GO \(override: “the 5xx alarm is a known false positive”\) — go\/no-go decision #1, decided .+\.$/);
    const home = (await openHome('U0CTO')).map((b) => b.text?.text ?? '');
    expect(home[1]).toMatch(line);
    expect(home.filter((b) => /NO-GO|\bGO\b|Go\/No-Go/.test(b))).toHaveLength(1);

    // A blocker reopened after the GO: the one line says the GO no longer holds.
    await golive(t, 'uncheck e2e-transaction payment provider timed out', 'U0DEVOPS');
    const announced = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('↩️'));
    expect(String(announced.args.text).split('\n').at(-1)).toBe('Soft launch: 0/1 done, 1 blocker open. 🔴 *1 blocker open — NO-GO until resolved* (the GO of go/no-go decision #1 no longer holds)');
  });

  it('requires a note for Go against failing criteria, shown on the form', async () => {
    await signOffBlockers();
    await firing('Test-Prod-5xx');
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    await click(t, 'golive_gonogo_go', '1', 'U0BDLEAD');
    const modal = await t.slack.waitForCall('views.open');
    const view = modal.args.view as { private_metadata: string; blocks: { optional?: boolean; block_id?: string }[] };
    expect(view.blocks.find((b) => b.block_id === 'note')!.optional).toBe(false);
    const empty = await submitVote('U0BDLEAD', view.private_metadata, null);
    expect(JSON.parse(empty.text)).toEqual({ response_action: 'errors', errors: { note: 'Not every criterion passes: say why the launch should go ahead anyway.' } });
    expect(await query(t, 'SELECT COUNT(*) AS n FROM gonogo_vote')).toEqual([{ n: 0 }]);
  });

  it('refuses a second vote by the same person', async () => {
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const metadata = JSON.stringify({ d: 1, v: 'no_go' });
    await submitVote('U0CTO', metadata, 'hold');
    await t.slack.waitForCall('chat.postEphemeral');
    expect(await query(t, 'SELECT state FROM gonogo_decision')).toEqual([{ state: 'no_go' }]);
    const second = await click(t, 'golive_gonogo_nogo', '1', 'U0CTO');
    expect((await t.slack.waitForResponse((r) => r.id === second)).body.text).toMatch(/^:warning: Go\/no-go decision #1 is already decided: NO-GO at /);
  });
});
