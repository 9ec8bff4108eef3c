import { ACMClient, ImportCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateDBInstanceCommand, CreateDBSnapshotCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, DeleteSecretCommand, ListSecretsCommand, SecretsManagerClient, SecretsManagerServiceException, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAcmAdapter } from '../../../src/platform/aws/acm-adapter.js';
import { createEcrAdapter } from '../../../src/platform/aws/ecr-adapter.js';
import { AwsCallError } from '../../../src/platform/aws/ecs-port.js';
import { createRdsAdapter } from '../../../src/platform/aws/rds-adapter.js';
import { createRoute53Adapter } from '../../../src/platform/aws/route53-adapter.js';
import { createSecretsAdapter } from '../../../src/platform/aws/secrets-adapter.js';
import { createSesAdapter } from '../../../src/platform/aws/ses-adapter.js';
import { awsTestEnv, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../support/moto.js';
import { selfSigned } from '../../support/self-signed.js';
import { sentMail, startSesShim, type SesShim } from '../../support/ses-shim.js';

const REGION = TEST_REGION;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

async function caught(promise: Promise<unknown>): Promise<AwsCallError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AwsCallError);
    return err as AwsCallError;
  }
  throw new Error('expected the call to fail');
}

let moto: Moto;
const options = () => ({ endpoint: moto.endpoint, maxAttempts: 1 });
const sdk = () => ({ endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS });

beforeAll(async () => {
  moto = await startMoto();
  for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.stop();
});

describe('Secrets Manager adapter against moto', () => {
  beforeAll(async () => {
    const sm = new SecretsManagerClient(sdk());
    await sm.send(new CreateSecretCommand({ Name: 'visa2fly/prod/api-key', SecretString: 'k' }));
    await sm.send(new CreateSecretCommand({ Name: 'visa2fly/prod/api-key-old', SecretString: 'old' }));
    await sm.send(new CreateSecretCommand({ Name: 'visa2fly/prod/empty' }));
    await sm.send(new CreateSecretCommand({ Name: 'visa2fly/prod/going', SecretString: 'x' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'visa2fly/prod/going', RecoveryWindowInDays: 7 }));
    for (let i = 0; i < 12; i++) await sm.send(new CreateSecretCommand({ Name: `bulk/s${String(i).padStart(2, '0')}`, SecretString: 'v' }));
  });

  it('describes the named secrets (prefix matches left out), scheduled deletions and missing values included', async () => {
    const secrets = createSecretsAdapter(options());
    const found = await secrets.describeSecrets(REGION, ['visa2fly/prod/api-key', 'visa2fly/prod/empty', 'visa2fly/prod/going', 'visa2fly/prod/nope']);

    expect([...found.keys()].sort()).toEqual(['visa2fly/prod/api-key', 'visa2fly/prod/empty', 'visa2fly/prod/going']);
    expect(found.get('visa2fly/prod/api-key')).toEqual({
      name: 'visa2fly/prod/api-key',
      arn: expect.stringMatching(/^arn:aws:secretsmanager:ap-south-1:123456789012:secret:visa2fly\/prod\/api-key-/),
      createdAt: expect.stringMatching(ISO),
      lastChangedAt: expect.stringMatching(ISO),
      hasCurrentValue: true,
    });
    expect(found.get('visa2fly/prod/empty')?.hasCurrentValue).toBe(false);
    expect(found.get('visa2fly/prod/going')?.deletedAt).toMatch(ISO);
  });

  it('asks for 12 secrets in two ListSecrets calls (10 names per filter)', async () => {
    const client = new SecretsManagerClient(sdk());
    const send = vi.spyOn(client, 'send');
    const secrets = createSecretsAdapter({ clientFor: () => client });
    const names = Array.from({ length: 12 }, (_, i) => `bulk/s${String(i).padStart(2, '0')}`);

    const found = await secrets.describeSecrets(REGION, names);

    expect(found.size).toBe(12);
    expect(send.mock.calls.map(([c]) => c.constructor.name)).toEqual(['ListSecretsCommand', 'ListSecretsCommand']);
  });

  it('is empty in a region without the secrets', async () => {
    expect((await createSecretsAdapter(options()).describeSecrets('eu-west-1', ['visa2fly/prod/api-key'])).size).toBe(0);
  });
});

