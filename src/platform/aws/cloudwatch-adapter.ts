import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand, type CompositeAlarm, type MetricAlarm, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { AwsCall } from './classify-aws-error.js';
import type { AlarmHistoryItem, AlarmState, CloudWatchPort, MetricBatchPort, MetricBatchQuery, MetricBatchResult, MetricQuery, MetricRef, MetricSeries } from './cloudwatch-port.js';

/** How the real CloudWatch adapter builds its clients. */
export interface CloudWatchAdapterOptions extends AwsClientOptions {
  /** Page size for DescribeAlarms (1–100, default 100). */
  maxRecords?: number;
  /** Supplies the client for a region instead of building one (tests pass mocked clients). */
  clientFor?: (region: string) => CloudWatchClient;
}

/** Builds a CloudWatch client for a region with golive's retry and timeout settings. */
export function createCloudWatchClient(region: string, options: AwsClientOptions = {}): CloudWatchClient {
  return new CloudWatchClient(awsClientConfig(region, options));
}

/** The CloudWatchPort backed by @aws-sdk/client-cloudwatch; one client per region, created on first use. */
export function createCloudWatchAdapter(options: CloudWatchAdapterOptions = {}): CloudWatchPort & MetricBatchPort {
  const clientFor = perRegion((region) => (options.clientFor ? options.clientFor(region) : createCloudWatchClient(region, options)));
  return {
    describeAlarmHistory: (region, name, since) => describeAlarmHistory(clientFor(region), region, name, since),
    getMetricData: (region, query, start, end) => getMetricData(clientFor(region), region, query, start, end),
    getMetricDataBatch: (region, queries, period, start, end) => getMetricDataBatch(clientFor(region), region, queries, period, start, end),
    describeAlarms: (region, prefixes) =>
      describeAlarms(clientFor(region), region, prefixes, options.maxRecords === undefined ? {} : { maxRecords: options.maxRecords }),
  };
}

/**
 * Every metric and composite alarm whose name starts with one of `prefixes`
 * (all pages of each), each alarm once even when prefixes overlap, sorted by name.
 */
