import { ACMClient, ImportCertificateCommand } from '@aws-sdk/client-acm';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateDBInstanceCommand, CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { createAcmAdapter } from '../../src/platform/aws/acm-adapter.js';
import { createCloudWatchAdapter } from '../../src/platform/aws/cloudwatch-adapter.js';
import { createEcrAdapter } from '../../src/platform/aws/ecr-adapter.js';
import { createEcsAdapter } from '../../src/platform/aws/ecs-adapter.js';
import { createRdsAdapter } from '../../src/platform/aws/rds-adapter.js';
import { createRoute53Adapter } from '../../src/platform/aws/route53-adapter.js';
import { createSecretsAdapter } from '../../src/platform/aws/secrets-adapter.js';
import { createSesAdapter } from '../../src/platform/aws/ses-adapter.js';
import type { EvidencePorts } from '../../src/evidence/evidence-session.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import type { CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';
import type { Clock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { createHttpProbe } from '../../src/evidence/probe-http.js';
import { createTlsProbe } from '../../src/evidence/probe-tls.js';
import { TEST_CREDENTIALS } from './moto.js';
import { selfSigned } from './self-signed.js';
import { openTestStore } from './test-store.js';

/** The GoVisaX secrets of seed 000's Step 2, in ap-south-1. */
export const GOVISAX_SECRETS = [
  'visa2fly/prod/api-key',
  'visa2fly/prod/api-secret',
  'razorpay/prod/key-id',
  'razorpay/prod/key-secret',
  'razorpay/prod/webhook-secret',
  'govisax/prod/jwt-secret',
  'pagerduty/prod/integration-key',
];

/** The Drop secrets of seed 001's T-7d checklist, in eu-west-1. */
export const DROP_SECRETS = ['JWT_SECRET', 'DATABASE_URL', 'BANKID_CLIENT_ID', 'BANKID_CLIENT_SECRET', 'SUMSUB_APP_TOKEN', 'SUMSUB_SECRET_KEY', 'SLACK_WEBHOOK_URL'];

const client = <T>(Make: new (c: { endpoint: string; region: string; credentials: typeof TEST_CREDENTIALS }) => T, endpoint: string, region: string) => new Make({ endpoint, region, credentials: TEST_CREDENTIALS });

/** Seed 000's AWS facts, all true: the secrets, the wildcard certificate in both regions, the hosted zone, an SES identity to send from. */
export async function seedGovisax(endpoint: string): Promise<void> {
  const sm = client(SecretsManagerClient, endpoint, 'ap-south-1');
  for (const name of GOVISAX_SECRETS) await sm.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
  const cert = selfSigned(['*.govisax.com', 'govisax.com'], 365);
  for (const region of ['us-east-1', 'ap-south-1']) {
    await client(ACMClient, endpoint, region).send(new ImportCertificateCommand({ Certificate: Buffer.from(cert.cert), PrivateKey: Buffer.from(cert.key) }));
  }
  await client(Route53Client, endpoint, 'us-east-1').send(new CreateHostedZoneCommand({ Name: 'govisax.com', CallerReference: `govisax-${Date.now()}` }));
  await client(SESv2Client, endpoint, 'ap-south-1').send(new CreateEmailIdentityCommand({ EmailIdentity: 'govisax.com' }));
}

/** Seed 001's AWS facts, all true, in eu-west-1: the secrets, drop-db with a pre-launch snapshot, the production image, getdrop.no's A record. */
export async function seedDrop(endpoint: string, opts: { withDatabase?: boolean } = {}): Promise<void> {
  const region = 'eu-west-1';
  const sm = client(SecretsManagerClient, endpoint, region);
  for (const name of DROP_SECRETS) await sm.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
  if (opts.withDatabase !== false) {
    const rds = client(RDSClient, endpoint, region);
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'drop-db', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'drop', MasterUserPassword: 'not-a-real-password' }));
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'drop-db', DBSnapshotIdentifier: 'drop-db-pre-launch-20260301-0600' }));
  }
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 4096, digest: `sha256:${'b'.repeat(64)}` }, layers: [] });
  const ecr = client(ECRClient, endpoint, region);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'drop-web' }));
  await ecr.send(new PutImageCommand({ repositoryName: 'drop-web', imageManifest: manifest, imageTag: 'production', imageDigest: `sha256:${createHash('sha256').update(manifest).digest('hex')}` }));
  const r53 = client(Route53Client, endpoint, 'us-east-1');
  const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'getdrop.no', CallerReference: `drop-${Date.now()}` }));
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.HostedZone!.Id!,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'getdrop.no', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] } }] },
    }),
  );
}

/** Evidence ports without the alarm watcher (it depends on the runbook: see `withAlarms`), and the CloudWatch it reads. */
export type PortsBesideAlarms = Omit<EvidencePorts, 'alarms'> & { cloudwatch: CloudWatchPort };

/** The real adapters, pointed at moto (SES at a shim in front of it), with HTTP and TLS probes that trust `ca` and resolve names through `lookup`. */
export function evidencePorts(endpoint: string, opts: { sesEndpoint?: string; ca?: string; lookup?: LookupFunction } = {}): PortsBesideAlarms {
  const aws = { endpoint, maxAttempts: 1 };
  return {
    secrets: createSecretsAdapter(aws),
    acm: createAcmAdapter(aws),
    route53: createRoute53Adapter(aws),
    rds: createRdsAdapter(aws),
    ecr: createEcrAdapter(aws),
    ses: createSesAdapter({ ...aws, endpoint: opts.sesEndpoint ?? endpoint }),
    ecs: createEcsAdapter(aws),
    cloudwatch: createCloudWatchAdapter(aws),
    http: createHttpProbe({ ca: opts.ca, lookup: opts.lookup }),
    tls: createTlsProbe({ ca: opts.ca, lookup: opts.lookup }),
  };
}

/**
 * The ports with a fresh alarm watcher for `runbook` (its own empty database on the run's store: openTestStore(), so
 * the test file calls closeTestStores()) reading their CloudWatch, as the app wires it.
 */
export async function withAlarms(ports: PortsBesideAlarms, runbook: Runbook, clock: Clock = { now: () => new Date() }): Promise<{ ports: EvidencePorts; alarms: AlarmService }> {
  const { cloudwatch, ...rest } = ports;
  const alarms = new AlarmService({ runbook, store: await openTestStore(), cloudwatch, clock, logger: createLogger({ level: 'silent' }), afterCommit: () => {} });
  return { ports: { ...rest, alarms }, alarms };
}
