import type { AcmPort, CertificateDetail, CertificateSummary } from '../platform/aws/acm-port.js';
import type { EcrPort } from '../platform/aws/ecr-port.js';
import { AwsCallError, type EcsPort, type ServiceRef } from '../platform/aws/ecs-port.js';
import type { RdsPort } from '../platform/aws/rds-port.js';
import type { Route53Port } from '../platform/aws/route53-port.js';
import type { SecretInfo, SecretsPort } from '../platform/aws/secrets-port.js';
import type { EmailMessage, SesPort } from '../platform/aws/ses-port.js';
import type { Item, Runbook, Verify } from '../platform/runbook/schema.js';
import { HttpProbeError, type EvidencePorts, type HttpAnswer, type HttpPort, type ServedCertificate, type TlsPort } from '../evidence/index.js';
import { SANDBOX_ACCOUNT } from './ecs-sim.js';

/** One email golive would have sent, as the page lists it. */
export interface SentEmail {
  at: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** The simulated evidence world, saved with the session. */
export interface EvidenceSimSnapshot {
  version: 1;
  /** Items whose fact the page made false. */
  broken: string[];
  /** When the simulated resources were made (secrets' "last changed", images' "pushed"). */
  madeAt: string;
  emails: SentEmail[];
}

/** What the page shows of one checked item. */
export interface EvidenceSimItemView {
  id: string;
  title: string;
  type: Verify['type'];
  /** The fact the simulation answers, in words. */
  fact: string;
  broken: boolean;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Checks whose facts another part of the simulated world answers (CloudWatch alarms, the runbook's ECS services). */
const ANSWERED_ELSEWHERE = new Set<Verify['type']>(['alarms_ok']);

/**
 * AWS (Secrets Manager, ACM, Route 53, RDS, ECR, SES), the sites HTTP checks
 * read and the TLS certificates they serve, simulated for the sandbox behind
 * the ports the real adapters implement. Every fact a runbook item checks
 * holds at first; the page makes an item's fact false (a secret deleted, a
 * certificate still pending, a site answering 503, …) and true again. Email
 * golive sends is kept and listed on the page.
 */
export class EvidenceSim {
  private readonly broken: Set<string>;
  private readonly madeAt: string;
  readonly emails: SentEmail[];
  private readonly items: (Item & { verify: Verify })[];
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly runbook: Runbook,
    private readonly opts: { now?: () => number; snapshot?: EvidenceSimSnapshot } = {},
  ) {
    this.items = runbook.gates.flatMap((g) => g.items).filter((i): i is Item & { verify: Verify } => i.verify !== undefined);
    this.broken = new Set(opts.snapshot?.broken ?? []);
    this.madeAt = opts.snapshot?.madeAt ?? new Date(this.now() - 2 * DAY).toISOString();
    this.emails = opts.snapshot?.emails ?? [];
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): EvidenceSimSnapshot {
    return { version: 1, broken: [...this.broken], madeAt: this.madeAt, emails: this.emails };
  }

  /** The items the page can break, with the fact each one reads. */
  view(): EvidenceSimItemView[] {
    return this.items.filter((i) => !ANSWERED_ELSEWHERE.has(i.verify.type) && !this.runbookService(i.verify)).map((i) => ({ id: i.id, title: i.title, type: i.verify.type, fact: describe(i.verify), broken: this.broken.has(i.id) }));
  }

  /** Makes an item's fact false (`broken`) or true again. */
  setBroken(itemId: string, broken: boolean): void {
    if (!this.items.some((i) => i.id === itemId)) throw new Error(`no checked item ${itemId}`);
    if (broken) this.broken.add(itemId);
    else this.broken.delete(itemId);
    this.changed();
  }

  /** The evidence ports: these simulations, plus the sandbox's ECS (alarms are the app's own watcher, reading the sandbox's CloudWatch). */
  ports(ecs: EcsPort): Omit<EvidencePorts, 'alarms'> {
    return { secrets: this.secrets, acm: this.acm, route53: this.route53, rds: this.rds, ecr: this.ecr, ses: this.ses, ecs: this.ecsFor(ecs), http: this.http, tls: this.tls };
  }

  /** SES as escalation email sees it: every email is kept for the page. */
  get ses(): SesPort {
    return {
      getAccount: async (region) => {
        const off = this.of('ses_production').some((i) => i.verify.region === region && this.broken.has(i.id));
        return { productionAccess: !off, sendingEnabled: true, enforcementStatus: 'HEALTHY', max24HourSend: off ? 200 : 50_000 };
      },
      sendEmail: async (_region, m: EmailMessage) => {
        this.emails.push({ at: this.iso(), from: m.from, to: m.to, subject: m.subject, text: m.text });
        this.changed();
        return { messageId: `sandbox-${this.emails.length}` };
      },
    };
  }

  private readonly secrets: SecretsPort = {
    describeSecrets: async (region, names) => {
      const missing = new Set(this.of('secret').filter((i) => i.verify.region === region && this.broken.has(i.id)).flatMap((i) => i.verify.names));
      const known = new Set(this.of('secret').filter((i) => i.verify.region === region).flatMap((i) => i.verify.names));
      const out = new Map<string, SecretInfo>();
      for (const name of names) {
        if (!known.has(name) || missing.has(name)) continue;
        out.set(name, { name, arn: `arn:aws:secretsmanager:${region}:${SANDBOX_ACCOUNT}:secret:${name}-SANDBX`, createdAt: this.madeAt, lastChangedAt: this.madeAt, hasCurrentValue: true });
      }
      return out;
    },
  };

  private certificates(region: string): CertificateDetail[] {
    return this.of('acm_certificate')
      .filter((i) => i.verify.regions.includes(region))
      .map((i, n) => {
        const broken = this.broken.has(i.id);
        return {
          arn: `arn:aws:acm:${region}:${SANDBOX_ACCOUNT}:certificate/sandbox-${n}`,
          domain: i.verify.domain,
          names: [i.verify.domain],
          status: broken ? 'PENDING_VALIDATION' : 'ISSUED',
          notBefore: this.madeAt,
          notAfter: new Date(this.now() + 200 * DAY).toISOString(),
          type: 'AMAZON_ISSUED',
          inUseBy: 1,
        };
      });
  }

  private readonly acm: AcmPort = {
    listCertificates: async (region): Promise<CertificateSummary[]> => this.certificates(region).map((c) => ({ arn: c.arn, domain: c.domain, status: c.status, names: c.names, moreNames: false })),
    describeCertificate: async (region, arn) => {
      const c = this.certificates(region).find((x) => x.arn === arn);
      if (!c) throw new AwsCallError('DescribeCertificate', 'not_found', `ACM has no certificate ${arn} (${region}).`);
      return c;
    },
  };

  private readonly route53: Route53Port = {
    zonesNamed: async (name) => {
      const want = bare(name);
      const items = this.of('route53_zone').filter((i) => bare(i.verify.zone) === want);
      // A zone some item checks for its record still exists when only the record is broken.
      const zoneBroken = items.length > 0 && items.every((i) => this.broken.has(i.id) && !i.verify.record);
      if (items.length === 0 || zoneBroken) return [];
      return [{ id: `ZSANDBOX${want.replace(/[^a-z0-9]/g, '').toUpperCase().slice(0, 10)}`, name: `${want}.`, private: items[0]!.verify.private, recordCount: 2 + items.filter((i) => i.verify.record).length }];
    },
    recordSet: async (_zoneId, name, type) => {
      const item = this.of('route53_zone').find((i) => i.verify.record && bare(i.verify.record.name) === bare(name) && i.verify.record.type === type);
      if (!item || this.broken.has(item.id)) return undefined;
      return { name: `${bare(name)}.`, type, values: [item.verify.record?.value ?? '203.0.113.10'] };
    },
  };

  private readonly rds: RdsPort = {
    describeInstance: async (region, id) => {
      const items = this.of('rds_instance').filter((i) => i.verify.region === region && i.verify.instance === id);
      if (items.length === 0) throw new AwsCallError('DescribeDBInstances', 'not_found', `RDS has no DB instance "${id}" in ${region}.`);
      // Breaking an instance check without a snapshot stops the instance; one with a snapshot makes the snapshot old instead.
      const stopped = items.some((i) => this.broken.has(i.id) && !i.verify.snapshot);
      return { id, status: stopped ? 'stopped' : 'available', engine: 'postgres', engineVersion: '16.3', instanceClass: 'db.t3.medium', backupRetentionDays: 7 };
    },
    latestSnapshot: async (region, id, kind) => {
      const items = this.of('rds_instance').filter((i) => i.verify.region === region && i.verify.instance === id && i.verify.snapshot?.type === kind);
      const maxAge = Math.min(...items.map((i) => i.verify.snapshot!.max_age_hours), 24);
      const old = items.some((i) => this.broken.has(i.id));
      const createdAt = new Date(this.now() - (old ? maxAge + 6 : Math.min(1, maxAge / 2)) * HOUR).toISOString();
      return { id: kind === 'manual' ? `${id}-pre-launch-sandbox` : `rds:${id}-sandbox`, type: kind === 'any' ? 'automated' : kind, createdAt, status: 'available' };
    },
  };

  private readonly ecr: EcrPort = {
    findImage: async (region, repository, tag) => {
      const item = this.of('ecr_image').find((i) => i.verify.region === region && i.verify.repository === repository && i.verify.tag === tag);
      if (!item || this.broken.has(item.id)) return undefined;
      return { repository, digest: `sha256:${'5a4db0c'.repeat(9).slice(0, 64)}`, tags: [tag], pushedAt: this.madeAt, sizeBytes: 187_000_000 };
    },
  };

  /** An ECS service the runbook deploys is the ECS simulation's; one checked only (cluster given) is answered here. */
  private ecsFor(ecs: EcsPort): EcsPort {
    return {
      ...ecs,
      describeService: async (ref: ServiceRef) => {
        const item = this.of('ecs_service').find((i) => i.verify.cluster === ref.cluster && i.verify.service === ref.service && i.verify.region === ref.region);
        if (!item) return ecs.describeService(ref);
        const running = this.broken.has(item.id) ? 1 : 2;
        return { cluster: ref.cluster, service: ref.service, taskDefinition: `arn:aws:ecs:${ref.region}:${SANDBOX_ACCOUNT}:task-definition/${ref.service}:7`, desiredCount: 2, runningCount: running, deployments: [], events: [] };
      },
    };
  }

  private readonly http: HttpPort = {
    get: async (url): Promise<HttpAnswer> => {
      const items = this.items.filter((i) => (i.verify.type === 'http' || i.verify.type === 'http_json' || i.verify.type === 'http_header') && i.verify.url === url);
      if (items.length === 0) throw new HttpProbeError(url, 'host not found (the sandbox answers only the URLs the runbook checks)');
      if (items.some((i) => this.broken.has(i.id))) return { status: 503, headers: { 'content-type': 'text/plain' }, body: 'SANDBOX: service unavailable (made to fail from the sandbox page)', url, ms: 12 };
      const json: Record<string, unknown> = {};
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      let status = 200;
      let text = '';
      for (const i of items) {
        const v = i.verify;
        if (v.type === 'http') {
          status = v.expect_status;
          text += v.expect_text ?? '';
        } else if (v.type === 'http_json') {
          status = v.expect_status;
          for (const [path, value] of Object.entries(v.expect_json)) setPath(json, path, value);
        } else if (v.type === 'http_header') {
          if (v.expect_status !== undefined) status = v.expect_status;
          headers[v.header.toLowerCase()] = v.equals ?? v.contains ?? '';
        }
      }
      json.sandbox = true;
      return { status, headers, body: `${JSON.stringify(json)}${text ? `\n${text}` : ''}`, url, ms: 12 };
    },
  };

  private readonly tls: TlsPort = {
    servedCertificate: async (host, port): Promise<ServedCertificate> => {
      const items = this.of('tls').filter((i) => bare(i.verify.host) === bare(host) && i.verify.port === port);
      const names = [...new Set(items.flatMap((i) => (i.verify.names.length > 0 ? i.verify.names : [i.verify.host])))];
      // A broken TLS fact is a certificate about to expire: the renewal did not happen.
      const soon = items.some((i) => this.broken.has(i.id));
      return { subject: host, names, issuer: 'SANDBOX CA', validFrom: this.madeAt, validTo: new Date(this.now() + (soon ? 3 : 80) * DAY).toISOString(), trusted: true };
    },
  };

  private runbookService(v: Verify): boolean {
    return v.type === 'ecs_service' && !v.cluster && this.runbook.services.some((s) => s.name === v.service);
  }

  private of<T extends Verify['type']>(type: T): (Item & { verify: Extract<Verify, { type: T }> })[] {
    return this.items.filter((i) => i.verify.type === type) as (Item & { verify: Extract<Verify, { type: T }> })[];
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function bare(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** The fact an item's check reads, as the page says it. */
function describe(v: Verify): string {
  switch (v.type) {
    case 'secret':
      return `${v.names.length === 1 ? `secret ${v.names[0]}` : `${v.names.length} secrets`} in ${v.region}`;
    case 'acm_certificate':
      return `ACM certificate ${v.domain} in ${v.regions.join(', ')}`;
    case 'route53_zone':
      return v.record ? `${v.record.type} record ${v.record.name}` : `hosted zone ${v.zone}`;
    case 'rds_instance':
      return v.snapshot ? `${v.snapshot.type} snapshot of ${v.instance} (< ${v.snapshot.max_age_hours} h)` : `RDS instance ${v.instance}`;
    case 'ecr_image':
      return `image ${v.repository}:${v.tag}`;
    case 'ses_production':
      return `SES production access in ${v.region}`;
    case 'ecs_service':
      return `ECS service ${v.service}`;
    case 'http':
    case 'http_json':
    case 'http_header':
      return `GET ${v.url}`;
    case 'tls':
      return `TLS certificate of ${v.host}`;
    case 'alarms_ok':
      return `alarms ${v.prefix}*`;
  }
}
