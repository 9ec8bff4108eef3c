import { describeFiringSource } from '../alarms/index.js';
import type { Verify } from '../platform/runbook/schema.js';
import { fail, pass, plural, type CheckContext, type CheckResult } from './evidence.js';

type AlarmsCheck = Extract<Verify, { type: 'alarms_ok' }>;

/** No CloudWatch alarm whose name starts with the prefix is in ALARM (the alarm watcher's answer, which says where it came from). */
export async function checkAlarms(v: AlarmsCheck, { session, now }: CheckContext): Promise<CheckResult> {
  const answer = await session.firing(v.prefix);
  const firing = answer.firing.map((a) => a.name);
  const all = plural(answer.alarms.length, `${v.prefix} alarm`);
  const source = describeFiringSource(answer, now);
  if (firing.length > 0) return fail(`${firing.length} of ${all} in ALARM: ${firing.slice(0, 5).join(', ')}${firing.length > 5 ? ', …' : ''} (${source})`);
  return pass(`none of ${all} is in ALARM (${source})`);
}
