import { ACMClient, ACMServiceException, DescribeCertificateCommand, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAcmAdapter } from '../../src/platform/aws/acm-adapter.js';
import { runChecks } from '../../src/evidence/run-checks.js';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import type { Item, Runbook, Verify } from '../../src/platform/runbook/schema.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { evidencePorts, seedDrop, seedGovisax, withAlarms, type PortsBesideAlarms } from '../support/evidence-fixture.js';
import { startLocalSite, type LocalSite } from '../support/local-https.js';
import { awsTestEnv, seedAlarms, startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { startSesShim, type SesShim } from '../support/ses-shim.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores } from '../support/test-store.js';

const TIME = '\\d{1,2} [A-Z][a-z]{2} \\d\\d:\\d\\d UTC';
const DATE = '\\d{1,2} [A-Z][a-z]{2} \\d{4}';
const rx = (s: string) => new RegExp(`^${s}$`);

/** A runbook with one gate holding these checks, parsed like a real one (defaults applied). */
function runbookWith(checks: Record<string, unknown>, extra = ''): Runbook {
  const items = Object.entries(checks)
    .map(([id, v]) => `      - { id: ${id}, title: ${id}, level: warning, owner: team, verify: ${JSON.stringify(v)} }`)
    .join('\n');
  const source = `version: 1
launch: { name: Evidence, channel: C0OPS, timezone: UTC }
roles: { team: { name: Team, anyone: true } }
gates:
  - id: g
    title: G
    items:
${items}
${extra}`;
  const parsed = parseRunbook(source, 'test.yml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.reason}`).join('\n'));
  return parsed.runbook;
}

async function check(ports: PortsBesideAlarms, checks: Record<string, unknown>, opts: { now?: Date; extra?: string; alarms?: AlarmService } = {}) {
  const runbook = runbookWith(checks, opts.extra);
  const items: Item[] = runbook.gates[0]!.items;
  const built = await withAlarms(ports, runbook);
  const run = await runChecks(items, opts.alarms ? { ...built.ports, alarms: opts.alarms } : built.ports, { runbook, now: opts.now ?? new Date() });
  return Object.fromEntries([...run.results].map(([id, r]) => [id, `${r.outcome}: ${r.text}`]));
}

let moto: Moto;
let shim: SesShim;
let site: LocalSite;
let ports: PortsBesideAlarms;

beforeAll(async () => {
  moto = await startMoto();
  for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
  shim = await startSesShim(moto.endpoint);
  site = await startLocalSite(['getdrop.no', 'www.getdrop.no'], 90);
  ports = evidencePorts(moto.endpoint, { sesEndpoint: shim.url, ca: site.cert.cert, lookup: site.lookup });
  await seedGovisax(moto.endpoint);
  await seedDrop(moto.endpoint);
});

afterEach(closeTestStores);

afterAll(async () => {
  vi.unstubAllEnvs();
  await site?.close();
  await shim?.close();
  await moto?.stop();
});

describe('secret', () => {
  it('passes when every secret exists with a current value, naming when each changed', async () => {
    const r = await check(ports, {
      one: { type: 'secret', region: 'ap-south-1', names: ['visa2fly/prod/api-key'] },
      two: { type: 'secret', region: 'ap-south-1', names: ['visa2fly/prod/api-key', 'visa2fly/prod/api-secret'] },
    });
    expect(r.one).toMatch(rx(`pass: secret visa2fly/prod/api-key exists in ap-south-1, last changed ${TIME}`));
    expect(r.two).toMatch(rx(`pass: all 2 secrets exist in ap-south-1 with a current value: visa2fly/prod/api-key \\(changed ${TIME}\\), visa2fly/prod/api-secret \\(changed ${TIME}\\)`));
  });

  it('fails naming what is missing or scheduled for deletion', async () => {
    await new SecretsManagerClient({ endpoint: moto.endpoint, region: 'ap-south-1', credentials: TEST_CREDENTIALS }).send(new DeleteSecretCommand({ SecretId: 'razorpay/prod/webhook-secret', RecoveryWindowInDays: 7 }));
    const r = await check(ports, { keys: { type: 'secret', region: 'ap-south-1', names: ['razorpay/prod/key-id', 'razorpay/prod/key-secret-typo', 'razorpay/prod/webhook-secret'] } });
    expect(r.keys).toMatch(rx(`fail: secret razorpay/prod/key-secret-typo does not exist in ap-south-1; secret razorpay/prod/webhook-secret is scheduled for deletion on ${DATE}; 1 other is fine`));
  });
});

describe('acm_certificate', () => {
  it('passes when the certificate is ISSUED in every region and valid long enough', async () => {
    const r = await check(ports, { acm: { type: 'acm_certificate', domain: '*.govisax.com', regions: ['us-east-1', 'ap-south-1'] } });
    expect(r.acm).toMatch(rx(`pass: certificate \\*.govisax.com ISSUED in us-east-1 \\(valid until ${DATE}, 36[45] days left\\) and ap-south-1 \\(valid until ${DATE}, 36[45] days left\\)`));
  });

  it('fails for a region without it, and for one expiring within min_days_valid', async () => {
    const r = await check(ports, {
      missing: { type: 'acm_certificate', domain: '*.govisax.com', regions: ['ap-south-1', 'eu-west-1'] },
      soon: { type: 'acm_certificate', domain: 'govisax.com', regions: ['us-east-1'], min_days_valid: 400 },
    });
    expect(r.missing).toMatch(rx(`fail: no ACM certificate for \\*.govisax.com in eu-west-1; ISSUED in ap-south-1 \\(valid until ${DATE}, 36[45] days left\\)`));
    expect(r.soon).toMatch(rx(`fail: the certificate for govisax.com in us-east-1 expires too soon \\(valid until ${DATE}, 36[45] days left; needs 400\\)`));
  });

  it('counts days against the clock it is given', async () => {
    const later = new Date(Date.now() + 340 * 86_400_000);
    const r = await check(ports, { acm: { type: 'acm_certificate', domain: '*.govisax.com', regions: ['us-east-1'] } }, { now: later });
    expect(r.acm).toMatch(/^fail: the certificate for \*\.govisax\.com in us-east-1 expires too soon \(valid until .*, 2[45] days left; needs 30\)$/);
  });

  it('is unknown, naming the IAM action, when ACM refuses', async () => {
    const acm = new ACMClient({ region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const mock = mockClient(acm);
    mock.on(ListCertificatesCommand).rejects(new ACMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'User is not authorized to perform: acm:ListCertificates' }));
    const r = await check({ ...ports, acm: createAcmAdapter({ clientFor: () => acm }) }, { acm: { type: 'acm_certificate', domain: '*.govisax.com', regions: ['us-east-1'] } });
    expect(r.acm).toBe("unknown: AWS refused ListCertificates for certificates (us-east-1): the bot's IAM role lacks acm:ListCertificates");
    mock.restore();
  });

  it('describes only the certificates whose summary may cover the domain', async () => {
    const acm = new ACMClient({ region: 'ap-south-1', credentials: TEST_CREDENTIALS });
    const mock = mockClient(acm);
    const arn = (n: number) => `arn:aws:acm:ap-south-1:123456789012:certificate/0000000${n}`;
    mock.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [
        { CertificateArn: arn(1), DomainName: 'govisax.com', SubjectAlternativeNameSummaries: ['govisax.com', '*.govisax.com'], Status: 'ISSUED' },
        { CertificateArn: arn(2), DomainName: 'other.example', SubjectAlternativeNameSummaries: ['other.example'], Status: 'ISSUED' },
        { CertificateArn: arn(3), DomainName: 'many.example', SubjectAlternativeNameSummaries: ['many.example'], HasAdditionalSubjectAlternativeNames: true, Status: 'ISSUED' },
      ],
    });
    const notAfter = new Date(Date.now() + 100 * 86_400_000);
    mock.on(DescribeCertificateCommand, { CertificateArn: arn(1) }).resolves({ Certificate: { CertificateArn: arn(1), DomainName: 'govisax.com', SubjectAlternativeNames: ['govisax.com', '*.govisax.com'], Status: 'ISSUED', NotAfter: notAfter } });
    mock.on(DescribeCertificateCommand, { CertificateArn: arn(3) }).resolves({ Certificate: { CertificateArn: arn(3), DomainName: 'many.example', SubjectAlternativeNames: ['many.example'], Status: 'ISSUED', NotAfter: notAfter } });

    const r = await check({ ...ports, acm: createAcmAdapter({ clientFor: () => acm }) }, { acm: { type: 'acm_certificate', domain: '*.govisax.com', regions: ['ap-south-1'] } });

    expect(r.acm).toMatch(/^pass: certificate \*\.govisax\.com ISSUED in ap-south-1 \(valid until .*, (99|100) days left\)$/);
    expect(mock.commandCalls(DescribeCertificateCommand).map((c) => c.args[0].input.CertificateArn)).toEqual([arn(1), arn(3)]);
    mock.restore();
  });
});

