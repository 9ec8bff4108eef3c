import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChangeRelay, PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../../support/postgres.js';

// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !findPostgresBin() && !process.env.CI;
if (skip) process.stderr.write(`golive: test/platform/store/change-relay.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

let cluster: PostgresCluster;
beforeAll(async () => {
  if (!skip) cluster = await startPostgresCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(skip)('PostgresChangeRelay', () => {
  it("tells every replica's listener what changed, and counts a reopened connection as a change", async () => {
    const url = await cluster.createDatabase();
    const [a, b] = [new PostgresStore({ url }), new PostgresStore({ url })];
    await Promise.all([a.ready(), b.ready()]);
    const seenByB: string[] = [];
    const errors: Error[] = [];
    const relayA = new PostgresChangeRelay(a, () => undefined, (e) => errors.push(e));
    const relayB = new PostgresChangeRelay(b, (k) => seenByB.push(k), (e) => errors.push(e));
    await relayA.start();
    await relayB.start();
    try {
      await relayA.publish('status');
      await relayA.publish('home');
      await until(() => seenByB.length === 2, 'both notices');
      expect(seenByB).toEqual(['status', 'home']);

      // The listening connection is cut (a failover, a restarted server): it is reopened, and what may have been missed is redrawn.
      await a.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN golive_changes' AND pid <> pg_backend_pid()");
      await until(() => seenByB.length >= 4, 'the redraw after reconnecting');
      expect(seenByB.slice(2)).toEqual(['status', 'home']);
      expect(errors.length).toBeGreaterThan(0);
      await relayA.publish('status');
      await until(() => seenByB.length === 5, 'a notice on the new connection');
    } finally {
      await relayA.stop();
      await relayB.stop();
      await a.close();
      await b.close();
    }
  });
});
