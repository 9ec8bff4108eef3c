import type { MetricBatchQuery, MetricRef, MetricSeries } from '../platform/aws/cloudwatch-port.js';
import type { CanaryConfig, CanaryMetric } from '../platform/runbook/schema.js';

/*
 * The canary's metric analysis, as pure functions: which MetricStat queries
 * one GetMetricData call needs for every metric of both versions, and how
 * the datapoints it returns are judged, interval by interval. Ratios are
 * worked out here from raw sums, not with metric math.
 */

/** The two versions a canary compares. */
export type Variant = 'canary' | 'stable';

/** How one check of one metric came out in one interval. */
export type CheckOutcome = 'pass' | 'fail' | 'unknown';

/** One comparison a metric declares, e.g. "≤ stable + 0.5". */
export interface CheckResult {
  check: 'max' | 'min' | 'max_above_stable' | 'max_times_stable';
  outcome: CheckOutcome;
  /** The bound the canary's value was held to, when it could be worked out. */
  limit?: number;
}

/** One analysis interval of one metric: both versions' values and the verdict. */
export interface IntervalScore {
  /** Start of the interval (the datapoint's timestamp). */
  at: string;
  canary?: number;
  stable?: number;
  checks: CheckResult[];
  verdict: CheckOutcome;
}

/** One metric over the bake so far. */
export interface MetricScore {
  label: string;
  unit?: string;
  intervals: IntervalScore[];
  /** How many intervals failed. */
  failures: number;
  /** The newest interval with a canary value, the one the scorecard shows. */
  latest?: IntervalScore;
  /** fail: some interval failed; pass: at least one interval passed and none failed; unknown: no interval could be judged. */
  verdict: CheckOutcome;
}

const VARIANT_CODE: Record<Variant, string> = { canary: 'c', stable: 's' };

/** `m0_c_n`: metric 0, canary, numerator (`d` for the denominator of a ratio). */
function queryId(index: number, variant: Variant, part: 'n' | 'd'): string {
  return `m${index}_${VARIANT_CODE[variant]}_${part}`;
}

function refFor(m: CanaryMetric, variant: Variant, metricName: string): MetricRef {
  return { namespace: m.namespace, metric: metricName, dimensions: { ...m.dimensions, ...(variant === 'canary' ? m.canary : m.stable) }, stat: m.stat };
}

/** Every query the analysis needs: each metric (and its denominator) for the canary and the stable version. */
export function analysisQueries(config: Pick<CanaryConfig, 'metrics'>): MetricBatchQuery[] {
  const out: MetricBatchQuery[] = [];
  config.metrics.forEach((m, i) => {
    for (const variant of ['canary', 'stable'] as const) {
      out.push({ id: queryId(i, variant, 'n'), metric: refFor(m, variant, m.metric) });
      if (m.per) out.push({ id: queryId(i, variant, 'd'), metric: refFor(m, variant, m.per) });
    }
  });
  return out;
}

function byTime(series: MetricSeries | undefined): Map<string, number> {
  const out = new Map<string, number>();
  series?.timestamps.forEach((t, i) => {
    const v = series.values[i];
    if (v !== undefined) out.set(t, v);
  });
  return out;
}

/** A version's value per interval: the metric itself, or 100 × metric / per (an interval without requests has no rate). */
function variantValues(m: CanaryMetric, index: number, variant: Variant, series: Record<string, MetricSeries>): Map<string, number> {
  const num = byTime(series[queryId(index, variant, 'n')]);
  if (!m.per) return num;
  const den = byTime(series[queryId(index, variant, 'd')]);
  const out = new Map<string, number>();
  for (const [t, d] of den) {
    // CloudWatch publishes no datapoint for a count that stayed 0 (e.g. no 5xx at all): requests with no errors are a 0 % rate.
    if (d > 0) out.set(t, (100 * (num.get(t) ?? 0)) / d);
  }
  return out;
}

