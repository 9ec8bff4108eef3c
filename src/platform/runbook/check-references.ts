import { closestNames } from '../suggest.js';

type Path = (string | number)[];
type Problem = { path: Path; reason: string };

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const ids = (v: unknown, field: string): string[] => list(v).flatMap((x) => (typeof obj(x)[field] === 'string' ? [obj(x)[field] as string] : []));

/** ` — did you mean "devops"?` when a defined name is close to what was written. */
function didYouMean(name: string, names: readonly string[]): string {
  const close = closestNames(name, names);
  return close.length > 0 ? ` — did you mean ${close.map((n) => `"${n}"`).join(' or ')}?` : '';
}

/**
 * Checks that every reference in the runbook names something it defines
 * (roles, gates, items, steps, services), with a "did you mean" for a near
 * miss. It reads the file as written, not the validated runbook, so these
 * problems are reported together with the schema's, not after they are fixed;
 * a section too broken to read its names from is not checked against.
 */
export function checkReferences(data: unknown): Problem[] {
  const rb = obj(data);
  const out: Problem[] = [];
  // Roles, gates and services are few enough to list; items and steps are not.
  const need = (what: string, defined: string[] | undefined, plural?: string) => (name: unknown, path: Path) => {
    if (defined === undefined || typeof name !== 'string' || defined.includes(name)) return;
    out.push({ path, reason: `unknown ${what} "${name}"${didYouMean(name, defined)}${plural ? ` (${plural}: ${defined.join(', ') || 'none'})` : ''}` });
  };
  const roles = typeof rb.roles === 'object' && rb.roles !== null && !Array.isArray(rb.roles) ? Object.keys(rb.roles) : undefined;
  const gates = Array.isArray(rb.gates) ? ids(rb.gates, 'id') : undefined;
  const items = Array.isArray(rb.gates) ? rb.gates.flatMap((g) => ids(obj(g).items, 'id')) : undefined;
  const steps = rb.steps === undefined || Array.isArray(rb.steps) ? ids(rb.steps, 'id') : undefined;
  const services = rb.services === undefined || Array.isArray(rb.services) ? ids(rb.services, 'name') : undefined;
  const needRole = need('role', roles, 'roles');
  const needGate = need('gate', gates, 'gates');
  const needItem = need('item', items);
  const needStep = need('step', steps);
  const needService = need('service', services, 'services');
  const each = (v: unknown, path: Path, check: (name: unknown, path: Path) => void) => list(v).forEach((x, i) => check(x, [...path, i]));
  const levels = (v: unknown, path: Path) =>
    list(v).forEach((l, li) => {
      each(obj(l).mention, [...path, li, 'mention'], needRole);
      each(obj(l).dm, [...path, li, 'dm'], needRole);
    });

  list(rb.gates).forEach((g, gi) => {
    each(obj(g).signoff, ['gates', gi, 'signoff'], needRole);
    list(obj(g).items).forEach((it, ii) => needRole(obj(it).owner, ['gates', gi, 'items', ii, 'owner']));
  });
  list(rb.steps).forEach((s, si) => {
    each(obj(s).gates, ['steps', si, 'gates'], needGate);
    each(obj(s).items, ['steps', si, 'items'], needItem);
  });
  list(rb.services).forEach((s, si) => {
    each(obj(s).deployers, ['services', si, 'deployers'], needRole);
    each(obj(s).rollback_approvers, ['services', si, 'rollback_approvers'], needRole);
    each(obj(s).deploy_requires, ['services', si, 'deploy_requires'], needGate);
    each(obj(obj(s).canary).promoters, ['services', si, 'canary', 'promoters'], needRole);
  });
  for (const [name, sev] of Object.entries(obj(obj(rb.incidents).severities))) {
    const path = ['incidents', 'severities', name];
    needRole(obj(sev).owner, [...path, 'owner']);
    each(obj(sev).invite, [...path, 'invite'], needRole);
    each(obj(sev).escalate_to, [...path, 'escalate_to'], needRole);
    levels(obj(sev).escalation, [...path, 'escalation']);
  }
  list(obj(rb.alarms).rules).forEach((r, i) => levels(obj(r).escalation, ['alarms', 'rules', i, 'escalation']));
  const gonogo = obj(rb.gonogo);
  each(gonogo.voters, ['gonogo', 'voters'], needRole);
  list(gonogo.criteria).forEach((c, ci) => {
    if (obj(c).type === 'gates_signed') each(obj(c).gates, ['gonogo', 'criteria', ci, 'gates'], needGate);
  });
  list(rb.milestones).forEach((m, mi) => {
    each(obj(m).items, ['milestones', mi, 'items'], needItem);
    each(obj(m).steps, ['milestones', mi, 'steps'], needStep);
  });
  list(rb.freezes).forEach((f, fi) => each(obj(f).services, ['freezes', fi, 'services'], needService));
  each(obj(rb.locks).roles, ['locks', 'roles'], needRole);
  return out;
}
