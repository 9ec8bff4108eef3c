/** A CloudWatch alarm state. */
export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What an alarm watches, as far as the pushed payload tells. */
export interface AlarmMetric {
  namespace?: string;
  /** The metric name; for a metric-math alarm the expression's label (or the expression itself). */
  name?: string;
  threshold?: number;
  /** CloudWatch's ComparisonOperator, e.g. `GreaterThanThreshold`. */
  comparison?: string;
  /** CloudWatch's API spelling (`Average`, `Maximum`, …) or an extended statistic such as `p95`. */
  statistic?: string;
  /** Seconds. */
  period?: number;
  dimensions?: Record<string, string>;
}

/** One alarm state transition, whichever way it reached golive. */
export interface AlarmTransition {
  alarmName: string;
  alarmArn?: string;
  region?: string;
  accountId?: string;
  from?: AlarmStateValue;
  to: AlarmStateValue;
  reason: string;
  /** ISO time (UTC) of the new state. */
  at: string;
  kind: 'metric' | 'composite';
  metric?: AlarmMetric;
  source: 'eventbridge' | 'sns' | 'poll';
}

/** The outcome of parsing a pushed alarm payload. */
export type ParseAlarmResult = { ok: true; transition: AlarmTransition } | { ok: false; reason: string };

const STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
const STATE_CHANGE = 'CloudWatch Alarm State Change';
const CONFIGURATION_CHANGE = 'CloudWatch Alarm Configuration Change';
const REGION_CODE = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ID = /^\d{12}$/;

/**
 * Reads an EventBridge "CloudWatch Alarm State Change" event (as an API
 * destination delivers it: the whole event, as an object or its JSON text).
 * Metric, metric-math, anomaly-detection and composite alarms are understood;
 * "CloudWatch Alarm Configuration Change" events are refused with
 * "not a state change".
 */
export function parseEventBridgeAlarmEvent(body: unknown): ParseAlarmResult {
  const event = typeof body === 'string' ? parseJson(body) : body;
  if (!isRecord(event)) return fail('not an EventBridge event');
  const detailType = event['detail-type'];
  if (event.source !== 'aws.cloudwatch' || typeof detailType !== 'string' || !detailType.startsWith('CloudWatch Alarm')) {
    return fail('not a CloudWatch alarm event');
  }
  if (detailType === CONFIGURATION_CHANGE) return fail('not a state change');
  if (detailType !== STATE_CHANGE) return fail(`unsupported detail-type "${clip(detailType)}"`);

  const detail = event.detail;
  if (!isRecord(detail)) return fail('event has no detail');
  const alarmName = nonEmptyString(detail.alarmName);
  if (alarmName === undefined) return fail('event has no detail.alarmName');
  const state = isRecord(detail.state) ? detail.state : {};
  const to = stateValue(state.value);
  if (to === undefined) return fail(`unknown alarm state ${describe(state.value)}`);
  const at = isoTime(state.timestamp ?? event.time);
  if (at === undefined) return fail('detail.state.timestamp is not a valid time');
  const previous = isRecord(detail.previousState) ? detail.previousState : {};
  const configuration = isRecord(detail.configuration) ? detail.configuration : {};
  const reasonData = isRecord(state.reasonData) ? state.reasonData : parseJsonRecord(state.reasonData);

  const composite = typeof configuration.alarmRule === 'string' || Array.isArray(reasonData.triggeringAlarms);
  const resources = Array.isArray(event.resources) ? event.resources : [];
  return {
    ok: true,
    transition: compact({
      alarmName,
      alarmArn: resources.find((r): r is string => typeof r === 'string' && r.includes(':alarm:')),
      region: regionCode(event.region),
      accountId: accountId(event.account),
      from: stateValue(previous.value),
      to,
      reason: typeof state.reason === 'string' ? state.reason : '',
      at,
      kind: composite ? 'composite' : 'metric',
      metric: composite ? undefined : eventBridgeMetric(configuration, reasonData),
      source: 'eventbridge',
    }),
  };
}

/**
 * Reads the CloudWatch alarm notification inside an SNS Notification's
 * `Message`. Its `Region` is a long name ("US East (Ohio)"); it is mapped to
 * the region code when known, else the region comes from `AlarmArn`, else from
 * `topicArn` (an alarm can only notify a topic in its own region).
 * Anything else (e.g. "Hello world") is refused with "not a CloudWatch alarm message".
 */
