/*
 * A fresh database for one test, on whichever store the run is on: a SQLite file in a tmp folder by default, a new
 * database on the run's shared PostgreSQL cluster under GOLIVE_TEST_STORE=postgres (postgres-global-setup.ts).
 * Either way `target` is what GOLIVE_DB takes.
 *
 * The shared cluster is for every test file at once: a test that needs PostgreSQL to go away and come back
 * (stopServer()/startServer()) starts a cluster of its own with startPostgresCluster().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
// The ProvidedContext augmentation that types inject('postgresUrl').
import type {} from './postgres-global-setup.js';
import { createDatabaseAt, dropDatabaseAt } from './postgres.js';

export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  /** A SQLite file path (not created yet) or a postgres:// URL of an empty database: a GOLIVE_DB value. */
  target: string;
  /** Removes the file's folder, or drops the database (ending connections still open to it). */
  cleanup(): Promise<void>;
}

/**
 * The shared cluster's base URL under GOLIVE_TEST_STORE=postgres: from inject() in test files, from
 * GOLIVE_TEST_POSTGRES_URL elsewhere (a process a test started); '' when the run is not on PostgreSQL.
 */
export function postgresBaseUrl(): string {
  if (process.env.GOLIVE_TEST_STORE !== 'postgres') return '';
  let provided: string | undefined;
  try {
    provided = inject('postgresUrl') as string | undefined;
  } catch {
    provided = undefined;
  }
  return provided ?? process.env.GOLIVE_TEST_POSTGRES_URL ?? '';
}

/**
 * Whether this run is on PostgreSQL: GOLIVE_TEST_STORE=postgres and a cluster is up. False on the default SQLite run,
 * and when the binaries are missing outside CI (the global setup said how to get them): PostgreSQL-only tests
 * `describe.skipIf(!usingPostgres())`.
 */
export function usingPostgres(): boolean {
  return postgresBaseUrl() !== '';
}

/** A fresh, empty database: CREATE DATABASE golive_test_<random> on the shared cluster, or a new SQLite file path. */
export async function testDatabase(): Promise<TestDatabase> {
  const base = postgresBaseUrl();
  if (base) {
    const target = await createDatabaseAt(base);
    return { kind: 'postgres', target, cleanup: () => dropDatabaseAt(base, target) };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-test-'));
  return {
    kind: 'sqlite',
    target: path.join(dir, 'golive.db'),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
