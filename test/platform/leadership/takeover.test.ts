/*
 * What one replica left when it died, taken over by another once (issue 17): liveness, and the compare-and-set
 * take-overs of requests, rollouts, canaries, approved changes and outbox claims. On the run's store: SQLite by
 * default, PostgreSQL under `npm run test:postgres`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { Liveness } from '../../../src/platform/leadership/liveness.js';
import { ReplicaRepository } from '../../../src/platform/leadership/replica-repository.js';
import { OutboxRepository } from '../../../src/platform/outbox/outbox-repository.js';
import { Inbox } from '../../../src/platform/slack/inbox.js';
import type { SlackPort } from '../../../src/platform/slack/slack-port.js';
import { openDatabase } from '../../../src/platform/store/open-database.js';
import { PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { RequestRepository } from '../../../src/platform/store/request-repository.js';
import { SqliteStore } from '../../../src/platform/store/sqlite-store.js';
import type { Store } from '../../../src/platform/store/store.js';
import { DeployRepository } from '../../../src/deploys/deploy-repository.js';
import { CanaryRepository } from '../../../src/canary/canary-repository.js';
import { ApprovalRepository } from '../../../src/deploys/approval-repository.js';
import { clockAt } from '../../support/clock.js';
import { testDatabase, type TestDatabase } from '../../support/test-database.js';

const logger = createLogger({ level: 'silent' });
const T0 = '2026-12-01T10:00:00.000Z';
const open: { store: Store; db: TestDatabase }[] = [];

afterEach(async () => {
  for (const { store, db } of open.splice(0)) {
    await store.close();
    await db.cleanup();
  }
});

async function freshStore(): Promise<Store> {
  const db = await testDatabase();
  const store = db.kind === 'postgres' ? new PostgresStore({ url: db.target }) : new SqliteStore(openDatabase(db.target));
  await store.ready();
  open.push({ store, db });
  return store;
}

/** Wall time as the replicas' beats record it, `s` seconds from now. */
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

describe('Liveness', () => {
  it('judges others only once its own beat is in, and for the dead time after its beats failed', async () => {
    let now = Date.parse(T0);
    let failing = false;
    const beats: string[] = [];
    const rows = {
      beat: async (_name: string, at: string) => {
        if (failing) throw new Error('connection refused');
        beats.push(at);
      },
      forget: async () => undefined,
    } as unknown as ReplicaRepository;
    const liveness = new Liveness({ replica: 'a', rows, logger, now: () => now, beatMs: 60_000 });
    expect(liveness.deadBefore()).toBeUndefined();
    await liveness.start();
    // Just reached the database: the others' beats are as fresh as its own, so it can tell at once.
    expect(liveness.deadBefore()).toBe(new Date(now - 20_000).toISOString());
    failing = true;
    await (liveness as unknown as { beat(): Promise<void> }).beat();
    expect(liveness.deadBefore()).toBeUndefined();
    failing = false;
    now += 5_000;
    await (liveness as unknown as { beat(): Promise<void> }).beat();
    // Back, but every live replica's last beat is as old as the outage: it waits until they have all beaten again.
    expect(liveness.deadBefore()).toBeUndefined();
    now += 20_000;
    expect(liveness.deadBefore()).toBe(new Date(now - 20_000).toISOString());
    await liveness.stop();
  });

  it('with SQLite (no replicas table rows) treats every other name as dead and writes nothing', async () => {
    const liveness = new Liveness({ replica: 'a', logger });
    await liveness.start();
    expect(liveness.shared).toBe(false);
    expect(liveness.deadBefore()! > new Date().toISOString()).toBe(true);
    await liveness.stop();
  });
});