describe('Secrets Manager adapter with a mocked client', () => {
  const client = new SecretsManagerClient({ region: REGION, credentials: TEST_CREDENTIALS });
  const mock = mockClient(client);
  const secrets = createSecretsAdapter({ clientFor: () => client });
  const denied = (action: string) =>
    new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: `User: arn:aws:sts::123456789012:assumed-role/golive/x is not authorized to perform: ${action}` });

  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('falls back to DescribeSecret per secret when ListSecrets is not allowed', async () => {
    mock.on(ListSecretsCommand).rejects(denied('secretsmanager:ListSecrets'));
    mock.on(DescribeSecretCommand, { SecretId: 'a' }).resolves({ Name: 'a', VersionIdsToStages: { v1: ['AWSCURRENT'] }, LastChangedDate: new Date('2026-12-02T09:14:00Z') });
    mock
      .on(DescribeSecretCommand, { SecretId: 'b' })
      .rejects(new SecretsManagerServiceException({ name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }));

    const found = await secrets.describeSecrets(REGION, ['a', 'b']);

    expect([...found.values()]).toEqual([{ name: 'a', lastChangedAt: '2026-12-02T09:14:00.000Z', hasCurrentValue: true }]);
  });

  it('names the missing permission when DescribeSecret is refused too', async () => {
    mock.on(ListSecretsCommand).rejects(denied('secretsmanager:ListSecrets'));
    mock.on(DescribeSecretCommand).rejects(denied('secretsmanager:DescribeSecret'));

    const err = await caught(secrets.describeSecrets(REGION, ['a']));

    expect(err.kind).toBe('access_denied');
    expect(err.message).toBe('AWS refused DescribeSecret for secret "a" (ap-south-1): the bot\'s IAM role lacks secretsmanager:DescribeSecret.');
  });

  it('reports throttling that outlasts the retries', async () => {
    mock.on(ListSecretsCommand).rejects(new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));

    const err = await caught(secrets.describeSecrets(REGION, ['a']));

    expect(err.kind).toBe('throttled');
    expect(err.message).toBe('AWS Secrets Manager is throttling ListSecrets (ap-south-1) and still refused after retries; try again in a minute.');
  });
});

