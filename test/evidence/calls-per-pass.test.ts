import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runChecks } from '../../src/evidence/run-checks.js';
import { loadRunbookFile } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { startAwsTap, type AwsTap } from '../support/aws-tap.js';
import { evidencePorts, seedDrop, seedGovisax, withAlarms, type PortsBesideAlarms } from '../support/evidence-fixture.js';
import { awsTestEnv, seedAlarms, startMoto, type Moto } from '../support/moto.js';
import { startSesShim, type SesShim } from '../support/ses-shim.js';
import { PROJECT_ROOT } from '../support/start-app.js';
import { closeTestStores } from '../support/test-store.js';

/**
 * The figure the issue asks for: how many AWS calls one scheduled verification
 * pass of each example runbook makes, with every secret of a region batched.
 * HTTP and TLS checks are answered locally (their URLs are the real sites').
 */
function load(name: string): Runbook {
  const r = loadRunbookFile(join(PROJECT_ROOT, 'runbooks', name));
  if (!r.ok) throw new Error(`${name} is not valid`);
  return r.runbook;
}

/** REST APIs name the operation by path; the others by header or Action. */
function operation(c: { operation: string; path: string }): string {
  if (c.operation !== 'unknown') return c.operation;
  if (c.path.includes('/hostedzonesbyname')) return 'ListHostedZonesByName';
  if (/\/hostedzone\/[^/]+\/rrset/.test(c.path)) return 'ListResourceRecordSets';
  if (c.path.startsWith('/v2/email/account')) return 'GetAccount';
  return c.path;
}

let moto: Moto;
let shim: SesShim;
let tap: AwsTap;
let ports: PortsBesideAlarms;

beforeAll(async () => {
  moto = await startMoto();
  for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
  await seedGovisax(moto.endpoint);
  await seedDrop(moto.endpoint);
  await seedAlarms(moto.endpoint, [{ name: 'GoVisaX-Prod-API-5XX-Rate', state: 'OK' }]);
  shim = await startSesShim(moto.endpoint);
  shim.account.ProductionAccessEnabled = true;
  tap = await startAwsTap(shim.url);
  const local = evidencePorts(tap.endpoint);
  ports = {
    ...local,
    http: { get: async (url) => ({ status: 200, headers: {}, body: '{}', url, ms: 1 }) },
    tls: { servedCertificate: async (host) => ({ subject: host, names: [host], issuer: 'test', validFrom: new Date(0).toISOString(), validTo: new Date(Date.now() + 90 * 86_400_000).toISOString(), trusted: true }) },
  };
});

afterEach(closeTestStores);

afterAll(async () => {
  vi.unstubAllEnvs();
  await tap?.close();
  await shim?.close();
  await moto?.stop();
});

async function pass(name: string) {
  const runbook = load(name);
  const items = runbook.gates.flatMap((g) => g.items);
  tap.calls.length = 0;
  // A fresh alarm watcher per pass (it has not polled): its first poll is the pass's DescribeAlarms.
  const run = await runChecks(items, (await withAlarms(ports, runbook)).ports, { runbook, now: new Date() });
  const ops = tap.calls.map(operation);
  const count = Object.fromEntries([...new Set(ops)].sort().map((o) => [o, ops.filter((x) => x === o).length]));
  return { run, calls: tap.calls.length, count, items };
}

describe('AWS calls per scheduled verification pass', () => {
  it('govisax.yml: 8 calls for its 7 checked items (5 secrets in one ListSecrets)', async () => {
    const { run, calls, count, items } = await pass('govisax.yml');
    expect(items.filter((i) => i.verify)).toHaveLength(7);
    expect(Object.fromEntries([...run.results].map(([id, r]) => [id, r.outcome]))).toEqual({
      'secrets-manager-v2f': 'pass',
      'acm-wildcard-cert': 'pass',
      'route53-hosted-zone': 'pass',
      'razorpay-prod-keys': 'pass',
      'ses-production-access': 'pass',
      'pagerduty-integration-key': 'pass',
      'cloudwatch-watch-48h': 'pass',
    });
    expect(count).toEqual({ DescribeAlarms: 1, DescribeCertificate: 2, GetAccount: 1, ListCertificates: 2, ListHostedZonesByName: 1, ListSecrets: 1 });
    expect(calls).toBe(8);
  });

  it('drop.yml: 7 AWS calls for its 7 AWS-checked items (7 secrets in one ListSecrets, drop-db described once for three items); 8 more are HTTP or TLS', async () => {
    const { run, calls, count, items } = await pass('drop.yml');
    expect(items.filter((i) => i.verify)).toHaveLength(15);
    const aws = ['rds-available', 'ecr-production-image', 'secrets-configured', 'dns-a-record', 't2h-rds-available', 't2h-latest-backup', 't2h-manual-snapshot'];
    for (const id of aws) expect(run.results.get(id)?.outcome, id).toBe('pass');
    expect(count).toEqual({ DescribeDBInstances: 1, DescribeDBSnapshots: 2, DescribeImages: 1, ListHostedZonesByName: 1, ListResourceRecordSets: 1, ListSecrets: 1 });
    expect(calls).toBe(7);
  });
});
