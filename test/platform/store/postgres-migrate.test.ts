import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations, type Migration } from '../../../src/platform/store/migrations.js';
import { PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../../support/postgres.js';

// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !findPostgresBin() && !process.env.CI;
if (skip) process.stderr.write(`golive: test/platform/store/postgres-migrate.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

let cluster: PostgresCluster;
beforeAll(async () => {
  if (!skip) cluster = await startPostgresCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

/** A slow last migration, so a replica can be cut off in the middle of it. */
const slow: Migration = { version: 1000, name: 'slow test migration', sql: 'CREATE TABLE slow_test (id INTEGER PRIMARY KEY); SELECT pg_sleep(3); INSERT INTO slow_test (id) VALUES (1);' };
const withSlow = [...migrations, slow];

describe.skipIf(skip)('PostgreSQL migrations with several replicas', () => {
  it('a replica cut off in the middle of a migration leaves nothing half-done, and the next applies it once', async () => {
    const url = await cluster.createDatabase();
    const first = new PostgresStore({ url, migrations: withSlow, applicationName: 'golive first' });
    const starting = first.ready();
    const watcher = new PostgresStore({ url: cluster.url() });
    try {
      // Wait until the first replica is inside the slow migration, then end its connection as a SIGKILL would.
      for (let i = 0; ; i++) {
        const busy = await watcher.get<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'golive first' AND query LIKE '%pg_sleep%'");
        if (busy) {
          await watcher.run('SELECT pg_terminate_backend(?)', busy.pid);
          break;
        }
        if (i > 500) throw new Error('the slow migration never started');
        await new Promise((r) => setTimeout(r, 10));
      }
      await expect(starting).rejects.toThrow(/migration 1000 \(slow test migration\) failed/);
      const second = new PostgresStore({ url, migrations: withSlow });
      try {
        // Its advisory lock went with the connection: the next replica does not wait for it.
        const t0 = Date.now();
        await second.ready();
        expect(Date.now() - t0).toBeLessThan(10_000);
        expect(await second.all('SELECT id FROM slow_test')).toEqual([{ id: 1 }]);
        expect(await second.all('SELECT version FROM schema_migrations WHERE version = 1000')).toEqual([{ version: 1000 }]);
        expect((await second.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations'))!.n).toBe(withSlow.length);
      } finally {
        await second.close();
      }
    } finally {
      await first.close().catch(() => undefined);
      await watcher.close();
    }
  });

  it('three replicas starting at once apply each migration once', async () => {
    const url = await cluster.createDatabase();
    const stores = [0, 1, 2].map(() => new PostgresStore({ url }));
    try {
      await Promise.all(stores.map((s) => s.ready()));
      const applied = await stores[0]!.all<{ version: number; n: number }>('SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
      expect(applied).toEqual(migrations.map((m) => ({ version: m.version, n: 1 })));
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
