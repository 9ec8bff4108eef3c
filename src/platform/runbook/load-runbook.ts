import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { runbookSchema, type EscalationLevel, type Runbook } from './schema.js';
import { checkTemplate, type TemplateKind } from './templates.js';
import { parseDuration, relativeOffset } from '../launch-time.js';
import { closestNames } from '../suggest.js';
import { checkReferences } from './check-references.js';

/** One problem found in a runbook file, with where it is. */
export interface RunbookProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. `gates[0].items[2].owner`; empty for the whole file. */
  path: string;
  reason: string;
}

/** The result of reading a runbook: either the runbook or every problem found. */
export type RunbookResult = { ok: true; runbook: Runbook; problems: [] } | { ok: false; problems: RunbookProblem[] };

/** Raised at start-up when the runbook cannot be used; the message lists each `file:line: reason`. */
export class RunbookError extends Error {
  constructor(readonly problems: RunbookProblem[]) {
    super(`The runbook is not valid:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'RunbookError';
  }
}

/** `file:line: path: reason`, the way compilers print problems so editors can jump to them. */
export function formatProblem(p: RunbookProblem): string {
  return `${p.file}:${p.line}: ${p.path ? `${p.path}: ` : ''}${p.reason}`;
}

type Path = (string | number)[];

/** Zod's own description of a schema, walked to find which fields an object takes (for "did you mean"). */
interface SchemaNode {
  _zod: { def: { type: string; shape?: Record<string, SchemaNode>; element?: SchemaNode; innerType?: SchemaNode; in?: SchemaNode; valueType?: SchemaNode; options?: readonly SchemaNode[]; discriminator?: string; values?: readonly unknown[]; getter?: () => SchemaNode } };
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, p) => (typeof p === 'symbol' ? undefined : (v as Record<string | number, unknown> | undefined)?.[p as string]), data);
}

/** The fields the object at `path` may have, per the schema; `data` (the file as written) picks a discriminated union's option. */
function fieldsAt(node: SchemaNode, path: Path, data: unknown): string[] {
  const def = node._zod.def;
  if (def.innerType) return fieldsAt(def.innerType, path, data);
  if (def.type === 'pipe' && def.in) return fieldsAt(def.in, path, data);
  if (def.type === 'lazy' && def.getter) return fieldsAt(def.getter(), path, data);
  if (def.type === 'union' && def.options) {
    const tag = def.discriminator;
    const chosen = tag ? def.options.filter((o) => o._zod.def.shape?.[tag]?._zod.def.values?.includes(obj(data)[tag])) : [];
    return [...new Set((chosen.length > 0 ? chosen : def.options).flatMap((o) => fieldsAt(o, path, data)))];
  }
  if (def.type === 'object' && def.shape) {
    if (path.length === 0) return Object.keys(def.shape);
    const [head, ...rest] = path;
    const child = def.shape[String(head)];
    return child ? fieldsAt(child, rest, obj(data)[String(head)]) : [];
  }
  if (def.type === 'array' && def.element && typeof path[0] === 'number') return fieldsAt(def.element, path.slice(1), Array.isArray(data) ? data[path[0]] : undefined);
  if (def.type === 'record' && def.valueType && path.length > 0) return fieldsAt(def.valueType, path.slice(1), obj(data)[String(path[0])]);
  return [];
}

function pathToString(path: Path): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** Finds the line of the deepest YAML node that exists along `path`. */
function locate(doc: Document, counter: LineCounter, path: Path): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = counter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
    // A key whose value is null has no value node; point at the pair's key instead.
    if (n > 0) {
      const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
      const key = path[n - 1];
      if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items) && typeof key === 'string') {
        for (const pair of parent.items as { key?: { value?: unknown; range?: [number, number, number] } }[]) {
          if (pair.key?.value === key && pair.key.range) {
            const pos = counter.linePos(pair.key.range[0]);
            return { line: pos.line, column: pos.col };
          }
        }
      }
    }
  }
  return { line: 1, column: 1 };
}

function describeZodIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const fields = fieldsAt(runbookSchema, issue.path.filter((p): p is string | number => typeof p !== 'symbol'), data);
    const named = issue.keys.map((k) => {
      const close = closestNames(k, fields.filter((f) => !(f in obj(valueAt(data, issue.path)))));
      return `"${k}"${close.length > 0 ? ` (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : ''}`;
    });
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}`;
  }
  // zod leaves the input out of its issues: a value of the wrong type is told apart from a missing one by the file itself.
  if (issue.code === 'invalid_type' && issue.input === undefined && valueAt(data, issue.path) === undefined) return `is required (${issue.expected})`;
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) return `${issue.message}`;
  return issue.message;
}

/**
 * Checks what the schema cannot, once the shape is right: that ids are unique
 * across the runbook (`/golive check <item>` takes an item id without its
 * gate) and the rules that tie sections together. References to what the
 * runbook defines are checked by `checkReferences`, with the schema.
 */
function crossCheck(rb: Runbook): { path: Path; reason: string }[] {
  const out: { path: Path; reason: string }[] = [];
  const gateIds = new Set<string>();
  const itemIds = new Map<string, string>();
  rb.gates.forEach((g, gi) => {
    if (gateIds.has(g.id)) out.push({ path: ['gates', gi, 'id'], reason: `gate id "${g.id}" is used twice` });
    gateIds.add(g.id);
    g.items.forEach((it, ii) => {
      const seen = itemIds.get(it.id);
      if (seen) out.push({ path: ['gates', gi, 'items', ii, 'id'], reason: `item id "${it.id}" is already used in gate "${seen}"; item ids must be unique in the runbook` });
      else itemIds.set(it.id, g.id);
      if (it.auto_signoff && !it.verify) out.push({ path: ['gates', gi, 'items', ii, 'auto_signoff'], reason: 'auto_signoff needs a verify check to sign the item off on' });
    });
  });
  const stepIds = new Set<string>();
  rb.steps.forEach((s, si) => {
    if (stepIds.has(s.id)) out.push({ path: ['steps', si, 'id'], reason: `step id "${s.id}" is used twice` });
    stepIds.add(s.id);
  });
  const serviceNames = new Set<string>();
  rb.services.forEach((s, si) => {
    if (serviceNames.has(s.name)) out.push({ path: ['services', si, 'name'], reason: `service "${s.name}" is defined twice` });
    serviceNames.add(s.name);
  });
  rb.gates.forEach((g, gi) =>
    g.items.forEach((it, ii) => {
      const v = it.verify;
      if (v?.type === 'ecs_service' && !v.cluster && !serviceNames.has(v.service)) {
        out.push({ path: ['gates', gi, 'items', ii, 'verify', 'service'], reason: `unknown service "${v.service}" (services: ${[...serviceNames].join(', ') || 'none'}); or give cluster and region for a service outside the runbook` });
      }
    }),
  );
  const checkLevels = (levels: EscalationLevel[], path: Path, forAlarm: boolean) =>
    levels.forEach((l, li) => {
      if (forAlarm && l.channel === 'incident') out.push({ path: [...path, li, 'channel'], reason: 'an alarm has no incident channel: use channel: ops' });
      if (l.email.length > 0 && !rb.email) out.push({ path: [...path, li, 'email'], reason: 'sending email needs the top-level email section (from, region)' });
    });
  const severities = rb.incidents?.severities ?? {};
  for (const [name, sev] of Object.entries(severities)) if (sev) checkLevels(sev.escalation, ['incidents', 'severities', name, 'escalation'], false);
  rb.alarms?.rules.forEach((r, i) => checkLevels(r.escalation, ['alarms', 'rules', i, 'escalation'], true));
  for (const kind of ['initial', 'update', 'resolved'] as TemplateKind[]) {
    const text = rb.incidents?.templates[kind];
    if (text) for (const reason of checkTemplate(kind, text)) out.push({ path: ['incidents', 'templates', kind], reason });
  }
  rb.alarms?.rules.forEach((r, i) => {
    if (r.incident && !severities[r.incident]) out.push({ path: ['alarms', 'rules', i, 'incident'], reason: `severity ${r.incident} is not defined under incidents.severities` });
  });
  // A milestone is remembered as posted by its title, so titles must tell milestones apart.
  const titles = new Set<string>();
  rb.milestones.forEach((m, mi) => {
    const key = m.title.trim().toLowerCase();
    if (titles.has(key)) out.push({ path: ['milestones', mi, 'title'], reason: `another milestone is already titled "${m.title}"` });
    titles.add(key);
  });
  out.push(...crossCheckCanaries(rb));
  out.push(...crossCheckFreezes(rb));
  if ((parseDuration(rb.locks.default_duration) ?? 0) > (parseDuration(rb.locks.max_duration) ?? 0)) {
    out.push({ path: ['locks', 'default_duration'], reason: `is longer than locks.max_duration (${rb.locks.max_duration})` });
  }
  // Relative times without launch.t0 are not an error: T-0 may be set later with `/golive t0`; they wait until then.
  return out;
}

/** A canary needs its own ECS service, and alarm prefixes the alarm watcher covers (it reads the watcher's state). */
function crossCheckCanaries(rb: Runbook): { path: Path; reason: string }[] {
  const out: { path: Path; reason: string }[] = [];
  const watched = rb.alarms?.prefixes ?? [];
  rb.services.forEach((s, si) => {
    const c = s.canary;
    if (!c) return;
    if (c.service === s.service) out.push({ path: ['services', si, 'canary', 'service'], reason: `must be a second ECS service beside "${s.service}", not the same one` });
    c.alarms.forEach((prefix, i) => {
      if (!watched.some((w) => prefix.startsWith(w))) {
        out.push({ path: ['services', si, 'canary', 'alarms', i], reason: watched.length === 0 ? 'canary alarms need an `alarms:` section whose prefixes cover them (golive reads the alarm watcher\'s state)' : `"${prefix}" is not under any of alarms.prefixes (${watched.join(', ')}), so golive does not watch it` });
      }
    });
    if (c.metrics.length === 0 && c.alarms.length === 0 && !c.health_check) {
      out.push({ path: ['services', si, 'canary'], reason: 'a canary needs something to judge it by: metrics, alarms or a health_check' });
    }
    const labels = new Set<string>();
    c.metrics.forEach((m, mi) => {
      const key = m.label.toLowerCase();
      if (labels.has(key)) out.push({ path: ['services', si, 'canary', 'metrics', mi, 'label'], reason: `another canary metric is already labelled "${m.label}"` });
      labels.add(key);
    });
  });
  return out;
}

/** Freeze window ids are unique, and windows end after they start. */
function crossCheckFreezes(rb: Runbook): { path: Path; reason: string }[] {
  const out: { path: Path; reason: string }[] = [];
  const ids = new Set<string>();
  rb.freezes.forEach((f, fi) => {
    if (ids.has(f.id)) out.push({ path: ['freezes', fi, 'id'], reason: `freeze id "${f.id}" is used twice` });
    ids.add(f.id);
    const from = relativeOffset(f.from);
    const until = relativeOffset(f.until);
    if ((from === undefined) !== (until === undefined)) out.push({ path: ['freezes', fi, 'until'], reason: 'from and until must both be relative to T-0 or both absolute' });
    else {
      const start = from ?? Date.parse(f.from);
      const end = until ?? Date.parse(f.until);
      if (end <= start) out.push({ path: ['freezes', fi, 'until'], reason: `must be after from (${f.from})` });
    }
  });
  return out;
}

/** Parses and validates runbook text; never throws for bad input. */
export function parseRunbook(source: string, file: string): RunbookResult {
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const problems: RunbookProblem[] = [];
  for (const err of doc.errors) {
    const pos = counter.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, path: '', reason: `YAML: ${err.message.split('\n')[0]}` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return { ok: false, problems: [{ file, line: 1, column: 1, path: '', reason: 'the file is empty' }] };
  }
  const parsed = runbookSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      problems.push({ file, ...locate(doc, counter, path), path: pathToString(path), reason: describeZodIssue(issue, data) });
    }
  } else {
    for (const p of crossCheck(parsed.data)) problems.push({ file, ...locate(doc, counter, p.path), path: pathToString(p.path), reason: p.reason });
  }
  // References are read from the file as written, so a misspelt role shows up with the schema's problems, not after they are fixed.
  for (const p of checkReferences(data)) problems.push({ file, ...locate(doc, counter, p.path), path: pathToString(p.path), reason: p.reason });
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, problems };
  }
  return { ok: true, runbook: parsed.data, problems: [] };
}

/** Reads and validates a runbook file; a missing or unreadable file is one problem at line 1. */
export function loadRunbookFile(file: string): RunbookResult {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a runbook file' : `cannot read the file (${code ?? String(err)})`;
    return { ok: false, problems: [{ file, line: 1, column: 1, path: '', reason }] };
  }
  return parseRunbook(source, file);
}
