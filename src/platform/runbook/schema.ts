import { z } from 'zod';
import { PAGER_SEVERITIES, type PagerSeverity } from '../pager/pager-port.js';

/*
 * The runbook file format. Everything PRODUCT.md's "runbook file" section names
 * is declared here, including parts that later features act on (services,
 * alarms, PagerDuty, incidents, go/no-go, milestones), so the format is settled
 * once. Field-by-field documentation lives in docs/runbook.md.
 */

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (e.g. "v2f-agreement"), at most 63 characters');

const roleRef = slug;
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** A time relative to T-0 such as `T-72h`, `T+30m`, `T-0`, `T+1d2h`. */
export const RELATIVE_TIME = /^T([+-])((?:\d+[dhm])+|0)$/;

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** An ISO-8601 date-time with an offset (`Z` or `±hh:mm`) that parses. */
export const isIsoWithOffset = (s: string) => ISO_WITH_OFFSET.test(s) && !Number.isNaN(Date.parse(s));

const isoDateTime = z.string().refine(isIsoWithOffset, {
  message: 'must be an ISO-8601 time with an offset, e.g. "2026-07-01T08:00:00+05:30"',
});

const timeRef = z.string().refine((s) => RELATIVE_TIME.test(s) || isIsoWithOffset(s), {
  message: 'must be relative to T-0 ("T-72h", "T+30m", "T+1d2h") or an ISO-8601 time with an offset',
});

/** Five cron fields (minute hour day month weekday), or six with seconds first, as node-cron takes them. */
const cronExpression = z.string().regex(/^\s*(\S+\s+){4,5}\S+\s*$/, 'must be a cron expression with 5 fields (e.g. "* * * * *"), or 6 with seconds first');

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "Asia/Kolkata" or "UTC"' },
);

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID such as "U012AB3CD"');
const groupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user-group ID such as "S0614TZR7"');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel ID such as "C0123ABCD" (not a #name: names change, IDs do not)');

const role = z
  .object({
    name: text(80),
    users: z.array(userId).default([]),
    groups: z.array(groupId).default([]),
    anyone: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.anyone || r.users.length + r.groups.length > 0, {
    message: 'a role needs at least one of users, groups, or "anyone: true"',
  });

const httpCheck = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    expect_status: z.number().int().min(100).max(599).default(200),
    expect_text: z.string().optional(),
    timeout_seconds: z.number().positive().max(60).default(10),
  })
  .strict();

const verify = z.discriminatedUnion('type', [
  z.object({ type: z.literal('alarms_ok'), prefix: text(255) }).strict(),
  httpCheck.extend({ type: z.literal('http') }).strict(),
]);

const item = z
  .object({
    id: slug,
    title: text(200),
    level: z.enum(['blocker', 'warning', 'info']),
    owner: roleRef,
    description: z.string().max(3000).optional(),
    verify: verify.optional(),
  })
  .strict();

const gate = z
  .object({
    id: slug,
    title: text(150),
    description: z.string().max(3000).optional(),
    signoff: z.array(roleRef).default([]),
    items: z.array(item).min(1, 'a gate needs at least one item'),
  })
  .strict();

const step = z
  .object({
    id: slug,
    title: text(200),
    description: z.string().max(3000).optional(),
    gates: z.array(slug).default([]),
    items: z.array(slug).default([]),
    rollback: z.string().max(3000).optional(),
  })
  .strict();

const service = z
  .object({
    name: slug,
    cluster: text(255),
    service: text(255),
    region: text(30),
    family: text(255),
    container: text(255),
    deployers: z.array(roleRef).min(1, 'name at least one role that may deploy'),
    rollback_approvers: z.array(roleRef).min(1, 'name at least one role that approves rollbacks'),
    approvals_required: z.number().int().min(1).max(5).default(1),
    deploy_requires: z.array(slug).default([]),
    allow_override: z.boolean().default(false),
    rollout_timeout_minutes: z.number().int().min(1).max(180).default(15),
    approval_expires_minutes: z.number().int().min(1).max(24 * 60).default(30),
    smoke_check: httpCheck.optional(),
  })
  .strict();

/** Incident severities, most severe first: the one list every feature uses. */
export const SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The PagerDuty severity an incident of this severity pages with: P1 critical … P4 info, by rank in both lists. */
export function pagerSeverityOf(severity: Severity): PagerSeverity {
  return PAGER_SEVERITIES[SEVERITIES.indexOf(severity)]!;
}

/** How many transitions within how many minutes make an alarm flap, when the runbook does not say. */
export const FLAPPING_DEFAULTS = { transitions: 4, minutes: 30 } as const;

const severityName = z.enum(SEVERITIES);

const alarmRule = z
  .object({
    match: text(255),
    severity: z.enum(PAGER_SEVERITIES),
    page: z.boolean().default(false),
    incident: severityName.optional(),
    description: z.string().max(1000).optional(),
  })
  .strict();

const alarms = z
  .object({
    region: text(30).optional(),
    prefixes: z.array(text(255)).min(1, 'name at least one alarm name prefix'),
    schedule: cronExpression.default('* * * * *'),
    rules: z.array(alarmRule).default([]),
    flapping: z
      .object({ transitions: z.number().int().min(2).default(FLAPPING_DEFAULTS.transitions), minutes: z.number().int().min(1).default(FLAPPING_DEFAULTS.minutes) })
      .strict()
      .default({ ...FLAPPING_DEFAULTS }),
    sns_topics: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN')).default([]),
  })
  .strict();

