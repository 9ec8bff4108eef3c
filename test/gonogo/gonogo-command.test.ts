import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { click, golive, privateReply, query, submitView } from '../support/golive-client.js';
import { awsTestEnv, type Moto, resetMoto, seedAlarms, startMoto, TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';
import { PROJECT_ROOT, startTestApp, type TestApp } from '../support/start-app.js';

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
        '❌ *All blockers done* — 3 open: v2f-agreement, secrets-manager, e2e-transaction',
        '      _golive checklist_',
        '✅ *No Test-Prod alarm firing* — 0 of 1 in ALARM',
        '      _CloudWatch DescribeAlarms, ap-south-1, "Test-Prod-*"_',
        '✅ *Latency under 800 ms over the last hour* — 0.42 s (one datapoint; needs &lt; 0.8 s)',
        '      _CloudWatch GetMetricData, ap-south-1: AWS/ApplicationELB TargetResponseTime Maximum per 3600 s over the last 1 h_',
      ].join('\n'),
    );
    expect(blocks.at(-2)).toBe('*Votes* (0 of 1 Go): none yet');
    expect(blocks.at(-1)).toBe('Go | No-Go');
    expect(query(t, 'SELECT id, state, opened_by FROM gonogo_decision')).toEqual([{ id: 1, state: 'open', opened_by: 'U0DEVOPS' }]);
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
    expect(query(t, "SELECT actor FROM audit WHERE action = 'gonogo.refresh'")).toEqual([{ actor: 'U0CTO' }]);

    const payload = JSON.stringify({ d: 1, v: 'go' });
    // The refreshed evidence is what the vote is checked against: all pass now, so a Go needs no note.
    expect((await submitVote('U0BDLEAD', payload, null)).text).toBe('');
    expect((await t.slack.waitForCall('chat.postEphemeral')).args.text).toBe('Your Go vote on decision #1 is recorded; that decides it: GO.');
    expect(query(t, 'SELECT state FROM gonogo_decision')).toEqual([{ state: 'go' }]);
  });

  it('points to an open card that has votes instead of changing its evidence or posting a second one', async () => {
    const rb = runbookFile.replace('launch.yml', 'launch-2.yml');
    writeFileSync(rb, readFileSync(runbookFile, 'utf8').replace('votes_required: 1', 'votes_required: 2'));
    await t.close();
    t = await startTestApp({ runbook: rb, env: awsTestEnv(moto.endpoint) });
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    await submitVote('U0CTO', JSON.stringify({ d: 1, v: 'go' }), 'blockers are paperwork');
    await t.slack.waitForCall('chat.postEphemeral');
    const again = await privateReply(t, 'gonogo', 'U0BDLEAD');
    expect(again).toBe('Go/No-Go decision #1 is already open in <#C0OPS> (1 vote so far); vote on its card. The criteria as they stand now: 2 of 3 criteria pass · 1 fails.');
    expect(t.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Go/No-Go #'))).toHaveLength(1);
    expect(query(t, "SELECT COUNT(*) AS n FROM audit WHERE action = 'gonogo.refresh'")).toEqual([{ n: 0 }]);
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
    expect(query(t, 'SELECT user_id, vote, note FROM gonogo_vote')).toEqual([{ user_id: 'U0CTO', vote: 'go', note: 'All green, ship it' }]);

    await golive(t, 'status', 'U0DEVOPS');
    const status = await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).startsWith('Test launch:'));
    expect(texts(status.args.blocks as Block[])[2]).toMatch(/^🟢 \*GO\* — go\/no-go decision #1, decided .+\.$/);
  });

  it('requires a note for Go against failing criteria, shown on the form', async () => {
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    await click(t, 'golive_gonogo_go', '1', 'U0BDLEAD');
    const modal = await t.slack.waitForCall('views.open');
    const view = modal.args.view as { private_metadata: string; blocks: { optional?: boolean; block_id?: string }[] };
    expect(view.blocks.find((b) => b.block_id === 'note')!.optional).toBe(false);
    const empty = await submitVote('U0BDLEAD', view.private_metadata, null);
    expect(JSON.parse(empty.text)).toEqual({ response_action: 'errors', errors: { note: 'Not every criterion passes: say why the launch should go ahead anyway.' } });
    expect(query(t, 'SELECT COUNT(*) AS n FROM gonogo_vote')).toEqual([{ n: 0 }]);
  });

  it('refuses a second vote by the same person', async () => {
    await privateReply(t, 'gonogo', 'U0DEVOPS');
    const metadata = JSON.stringify({ d: 1, v: 'no_go' });
    await submitVote('U0CTO', metadata, 'hold');
    await t.slack.waitForCall('chat.postEphemeral');
    expect(query(t, 'SELECT state FROM gonogo_decision')).toEqual([{ state: 'no_go' }]);
    const second = await click(t, 'golive_gonogo_nogo', '1', 'U0CTO');
    expect((await t.slack.waitForResponse((r) => r.id === second)).body.text).toMatch(/^:warning: Go\/no-go decision #1 is already decided: NO-GO at /);
  });
});