describe('Requests of a replica that died', () => {
  const command = (trigger: string) => ({ command: '/golive', text: 'status', user_id: 'U1', channel_id: 'C0OPS', trigger_id: trigger, response_url: 'http://x/r' });

  it('are the leader’s to run again only once their replica is dead; a live one’s stay with it; its own from a previous life are its own', async () => {
    const store = await freshStore();
    const requests = new RequestRepository(store);
    const replicas = new ReplicaRepository(store);
    await replicas.beat('alive', ago(1));
    await replicas.beat('dead', ago(30));
    await replicas.beat('me', ago(0));
    const work = (t: string) => ({ kind: 'command', payload: JSON.stringify(command(t)) });
    await requests.receive('trigger:alive', T0, work('alive'), 'alive');
    await requests.receive('trigger:dead', T0, work('dead'), 'dead');
    await requests.receive('trigger:gone', T0, work('gone'), 'never-seen');
    await requests.receive('trigger:old', T0, work('old'), null);
    await requests.receive('trigger:mine-before', '2026-12-01T09:59:00.000Z', work('mine-before'), 'me');
    await requests.receive('trigger:mine-now', '2026-12-01T10:00:01.000Z', work('mine-now'), 'me');

    const keys = async (deadBefore: string | undefined) => (await requests.orphaned('me', T0, deadBefore)).map((r) => r.key).sort();
    expect(await keys(ago(20))).toEqual(['trigger:dead', 'trigger:gone', 'trigger:mine-before', 'trigger:old']);
    // Not the leader (or cannot tell who is alive): only its own, from before this start.
    expect(await keys(undefined)).toEqual(['trigger:mine-before']);

    // Two leaders in a hand-over both try: one gets it.
    expect(await requests.takeOver('trigger:dead', 'dead', 'me')).toBe(true);
    expect(await requests.takeOver('trigger:dead', 'dead', 'other')).toBe(false);
    expect(await requests.takeOver('trigger:old', null, 'me')).toBe(true);
    // Now this (live) replica's, as its own from before its start are: nobody else's to run.
    expect((await requests.orphaned('other', T0, ago(20))).map((r) => r.key).sort()).toEqual(['trigger:gone']);
  });

  it('two replicas replaying at once run each dead one’s request once, and never a live one’s', async () => {
    const store = await freshStore();
    const requests = new RequestRepository(store);
    const replicas = new ReplicaRepository(store);
    await replicas.beat('a', ago(0));
    await replicas.beat('b', ago(0));
    await replicas.beat('c', ago(25));
    for (const n of [1, 2, 3]) await requests.receive(`trigger:c${n}`, T0, { kind: 'command', payload: JSON.stringify(command(`c${n}`)) }, 'c');
    await requests.receive('trigger:b1', T0, { kind: 'command', payload: JSON.stringify(command('b1')) }, 'b');
    const clock = clockAt(T0);
    const ran: string[] = [];
    const inboxOf = (replica: string) => new Inbox({ requests, store, clock, logger, replica });
    const a = inboxOf('a');
    const b = inboxOf('b');
    const dispatch = (inbox: Inbox, who: string) => async (body: Record<string, unknown>) => {
      const key = `trigger:${String(body.trigger_id)}`;
      await inbox.handle(key, async () => void ran.push(`${who}:${key}`));
    };
    const slack = {} as SlackPort;
    const since = '2026-12-01T10:00:05.000Z';
    await Promise.all([
      a.finishUnfinished(dispatch(a, 'a'), slack, { since, deadBefore: ago(20) }),
      b.finishUnfinished(dispatch(b, 'b'), slack, { since, deadBefore: ago(20) }),
      // The same replica twice (its start and the lead it takes): still once.
      a.finishUnfinished(dispatch(a, 'a'), slack, { since, deadBefore: ago(20) }),
    ]);
    expect(ran.map((r) => r.slice(2)).sort()).toEqual(['trigger:b1', 'trigger:c1', 'trigger:c2', 'trigger:c3']);
    // b1 is b's own, from before its start (its previous life): b runs it, never a.
    expect(ran).toContain('b:trigger:b1');
    expect(await requests.unfinished()).toEqual([]);
  });
});

