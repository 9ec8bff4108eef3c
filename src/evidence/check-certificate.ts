import type { Verify } from '../platform/runbook/schema.js';
import type { CertificateDetail } from '../platform/aws/acm-port.js';
import { daysUntil, fail, formatDate, pass, type CheckFn, type CheckContext } from './evidence.js';

type CertificateCheck = Extract<Verify, { type: 'acm_certificate' }>;

const sameName = (a: string, b: string) => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/** The region's certificates for the domain (as their domain or an alternative name), best first: issued, then latest expiry. */
async function certificatesFor(region: string, domain: string, { session }: CheckContext): Promise<CertificateDetail[]> {
  const summaries = await session.certificates(region);
  // A summary lists only some alternative names (and some implementations none): describe the ones that might cover the domain.
  const candidates = summaries.filter((c) => sameName(c.domain, domain) || c.names.some((n) => sameName(n, domain)) || c.moreNames || c.names.length === 0);
  const details = await Promise.all(candidates.map((c) => session.certificate(region, c.arn)));
  return details
    .filter((d) => sameName(d.domain, domain) || d.names.some((n) => sameName(n, domain)))
    .sort((a, b) => Number(b.status === 'ISSUED') - Number(a.status === 'ISSUED') || (b.notAfter ?? '').localeCompare(a.notAfter ?? ''));
}

/** In every listed region, a certificate for the domain is ISSUED and stays valid for at least `min_days_valid` more days. */
export const checkCertificate: CheckFn<CertificateCheck> = async (v, ctx) => {
  const { now, timezone } = ctx;
  const found = await Promise.all(v.regions.map(async (region) => ({ region, cert: (await certificatesFor(region, v.domain, ctx))[0] })));
  const problems: string[] = [];
  const good: string[] = [];
  for (const { region, cert } of found) {
    if (!cert) {
      problems.push(`no ACM certificate for ${v.domain} in ${region}`);
      continue;
    }
    const days = cert.notAfter ? daysUntil(cert.notAfter, now) : undefined;
    const until = cert.notAfter ? `valid until ${formatDate(cert.notAfter, timezone)}, ${days} days left` : 'no expiry date';
    if (cert.status !== 'ISSUED') problems.push(`the certificate for ${v.domain} in ${region} is ${cert.status}`);
    else if (days === undefined || days < v.min_days_valid) problems.push(`the certificate for ${v.domain} in ${region} expires too soon (${until}; needs ${v.min_days_valid})`);
    else good.push(`${region} (${until})`);
  }
  if (problems.length > 0) return fail(`${problems.join('; ')}${good.length ? `; ISSUED in ${good.join(', ')}` : ''}`);
  return pass(`certificate ${v.domain} ISSUED in ${good.join(' and ')}`);
};
