import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/platform/store/postgres-store.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../../support/postgres.js';

// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !findPostgresBin() && !process.env.CI;
if (skip) process.stderr.write(`golive: test/platform/store/postgres-tls.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

/** A self-signed certificate (its own CA, as RDS's bundle is for RDS) for the given subjectAltName. */
function certificate(dir: string, name: string, san: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { cert, key };
}

let cluster: PostgresCluster;
let dir: string;
let base: string;
let server: { cert: string; key: string };
let other: { cert: string; key: string };

beforeAll(async () => {
  if (skip) return;
  cluster = await startPostgresCluster();
  dir = mkdtempSync(path.join(tmpdir(), 'golive-pg-tls-'));
  server = certificate(dir, 'server', 'IP:127.0.0.1');
  other = certificate(dir, 'other', 'DNS:db.elsewhere.test');
  // The server's key must belong to the user the server runs as, readable by it alone.
  const owner = statSync(cluster.dataDir);
  for (const f of [server.cert, server.key]) {
    const inData = path.join(cluster.dataDir, path.basename(f));
    writeFileSync(inData, readFileSync(f));
    chownSync(inData, owner.uid, owner.gid);
    chmodSync(inData, 0o600);
  }
  base = await cluster.createDatabase();
  const admin = new PostgresStore({ url: cluster.url() });
  try {
    await admin.run("ALTER SYSTEM SET ssl_cert_file = 'server.crt'");
    await admin.run("ALTER SYSTEM SET ssl_key_file = 'server.key'");
    await admin.run('ALTER SYSTEM SET ssl = on');
    await admin.run('SELECT pg_reload_conf()');
  } finally {
    await admin.close();
  }
});
afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Whether the store's own connection is encrypted, as the server sees it. */
async function encrypted(url: string): Promise<boolean | string> {
  const store = new PostgresStore({ url });
  try {
    return (await store.get<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'))?.ssl ?? false;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await store.close();
  }
}

describe.skipIf(skip)('TLS to PostgreSQL, as GOLIVE_DB spells it', () => {
  it('verify-full with the CA bundle connects encrypted, as RDS wants it', async () => {
    expect(await encrypted(`${base}?sslmode=verify-full&sslrootcert=${server.cert}`)).toBe(true);
  });

  it('verify-full refuses a server whose certificate the bundle did not sign', async () => {
    expect(await encrypted(`${base}?sslmode=verify-full&sslrootcert=${other.cert}`)).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
  });

  it('require encrypts without checking the certificate (libpq’s meaning), and disable does not encrypt', async () => {
    expect(await encrypted(`${base}?sslmode=require`)).toBe(true);
    expect(await encrypted(`${base}?sslmode=disable`)).toBe(false);
  });
});
