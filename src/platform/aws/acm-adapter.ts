import { ACMClient, DescribeCertificateCommand, KeyAlgorithm, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { AcmPort, CertificateDetail, CertificateSummary } from './acm-port.js';
import { AwsCallError } from './ecs-port.js';

/** How the ACM adapter builds its clients. */
export interface AcmAdapterOptions extends AwsClientOptions {
  clientFor?: (region: string) => ACMClient;
}

/** Without Includes, ACM lists only RSA_1024 and RSA_2048 certificates: an EC certificate would look missing. */
const EVERY_KEY_TYPE = Object.values(KeyAlgorithm);

/** The AcmPort backed by @aws-sdk/client-acm. */
export function createAcmAdapter(options: AcmAdapterOptions = {}): AcmPort {
  const clientFor = perRegion((region) => options.clientFor?.(region) ?? new ACMClient(awsClientConfig(region, options)));
  return {
    async listCertificates(region) {
      const client = clientFor(region);
      const out: CertificateSummary[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await sendAws({ api: 'ACM', iamPrefix: 'acm', operation: 'ListCertificates', region, subject: 'certificates' }, () =>
          client.send(new ListCertificatesCommand({ Includes: { keyTypes: EVERY_KEY_TYPE }, MaxItems: 1000, NextToken: token })),
        );
        for (const c of page.CertificateSummaryList ?? []) {
          if (!c.CertificateArn) continue;
          out.push({
            arn: c.CertificateArn,
            domain: c.DomainName ?? '',
            status: c.Status ?? 'UNKNOWN',
            names: c.SubjectAlternativeNameSummaries ?? [],
            moreNames: c.HasAdditionalSubjectAlternativeNames === true,
          });
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return out;
    },
    async describeCertificate(region, arn) {
      const call = { api: 'ACM', iamPrefix: 'acm', operation: 'DescribeCertificate', region, subject: `certificate ${arn}` };
      const out = await sendAws(call, () => clientFor(region).send(new DescribeCertificateCommand({ CertificateArn: arn })));
      const c = out.Certificate;
      if (!c) throw new AwsCallError(call.operation, 'not_found', `ACM has no certificate ${arn} (${region}).`);
      const detail: CertificateDetail = {
        arn,
        domain: c.DomainName ?? '',
        names: c.SubjectAlternativeNames ?? (c.DomainName ? [c.DomainName] : []),
        status: c.Status ?? 'UNKNOWN',
        ...(c.NotBefore ? { notBefore: c.NotBefore.toISOString() } : {}),
        ...(c.NotAfter ? { notAfter: c.NotAfter.toISOString() } : {}),
        ...(c.Type ? { type: c.Type } : {}),
        inUseBy: c.InUseBy?.length ?? 0,
      };
      return detail;
    },
  };
}