describe('Rollouts and outbox claims of a replica that died', () => {
  it('a running deploy is taken over by compare-and-set, only from a dead watcher', async () => {
    const store = await freshStore();
    const deploys = new DeployRepository(store);
    const replicas = new ReplicaRepository(store);
    await replicas.beat('a', ago(0));
    await replicas.beat('b', ago(30));
    await replicas.beat('c', ago(0));
    const start = (service: string, watchedBy: string) => deploys.startDeploy({ service, kind: 'deploy', from_task_def: 'td:1', to_task_def: 'td:2', image: null, requested_by: 'U1', request_id: null, started_at: T0, channel: 'C0OPS', watched_by: watchedBy });
    const live = (await start('api', 'a'))!;
    const dead = (await start('web', 'b'))!;
    expect((await deploys.orphanedRunning('c', ago(20))).map((d) => d.id)).toEqual([dead]);
    expect(await deploys.takeOver(live, 'c', ago(20))).toBe(false);
    const tries = await Promise.all([deploys.takeOver(dead, 'c', ago(20)), deploys.takeOver(dead, 'a', ago(20))]);
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect((await deploys.deploy(dead))!.watched_by).toBe(tries[0] ? 'c' : 'a');
    // A finished rollout is nobody's to take.
    await deploys.finishDeploy(live, 'succeeded', null, T0);
    await replicas.forget('a');
    expect(await deploys.takeOver(live, 'c', ago(20))).toBe(false);
  });

  it('a canary and an executing approved change are taken over only from a dead replica, the canary with its deploy', async () => {
    const store = await freshStore();
    const replicas = new ReplicaRepository(store);
    await replicas.beat('a', ago(0));
    await replicas.beat('b', ago(30));
    await replicas.beat('c', ago(0));
    const deploys = new DeployRepository(store);
    const canaries = new CanaryRepository(store);
    const deployOf = (service: string, who: string) => deploys.startDeploy({ service, kind: 'deploy', from_task_def: 'td:1', to_task_def: 'td:2', image: null, requested_by: 'U1', request_id: null, started_at: T0, channel: 'C0OPS', watched_by: who });
    const canaryOf = async (service: string, who: string) => canaries.create({ deploy_id: (await deployOf(service, who))!, service, canary_service: `${service}-canary`, stable_task_def: 'td:1', desired_count: 1, created_at: T0, watched_by: who });
    const live = await canaryOf('api', 'a');
    const dead = await canaryOf('web', 'b');
    expect(await canaries.takeOver(live, 'c', ago(20))).toBe(false);
    expect(await canaries.takeOver(dead, 'c', ago(20))).toBe(true);
    expect(await canaries.takeOver(dead, 'a', ago(20))).toBe(false);
    const c = (await canaries.get(dead))!;
    expect([c.watched_by, (await deploys.deploy(c.deploy_id))!.watched_by]).toEqual(['c', 'c']);

    const approvals = new ApprovalRepository(store);
    const request = async (service: string) => (await approvals.createRequest({ kind: 'rollback', service, params: {}, requested_by: 'U1', requested_at: T0, expires_at: '2999-01-01T00:00:00.000Z', approvals_required: 1, channel: 'C0OPS' }))!;
    const ids = [await request('api'), await request('web')];
    for (const [i, id] of ids.entries()) {
      expect(await approvals.transitionRequest(id, 'requested', 'approved', T0, { decided_by: 'U2' })).toBe(true);
      expect(await approvals.transitionRequest(id, 'approved', 'executing', T0, { executed_by: i === 0 ? 'a' : 'b' })).toBe(true);
    }
    expect(await approvals.takeOverExecution(ids[0]!, 'c', ago(20))).toBe(false);
    expect(await approvals.takeOverExecution(ids[1]!, 'c', ago(20))).toBe(true);
    expect((await approvals.request(ids[1]!))!.executed_by).toBe('c');
  });

  it('a dead replica’s outbox claims end at once; a live one’s and its own stay', async () => {
    const store = await freshStore();
    const outbox = new OutboxRepository(store);
    const replicas = new ReplicaRepository(store);
    await replicas.beat('a', ago(0));
    await replicas.beat('b', ago(30));
    const until = '2999-01-01T00:00:00.000Z';
    const ids: number[] = [];
    for (const who of ['a', 'b', 'me']) {
      const id = await outbox.enqueue('chat.postMessage', { channel: `C${who}`, text: who }, T0);
      expect(await outbox.claim(id, who, T0, until)).toBeDefined();
      ids.push(id);
    }
    expect(await outbox.releaseClaimsOfDead('me', ago(20))).toBe(1);
    // Only b's row is free to claim again.
    const claimable = await Promise.all(ids.map((id) => outbox.claim(id, 'x', T0, until)));
    expect(claimable.map((r) => r !== undefined)).toEqual([false, true, false]);
  });
});