describe('route53_zone', () => {
  it('passes for the public zone, and for a record pointing where it should', async () => {
    const r = await check(ports, {
      zone: { type: 'route53_zone', zone: 'govisax.com' },
      a: { type: 'route53_zone', zone: 'getdrop.no', record: { name: 'getdrop.no', type: 'A', value: '203.0.113.10' } },
    });
    expect(r.zone).toMatch(/^pass: public hosted zone govisax\.com exists \([A-Z0-9]+, \d+ records\)$/);
    expect(r.a).toMatch(/^pass: A record getdrop\.no points to 203\.0\.113\.10 \(public zone getdrop\.no, [A-Z0-9]+\)$/);
  });

  it('fails for a missing zone, a missing record and a record pointing elsewhere', async () => {
    const r = await check(ports, {
      zone: { type: 'route53_zone', zone: 'govisax.in' },
      priv: { type: 'route53_zone', zone: 'govisax.com', private: true },
      www: { type: 'route53_zone', zone: 'getdrop.no', record: { name: 'www.getdrop.no', type: 'A' } },
      moved: { type: 'route53_zone', zone: 'getdrop.no', record: { name: 'getdrop.no', value: '198.51.100.7' } },
    });
    expect(r.zone).toBe('fail: no public Route 53 hosted zone for govisax.in');
    expect(r.priv).toBe('fail: no private Route 53 hosted zone for govisax.com (there is a public one)');
    expect(r.www).toMatch(/^fail: public hosted zone getdrop\.no exists \(.*\), but it has no A record for www\.getdrop\.no$/);
    expect(r.moved).toBe('fail: A record getdrop.no points to 203.0.113.10, not 198.51.100.7');
  });
});

