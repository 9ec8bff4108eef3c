import type { Verify } from '../platform/runbook/schema.js';
import { formatTime, humanDuration } from '../platform/format-time.js';
import { fail, pass, type CheckFn } from './evidence.js';

type DatabaseCheck = Extract<Verify, { type: 'rds_instance' }>;

/** The RDS instance is `available`, and (when asked) its newest snapshot of the kind is younger than `max_age_hours`. */
export const checkDatabase: CheckFn<DatabaseCheck> = async (v, { session, now, timezone }) => {
  const db = await session.dbInstance(v.region, v.instance);
  const what = [db.engine && `${db.engine}${db.engineVersion ? ` ${db.engineVersion}` : ''}`, db.instanceClass].filter(Boolean).join(', ');
  const about = `RDS instance ${v.instance} is ${db.status}${what ? ` (${what})` : ''}`;
  if (db.status !== 'available') return fail(`${about}, not available`);
  if (!v.snapshot) return pass(about);
  const { type, max_age_hours } = v.snapshot;
  const kind = type === 'any' ? '' : `${type} `;
  const snap = await session.latestSnapshot(v.region, v.instance, type);
  if (!snap) return fail(`${about}, but it has no ${kind}snapshot`);
  const ageMs = now.getTime() - Date.parse(snap.createdAt);
  const age = `latest ${kind}snapshot ${snap.id} taken ${formatTime(snap.createdAt, timezone)}, ${humanDuration(Math.max(0, ageMs))} ago`;
  if (ageMs > max_age_hours * 3_600_000) return fail(`${about}, but the ${age} (needs under ${max_age_hours} h)`);
  return pass(`${about}; ${age}`);
};
