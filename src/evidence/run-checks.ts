import { AwsCallError } from '../platform/aws/ecs-port.js';
import type { Item, Runbook, Verify } from '../platform/runbook/schema.js';
import { checkAlarms } from './check-alarms.js';
import { checkCertificate } from './check-certificate.js';
import { checkDatabase } from './check-database.js';
import { checkDns } from './check-dns.js';
import { checkEcsService } from './check-ecs-service.js';
import { checkEmailAccess } from './check-email-access.js';
import { checkHttp, checkHttpHeader, checkHttpJson } from './check-http.js';
import { checkImage } from './check-image.js';
import { checkSecrets } from './check-secrets.js';
import { checkTls } from './check-tls.js';
import { fail, unknown, type CheckContext, type CheckResult } from './evidence.js';
import { EvidenceSession, type EvidencePorts } from './evidence-session.js';
import { HttpProbeError } from './probe-http.js';
import { TlsProbeError } from './probe-tls.js';

/** What running checks needs besides the ports. */
export interface RunChecksOptions {
  runbook: Runbook;
  now: Date;
  /** A check still unanswered after this long is ❔ (default 20 s): a sign-off should not wait on AWS's retries for minutes. */
  timeoutMs?: number;
  /** How many checks run at once (default 8). */
  concurrency?: number;
}

/** What a pass found, per item, and how many port calls it made. */
export interface ChecksRun {
  results: Map<string, CheckResult>;
  calls: number;
}

/** One check, whatever its type. A failure to read the evidence is ❔ unknown, except that something confirmed missing is ❌. */
export async function runCheck(v: Verify, ctx: CheckContext, runbook: Runbook): Promise<CheckResult> {
  try {
    switch (v.type) {
      case 'alarms_ok':
        return await checkAlarms(v, ctx);
      case 'http':
        return await checkHttp(v, ctx);
      case 'http_json':
        return await checkHttpJson(v, ctx);
      case 'http_header':
        return await checkHttpHeader(v, ctx);
      case 'tls':
        return await checkTls(v, ctx);
      case 'secret':
        return await checkSecrets(v, ctx);
      case 'acm_certificate':
        return await checkCertificate(v, ctx);
      case 'route53_zone':
        return await checkDns(v, ctx);
      case 'rds_instance':
        return await checkDatabase(v, ctx);
      case 'ecr_image':
        return await checkImage(v, ctx);
      case 'ses_production':
        return await checkEmailAccess(v, ctx);
      case 'ecs_service':
        return await checkEcsService(v, ctx, runbook);
    }
  } catch (err) {
    return resultOfError(err);
  }
}

/** The one rule for a check that threw: AWS saying "no such thing" is evidence (❌); anything else means golive could not tell (❔). */
export function resultOfError(err: unknown): CheckResult {
  const text = (m: string) => m.replace(/\.$/, '');
  if (err instanceof AwsCallError) return err.kind === 'not_found' ? fail(text(err.message)) : unknown(text(err.message));
  // The thing checked did not answer: that is what an HTTP or TLS check is there to find out.
  if (err instanceof HttpProbeError || err instanceof TlsProbeError) return fail(err.message);
  return unknown(`the check could not run: ${text(err instanceof Error ? err.message : String(err))}`);
}

/** Runs the checks of these items in one pass (shared, batched AWS reads); every item gets a result. */
export async function runChecks(items: readonly Item[], ports: EvidencePorts, opts: RunChecksOptions): Promise<ChecksRun> {
  const checked = items.filter((i): i is Item & { verify: Verify } => i.verify !== undefined);
  const session = new EvidenceSession(
    ports,
    checked.map((i) => i.verify),
  );
  const ctx: CheckContext = { session, now: opts.now, timezone: opts.runbook.launch.timezone };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const results = new Map<string, CheckResult>();
  let next = 0;
  const worker = async () => {
    while (next < checked.length) {
      const item = checked[next++]!;
      results.set(item.id, await withDeadline(runCheck(item.verify, ctx, opts.runbook), timeoutMs));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, checked.length) }, worker));
  return { results, calls: session.calls };
}

async function withDeadline(check: Promise<CheckResult>, ms: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve(unknown(`no answer within ${Math.round(ms / 1000)} s; the next check will try again`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}