describe('rds_instance', () => {
  it('passes when available with a recent snapshot, fails once the snapshot is older than allowed', async () => {
    const checks = {
      db: { type: 'rds_instance', instance: 'drop-db', region: 'eu-west-1' },
      backup: { type: 'rds_instance', instance: 'drop-db', region: 'eu-west-1', snapshot: { type: 'automated', max_age_hours: 24 } },
      manual: { type: 'rds_instance', instance: 'drop-db', region: 'eu-west-1', snapshot: { type: 'manual', max_age_hours: 3 } },
    };
    const now = await check(ports, checks);
    expect(now.db).toMatch(/^pass: RDS instance drop-db is available \(postgres [\d.]+, db\.t3\.micro\)$/);
    expect(now.backup).toMatch(rx(`pass: RDS instance drop-db is available \\(postgres [\\d.]+, db.t3.micro\\); latest automated snapshot rds:drop-db-[\\d-]+ taken ${TIME}, under a minute ago`));
    expect(now.manual).toMatch(rx(`pass: .*; latest manual snapshot drop-db-pre-launch-20260301-0600 taken ${TIME}, under a minute ago`));

    const later = await check(ports, checks, { now: new Date(Date.now() + 25 * 3_600_000) });
    expect(later.db).toMatch(/^pass/);
    expect(later.backup).toMatch(rx(`fail: RDS instance drop-db is available \\(.*\\), but the latest automated snapshot rds:drop-db-[\\d-]+ taken ${TIME}, 25 h ago \\(needs under 24 h\\)`));
    expect(later.manual).toMatch(/^fail: .*25 h ago \(needs under 3 h\)$/);
  });

  it('fails for an instance that does not exist', async () => {
    const r = await check(ports, { db: { type: 'rds_instance', instance: 'drop-db-2', region: 'eu-west-1' } });
    expect(r.db).toBe('fail: RDS has no DB instance "drop-db-2" in eu-west-1');
  });
});