export function parseSnsAlarmMessage(message: string, topicArn?: string): ParseAlarmResult {
  const alarm = parseJson(message);
  if (!isRecord(alarm) || nonEmptyString(alarm.AlarmName) === undefined || alarm.NewStateValue === undefined) {
    return fail('not a CloudWatch alarm message');
  }
  const to = stateValue(alarm.NewStateValue);
  if (to === undefined) return fail(`unknown alarm state ${describe(alarm.NewStateValue)}`);
  const at = isoTime(alarm.StateChangeTime);
  if (at === undefined) return fail('StateChangeTime is not a valid time');
  const arn = typeof alarm.AlarmArn === 'string' && alarm.AlarmArn.startsWith('arn:') ? alarm.AlarmArn : undefined;
  const composite = typeof alarm.AlarmRule === 'string';
  return {
    ok: true,
    transition: compact({
      alarmName: alarm.AlarmName as string,
      alarmArn: arn,
      region: regionFromName(alarm.Region) ?? regionCode(arnPart(arn, 3)) ?? regionCode(arnPart(topicArn, 3)),
      accountId: accountId(alarm.AWSAccountId) ?? accountId(arnPart(arn, 4)),
      from: stateValue(alarm.OldStateValue),
      to,
      reason: typeof alarm.NewStateReason === 'string' ? alarm.NewStateReason : '',
      at,
      kind: composite ? 'composite' : 'metric',
      metric: composite || !isRecord(alarm.Trigger) ? undefined : snsMetric(alarm.Trigger),
      source: 'sns',
    }),
  };
}

/**
 * Summarises an alarm's metric queries — EventBridge's camelCase `metrics`,
 * or the PascalCase `Metrics` of SNS messages and DescribeAlarms — into the
 * single {@link AlarmMetric} a post shows. A metric-math alarm is named after
 * its expression; namespace, statistic, period and dimensions are given only
 * when every input metric shares them. An anomaly band is not a metric of its own.
 */
