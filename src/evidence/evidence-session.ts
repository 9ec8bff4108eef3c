import type { AcmPort, CertificateDetail, CertificateSummary } from '../platform/aws/acm-port.js';
import type { FiringAlarms, FiringAnswer } from '../alarms/index.js';
import type { EcrImage, EcrPort } from '../platform/aws/ecr-port.js';
import type { EcsPort, EcsServiceState, ServiceRef } from '../platform/aws/ecs-port.js';
import type { DbInstance, DbSnapshot, RdsPort, SnapshotKind } from '../platform/aws/rds-port.js';
import type { HostedZone, RecordSet, Route53Port } from '../platform/aws/route53-port.js';
import type { SecretInfo, SecretsPort } from '../platform/aws/secrets-port.js';
import type { SesAccount, SesPort } from '../platform/aws/ses-port.js';
import type { Verify } from '../platform/runbook/schema.js';
import type { HttpAnswer, HttpPort } from './probe-http.js';
import type { ServedCertificate, TlsPort } from './probe-tls.js';

/** Everything evidence checks read: AWS, HTTP and TLS, each behind its port. */
export interface EvidencePorts {
  secrets: SecretsPort;
  acm: AcmPort;
  route53: Route53Port;
  rds: RdsPort;
  ecr: EcrPort;
  ses: SesPort;
  ecs: EcsPort;
  /** "What is firing": the alarm watcher's one answer. */
  alarms: FiringAlarms;
  http: HttpPort;
  tls: TlsPort;
}

/**
 * One verification pass. The same question asked twice in a pass is asked
 * of AWS once, and every secret the pass's checks name in a region is fetched
 * in one batch (ListSecrets takes many names), however many items name them.
 */
export class EvidenceSession {
  /** Port calls made (an adapter may page: its SDK calls can be more). */
  calls = 0;
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly plannedSecrets = new Map<string, Set<string>>();

  constructor(
    private readonly ports: EvidencePorts,
    checks: readonly Verify[] = [],
  ) {
    for (const v of checks) {
      if (v.type !== 'secret') continue;
      const names = this.plannedSecrets.get(v.region) ?? new Set<string>();
      for (const n of v.names) names.add(n);
      this.plannedSecrets.set(v.region, names);
    }
  }

  private once<T>(key: string, run: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      this.calls++;
      p = run();
      this.memo.set(key, p);
    }
    return p;
  }

  /** The named secrets' metadata; names planned for this pass come from the region's one batch. */
  async secrets(region: string, names: readonly string[]): Promise<Map<string, SecretInfo>> {
    const planned = this.plannedSecrets.get(region);
    if (planned && names.every((n) => planned.has(n))) return this.once(`secrets:${region}`, () => this.ports.secrets.describeSecrets(region, [...planned]));
    return this.once(`secrets:${region}:${JSON.stringify([...names].sort())}`, () => this.ports.secrets.describeSecrets(region, names));
  }

  certificates(region: string): Promise<CertificateSummary[]> {
    return this.once(`acm:list:${region}`, () => this.ports.acm.listCertificates(region));
  }

  certificate(region: string, arn: string): Promise<CertificateDetail> {
    return this.once(`acm:describe:${region}:${arn}`, () => this.ports.acm.describeCertificate(region, arn));
  }

  zones(name: string): Promise<HostedZone[]> {
    return this.once(`route53:zones:${name.toLowerCase()}`, () => this.ports.route53.zonesNamed(name));
  }

  recordSet(zoneId: string, name: string, type: string): Promise<RecordSet | undefined> {
    return this.once(`route53:record:${zoneId}:${name.toLowerCase()}:${type}`, () => this.ports.route53.recordSet(zoneId, name, type));
  }

  dbInstance(region: string, id: string): Promise<DbInstance> {
    return this.once(`rds:instance:${region}:${id}`, () => this.ports.rds.describeInstance(region, id));
  }

  latestSnapshot(region: string, id: string, kind: SnapshotKind): Promise<DbSnapshot | undefined> {
    return this.once(`rds:snapshot:${region}:${id}:${kind}`, () => this.ports.rds.latestSnapshot(region, id, kind));
  }

  image(region: string, repository: string, tag: string): Promise<EcrImage | undefined> {
    return this.once(`ecr:${region}:${repository}:${tag}`, () => this.ports.ecr.findImage(region, repository, tag));
  }

  sesAccount(region: string): Promise<SesAccount> {
    return this.once(`ses:${region}`, () => this.ports.ses.getAccount(region));
  }

  ecsService(ref: ServiceRef): Promise<EcsServiceState> {
    return this.once(`ecs:${ref.region}:${ref.cluster}:${ref.service}`, () => this.ports.ecs.describeService(ref));
  }

  firing(prefix: string): Promise<FiringAnswer> {
    return this.once(`alarms:${prefix}`, () => this.ports.alarms.firing([prefix]));
  }

  /** One GET per URL (and redirect mode) per pass: items asking the same URL different things read one answer. */
  httpGet(url: string, opts: { timeoutMs: number; followRedirects: boolean }): Promise<HttpAnswer> {
    return this.once(`http:${opts.followRedirects ? 'follow' : 'manual'}:${url}`, () => this.ports.http.get(url, opts));
  }

  servedCertificate(host: string, port: number, timeoutMs: number): Promise<ServedCertificate> {
    return this.once(`tls:${host}:${port}`, () => this.ports.tls.servedCertificate(host, port, timeoutMs));
  }
}
