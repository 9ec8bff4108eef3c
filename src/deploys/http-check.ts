import { assertNotInTransaction } from '../platform/store/store.js';

/** A GET that must answer with a status and, optionally, contain a text. */
export interface HttpCheck {
  url: string;
  expect_status: number;
  expect_text?: string;
  timeout_seconds: number;
}

/** The result of one check, with a sentence saying why it failed. */
export type HttpCheckResult = { ok: true; status: number; ms: number } | { ok: false; reason: string };

/** Runs the check once; never throws. */
export async function runHttpCheck(check: HttpCheck): Promise<HttpCheckResult> {
  assertNotInTransaction(`GET ${check.url}`);
  const started = Date.now();
  try {
    const res = await fetch(check.url, { method: 'GET', redirect: 'follow', signal: AbortSignal.timeout(check.timeout_seconds * 1000) });
    const body = await res.text();
    if (res.status !== check.expect_status) return { ok: false, reason: `GET ${check.url} answered ${res.status}, expected ${check.expect_status}` };
    if (check.expect_text !== undefined && !body.includes(check.expect_text)) {
      return { ok: false, reason: `GET ${check.url} answered ${res.status} but the body does not contain ${JSON.stringify(check.expect_text)}` };
    }
    return { ok: true, status: res.status, ms: Date.now() - started };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, reason: `GET ${check.url} did not answer within ${check.timeout_seconds} s` };
    return { ok: false, reason: `GET ${check.url} failed: ${e.cause?.code ?? e.message}` };
  }
}
