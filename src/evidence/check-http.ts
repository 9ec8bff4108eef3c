import type { Verify } from '../platform/runbook/schema.js';
import { fail, pass, type CheckFn } from './evidence.js';

type HttpCheck = Extract<Verify, { type: 'http' }>;
type JsonCheck = Extract<Verify, { type: 'http_json' }>;
type HeaderCheck = Extract<Verify, { type: 'http_header' }>;

/** GET answers the status and, if given, contains the text (redirects followed). */
export const checkHttp: CheckFn<HttpCheck> = async (v, { session }) => {
  const a = await session.httpGet(v.url, { timeoutMs: v.timeout_seconds * 1000, followRedirects: true });
  if (a.status !== v.expect_status) return fail(`GET ${v.url} answered ${a.status}, expected ${v.expect_status}`);
  if (v.expect_text !== undefined && !a.body.includes(v.expect_text)) return fail(`GET ${v.url} answered ${a.status} but the body does not contain ${JSON.stringify(v.expect_text)}`);
  return pass(`GET ${v.url} answered ${a.status} in ${a.ms} ms${v.expect_text !== undefined ? ` with ${JSON.stringify(v.expect_text)}` : ''}`);
};

/** The value at a dotted path (`data.checks.db.status`), or undefined. */
export function jsonAt(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) && /^\d+$/.test(key) ? cur[Number(key)] : (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const show = (x: unknown) => (x === undefined ? 'missing' : JSON.stringify(x).slice(0, 120));

/** GET answers the status with a JSON body whose fields equal the expected values (redirects followed). */
export const checkHttpJson: CheckFn<JsonCheck> = async (v, { session }) => {
  const a = await session.httpGet(v.url, { timeoutMs: v.timeout_seconds * 1000, followRedirects: true });
  if (a.status !== v.expect_status) return fail(`GET ${v.url} answered ${a.status}, expected ${v.expect_status}`);
  let body: unknown;
  try {
    body = JSON.parse(a.body);
  } catch {
    return fail(`GET ${v.url} answered ${a.status} but not with JSON (${show(a.body.slice(0, 60))})`);
  }
  const fields = Object.entries(v.expect_json).map(([path, want]) => ({ path, want, got: jsonAt(body, path) }));
  const wrong = fields.filter((f) => f.got !== f.want);
  if (wrong.length > 0) return fail(`GET ${v.url}: ${wrong.map((f) => `${f.path} is ${show(f.got)}, expected ${show(f.want)}`).join('; ')}`);
  return pass(`GET ${v.url} answered ${a.status} with ${fields.map((f) => `${f.path} = ${show(f.got)}`).join(', ')}`);
};

/** Header values compared as people write them: case and the spaces around `;` and `,` do not matter. */
export function normaliseHeader(value: string): string {
  return value.trim().replace(/\s*([;,])\s*/g, '$1 ').replace(/\s+/g, ' ').toLowerCase();
}

/** GET (redirects not followed) answers with the header equal to, or containing, the value. */
export const checkHttpHeader: CheckFn<HeaderCheck> = async (v, { session }) => {
  const a = await session.httpGet(v.url, { timeoutMs: v.timeout_seconds * 1000, followRedirects: false });
  if (v.expect_status !== undefined && a.status !== v.expect_status) return fail(`GET ${v.url} answered ${a.status}, expected ${v.expect_status}`);
  const value = a.headers[v.header.toLowerCase()];
  if (value === undefined) return fail(`GET ${v.url} answered ${a.status} without a ${v.header} header`);
  const ok = v.equals !== undefined ? normaliseHeader(value) === normaliseHeader(v.equals) : normaliseHeader(value).includes(normaliseHeader(v.contains!));
  const shown = `${v.header}: ${value.slice(0, 300)}`;
  if (!ok) return fail(`GET ${v.url} answered ${a.status} with ${shown}, expected ${v.equals !== undefined ? JSON.stringify(v.equals) : `it to contain ${JSON.stringify(v.contains)}`}`);
  return pass(`GET ${v.url} answered ${a.status} with ${shown}`);
};