describe('ACM adapter against moto', () => {
  let wildcard: string;
  let ec: string;
  let requested: string;

  beforeAll(async () => {
    const acm = new ACMClient(sdk());
    const a = selfSigned(['*.govisax.com', 'govisax.com'], 90);
    wildcard = (await acm.send(new ImportCertificateCommand({ Certificate: Buffer.from(a.cert), PrivateKey: Buffer.from(a.key) }))).CertificateArn!;
    const e = selfSigned(['ec.govisax.com'], 30, { ec: true });
    ec = (await acm.send(new ImportCertificateCommand({ Certificate: Buffer.from(e.cert), PrivateKey: Buffer.from(e.key) }))).CertificateArn!;
    requested = (await acm.send(new RequestCertificateCommand({ DomainName: 'pending.govisax.com', ValidationMethod: 'DNS' }))).CertificateArn!;
  });

  it('lists every certificate, EC keys and pending ones included', async () => {
    const list = await createAcmAdapter(options()).listCertificates(REGION);

    expect(list.map((c) => [c.domain, c.status]).sort()).toEqual([
      ['*.govisax.com', 'ISSUED'],
      ['ec.govisax.com', 'ISSUED'],
      ['pending.govisax.com', 'PENDING_VALIDATION'],
    ]);
    expect(list.find((c) => c.arn === ec)).toBeDefined();
    expect(list.find((c) => c.arn === requested)?.moreNames).toBe(false);
  });

  it('describes a certificate with its names and exact expiry', async () => {
    const detail = await createAcmAdapter(options()).describeCertificate(REGION, wildcard);

    expect(detail).toEqual({ arn: wildcard, domain: '*.govisax.com', names: ['*.govisax.com', 'govisax.com'], status: 'ISSUED', notBefore: expect.stringMatching(ISO), notAfter: expect.stringMatching(ISO), type: 'IMPORTED', inUseBy: 0 });
    const days = (Date.parse(detail.notAfter!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
  });

  it('reports a certificate that does not exist as not_found', async () => {
    const err = await caught(createAcmAdapter(options()).describeCertificate(REGION, `arn:aws:acm:${REGION}:123456789012:certificate/00000000-0000-0000-0000-000000000000`));
    expect(err.kind).toBe('not_found');
  });
});

describe('Route 53 adapter against moto', () => {
  let zoneId: string;

  beforeAll(async () => {
    const r53 = new Route53Client(sdk());
    const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'getdrop.no', CallerReference: 'golive-test-1' }));
    zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    await r53.send(new CreateHostedZoneCommand({ Name: 'getdrop.no.internal', CallerReference: 'golive-test-2' }));
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { Name: 'getdrop.no', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] } },
            { Action: 'UPSERT', ResourceRecordSet: { Name: 'www.getdrop.no', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '9ef3szvvsb.eu-west-1.awsapprunner.com' }] } },
          ],
        },
      }),
    );
  });

  it('finds the zone by its exact name only', async () => {
    const r53 = createRoute53Adapter(options());
    expect(await r53.zonesNamed('getdrop.no')).toEqual([{ id: zoneId, name: 'getdrop.no.', private: false, recordCount: expect.any(Number) }]);
    expect(await r53.zonesNamed('GETDROP.NO.')).toHaveLength(1);
    expect(await r53.zonesNamed('drop.no')).toEqual([]);
  });

  it('reads one record set, or nothing when the name or type is not there', async () => {
    const r53 = createRoute53Adapter(options());
    expect(await r53.recordSet(zoneId, 'getdrop.no', 'A')).toEqual({ name: 'getdrop.no.', type: 'A', values: ['203.0.113.10'] });
    expect(await r53.recordSet(zoneId, 'www.getdrop.no', 'CNAME')).toEqual({ name: 'www.getdrop.no.', type: 'CNAME', values: ['9ef3szvvsb.eu-west-1.awsapprunner.com'] });
    expect(await r53.recordSet(zoneId, 'api.getdrop.no', 'A')).toBeUndefined();
    expect(await r53.recordSet(zoneId, 'getdrop.no', 'AAAA')).toBeUndefined();
  });

  it('reports a zone id that does not exist as not_found', async () => {
    expect((await caught(createRoute53Adapter(options()).recordSet('ZNOPE', 'getdrop.no', 'A'))).kind).toBe('not_found');
  });
});

describe('RDS adapter against moto', () => {
  beforeAll(async () => {
    const rds = new RDSClient({ ...sdk(), region: 'eu-west-1' });
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'drop-db', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'drop', MasterUserPassword: 'not-a-real-password' }));
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'stopped-db', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'drop', MasterUserPassword: 'not-a-real-password' }));
    await rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'stopped-db' }));
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'drop-db', DBSnapshotIdentifier: 'drop-db-pre-launch' }));
  });

  it('describes an instance and its newest automated and manual snapshots', async () => {
    const rds = createRdsAdapter(options());
    expect(await rds.describeInstance('eu-west-1', 'drop-db')).toEqual({ id: 'drop-db', status: 'available', engine: 'postgres', engineVersion: expect.any(String), instanceClass: 'db.t3.micro', backupRetentionDays: expect.any(Number) });
    expect((await rds.describeInstance('eu-west-1', 'stopped-db')).status).toBe('stopped');
    expect(await rds.latestSnapshot('eu-west-1', 'drop-db', 'automated')).toEqual({ id: expect.stringMatching(/^rds:drop-db-/), type: 'automated', createdAt: expect.stringMatching(ISO), status: 'available' });
    expect(await rds.latestSnapshot('eu-west-1', 'drop-db', 'manual')).toMatchObject({ id: 'drop-db-pre-launch', type: 'manual' });
    expect((await rds.latestSnapshot('eu-west-1', 'drop-db', 'any'))?.id).toBeDefined();
  });

  it('says which instance does not exist', async () => {
    const err = await caught(createRdsAdapter(options()).describeInstance('eu-west-1', 'nope-db'));
    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('RDS has no DB instance "nope-db" in eu-west-1.');
    expect(await createRdsAdapter(options()).latestSnapshot('eu-west-1', 'nope-db', 'automated')).toBeUndefined();
  });
});