describe('ecr_image', () => {
  it('passes for the tagged image and fails for a tag or repository that is not there', async () => {
    const r = await check(ports, {
      prod: { type: 'ecr_image', repository: 'drop-web', tag: 'production', region: 'eu-west-1' },
      tag: { type: 'ecr_image', repository: 'drop-web', tag: 'v2.0.0', region: 'eu-west-1' },
      repo: { type: 'ecr_image', repository: 'drop-api', tag: 'production', region: 'eu-west-1' },
    });
    expect(r.prod).toMatch(rx(`pass: image drop-web:production is in ECR \\(eu-west-1\\), pushed ${TIME}, sha256:[0-9a-f]{12}…`));
    expect(r.tag).toBe('fail: ECR repository drop-web has no image tagged v2.0.0 in eu-west-1');
    expect(r.repo).toBe('fail: ECR has no repository "drop-api" in eu-west-1');
  });
});

describe('ses_production', () => {
  it('fails in the sandbox and passes once production access is granted', async () => {
    shim.account.ProductionAccessEnabled = false;
    expect((await check(ports, { ses: { type: 'ses_production', region: 'ap-south-1' } })).ses).toBe(
      'fail: SES in ap-south-1 is still in the sandbox: it mails only verified addresses (no production access yet)',
    );
    shim.account.ProductionAccessEnabled = true;
    shim.account.SendQuota.Max24HourSend = 50_000;
    expect((await check(ports, { ses: { type: 'ses_production', region: 'ap-south-1' } })).ses).toBe('pass: SES production access is enabled in ap-south-1, quota 50,000 emails / 24 h');
  });
});

describe('ecs_service', () => {
  it('fails while tasks are still starting and passes once running equals desired', async () => {
    const ecs = new ECSClient({ endpoint: moto.endpoint, region: 'ap-south-1', credentials: TEST_CREDENTIALS });
    await ecs.send(new CreateClusterCommand({ clusterName: 'fivestar-payments' }));
    const td = await ecs.send(new RegisterTaskDefinitionCommand({ family: 'internal-pe', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 512 }] }));
    // moto: CreateService leaves 0 running ("deploying"); UpdateService with a count makes it steady.
    await ecs.send(new CreateServiceCommand({ cluster: 'fivestar-payments', serviceName: 'internal-pe-service', taskDefinition: td.taskDefinition!.taskDefinitionArn, desiredCount: 2 }));
    const v = { type: 'ecs_service', service: 'internal-pe-service', cluster: 'fivestar-payments', region: 'ap-south-1' };
    expect((await check(ports, { svc: v })).svc).toBe('fail: ECS service internal-pe-service is not steady: 0 of 2 tasks running (rollout IN_PROGRESS)');
    await ecs.send(new UpdateServiceCommand({ cluster: 'fivestar-payments', service: 'internal-pe-service', desiredCount: 2 }));
    expect((await check(ports, { svc: v })).svc).toBe('pass: ECS service internal-pe-service is steady: 2 of 2 tasks running');
  });
});

