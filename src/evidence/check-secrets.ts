import type { Verify } from '../platform/runbook/schema.js';
import { formatTime } from '../platform/format-time.js';
import { fail, formatDate, pass, plural, type CheckFn } from './evidence.js';

type SecretCheck = Extract<Verify, { type: 'secret' }>;

/**
 * Each named secret exists in the region, is not scheduled for deletion, and
 * has a current value (an AWSCURRENT version). Read from the secrets'
 * metadata: the value itself is never fetched.
 */
export const checkSecrets: CheckFn<SecretCheck> = async (v, { session, timezone }) => {
  const found = await session.secrets(v.region, v.names);
  const problems: string[] = [];
  const good: string[] = [];
  for (const name of v.names) {
    const s = found.get(name);
    if (!s) problems.push(`secret ${name} does not exist in ${v.region}`);
    else if (s.deletedAt) problems.push(`secret ${name} is scheduled for deletion on ${formatDate(s.deletedAt, timezone)}`);
    else if (!s.hasCurrentValue) problems.push(`secret ${name} exists but has no current value`);
    else good.push(s.lastChangedAt ? `${name} (changed ${formatTime(s.lastChangedAt, timezone)})` : name);
  }
  if (problems.length > 0) {
    const ok = good.length > 0 ? `; ${plural(good.length, 'other is', 'others are')} fine` : '';
    return fail(`${problems.join('; ')}${ok}`);
  }
  if (v.names.length === 1) {
    const s = found.get(v.names[0]!)!;
    return pass(`secret ${s.name} exists in ${v.region}${s.lastChangedAt ? `, last changed ${formatTime(s.lastChangedAt, timezone)}` : ''}`);
  }
  return pass(`all ${v.names.length} secrets exist in ${v.region} with a current value: ${good.join(', ')}`);
};
