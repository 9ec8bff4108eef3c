import type { Verify } from '../platform/runbook/schema.js';
import { fail, pass, type CheckFn } from './evidence.js';

type ZoneCheck = Extract<Verify, { type: 'route53_zone' }>;

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** A hosted zone of that name exists (public unless `private`), and the record, when named, exists and points where it should. */
export const checkDns: CheckFn<ZoneCheck> = async (v, { session }) => {
  const kind = v.private ? 'private' : 'public';
  const zones = await session.zones(v.zone);
  const zone = zones.find((z) => z.private === v.private);
  if (!zone) {
    const other = zones.length > 0 ? ` (there is a ${v.private ? 'public' : 'private'} one)` : '';
    return fail(`no ${kind} Route 53 hosted zone for ${bare(v.zone)}${other}`);
  }
  const zoneText = `${kind} hosted zone ${bare(v.zone)} exists (${zone.id}${zone.recordCount !== undefined ? `, ${zone.recordCount} records` : ''})`;
  if (!v.record) return pass(zoneText);
  const r = v.record;
  const set = await session.recordSet(zone.id, r.name, r.type);
  if (!set) return fail(`${zoneText}, but it has no ${r.type} record for ${bare(r.name)}`);
  const points = set.alias ? [bare(set.alias)] : set.values.map((x) => bare(x.replace(/^"|"$/g, '')));
  const shown = set.alias ? `alias ${bare(set.alias)}` : set.values.join(', ');
  if (r.value !== undefined && !points.includes(bare(r.value))) return fail(`${r.type} record ${bare(r.name)} points to ${shown}, not ${r.value}`);
  return pass(`${r.type} record ${bare(r.name)} points to ${shown} (${kind} zone ${bare(v.zone)}, ${zone.id})`);
};
