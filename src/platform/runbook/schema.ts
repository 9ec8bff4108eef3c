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
/** Whether year, month and day name a day on the calendar (JavaScript would read 31 February as 3 March). */
export function isCalendarDate(y: number, mo: number, d: number): boolean {
  const at = new Date(Date.UTC(y, mo - 1, d));
  return at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d;
}

/** An ISO-8601 date-time with an offset (`Z` or `±hh:mm`) that parses, on a day the calendar has. */
export const isIsoWithOffset = (s: string) => ISO_WITH_OFFSET.test(s) && !Number.isNaN(Date.parse(s)) && isCalendarDate(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)));

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

const region = text(30);
/** A DNS name (`govisax.com`, `*.govisax.com`); compared without case and without a trailing dot. */
const dnsName = z
  .string()
  .trim()
  .max(253)
  .regex(/^(\*\.)?([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.?$/, 'must be a DNS name such as "govisax.com" or "*.govisax.com"');
/** How long an HTTP evidence check may take, like the `http` check's. */
const httpEvidence = {
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  timeout_seconds: z.number().positive().max(60).default(10),
};
const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Evidence checks: each reads one fact (AWS, HTTP, TLS) and passes or fails on it. Documented in docs/runbook.md. */
const verify = z.discriminatedUnion('type', [
  z.object({ type: z.literal('alarms_ok'), prefix: text(255) }).strict(),
  httpCheck.extend({ type: z.literal('http') }).strict(),
  z.object({ type: z.literal('secret'), region, names: z.array(text(512)).min(1, 'name at least one secret').max(100) }).strict(),
  z.object({ type: z.literal('acm_certificate'), domain: dnsName, regions: z.array(region).min(1, 'name at least one region'), min_days_valid: z.number().int().min(0).max(3650).default(30) }).strict(),
  z
    .object({
      type: z.literal('route53_zone'),
      zone: dnsName,
      private: z.boolean().default(false),
      record: z
        .object({ name: dnsName, type: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'CAA']).default('A'), value: z.string().trim().min(1).max(1000).optional() })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('rds_instance'),
      instance: text(63),
      region,
      snapshot: z.object({ type: z.enum(['automated', 'manual', 'any']).default('automated'), max_age_hours: z.number().positive().max(24 * 366) }).strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal('ecr_image'), repository: text(256), tag: text(128), region }).strict(),
  z.object({ type: z.literal('ses_production'), region }).strict(),
  z
    .object({ type: z.literal('ecs_service'), service: text(255), cluster: text(255).optional(), region: region.optional() })
    .strict()
    .refine((v) => !v.cluster === !v.region, { message: 'give cluster and region together (an ECS service outside the runbook), or neither (service names a runbook service)' }),
  z
    .object({
      type: z.literal('http_json'),
      ...httpEvidence,
      expect_status: z.number().int().min(100).max(599).default(200),
      expect_json: z.record(z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a dotted path such as "data.status"'), jsonScalar).refine((m) => Object.keys(m).length > 0, { message: 'name at least one field' }),
    })
    .strict(),
  z
    .object({
      type: z.literal('http_header'),
      ...httpEvidence,
      // Redirects are not followed, so a `Location` header can be checked; no default status, since a redirect is often the point.
      expect_status: z.number().int().min(100).max(599).optional(),
      header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name such as "Strict-Transport-Security"'),
      equals: z.string().max(1000).optional(),
      contains: z.string().min(1).max(1000).optional(),
    })
    .strict()
    .refine((v) => (v.equals === undefined) !== (v.contains === undefined), { message: 'give exactly one of equals or contains' }),
  z
    .object({
      type: z.literal('tls'),
      host: dnsName,
      port: z.number().int().min(1).max(65535).default(443),
      names: z.array(dnsName).default([]),
      min_days_valid: z.number().int().min(0).max(3650).default(14),
      timeout_seconds: z.number().positive().max(60).default(10),
    })
    .strict(),
]);
/** One evidence check of an item. */
export type Verify = z.infer<typeof verify>;
export type VerifyType = Verify['type'];

const item = z
  .object({
    id: slug,
    title: text(200),
    level: z.enum(['blocker', 'warning', 'info']),
    owner: roleRef,
    description: z.string().max(3000).optional(),
    verify: verify.optional(),
    /** Signed off "by golive" when its check passes (needs `verify`). */
    auto_signoff: z.boolean().optional(),
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

/** One CloudWatch metric a canary's analysis compares between the canary and the stable version. */
const canaryMetric = z
  .object({
    label: text(100),
    namespace: text(255),
    metric: text(255),
    // A denominator metric (same namespace and dimensions): the value becomes 100 × metric / per, in percent.
    per: text(255).optional(),
    stat: z.string().default('Sum'),
    dimensions: z.record(z.string(), z.string()).default({}),
    // The dimensions that pick each version's datapoints, added to `dimensions` (e.g. ServiceName, or a Variant the app reports).
    canary: z.record(z.string(), z.string()).refine((d) => Object.keys(d).length > 0, { message: 'name at least one dimension that picks the canary' }),
    stable: z.record(z.string(), z.string()).refine((d) => Object.keys(d).length > 0, { message: 'name at least one dimension that picks the stable version' }),
    max: z.number().optional(),
    min: z.number().optional(),
    max_above_stable: z.number().min(0).optional(),
    max_times_stable: z.number().positive().optional(),
    unit: z.string().max(20).optional(),
  })
  .strict()
  .refine((m) => m.max !== undefined || m.min !== undefined || m.max_above_stable !== undefined || m.max_times_stable !== undefined, {
    message: 'a canary metric needs at least one of max, min, max_above_stable, max_times_stable',
  })
  .refine((m) => !m.per || m.stat === 'Sum' || m.stat === 'SampleCount', { message: 'a ratio (`per`) adds up counts: use stat Sum or SampleCount' });

/** How a service's new version is tried on a small share of traffic before it replaces the stable one. */
const canary = z
  .object({
    // The canary ECS service beside the main one: same cluster, task definition family and target group.
    service: text(255),
    desired_count: z.number().int().min(1).max(10).default(1),
    always: z.boolean().default(false),
    bake_minutes: z.number().int().min(1).max(1440),
    interval_seconds: z
      .number()
      .int()
      .refine((n) => n === 10 || n === 30 || (n >= 60 && n <= 3600 && n % 60 === 0), { message: 'must be 10, 30, or a multiple of 60 up to 3600 (the periods CloudWatch accepts)' })
      .default(60),
    failure_limit: z.number().int().min(0).max(100).default(0),
    auto_promote: z.boolean().default(false),
    allow_override: z.boolean().default(false),
    decide_within_minutes: z.number().int().min(1).max(1440).default(30),
    promoters: z.array(roleRef).default([]),
    alarms: z.array(text(255)).default([]),
    health_check: httpCheck.optional(),
    region: text(30).optional(),
    metrics: z.array(canaryMetric).default([]),
  })
  .strict()
  .refine((c) => c.bake_minutes * 60 >= c.interval_seconds, { message: 'bake_minutes must last at least one interval_seconds' });

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
    canary: canary.optional(),
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

/** How an alarm storm pages: one page per alarm (as outside a storm), or one per alarm rule for the storm. */
export const STORM_PAGING = ['per_alarm', 'by_rule'] as const;
export type StormPaging = (typeof STORM_PAGING)[number];

/**
 * When alarms going to ALARM together become one storm post, when the runbook does not say: more than
 * `threshold` in one poll (or, pushed, within one poll interval); over after `quiet_minutes` with no new one.
 */
export const STORM_DEFAULTS = { threshold: 10, quiet_minutes: 10, paging: 'per_alarm' } as const satisfies { threshold: number; quiet_minutes: number; paging: StormPaging };

const severityName = z.enum(SEVERITIES);

/**
 * One level of an escalation matrix (seed 004): `after_minutes` since the
 * incident was declared (or the alarm fired), it notifies, unless its
 * condition is met by then. Each level fires once.
 */
const escalationLevel = z
  .object({
    after_minutes: z.number().int().min(0).max(7 * 24 * 60),
    /** not_acknowledged: skipped once someone acknowledged; not_resolved: skipped once resolved (an alarm: back to OK). */
    if: z.enum(['not_acknowledged', 'not_resolved']).default('not_acknowledged'),
    /** Shown in the notifications and the record, e.g. "Level 2 — Slack". */
    name: text(80).optional(),
    email: z.array(z.email({ error: 'must be an email address' })).default([]),
    /** Post in the ops channel or (incidents only) the incident channel, mentioning `mention` roles and, with at_channel, @channel. */
    channel: z.enum(['ops', 'incident']).optional(),
    at_channel: z.boolean().default(false),
    mention: z.array(roleRef).default([]),
    page: z.boolean().default(false),
    /** Roles whose members get a direct message from golive. */
    dm: z.array(roleRef).default([]),
  })
  .strict()
  .refine((l) => l.email.length > 0 || l.channel !== undefined || l.page || l.dm.length > 0 || l.mention.length > 0 || l.at_channel, { message: 'a level needs at least one of email, channel, page or dm' })
  .refine((l) => l.channel !== undefined || (l.mention.length === 0 && !l.at_channel), { message: 'mention and at_channel need a channel to post in (channel: ops or incident)' });

const escalationMatrix = z
  .array(escalationLevel)
  .max(10)
  .refine((levels) => levels.every((l, i) => i === 0 || l.after_minutes >= levels[i - 1]!.after_minutes), { message: 'list the levels in order of after_minutes' });
/** An escalation level as parsed (defaults applied). */
export type EscalationLevel = z.infer<typeof escalationLevel>;

const alarmRule = z
  .object({
    match: text(255),
    severity: z.enum(PAGER_SEVERITIES),
    page: z.boolean().default(false),
    incident: severityName.optional(),
    description: z.string().max(1000).optional(),
    /** What the alarm is about, for an incident it opens ("Affected services"). */
    services: z.array(text(80)).default([]),
    escalation: escalationMatrix.default([]),
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
    storm: z
      .object({
        threshold: z
          .number({ error: 'must be a whole number of alarms (e.g. 10)' })
          .int('must be a whole number of alarms (e.g. 10)')
          .min(1, 'must be at least 1: a storm is more than this many alarms going to ALARM in one poll')
          .default(STORM_DEFAULTS.threshold),
        quiet_minutes: z
          .number({ error: 'must be a whole number of minutes (e.g. 10)' })
          .int('must be a whole number of minutes (e.g. 10)')
          .min(1, 'must be at least 1 minute')
          .max(24 * 60, 'must be at most 1440 minutes (a day)')
          .default(STORM_DEFAULTS.quiet_minutes),
        paging: z
          .enum(STORM_PAGING, { error: 'must be per_alarm (one PagerDuty page per alarm) or by_rule (one page per alarm rule for the whole storm)' })
          .default(STORM_DEFAULTS.paging),
      })
      .strict()
      .default({ ...STORM_DEFAULTS }),
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
    /** Levels by minutes since declaration; when given, they replace the single `escalate_to` step. */
    escalation: escalationMatrix.default([]),
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
  z.object({ type: z.literal('blockers_done'), label: z.string().optional(), hard: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('gates_signed'), gates: z.array(slug).min(1), label: z.string().optional(), hard: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('no_firing_alarms'), prefixes: z.array(text(255)).optional(), label: z.string().optional(), hard: z.boolean().optional() }).strict(),
  z
    .object({
      type: z.literal('metric'),
      label: text(200),
      hard: z.boolean().optional(),
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
  z.object({ type: z.literal('no_incidents'), severity: severityName, since: timeRef, label: z.string().optional(), hard: z.boolean().optional() }).strict(),
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

const duration = z.string().regex(/^(\d+[dhm])+$/, 'must be a duration like "4h", "30m" or "1d12h"');

/** A window, relative to T-0 or absolute, when deploys (not rollbacks) are refused. */
const freeze = z
  .object({
    id: slug,
    title: text(200),
    from: timeRef,
    until: timeRef,
    // Empty: every service.
    services: z.array(slug).default([]),
    description: z.string().max(1000).optional(),
  })
  .strict();

/** Deploy locks (`/golive lock`): how long one lasts when no duration is given, the longest allowed, and who else may set them. */
const locks = z
  .object({
    default_duration: duration.default('4h'),
    max_duration: duration.default('7d'),
    roles: z.array(roleRef).default([]),
  })
  .strict();

/** When golive says in the ops channel that it cannot do its job (see src/platform/health/watch-health.ts). */
export const HEALTH_DEFAULTS = { failed_alarm_polls: 3, failed_page_deliveries: 3, outbox_backlog_minutes: 5 } as const;
const health = z
  .object({
    failed_alarm_polls: z.number().int().min(1).max(1000).default(HEALTH_DEFAULTS.failed_alarm_polls),
    failed_page_deliveries: z.number().int().min(1).max(1000).default(HEALTH_DEFAULTS.failed_page_deliveries),
    outbox_backlog_minutes: z.number().int().min(1).max(2880).default(HEALTH_DEFAULTS.outbox_backlog_minutes),
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
    freezes: z.array(freeze).default([]),
    locks: locks.default({ default_duration: '4h', max_duration: '7d', roles: [] }),
    /** When the items' evidence checks run by themselves (they also run on sign-off and `/golive verify`). */
    verification: z
      .object({ schedule: z.union([z.literal('off'), cronExpression]).default('*/5 * * * *') })
      .strict()
      .default({ schedule: '*/5 * * * *' }),
    /** How golive sends email (escalation levels with `email`): Amazon SES v2 in `region`, from a verified `from` identity. */
    email: z.object({ from: z.email({ error: 'must be an email address' }), region, subject_prefix: z.string().max(80).optional() }).strict().optional(),
    health: health.default({ ...HEALTH_DEFAULTS }),
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
export type CanaryConfig = NonNullable<Service['canary']>;
export type CanaryMetric = CanaryConfig['metrics'][number];
export type Freeze = Runbook['freezes'][number];
export type AlarmRuleDef = NonNullable<Runbook['alarms']>['rules'][number];
export type IncidentSeverityDef = NonNullable<NonNullable<Runbook['incidents']>['severities']['P1']>;