export async function describeAlarms(
  client: CloudWatchClient,
  region: string,
  prefixes: readonly string[],
  options: { maxRecords?: number } = {},
): Promise<AlarmState[]> {
  const byName = new Map<string, AlarmState>();
  for (const prefix of new Set(prefixes)) {
    const call: AwsCall = {
      api: 'CloudWatch',
      iamPrefix: 'cloudwatch',
      operation: 'DescribeAlarms',
      region,
      subject: `alarms starting with "${prefix}"`,
    };
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await sendAws(call, () =>
        client.send(
          new DescribeAlarmsCommand({
            // An empty prefix means every alarm; AWS rejects an empty AlarmNamePrefix.
            AlarmNamePrefix: prefix || undefined,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: options.maxRecords ?? 100,
            NextToken: token,
          }),
        ),
      );
      for (const alarm of page.MetricAlarms ?? []) addAlarm(byName, alarm, 'metric');
      for (const alarm of page.CompositeAlarms ?? []) addAlarm(byName, alarm, 'composite');
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function addAlarm(byName: Map<string, AlarmState>, alarm: MetricAlarm | CompositeAlarm, kind: AlarmState['kind']): void {
  if (!alarm.AlarmName || byName.has(alarm.AlarmName)) return;
  byName.set(alarm.AlarmName, {
    name: alarm.AlarmName,
    state: toState(alarm.StateValue),
    reason: alarm.StateReason ?? '',
    // StateTransitionedTimestamp moves only when the state changes; StateUpdatedTimestamp also on evaluation updates.
    updatedAt: (('StateTransitionedTimestamp' in alarm ? alarm.StateTransitionedTimestamp : undefined) ?? alarm.StateUpdatedTimestamp)?.toISOString() ?? '',
    kind,
    ...('MetricName' in alarm || 'Metrics' in alarm
      ? {
          metric: {
            namespace: (alarm as MetricAlarm).Namespace,
            name: (alarm as MetricAlarm).MetricName ?? ((alarm as MetricAlarm).Metrics?.length ? 'metric math' : undefined),
            statistic: (alarm as MetricAlarm).Statistic ?? (alarm as MetricAlarm).ExtendedStatistic,
            period: (alarm as MetricAlarm).Period,
            threshold: (alarm as MetricAlarm).Threshold,
            comparison: (alarm as MetricAlarm).ComparisonOperator,
          },
        }
      : {}),
  });
}

/** State changes of one alarm since a time, oldest first (DescribeAlarmHistory, HistoryItemType StateUpdate). */
export async function describeAlarmHistory(client: CloudWatchClient, region: string, name: string, since: string): Promise<AlarmHistoryItem[]> {
  const call: AwsCall = { api: 'CloudWatch', iamPrefix: 'cloudwatch', operation: 'DescribeAlarmHistory', region, subject: `alarm "${name}"` };
  const out: AlarmHistoryItem[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await sendAws(call, () =>
      client.send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', StartDate: new Date(since), EndDate: new Date(), ScanBy: 'TimestampAscending', MaxRecords: 100, NextToken: token })),
    );
    for (const item of page.AlarmHistoryItems ?? []) {
      // HistoryData is JSON with oldState/newState, each {stateValue, stateReason}.
      try {
        const data = JSON.parse(item.HistoryData ?? '{}') as { oldState?: { stateValue?: string }; newState?: { stateValue?: string; stateReason?: string } };
        out.push({ name, from: data.oldState?.stateValue ? toState(data.oldState.stateValue) : undefined, to: toState(data.newState?.stateValue), at: item.Timestamp?.toISOString() ?? since, reason: data.newState?.stateReason ?? item.HistorySummary ?? '' });
      } catch {
        // An item we cannot read is skipped; the poll still sees the current state.
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

function toState(value: string | undefined): AlarmState['state'] {
  return value === 'OK' || value === 'ALARM' ? value : 'INSUFFICIENT_DATA';
}

function metricStat(ref: MetricRef, period: number): MetricDataQuery['MetricStat'] {
  return {
    Metric: { Namespace: ref.namespace, MetricName: ref.metric, Dimensions: Object.entries(ref.dimensions).map(([Name, Value]) => ({ Name, Value })) },
    Period: period,
    Stat: ref.stat,
  };
}

/** The id of the query whose datapoints are returned. */
const RESULT_ID = 'result';

/**
 * Datapoints of one metric, or of a metric-math expression (its inputs are
 * fetched with ReturnData false), oldest first, following NextToken.
 */
export async function getMetricData(client: CloudWatchClient, region: string, query: MetricQuery, start: Date, end: Date): Promise<MetricSeries> {
  const queries: MetricDataQuery[] =
    'metric' in query
      ? [{ Id: RESULT_ID, MetricStat: metricStat(query.metric, query.period), ReturnData: true }]
      : [
          ...Object.entries(query.metrics).map(([id, ref]) => ({ Id: id, MetricStat: metricStat(ref, query.period), ReturnData: false })),
          { Id: RESULT_ID, Expression: query.expression, Period: query.period, ReturnData: true },
        ];
  const subject = 'metric' in query ? `${query.metric.namespace} ${query.metric.metric}` : `the expression "${query.expression}"`;
  const call: AwsCall = { api: 'CloudWatch', iamPrefix: 'cloudwatch', operation: 'GetMetricData', region, subject };
  const points: { at: string; value: number }[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await sendAws(call, () => client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: token })));
    for (const r of page.MetricDataResults ?? []) {
      if (r.Id !== RESULT_ID) continue;
      (r.Values ?? []).forEach((v, i) => {
        // A statistic the service cannot compute comes back as a missing value, not a number.
        if (typeof v === 'number' && Number.isFinite(v)) points.push({ at: r.Timestamps?.[i]?.toISOString() ?? end.toISOString(), value: v });
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  points.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { values: points.map((p) => p.value), timestamps: points.map((p) => p.at) };
}

/** GetMetricData takes at most this many queries per request. */
export const MAX_QUERIES_PER_CALL = 500;

/**
 * Datapoints of every query in one GetMetricData request (plus one per
 * further page), oldest first per query. A query with no data comes back
 * as empty series.
 */
export async function getMetricDataBatch(client: CloudWatchClient, region: string, queries: readonly MetricBatchQuery[], period: number, start: Date, end: Date): Promise<MetricBatchResult> {
  if (queries.length > MAX_QUERIES_PER_CALL) throw new Error(`GetMetricData takes at most ${MAX_QUERIES_PER_CALL} queries; got ${queries.length}`);
  const call: AwsCall = { api: 'CloudWatch', iamPrefix: 'cloudwatch', operation: 'GetMetricData', region, subject: `${queries.length} metrics (${[...new Set(queries.map((q) => q.metric.metric))].join(', ')})` };
  const points = new Map<string, { at: string; value: number }[]>(queries.map((q) => [q.id, []]));
  const dataQueries: MetricDataQuery[] = queries.map((q) => ({ Id: q.id, MetricStat: metricStat(q.metric, period), ReturnData: true }));
  let calls = 0;
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    calls += 1;
    const page = await sendAws(call, () => client.send(new GetMetricDataCommand({ MetricDataQueries: dataQueries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: token })));
    for (const r of page.MetricDataResults ?? []) {
      const list = r.Id ? points.get(r.Id) : undefined;
      if (!list) continue;
      (r.Values ?? []).forEach((v, i) => {
        if (typeof v === 'number' && Number.isFinite(v)) list.push({ at: r.Timestamps?.[i]?.toISOString() ?? end.toISOString(), value: v });
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  const series: Record<string, MetricSeries> = {};
  for (const [id, list] of points) {
    list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    series[id] = { values: list.map((p) => p.value), timestamps: list.map((p) => p.at) };
  }
  return { series, calls };
}
