/*
 * vitest globalSetup: with GOLIVE_TEST_STORE=postgres (npm run test:postgres), one throwaway PostgreSQL cluster for
 * the whole run. Test files get its URL through inject('postgresUrl') and make a database of their own on it
 * (test/support/test-database.ts); processes they start find it in GOLIVE_TEST_POSTGRES_URL.
 *
 * vitest.config.ts lists it only under GOLIVE_TEST_STORE=postgres, so the default SQLite run does not load it; were it
 * loaded without, it would start nothing (postgres.ts and pg are imported only when needed).
 */
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared cluster's URL (its `postgres` database, as superuser); '' when the run is not on PostgreSQL. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  if (process.env.GOLIVE_TEST_STORE !== 'postgres') {
    project.provide('postgresUrl', '');
    return;
  }
  const { findPostgresBin, startPostgresCluster, POSTGRES_HOW_TO } = await import('./postgres.js');
  if (!findPostgresBin()) {
    // CI must run the PostgreSQL half, never skip it quietly.
    if (process.env.CI) throw new Error(`GOLIVE_TEST_STORE=postgres and CI is set: ${POSTGRES_HOW_TO}`);
    process.stderr.write(`golive: the PostgreSQL half of the suite is skipped. ${POSTGRES_HOW_TO}\n`);
    project.provide('postgresUrl', '');
    return;
  }
  const started = performance.now();
  const cluster = await startPostgresCluster();
  process.stderr.write(
    `golive: PostgreSQL test cluster on 127.0.0.1:${cluster.port} (${cluster.binDir}) started in ${Math.round(performance.now() - started)} ms\n`,
  );
  project.provide('postgresUrl', cluster.url());
  // Test workers are started after this, and so inherit it; so do the processes a test starts.
  process.env.GOLIVE_TEST_POSTGRES_URL = cluster.url();
  return async () => {
    delete process.env.GOLIVE_TEST_POSTGRES_URL;
    await cluster.stop();
  };
}