/** Holds one canary value to every bound the metric declares. */
export function checkInterval(m: CanaryMetric, canary: number | undefined, stable: number | undefined): CheckResult[] {
  const out: CheckResult[] = [];
  const judge = (check: CheckResult['check'], limit: number | undefined, ok: (c: number, l: number) => boolean) => {
    if (canary === undefined || limit === undefined) out.push({ check, outcome: 'unknown', ...(limit === undefined ? {} : { limit }) });
    else out.push({ check, outcome: ok(canary, limit) ? 'pass' : 'fail', limit });
  };
  if (m.max !== undefined) judge('max', m.max, (c, l) => c <= l);
  if (m.min !== undefined) judge('min', m.min, (c, l) => c >= l);
  if (m.max_above_stable !== undefined) judge('max_above_stable', stable === undefined ? undefined : stable + m.max_above_stable, (c, l) => c <= l);
  if (m.max_times_stable !== undefined) judge('max_times_stable', stable === undefined ? undefined : stable * m.max_times_stable, (c, l) => c <= l);
  return out;
}

/** Worst first: one failing check fails the interval; a check that could not be made leaves it unknown. */
export function combine(outcomes: readonly CheckOutcome[]): CheckOutcome {
  if (outcomes.includes('fail')) return 'fail';
  if (outcomes.length === 0 || outcomes.includes('unknown')) return 'unknown';
  return 'pass';
}

/** Judges every interval of every metric from one batch's datapoints. */
export function scoreMetrics(config: Pick<CanaryConfig, 'metrics'>, series: Record<string, MetricSeries>): MetricScore[] {
  return config.metrics.map((m, i) => {
    const canary = variantValues(m, i, 'canary', series);
    const stable = variantValues(m, i, 'stable', series);
    const times = [...new Set([...canary.keys(), ...stable.keys()])].sort();
    const intervals = times.map((at): IntervalScore => {
      const c = canary.get(at);
      const s = stable.get(at);
      const checks = checkInterval(m, c, s);
      return { at, ...(c === undefined ? {} : { canary: c }), ...(s === undefined ? {} : { stable: s }), checks, verdict: combine(checks.map((x) => x.outcome)) };
    });
    const failures = intervals.filter((x) => x.verdict === 'fail').length;
    const latest = [...intervals].reverse().find((x) => x.canary !== undefined);
    const verdict: CheckOutcome = failures > 0 ? 'fail' : intervals.some((x) => x.verdict === 'pass') ? 'pass' : 'unknown';
    return { label: m.label, ...(m.unit ? { unit: m.unit } : {}), intervals, failures, ...(latest ? { latest } : {}), verdict };
  });
}

/** The first failing interval of a metric, in words: "canary 3.2 % > stable 0.3 % + 0.5". */
export function describeFailure(m: CanaryMetric, score: MetricScore): string | undefined {
  const bad = score.intervals.find((x) => x.verdict === 'fail');
  if (!bad) return undefined;
  const check = bad.checks.find((c) => c.outcome === 'fail')!;
  const v = (n: number | undefined) => formatValue(n, m.unit);
  const canary = `canary ${v(bad.canary)}`;
  switch (check.check) {
    case 'max':
      return `${canary} > ${v(m.max)}`;
    case 'min':
      return `${canary} < ${v(m.min)}`;
    case 'max_above_stable':
      return `${canary} > stable ${v(bad.stable)} + ${formatNumber(m.max_above_stable!)}`;
    case 'max_times_stable':
      return `${canary} > ${formatNumber(m.max_times_stable!)} × stable ${v(bad.stable)}`;
  }
}

/** A bound in words, for the scorecard: "≤ stable + 0.5", "≤ 1.2 × stable", "≤ 2 %". */
export function describeBounds(m: CanaryMetric): string[] {
  const out: string[] = [];
  if (m.max !== undefined) out.push(`≤ ${formatValue(m.max, m.unit)}`);
  if (m.min !== undefined) out.push(`≥ ${formatValue(m.min, m.unit)}`);
  if (m.max_above_stable !== undefined) out.push(`≤ stable + ${formatNumber(m.max_above_stable)}`);
  if (m.max_times_stable !== undefined) out.push(`≤ ${formatNumber(m.max_times_stable)} × stable`);
  return out;
}

/** Up to three significant decimals, no trailing zeros: 0.4166 → "0.417", 2 → "2". */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(n.toFixed(digits)));
}

/** A value with its unit ("0.42 %", "312 ms"); "no data" when there is none. */
export function formatValue(n: number | undefined, unit: string | undefined): string {
  if (n === undefined) return 'no data';
  if (!unit) return formatNumber(n);
  return unit === '%' ? `${formatNumber(n)} %` : `${formatNumber(n)} ${unit}`;
}