describe('alarms_ok', () => {
  it('passes with no alarm firing and fails naming the firing ones', async () => {
    await seedAlarms(moto.endpoint, [
      { name: 'Fivestar-High-Error-Rate', state: 'OK' },
      { name: 'Fivestar-Low-Payment-Success-Rate', state: 'ALARM' },
    ]);
    const extra = 'alarms: { region: ap-south-1, prefixes: [Fivestar] }';
    const checks = { ok: { type: 'alarms_ok', prefix: 'Fivestar-High' }, firing: { type: 'alarms_ok', prefix: 'Fivestar' } };
    // The checks ask the alarm watcher, as go/no-go and the deploy gate do: its state while its last poll is fresh.
    const clock = clockAt('2026-12-01T00:00:00Z');
    const { alarms } = await withAlarms(ports, runbookWith(checks, extra), clock);
    await alarms.poll();
    const r = await check(ports, checks, { extra, alarms, now: new Date('2026-12-01T00:00:40Z') });
    expect(r.ok).toBe('pass: none of 1 Fivestar-High alarm is in ALARM (CloudWatch DescribeAlarms, ap-south-1, "Fivestar-High*", as of the alarm watcher\'s poll 40 s ago)');
    expect(r.firing).toBe('fail: 1 of 2 Fivestar alarms in ALARM: Fivestar-Low-Payment-Success-Rate (CloudWatch DescribeAlarms, ap-south-1, "Fivestar*", as of the alarm watcher\'s poll 40 s ago)');
  });

  it('reads CloudWatch itself for a prefix the watcher does not watch, and says so', async () => {
    await seedAlarms(moto.endpoint, [{ name: 'Fivestar-Low-Payment-Success-Rate', state: 'ALARM' }]);
    const r = await check(ports, { other: { type: 'alarms_ok', prefix: 'Fivestar-Low' } }, { extra: 'alarms: { region: ap-south-1, prefixes: [GoVisaX] }' });
    expect(r.other).toBe('fail: 1 of 1 Fivestar-Low alarm in ALARM: Fivestar-Low-Payment-Success-Rate (CloudWatch DescribeAlarms, ap-south-1, "Fivestar-Low*", read now (the alarm watcher does not watch "Fivestar-Low*" in ap-south-1))');
  });
});

