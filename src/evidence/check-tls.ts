import type { Verify } from '../platform/runbook/schema.js';
import { coversName } from './probe-tls.js';
import { daysUntil, fail, formatDate, pass, type CheckFn } from './evidence.js';

type TlsCheck = Extract<Verify, { type: 'tls' }>;

/** The certificate served for the host is trusted, covers every listed name (the host when none), and stays valid `min_days_valid` more days. */
export const checkTls: CheckFn<TlsCheck> = async (v, { session, now, timezone }) => {
  const cert = await session.servedCertificate(v.host, v.port, v.timeout_seconds * 1000);
  const where = `${v.host}${v.port === 443 ? '' : `:${v.port}`}`;
  const names = v.names.length > 0 ? v.names : [v.host];
  const uncovered = names.filter((n) => !cert.names.some((c) => coversName(c, n)));
  const days = daysUntil(cert.validTo, now);
  const until = `valid until ${formatDate(cert.validTo, timezone)}, ${days} days left`;
  if (!cert.trusted) return fail(`the certificate served by ${where} is not trusted: ${cert.untrustedBecause ?? 'unknown reason'}`);
  if (Date.parse(cert.validFrom) > now.getTime()) return fail(`the certificate served by ${where} is not valid until ${formatDate(cert.validFrom, timezone)}`);
  if (uncovered.length > 0) return fail(`the certificate served by ${where} does not cover ${uncovered.join(', ')} (it covers ${cert.names.join(', ')})`);
  if (days < v.min_days_valid) return fail(`the certificate served by ${where} expires too soon (${until}; needs ${v.min_days_valid})`);
  return pass(`the certificate served by ${where} covers ${names.join(', ')}, ${until}${cert.issuer ? `, issued by ${cert.issuer}` : ''}`);
};
