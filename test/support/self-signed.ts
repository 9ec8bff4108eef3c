import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A certificate and its key, PEM. */
export interface SelfSigned {
  cert: string;
  key: string;
}

/**
 * Makes a self-signed certificate with openssl (no network), valid from now
 * for `days` days, for `names` (the first is the subject's CN).
 */
export function selfSigned(names: string[], days: number, opts: { ec?: boolean } = {}): SelfSigned {
  const dir = mkdtempSync(path.join(tmpdir(), 'golive-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const keyArgs = opts.ec ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
    execFileSync(
      'openssl',
      ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