describe('HTTP, header and TLS checks against a local HTTPS site with a self-signed certificate', () => {
  const url = (path: string, port = site.httpsPort) => `https://getdrop.no:${port}${path}`;

  it('reads JSON fields at dotted paths', async () => {
    const r = await check(ports, {
      health: { type: 'http_json', url: url('/api/health'), expect_json: { 'data.status': 'ok', 'data.checks.db.status': 'pass' } },
      flat: { type: 'http_json', url: url('/api/health'), expect_json: { status: 'ok' } },
      html: { type: 'http_json', url: url('/'), expect_json: { status: 'ok' } },
    });
    expect(r.health).toBe(`pass: GET ${url('/api/health')} answered 200 with data.status = "ok", data.checks.db.status = "pass"`);
    expect(r.flat).toBe(`fail: GET ${url('/api/health')}: status is missing, expected "ok"`);
    expect(r.html).toBe(`fail: GET ${url('/')} answered 200 but not with JSON ("<h1>Drop</h1>")`);
  });

  it('checks the HSTS header as written in the seed, and the HTTP → HTTPS redirect', async () => {
    const r = await check(ports, {
      hsts: { type: 'http_header', url: url('/'), header: 'Strict-Transport-Security', equals: 'max-age=63072000; includeSubDomains; preload' },
      short: { type: 'http_header', url: url('/'), header: 'Strict-Transport-Security', equals: 'max-age=31536000' },
      redirect: { type: 'http_header', url: `http://getdrop.no:${site.httpPort}/`, expect_status: 301, header: 'Location', contains: 'https://getdrop.no' },
      none: { type: 'http_header', url: url('/'), header: 'Content-Security-Policy', contains: "default-src 'self'" },
    });
    expect(r.hsts).toBe(`pass: GET ${url('/')} answered 200 with Strict-Transport-Security: max-age=63072000; includeSubDomains; preload`);
    expect(r.short).toBe(`fail: GET ${url('/')} answered 200 with Strict-Transport-Security: max-age=63072000; includeSubDomains; preload, expected "max-age=31536000"`);
    expect(r.redirect).toBe(`pass: GET http://getdrop.no:${site.httpPort}/ answered 301 with Location: ${url('/')}`);
    expect(r.none).toBe(`fail: GET ${url('/')} answered 200 without a Content-Security-Policy header`);
  });

  it('checks the served certificate covers the names and stays valid long enough', async () => {
    const tls = (names: string[], min = 14) => ({ type: 'tls', host: 'getdrop.no', port: site.httpsPort, names, min_days_valid: min });
    const r = await check(ports, { both: tls(['getdrop.no', 'www.getdrop.no']), api: tls(['api.getdrop.no']), soon: tls([], 100) });
    expect(r.both).toMatch(rx(`pass: the certificate served by getdrop.no:${site.httpsPort} covers getdrop.no, www.getdrop.no, valid until ${DATE}, (89|90) days left, issued by getdrop.no`));
    expect(r.api).toBe(`fail: the certificate served by getdrop.no:${site.httpsPort} does not cover api.getdrop.no (it covers getdrop.no, www.getdrop.no)`);
    expect(r.soon).toMatch(rx(`fail: the certificate served by getdrop.no:${site.httpsPort} expires too soon \\(valid until ${DATE}, (89|90) days left; needs 100\\)`));
  });

  it('fails when the certificate is not trusted, and when nothing answers', async () => {
    const untrusting = evidencePorts(moto.endpoint, { lookup: site.lookup });
    const r = await check(untrusting, {
      tls: { type: 'tls', host: 'getdrop.no', port: site.httpsPort },
      json: { type: 'http_json', url: url('/api/health'), expect_json: { 'data.status': 'ok' } },
      down: { type: 'http', url: 'http://getdrop.no:1/' },
    });
    expect(r.tls).toBe(`fail: the certificate served by getdrop.no:${site.httpsPort} is not trusted: it is self-signed`);
    expect(r.json).toBe(`fail: GET ${url('/api/health')} failed: its TLS certificate is self-signed (not trusted)`);
    expect(r.down).toBe('fail: GET http://getdrop.no:1/ failed: connection refused');
  });
});

describe('a pass', () => {
  it('asks Secrets Manager once per region however many items name secrets there', async () => {
    const secrets = ports.secrets;
    let calls = 0;
    const counting: PortsBesideAlarms = { ...ports, secrets: { describeSecrets: (region, names) => (calls++, secrets.describeSecrets(region, names)) } };
    const r = await check(counting, {
      v2f: { type: 'secret', region: 'ap-south-1', names: ['visa2fly/prod/api-key', 'visa2fly/prod/api-secret'] },
      rzp: { type: 'secret', region: 'ap-south-1', names: ['razorpay/prod/key-id'] },
      pd: { type: 'secret', region: 'ap-south-1', names: ['pagerduty/prod/integration-key'] },
      drop: { type: 'secret', region: 'eu-west-1', names: ['JWT_SECRET'] },
    } satisfies Record<string, Verify>);
    expect(Object.values(r).every((t) => t.startsWith('pass'))).toBe(true);
    expect(calls).toBe(2);
  });
});
