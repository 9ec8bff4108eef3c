import type { Verify } from '../platform/runbook/schema.js';
import { fail, pass, plural, type CheckContext, type CheckResult } from './evidence.js';

type AlarmsCheck = Extract<Verify, { type: 'alarms_ok' }>;

/** No CloudWatch alarm whose name starts with the prefix is in ALARM. */
export async function checkAlarms(v: AlarmsCheck, { session }: CheckContext, region: string): Promise<CheckResult> {
  const alarms = await session.alarms(region, v.prefix);
  const firing = alarms.filter((a) => a.state === 'ALARM').map((a) => a.name);
  if (firing.length > 0) return fail(`${firing.length} of ${plural(alarms.length, `${v.prefix} alarm`)} in ALARM (${region}): ${firing.slice(0, 5).join(', ')}${firing.length > 5 ? ', …' : ''}`);
  return pass(`none of ${plural(alarms.length, `${v.prefix} alarm`)} is in ALARM (${region})`);
}