export function summariseMetricQueries(queries: readonly unknown[]): AlarmMetric | undefined {
  const all = queries.map(readQuery).filter((q): q is MetricQuery => q !== undefined);
  const isBand = (q: MetricQuery) => q.expression !== undefined && /^\s*ANOMALY_DETECTION_BAND\s*\(/i.test(q.expression);
  const formulas = all.filter((q) => q.expression !== undefined && !isBand(q));
  const metrics = all.filter((q) => q.expression === undefined);
  if (formulas.length === 0) {
    const m = metrics.find((q) => q.returnData !== false) ?? metrics[0];
    return m && compact({ namespace: m.namespace, name: m.name, statistic: m.stat, period: m.period, dimensions: m.dimensions });
  }
  const f = formulas.find((q) => q.returnData !== false) ?? formulas[0];
  return compact({
    namespace: common(metrics.map((q) => q.namespace)),
    name: f?.label ?? f?.expression,
    statistic: common(metrics.map((q) => q.stat)),
    period: f?.period ?? common(metrics.map((q) => q.period)),
    dimensions: commonDimensions(metrics.map((q) => q.dimensions)),
  });
}

/**
 * The region code for a region's long name as CloudWatch writes it in alarm
 * notifications ("US East (Ohio)" → "us-east-2"; the older "EU (Ireland)" too),
 * or a region code passed through; undefined when unknown.
 */
export function regionFromName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trim();
  if (REGION_CODE.test(trimmed)) return trimmed;
  return REGION_NAMES[trimmed.replace(/^EU \(/, 'Europe (')];
}

// The "aws", "aws-cn" and "aws-us-gov" partitions' region descriptions (AWS SDK partitions data), plus older spellings.
const REGION_NAMES: Readonly<Record<string, string>> = {
  'Africa (Cape Town)': 'af-south-1',
  'Asia Pacific (Hong Kong)': 'ap-east-1',
  'Asia Pacific (Taipei)': 'ap-east-2',
  'Asia Pacific (Tokyo)': 'ap-northeast-1',
  'Asia Pacific (Seoul)': 'ap-northeast-2',
  'Asia Pacific (Osaka)': 'ap-northeast-3',
  'Asia Pacific (Osaka-Local)': 'ap-northeast-3',
  'Asia Pacific (Mumbai)': 'ap-south-1',
  'Asia Pacific (Hyderabad)': 'ap-south-2',
  'Asia Pacific (Singapore)': 'ap-southeast-1',
  'Asia Pacific (Sydney)': 'ap-southeast-2',
  'Asia Pacific (Jakarta)': 'ap-southeast-3',
  'Asia Pacific (Melbourne)': 'ap-southeast-4',
  'Asia Pacific (Malaysia)': 'ap-southeast-5',
  'Asia Pacific (New Zealand)': 'ap-southeast-6',
  'Asia Pacific (Thailand)': 'ap-southeast-7',
  'Canada (Central)': 'ca-central-1',
  'Canada West (Calgary)': 'ca-west-1',
  'Europe (Frankfurt)': 'eu-central-1',
  'Europe (Zurich)': 'eu-central-2',
  'Europe (Stockholm)': 'eu-north-1',
  'Europe (Milan)': 'eu-south-1',
  'Europe (Spain)': 'eu-south-2',
  'Europe (Ireland)': 'eu-west-1',
  'Europe (London)': 'eu-west-2',
  'Europe (Paris)': 'eu-west-3',
  'Israel (Tel Aviv)': 'il-central-1',
  'Middle East (UAE)': 'me-central-1',
  'Middle East (Bahrain)': 'me-south-1',
  'Middle East (Saudi Arabia)': 'me-west-1',
  'Mexico (Central)': 'mx-central-1',
  'South America (Sao Paulo)': 'sa-east-1',
  'South America (São Paulo)': 'sa-east-1',
  'South America (Chile)': 'sa-west-1',
  'US East (N. Virginia)': 'us-east-1',
  'US East (Ohio)': 'us-east-2',
  'US West (N. California)': 'us-west-1',
  'US West (Oregon)': 'us-west-2',
  'China (Beijing)': 'cn-north-1',
  'China (Ningxia)': 'cn-northwest-1',
  'AWS GovCloud (US-East)': 'us-gov-east-1',
  'AWS GovCloud (US-West)': 'us-gov-west-1',
  'AWS GovCloud (US)': 'us-gov-west-1',
};

// SNS alarm messages spell statistics in capitals; DescribeAlarms and EventBridge use the API's spelling.
const STATISTICS: Readonly<Record<string, string>> = {
  AVERAGE: 'Average',
  SUM: 'Sum',
  SAMPLE_COUNT: 'SampleCount',
  SAMPLECOUNT: 'SampleCount',
  MAXIMUM: 'Maximum',
  MINIMUM: 'Minimum',
};

interface MetricQuery {
  expression?: string;
  label?: string;
  returnData?: boolean;
  namespace?: string;
  name?: string;
  dimensions?: Record<string, string>;
  period?: number;
  stat?: string;
}

function eventBridgeMetric(configuration: Record<string, unknown>, reasonData: Record<string, unknown>): AlarmMetric | undefined {
  const fromQueries = Array.isArray(configuration.metrics) ? summariseMetricQueries(configuration.metrics) : undefined;
  const metric = compact({
    ...fromQueries,
    // EventBridge events carry no threshold or operator in their configuration; reasonData has the threshold.
    threshold: fromQueries?.threshold ?? finite(reasonData.threshold),
    statistic: fromQueries?.statistic ?? statistic(reasonData.statistic),
    period: fromQueries?.period ?? finite(reasonData.period),
  });
  return Object.keys(metric).length > 0 ? metric : undefined;
}

function snsMetric(trigger: Record<string, unknown>): AlarmMetric | undefined {
  const fromQueries = Array.isArray(trigger.Metrics) ? summariseMetricQueries(trigger.Metrics) : undefined;
  const extended = nonEmptyString(trigger.ExtendedStatistic);
  const metric = compact({
    namespace: nonEmptyString(trigger.Namespace) ?? fromQueries?.namespace,
    name: nonEmptyString(trigger.MetricName) ?? fromQueries?.name,
    threshold: finite(trigger.Threshold),
    comparison: nonEmptyString(trigger.ComparisonOperator),
    statistic: extended ?? statistic(trigger.Statistic) ?? fromQueries?.statistic,
    period: finite(trigger.Period) ?? fromQueries?.period,
    dimensions: dimensions(trigger.Dimensions) ?? fromQueries?.dimensions,
  });
  return Object.keys(metric).length > 0 ? metric : undefined;
}

function readQuery(raw: unknown): MetricQuery | undefined {
  if (!isRecord(raw)) return undefined;
  const stat = field(raw, 'metricStat');
  const metricStat = isRecord(stat) ? stat : {};
  const inner = field(metricStat, 'metric');
  const metric = isRecord(inner) ? inner : {};
  const returnData = field(raw, 'returnData');
  return compact({
    expression: nonEmptyString(field(raw, 'expression')),
    label: nonEmptyString(field(raw, 'label')),
    returnData: typeof returnData === 'boolean' ? returnData : undefined,
    namespace: nonEmptyString(field(metric, 'namespace')),
    name: nonEmptyString(metric.name ?? metric.MetricName),
    dimensions: dimensions(field(metric, 'dimensions')),
    period: finite(field(raw, 'period')) ?? finite(field(metricStat, 'period')),
    stat: statistic(field(metricStat, 'stat')),
  });
}

/** A field by its camelCase name or its PascalCase twin. */
function field(record: Record<string, unknown>, camel: string): unknown {
  return record[camel] ?? record[camel.charAt(0).toUpperCase() + camel.slice(1)];
}

/** Dimensions as EventBridge's `{ name: value }` or a `[{ name|Name, value|Value }]` list. */
function dimensions(raw: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const d of raw) {
      if (!isRecord(d)) continue;
      const name = field(d, 'name');
      const value = field(d, 'value');
      if (typeof name === 'string' && typeof value === 'string') out[name] = value;
    }
  } else if (isRecord(raw)) {
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') out[name] = value;
  } else {
    return undefined;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function statistic(raw: unknown): string | undefined {
  const s = nonEmptyString(raw);
  return s === undefined ? undefined : (STATISTICS[s.toUpperCase()] ?? s);
}

function common<T extends string | number>(values: readonly (T | undefined)[]): T | undefined {
  const first = values[0];
  return first !== undefined && values.every((v) => v === first) ? first : undefined;
}

function commonDimensions(values: readonly (Record<string, string> | undefined)[]): Record<string, string> | undefined {
  const first = values[0];
  if (first === undefined) return undefined;
  const key = (d: Record<string, string> | undefined) => (d === undefined ? '' : JSON.stringify(Object.entries(d).sort()));
  return values.every((v) => key(v) === key(first)) ? first : undefined;
}

/**
 * CloudWatch writes times as `2019-10-02T17:04:40.989+0000`, which is not
 * ISO 8601 as Date.parse is specified to read it; normalise to UTC ISO.
 */
function isoTime(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/.exec(raw.trim());
  if (!m) return undefined;
  const [, main, fraction, zone] = m;
  const offset = zone === 'Z' ? 'Z' : `${zone?.slice(0, 3)}:${zone?.slice(-2)}`;
  const ms = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  const date = new Date(`${main}${ms}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function arnPart(arn: string | undefined, index: number): string | undefined {
  return arn?.startsWith('arn:') ? arn.split(':')[index] : undefined;
}

function regionCode(raw: unknown): string | undefined {
  return typeof raw === 'string' && REGION_CODE.test(raw) ? raw : undefined;
}

function accountId(raw: unknown): string | undefined {
  return typeof raw === 'string' && ACCOUNT_ID.test(raw) ? raw : undefined;
}

function stateValue(raw: unknown): AlarmStateValue | undefined {
  return typeof raw === 'string' && STATES.includes(raw) ? (raw as AlarmStateValue) : undefined;
}

function finite(raw: unknown): number | undefined {
  return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
}

function nonEmptyString(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw !== '' ? raw : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseJsonRecord(raw: unknown): Record<string, unknown> {
  const parsed = typeof raw === 'string' ? parseJson(raw) : undefined;
  return isRecord(parsed) ? parsed : {};
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? `"${clip(raw)}"` : raw === undefined ? '(missing)' : typeof raw;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** Drops undefined properties so transitions compare and serialise cleanly. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
