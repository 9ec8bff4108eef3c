/** One CloudWatch alarm's current state. */
export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updatedAt: string;
  kind: 'metric' | 'composite';
  /** For metric alarms: what is measured and against what, as CloudWatch describes it. */
  metric?: { namespace?: string; name?: string; statistic?: string; period?: number; threshold?: number; comparison?: string };
}

/** One state change from DescribeAlarmHistory. */
export interface AlarmHistoryItem {
  name: string;
  from?: AlarmState['state'];
  to: AlarmState['state'];
  at: string;
  reason: string;
}

/** One metric as GetMetricData's MetricStat names it. */
export interface MetricRef {
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  /** `Average`, `Sum`, `Maximum`, … or a percentile such as `p95`. */
  stat: string;
}

/** What to read: one metric, or a metric-math expression over named metrics. */
export type MetricQuery = { period: number } & ({ metric: MetricRef } | { expression: string; metrics: Record<string, MetricRef> });

/** The datapoints GetMetricData returned, oldest first. */
export interface MetricSeries {
  values: number[];
  timestamps: string[];
}

/** The CloudWatch reads golive needs. */
export interface CloudWatchPort {
  /** Every metric and composite alarm whose name starts with one of `prefixes`, all pages. */
  describeAlarms(region: string, prefixes: readonly string[]): Promise<AlarmState[]>;
  /** State changes of one alarm since `since`, oldest first. Some implementations (moto) lack it: callers tolerate a failure. */
  describeAlarmHistory(region: string, name: string, since: string): Promise<AlarmHistoryItem[]>;
  /** Datapoints of one metric or expression between `start` and `end` (GetMetricData, all pages). */
  getMetricData(region: string, query: MetricQuery, start: Date, end: Date): Promise<MetricSeries>;
}

/** One MetricStat of a batch, named by an id unique in the batch (CloudWatch's rule: a lowercase letter, then letters, digits, `_`). */
export interface MetricBatchQuery {
  id: string;
  metric: MetricRef;
}

/** A batch's datapoints by query id, and how many GetMetricData pages it took. */
export interface MetricBatchResult {
  series: Record<string, MetricSeries>;
  /** GetMetricData requests sent (one per page; one when everything fits). */
  calls: number;
}

/**
 * Reads many metrics in one GetMetricData call (up to 500 queries, following
 * NextToken), so an analysis of several metrics of two versions costs one
 * call per interval, not one per metric. Metric math is not used: some
 * CloudWatch implementations (moto) return nothing for it, so ratios are
 * worked out by the caller.
 */
export interface MetricBatchPort {
  getMetricDataBatch(region: string, queries: readonly MetricBatchQuery[], period: number, start: Date, end: Date): Promise<MetricBatchResult>;
}