const pagerduty = z
  .object({
    source: text(255).default('golive'),
    escalation_policy: z.string().optional(),
    component: z.string().optional(),
    group: z.string().optional(),
  })
  .strict();

const incidentSeverity = z
  .object({
    name: text(40),
    description: z.string().max(2000).optional(),
    response_minutes: z.number().int().min(0),
    update_every_minutes: z.number().int().min(5).optional(),
    page: z.boolean().default(false),
    owner: roleRef.optional(),
    invite: z.array(roleRef).default([]),
    escalate_to: z.array(roleRef).default([]),
    rollback_prompt_minutes: z.number().int().min(1).optional(),
  })
  .strict();

const incidents = z
  .object({
    channel_pattern: z
      .string()
      .default('inc-{{date}}-{{slug}}')
      .refine((p) => [...p.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].every((m) => ['date', 'slug', 'severity', 'id'].includes(m[1]!)) && p.includes('{{slug}}'), {
        message: 'may use {{date}} (YYYYMMDD), {{slug}} (required: from the summary), {{severity}} and {{id}}',
      })
      .refine((p) => /^[a-z0-9{}_-]+$/.test(p), { message: 'Slack channel names are lowercase letters, digits, - and _ (plus the {{placeholders}})' }),
    postmortem_hours: z.number().int().min(1).default(48),
    severities: z
      .object({ P1: incidentSeverity.optional(), P2: incidentSeverity.optional(), P3: incidentSeverity.optional(), P4: incidentSeverity.optional() })
      .strict(),
    templates: z
      .object({ initial: z.string().optional(), update: z.string().optional(), resolved: z.string().optional() })
      .strict()
      .default({}),
  })
  .strict();

const criterion = z.discriminatedUnion('type', [
  z.object({ type: z.literal('blockers_done'), label: z.string().optional() }).strict(),
  z.object({ type: z.literal('gates_signed'), gates: z.array(slug).min(1), label: z.string().optional() }).strict(),
  z.object({ type: z.literal('no_firing_alarms'), prefixes: z.array(text(255)).optional(), label: z.string().optional() }).strict(),
  z
    .object({
      type: z.literal('metric'),
      label: text(200),
      region: text(30).optional(),
      // Either one metric, or a CloudWatch metric-math expression over named metrics (e.g. a 5xx/requests ratio).
      namespace: z.string().optional(),
      metric: z.string().optional(),
      dimensions: z.record(z.string(), z.string()).default({}),
      stat: z.string().default('Average'),
      expression: z.string().optional(),
      metrics: z
        .record(
          z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'metric ids must start with a lowercase letter'),
          z.object({ namespace: text(255), metric: text(255), dimensions: z.record(z.string(), z.string()).default({}), stat: z.string().default('Sum') }).strict(),
        )
        .optional(),
      period_seconds: z.number().int().min(1).default(300),
      window: z.string().regex(/^(\d+[dhm])+$/, 'must be a duration like "48h" or "30m"'),
      op: z.enum(['<', '<=', '>', '>=']),
      threshold: z.number(),
      unit: z.string().optional(),
    })
    .strict()
    .refine((c) => (c.expression ? !!c.metrics && !c.namespace && !c.metric : !!(c.namespace && c.metric) && !c.metrics), {
      message: 'a metric criterion needs either namespace + metric, or expression + metrics (not both)',
    }),
  z.object({ type: z.literal('no_incidents'), severity: severityName, since: timeRef, label: z.string().optional() }).strict(),
]);

const gonogo = z
  .object({
    voters: z.array(roleRef).min(1, 'name at least one role that votes'),
    votes_required: z.number().int().min(1).default(1),
    criteria: z.array(criterion).min(1, 'name at least one criterion'),
  })
  .strict();

const milestone = z
  .object({
    at: timeRef,
    title: text(200),
    text: z.string().max(2900).optional(),
    items: z.array(slug).default([]),
    steps: z.array(slug).default([]),
  })
  .strict();

/** The whole runbook file. */
export const runbookSchema = z
  .object({
    version: z.literal(1, { error: 'must be 1 (the only runbook format so far)' }),
    launch: z
      .object({
        name: text(120),
        channel: channelId,
        timezone: timezone.default('UTC'),
        t0: isoDateTime.optional(),
        description: z.string().max(3000).optional(),
      })
      .strict(),
    roles: z.record(roleRef, role).refine((r) => Object.keys(r).length > 0, { message: 'define at least one role' }),
    gates: z.array(gate).min(1, 'define at least one gate'),
    steps: z.array(step).default([]),
    services: z.array(service).default([]),
    alarms: alarms.optional(),
    pagerduty: pagerduty.optional(),
    incidents: incidents.optional(),
    gonogo: gonogo.optional(),
    milestones: z.array(milestone).default([]),
  })
  .strict();

/** A parsed, validated runbook (defaults applied). */
export type Runbook = z.infer<typeof runbookSchema>;
export type Role = Runbook['roles'][string];
export type Gate = Runbook['gates'][number];
export type Item = Gate['items'][number];
export type ItemLevel = Item['level'];
export type Service = Runbook['services'][number];
export type Milestone = Runbook['milestones'][number];
