import { api } from '@pagerduty/pdjs';
import { DEFAULT_API_URL } from './pagerduty-urls.js';

/** Who is on call, from PagerDuty's REST API. */
export interface OnCallPort {
  /** Email addresses of the people on call right now at the first level of an escalation policy. */
  emails(escalationPolicyId: string): Promise<string[]>;
}

/**
 * The on-call lookup over pdjs's `api()`. pdjs takes a full `url`, so
 * `PAGERDUTY_API_URL` can point it at a local fake in tests.
 */
export function createOnCallLookup(options: { token: string; apiUrl?: string }): OnCallPort {
  const base = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  return {
    async emails(policy) {
      const query = new URLSearchParams({ 'escalation_policy_ids[]': policy, 'include[]': 'users', earliest: 'true' });
      const res = await (api as unknown as (p: Record<string, unknown>) => Promise<{ ok: boolean; status: number; data: unknown }>)({ token: options.token, url: `${base}/oncalls?${query.toString()}`, method: 'GET', requestTimeout: 0, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`PagerDuty answered ${res.status} to the on-call lookup`);
      const oncalls = ((res.data as { oncalls?: { escalation_level?: number; user?: { email?: string } }[] }).oncalls ?? []).filter((o) => (o.escalation_level ?? 1) === 1);
      return [...new Set(oncalls.map((o) => o.user?.email).filter((e): e is string => typeof e === 'string' && e.includes('@')))];
    },
  };
}
