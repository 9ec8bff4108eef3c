import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmState, CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import { createLogger } from '../../src/platform/logger.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { SlackAlarmNotifier } from '../../src/alarms/alarm-notifier.js';
import { openStore } from '../../src/platform/store/open-store.js';
import type { Store } from '../../src/platform/store/store.js';
import { testDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * Alarm storms, at the service: what the outbox is given (the exact texts a user will see), what pages, and
 * the alarm states' bookkeeping. test/e2e/alarm-storm.test.ts runs them through Slack's rate limits.
 */

const runbookYaml = (storm = '') => `version: 1
launch: { name: Storm test, channel: C0OPS, timezone: UTC }
roles: { ops: { name: Ops, users: [U0OPS] } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms:
  region: ap-south-1
  prefixes: [App-]
${storm}
  rules:
    - { match: "App-API-*", severity: critical, page: true, description: "5xx above 1% for 5 min" }
    - { match: "App-DB-*", severity: error, page: true }
    - { match: "App-*", severity: warning }
`;

type Row = { id: number; target: string; method: string; args: Record<string, unknown>; depends_on: number | null; priority: number; delivered_at: string | null };

const opened: { store: Store; db: TestDatabase }[] = [];
afterEach(async () => {
  for (const { store, db } of opened.splice(0)) {
    await store.close();
    await db.cleanup();
  }
});

/** A fresh database on the run's store: SQLite, or PostgreSQL under npm run test:postgres. */
async function setup(storm = '') {
  const parsed = parseRunbook(runbookYaml(storm), 'storm.yml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const runbook = parsed.runbook;
  const db = await testDatabase();
  const store = openStore({ dbPath: db.target, replica: 'storm-test' }, createLogger({ level: 'silent' }));
  await store.ready();
  opened.push({ store, db });
  let alarms: AlarmState[] = [];
  const cloudwatch: CloudWatchPort = {
    describeAlarms: async () => alarms,
    describeAlarmHistory: async () => {
      throw new Error('not implemented');
    },
    getMetricData: async () => ({ values: [], timestamps: [] }),
  };
  let now = Date.parse('2026-12-01T10:00:00Z');
  const clock = { now: () => new Date(now) };
  const service = new AlarmService({ runbook, store, cloudwatch, clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {}, roles: { isNamed: async (u) => u === 'U0OPS' } });
  service.notify(new SlackAlarmNotifier({ runbook, store, clock }));
  const states = new Map<string, AlarmState>();
  /** Sets alarms' states in the simulated CloudWatch, dated now. */
  const set = (names: string[], state: AlarmState['state'], reason = `went ${state}`) => {
    for (const name of names) states.set(name, { name, state, reason: `${name} ${reason}`, updatedAt: new Date(now).toISOString(), kind: 'metric' } as AlarmState);
    alarms = [...states.values()];
  };
  const rows = async (): Promise<Row[]> =>
    (await store.all<Omit<Row, 'args'> & { args: string }>('SELECT id, target, method, args, depends_on, priority, delivered_at FROM outbox ORDER BY id')).map((r) => ({ ...r, args: JSON.parse(r.args) as Record<string, unknown> }));
  /** Marks every row delivered, as the outbox would (each post gets a ts), so later edits are new rows. */
  const deliver = async () => {
    for (const r of await rows()) if (!r.delivered_at) await store.run("UPDATE outbox SET delivered_at = ?, result = ? WHERE id = ?", new Date(now).toISOString(), JSON.stringify({ ts: `1700000000.${String(r.id).padStart(6, '0')}`, channel: 'C0OPS' }), r.id);
  };
  return { store, service, set, rows, deliver, advance: (ms: number) => (now += ms), runbook };
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `App-${prefix}-${String(i + 1).padStart(2, '0')}`);
/** Every section and context text of a message, in order. */
const texts = (args: Record<string, unknown>) => (args.blocks as { type: string; text?: { text: string }; elements?: { text?: string }[] }[]).flatMap((b) => (b.type === 'section' ? [b.text!.text] : b.type === 'context' ? [b.elements![0]!.text!] : []));

/** A poll with everything OK, for the baseline, then nothing in the outbox. */
async function baseline(s: Awaited<ReturnType<typeof setup>>, all: string[]) {
  s.set(all, 'OK');
  await s.service.poll();
  await s.store.run('DELETE FROM outbox');
}

describe('an alarm storm', () => {
  it('20 alarms into ALARM in one poll: one storm post first, every critical alarm named, the 20 in one thread reply, one page per paging alarm', async () => {
    const s = await setup();
    const api = names('API', 3);
    const db = names('DB', 5);
    const web = names('Web', 12);
    await baseline(s, [...api, ...db, ...web]);
    s.advance(60_000);
    s.set([...web, ...db, ...api], 'ALARM', 'Threshold Crossed');
    expect(await s.service.poll()).toMatchObject({ transitions: 20 });

    const out = await s.rows();
    const slack = out.filter((r) => r.target === 'slack');
    // No post of its own for any of them: the storm post and one reply in its thread.
    expect(slack.map((r) => [r.method, r.priority, r.depends_on])).toEqual([
      ['chat.postMessage', 0, null],
      ['chat.postMessage', 1, slack[0]!.id],
    ]);
    const [post, reply] = slack;
    expect(post!.args.text).toBe('🌩️ Alarm storm: 20 alarms in ALARM (3 critical), 20 firing, 0 recovered');
    expect(texts(post!.args)).toEqual([
      '🌩️ *Alarm storm*: 20 alarms went to ALARM since 1 Dec 10:01 UTC: *20 firing*, 0 recovered.\nBy severity: 3 critical · 5 error · 12 warning',
      '🔴 *Critical, firing (3):* `App-API-01`, `App-API-02`, `App-API-03`',
      '📟 8 of them page on-call, one PagerDuty page each. Each alarm is in the thread, critical first.',
    ]);
    // The thread: critical first, each alarm as its own post would show it, with its buttons.
    const lines = texts(reply!.args);
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => l.split('\n')[0])).toEqual([
      ...api.map((n) => `🔴 *ALARM* \`${n}\` · severity *critical* · pages on-call`),
      ...db.map((n) => `🔴 *ALARM* \`${n}\` · severity *error* · pages on-call`),
      ...web.map((n) => `🔴 *ALARM* \`${n}\` · severity *warning*`),
    ]);
    expect(lines[0]).toBe(
      '🔴 *ALARM* `App-API-01` · severity *critical* · pages on-call\nReason: App-API-01 Threshold Crossed\n5xx above 1% for 5 min\nSince 1 Dec 10:01 UTC · <https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#alarmsV2:alarm/App-API-01|Open in the AWS console>',
    );
    const actions = (reply!.args.blocks as { type: string; block_id?: string; elements?: { action_id: string; value: string }[] }[]).filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(20);
    expect(actions[0]!.elements!.map((e) => [e.action_id, e.value])).toEqual([
      ['golive_alarm_ack', 'App-API-01'],
      ['golive_alarm_declare', 'App-API-01'],
    ]);
    expect(new Set(actions.map((a) => a.block_id)).size).toBe(20);
    expect(String(reply!.args.text).split('\n')[0]).toBe('🔴 ALARM App-API-01 (critical): App-API-01 Threshold Crossed');

    // Pages per the runbook's default (per_alarm): one trigger per alarm whose rule pages, each on its own key, stored before the storm post.
    expect(out.filter((r) => r.target === 'pagerduty').map((r) => [r.method, r.args.dedupKey])).toEqual([...api, ...db].map((n) => ['trigger', `golive/alarm/ap-south-1/${n}`]));

    // Each alarm's post is the reply that shows it, in the storm.
    const state = await s.store.all<{ name: string; post_outbox_id: number; storm_id: number; fired_at: string }>('SELECT name, post_outbox_id, storm_id, fired_at FROM alarm_state ORDER BY name');
    expect(new Set(state.map((r) => r.post_outbox_id))).toEqual(new Set([reply!.id]));
    expect(new Set(state.map((r) => r.storm_id))).toEqual(new Set([1]));
    expect(new Set(state.map((r) => r.fired_at))).toEqual(new Set(['2026-12-01T10:01:00.000Z']));
  });

  it('evolves over polls: new alarms counted and threaded, recoveries counted, the post and the lines edited in place, one pending edit at a time', async () => {
    const s = await setup();
    const first = names('Web', 15);
    const later = names('DB', 4);
    await baseline(s, [...first, ...later, 'App-API-01']);
    s.advance(60_000);
    s.set([...first, 'App-API-01'], 'ALARM');
    await s.service.poll();
    await s.deliver();
    const [post, reply] = (await s.rows()).filter((r) => r.target === 'slack');

    // The next poll: 4 more fire, 3 recover (one of them critical).
    s.advance(60_000);
    s.set(later, 'ALARM');
    s.set([first[0]!, first[1]!, 'App-API-01'], 'OK');
    await s.service.poll();
    let fresh = (await s.rows()).filter((r) => !r.delivered_at && r.target === 'slack');
    expect(fresh.map((r) => [r.method, r.depends_on, r.priority])).toEqual([
      ['chat.update', post!.id, 1], // the storm post, with the latest counts
      ['chat.postMessage', post!.id, 1], // the 4 new alarms, in the thread
      ['chat.update', reply!.id, 2], // the first reply: 3 of its lines now recovered
    ]);
    expect(texts(fresh[0]!.args)).toEqual([
      '🌩️ *Alarm storm*: 20 alarms went to ALARM since 1 Dec 10:01 UTC: *17 firing*, 3 recovered.\nBy severity: 1 critical · 4 error · 15 warning',
      '✅ *Critical, recovered (1):* `App-API-01`',
      '📟 5 of them page on-call, one PagerDuty page each. Each alarm is in the thread, critical first.',
    ]);
    expect(texts(fresh[1]!.args).map((l) => l.split('\n')[0])).toEqual(later.map((n) => `🔴 *ALARM* \`${n}\` · severity *error* · pages on-call`));
    const redrawn = texts(fresh[2]!.args);
    expect(redrawn[0]).toBe(
      '✅ ~ALARM~ → *OK* `App-API-01` · severity *critical* · pages on-call · recovered after 1 min\nReason: App-API-01 went ALARM\n5xx above 1% for 5 min\nSince 1 Dec 10:01 UTC · OK at 1 Dec 10:02 UTC · <https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#alarmsV2:alarm/App-API-01|Open in the AWS console>',
    );
    expect(redrawn.filter((l) => l.startsWith('✅'))).toHaveLength(3);
    // Recovered lines lose their buttons; nothing is posted per recovery.
    expect((fresh[2]!.args.blocks as { type: string }[]).filter((b) => b.type === 'actions')).toHaveLength(13);
    // A paging alarm's recovery still resolves its page (per_alarm).
    expect((await s.rows()).filter((r) => r.target === 'pagerduty' && r.method === 'resolve').map((r) => r.args.dedupKey)).toEqual(['golive/alarm/ap-south-1/App-API-01']);

    // Another poll before Slack took the edit: still one pending edit of the post, now with the newest counts.
    s.advance(60_000);
    s.set([first[2]!], 'OK');
    await s.service.poll();
    fresh = (await s.rows()).filter((r) => !r.delivered_at && r.target === 'slack');
    expect(fresh.map((r) => [r.method, r.depends_on])).toEqual([
      ['chat.update', post!.id],
      ['chat.postMessage', post!.id],
      ['chat.update', reply!.id],
    ]);
    expect(texts(fresh[0]!.args)[0]).toBe('🌩️ *Alarm storm*: 20 alarms went to ALARM since 1 Dec 10:01 UTC: *16 firing*, 4 recovered.\nBy severity: 1 critical · 4 error · 15 warning');
  });

  it('is over once no alarm has joined it for quiet_minutes: the post says so, and the next firings get posts of their own', async () => {
    const s = await setup('  storm: { threshold: 10, quiet_minutes: 5 }');
    const web = names('Web', 12);
    await baseline(s, [...web, 'App-API-09']);
    s.advance(60_000);
    s.set(web, 'ALARM');
    await s.service.poll();
    await s.deliver();
    s.advance(60_000);
    s.set([web[0]!], 'OK');
    await s.service.poll();
    await s.deliver();

    s.advance(3 * 60_000 + 59_000); // 4 min 59 s after the last alarm joined (10:01); a recovery is no news
    await s.service.sweepStorms();
    expect((await s.rows()).filter((r) => !r.delivered_at)).toEqual([]);
    s.advance(1000);
    await s.service.sweepStorms();
    const [over] = (await s.rows()).filter((r) => !r.delivered_at);
    expect(over!.method).toBe('chat.update');
    expect(over!.args.text).toBe('🌤️ Alarm storm over: 12 alarms, 11 still firing, 1 recovered');
    expect(texts(over!.args)).toEqual([
      '🌤️ *Alarm storm over*: 12 alarms went to ALARM at 1 Dec 10:01 UTC, none in the 5 min since: *11 still firing*, 1 recovered.\nBy severity: 12 warning',
      '📟 None of them pages on-call. Each alarm is in the thread, critical first.',
    ]);
    expect(await s.store.get('SELECT ended_at FROM alarm_storm')).toEqual({ ended_at: '2026-12-01T10:06:00.000Z' });
    await s.deliver();

    // After the storm: a firing is posted on its own again.
    s.advance(60_000);
    s.set(['App-API-09'], 'ALARM');
    await s.service.poll();
    const next = (await s.rows()).filter((r) => !r.delivered_at && r.target === 'slack');
    expect(next.map((r) => [r.method, r.depends_on, String(r.args.text).slice(0, 30)])).toEqual([['chat.postMessage', null, '🔴 ALARM App-API-09 (critical)']]);
    expect(await s.service.row('App-API-09')).toMatchObject({ storm_id: null, post_outbox_id: next[0]!.id });
  });

  it('below the threshold changes nothing: 10 alarms in one poll are 10 posts of their own', async () => {
    const s = await setup();
    const web = names('Web', 10);
    await baseline(s, web);
    s.advance(60_000);
    s.set(web, 'ALARM');
    await s.service.poll();
    const slack = (await s.rows()).filter((r) => r.target === 'slack');
    expect(slack.map((r) => String(r.args.text))).toEqual(web.map((n) => `🔴 ALARM ${n} (warning): ${n} went ALARM`));
    expect(await s.store.get('SELECT COUNT(*) AS n FROM alarm_storm')).toEqual({ n: 0 });
  });

  it('200 alarms: the thread carries every one of them, 25 to a reply (Slack’s 50 blocks), critical first; the post names all 40 critical', async () => {
    const s = await setup();
    const api = names('API', 40);
    const web = Array.from({ length: 160 }, (_, i) => `App-Web-${String(i + 1).padStart(3, '0')}`);
    await baseline(s, [...api, ...web]);
    s.advance(60_000);
    s.set([...web, ...api], 'ALARM');
    await s.service.poll();
    const slack = (await s.rows()).filter((r) => r.target === 'slack');
    expect(slack).toHaveLength(1 + 8);
    const inThread = slack.slice(1).flatMap((r) => texts(r.args).map((l) => /`([^`]+)`/.exec(l)![1]));
    expect(inThread).toEqual([...api, ...web]);
    expect(slack.slice(1).map((r) => (r.args.blocks as unknown[]).length)).toEqual(Array(8).fill(50));
    expect(texts(slack[0]!.args)[1]).toBe(`🔴 *Critical, firing (40):* ${api.map((n) => `\`${n}\``).join(', ')}`);
    // Every alarm's post is the reply that shows it.
    const posts = await s.store.all<{ name: string; post_outbox_id: number }>('SELECT name, post_outbox_id FROM alarm_state ORDER BY name');
    expect(posts.find((r) => r.name === 'App-API-01')!.post_outbox_id).toBe(slack[1]!.id);
    expect(posts.find((r) => r.name === 'App-Web-160')!.post_outbox_id).toBe(slack[8]!.id);
  });

  it('names critical alarms within Slack’s limits, the rest as “and N more”', async () => {
    const s = await setup('  storm: { threshold: 10 }');
    const long = Array.from({ length: 600 }, (_, i) => `App-API-${'x'.repeat(200)}-${String(i).padStart(3, '0')}`);
    await baseline(s, long);
    s.advance(60_000);
    s.set(long, 'ALARM');
    await s.service.poll();
    const post = (await s.rows()).find((r) => r.target === 'slack')!;
    const sections = texts(post.args);
    expect(sections.length).toBeLessThanOrEqual(12);
    expect(sections.every((t) => t.length <= 3000)).toBe(true);
    const named = sections.join(' ').match(/`App-API-x+-\d+`/g)!.length;
    expect(named).toBeGreaterThan(100);
    expect(sections[sections.length - 2]).toMatch(new RegExp(`… and ${600 - named} more \\(all in the thread\\)$`));
    expect((post.args.blocks as unknown[]).length).toBeLessThanOrEqual(50);
  });
});

describe('paging in a storm', () => {
  it('by_rule: one trigger per alarm rule for the storm, its own dedup key; resolved once every alarm of that rule recovered; Acknowledge acknowledges it', async () => {
    const s = await setup('  storm: { paging: by_rule }');
    const api = names('API', 3);
    const db = names('DB', 4);
    const web = names('Web', 6);
    await baseline(s, [...api, ...db, ...web]);
    s.advance(60_000);
    s.set([...api, ...db, ...web], 'ALARM', 'Threshold Crossed');
    await s.service.poll();
    const pages = async () => (await s.rows()).filter((r) => r.target === 'pagerduty').map((r) => [r.method, r.args.dedupKey, r.args.summary, r.args.severity]);
    expect(await pages()).toEqual([
      ['trigger', 'golive/alarm-storm/ap-south-1/1/App-API-*', 'Alarm storm: 3 alarms of rule App-API-* in ALARM: App-API-01, App-API-02, App-API-03', 'critical'],
      ['trigger', 'golive/alarm-storm/ap-south-1/1/App-DB-*', 'Alarm storm: 4 alarms of rule App-DB-* in ALARM: App-DB-01, App-DB-02, App-DB-03, App-DB-04', 'error'],
    ]);
    const post = (await s.rows()).find((r) => r.target === 'slack')!;
    expect(texts(post.args)[2]).toBe('📟 Paged once per alarm rule: `App-API-*` (3 alarms), `App-DB-*` (4 alarms). Each alarm is in the thread, critical first.');
    await s.deliver();

    // Acknowledging one alarm of a rule acknowledges the rule's page.
    expect(await s.service.acknowledge('App-DB-02', 'U0OPS')).toEqual({ ok: true });
    expect((await pages()).slice(2)).toEqual([['acknowledge', 'golive/alarm-storm/ap-south-1/1/App-DB-*', undefined, undefined]]);

    // A later firing of a paged rule is added to its page; all of a rule recovered resolves it, and only it.
    s.advance(60_000);
    s.set(['App-DB-05'], 'ALARM');
    s.set(api, 'OK');
    s.set(db.slice(0, 3), 'OK');
    await s.service.poll();
    expect((await pages()).slice(3)).toEqual([
      ['resolve', 'golive/alarm-storm/ap-south-1/1/App-API-*', undefined, undefined],
      ['trigger', 'golive/alarm-storm/ap-south-1/1/App-DB-*', 'Alarm storm: 2 alarms of rule App-DB-* in ALARM: App-DB-04, App-DB-05', 'error'],
    ]);
    s.advance(60_000);
    s.set(['App-DB-04', 'App-DB-05'], 'OK');
    await s.service.poll();
    expect((await pages()).slice(5)).toEqual([['resolve', 'golive/alarm-storm/ap-south-1/1/App-DB-*', undefined, undefined]]);
    // No alarm's own key was ever paged.
    expect((await pages()).some(([, key]) => String(key).startsWith('golive/alarm/'))).toBe(false);
    const edit = (await s.rows()).filter((r) => r.method === 'chat.update' && r.depends_on === post.id).at(-1)!;
    expect(texts(edit.args).at(-1)).toBe('📟 Paged once per alarm rule: `App-API-*` (3 alarms, resolved), `App-DB-*` (5 alarms, resolved). Each alarm is in the thread, critical first.');
  });

  it('per_alarm: Acknowledge on an alarm in the thread acknowledges its own page, says so in the thread, and redraws its line', async () => {
    const s = await setup();
    const api = names('API', 11);
    await baseline(s, api);
    s.advance(60_000);
    s.set(api, 'ALARM');
    await s.service.poll();
    await s.deliver();
    const reply = (await s.rows()).filter((r) => r.target === 'slack')[1]!;
    expect(await s.service.acknowledge('App-API-05', 'U0OPS')).toEqual({ ok: true });
    const fresh = (await s.rows()).filter((r) => !r.delivered_at);
    expect(fresh.map((r) => [r.target, r.method, r.depends_on])).toEqual([
      ['pagerduty', 'acknowledge', null],
      ['slack', 'chat.postMessage', reply.id],
      ['slack', 'chat.update', reply.id],
    ]);
    expect(fresh[0]!.args.dedupKey).toBe('golive/alarm/ap-south-1/App-API-05');
    expect(fresh[1]!.args.text).toBe('👀 <@U0OPS> acknowledged `App-API-05` (and its PagerDuty incident).');
    const line = texts(fresh[2]!.args)[4]!;
    expect(line.split('\n').at(-1)).toBe('👀 Acknowledged by <@U0OPS> at 1 Dec 10:01 UTC');
    const buttons = (fresh[2]!.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).filter((b) => b.type === 'actions').map((b) => b.elements!.map((e) => e.action_id).join(' '));
    expect(buttons[4]).toBe('golive_alarm_declare');
    expect(buttons[3]).toBe('golive_alarm_ack golive_alarm_declare');
  });
});

describe('pushed alarms', () => {
  it('more than the threshold pushed within one poll interval begin a storm that counts the ones already posted', async () => {
    const s = await setup();
    const web = names('Web', 13);
    await baseline(s, web);
    // One SNS message per alarm, a second apart, each on its own.
    const push = (name: string) => s.service.ingest([{ alarmName: name, to: 'ALARM', from: 'OK', reason: `${name} pushed`, at: new Date(s.advance(1000)).toISOString(), kind: 'metric', source: 'sns' }]);
    for (const n of web.slice(0, 10)) await push(n);
    expect((await s.rows()).filter((r) => r.target === 'slack').map((r) => r.args.text)).toEqual(web.slice(0, 10).map((n) => `🔴 ALARM ${n} (warning): ${n} pushed`));
    await s.deliver();
    await push(web[10]!);
    await push(web[11]!);
    const fresh = (await s.rows()).filter((r) => !r.delivered_at && r.target === 'slack');
    expect(fresh.map((r) => [r.method, r.depends_on === null ? 'channel' : r.depends_on === fresh[0]!.id ? 'storm thread' : r.depends_on])).toEqual([
      ['chat.postMessage', 'channel'],
      ['chat.postMessage', 'storm thread'],
      ['chat.update', 'storm thread'],
      ['chat.postMessage', 'storm thread'],
    ]);
    expect(texts(fresh[2]!.args)).toEqual([
      '🌩️ *Alarm storm*: 12 alarms went to ALARM since 1 Dec 10:00 UTC: *12 firing*, 0 recovered.\nBy severity: 12 warning',
      '📟 None of them pages on-call. 10 alarms were posted on their own before the storm began; the others are in the thread, critical first.',
    ]);
    // The ones posted before keep their own posts (and threads).
    expect((await s.service.row(web[0]!))!.storm_id).toBeNull();
    expect((await s.service.row(web[11]!))!.post_outbox_id).toBe(fresh[3]!.id);
  });
});