describe('ECR adapter against moto', () => {
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1234, digest: `sha256:${'a'.repeat(64)}` }, layers: [] });
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

  beforeAll(async () => {
    const ecr = new ECRClient({ ...sdk(), region: 'eu-west-1' });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'drop-web' }));
    await ecr.send(new PutImageCommand({ repositoryName: 'drop-web', imageManifest: manifest, imageTag: 'production', imageDigest: digest }));
  });

  it('finds the image with a tag', async () => {
    expect(await createEcrAdapter(options()).findImage('eu-west-1', 'drop-web', 'production')).toEqual({ repository: 'drop-web', digest, tags: ['production'], pushedAt: expect.stringMatching(ISO), sizeBytes: 1234 });
  });

  it('returns nothing for a tag that is not there, and not_found for a missing repository', async () => {
    const ecr = createEcrAdapter(options());
    expect(await ecr.findImage('eu-west-1', 'drop-web', 'staging')).toBeUndefined();
    const err = await caught(ecr.findImage('eu-west-1', 'drop-api', 'production'));
    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('ECR has no repository "drop-api" in eu-west-1.');
  });
});

// A moto of its own: once an RDS instance exists, moto's /moto-api/data.json (where sent mail is read) answers 500.
describe('SES adapter against moto (GetAccount through a shim)', () => {
  let moto: Moto;
  let shim: SesShim;
  const options = () => ({ endpoint: moto.endpoint, maxAttempts: 1 });

  beforeAll(async () => {
    moto = await startMoto();
    shim = await startSesShim(moto.endpoint);
  });
  afterAll(async () => {
    await shim?.close();
    await moto?.stop();
  });

  it('reads production access and sending status', async () => {
    const ses = createSesAdapter({ endpoint: shim.url, maxAttempts: 1 });
    shim.account.ProductionAccessEnabled = false;
    expect(await ses.getAccount(REGION)).toEqual({ productionAccess: false, sendingEnabled: true, enforcementStatus: 'HEALTHY', max24HourSend: 200 });
    shim.account.ProductionAccessEnabled = true;
    shim.account.SendQuota.Max24HourSend = 50_000;
    shim.account.Details = { ReviewDetails: { Status: 'GRANTED' } };
    expect(await ses.getAccount(REGION)).toEqual({ productionAccess: true, sendingEnabled: true, enforcementStatus: 'HEALTHY', max24HourSend: 50_000, reviewStatus: 'GRANTED' });
  });

  it('sends an email moto records', async () => {
    await new SESv2Client({ endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS }).send(new CreateEmailIdentityCommand({ EmailIdentity: 'golive.example' }));
    const ses = createSesAdapter(options());
    const { messageId } = await ses.sendEmail(REGION, { from: 'golive@golive.example', to: ['devops-team@1cloudhub.example'], subject: 'adapter test', text: 'hello' });
    const mail = (await sentMail(moto.endpoint)).find((m) => m.subject === 'adapter test');
    expect(mail).toMatchObject({ id: messageId, source: 'golive@golive.example', body: 'hello', destinations: { ToAddresses: ['devops-team@1cloudhub.example'] } });
  });

  it('reports an unverified sender as invalid', async () => {
    const err = await caught(createSesAdapter(options()).sendEmail(REGION, { from: 'golive@unverified.example', to: ['a@b.example'], subject: 's', text: 't' }));
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain('AWS rejected SendEmail');
  });

  it('says moto-less GetAccount could not be read rather than crashing', async () => {
    const err = await caught(createSesAdapter(options()).getAccount(REGION));
    expect(err.operation).toBe('GetAccount');
  });
});
