import { CloudWatchClient, CloudWatchServiceException, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCloudWatchAdapter } from '../../../src/platform/aws/cloudwatch-adapter.js';
import type { CloudWatchPort } from '../../../src/platform/aws/cloudwatch-port.js';
import { AwsCallError } from '../../../src/platform/aws/ecs-port.js';
import { awsTestEnv, type Moto, seedAlarms, startMoto, TEST_CREDENTIALS, TEST_REGION } from '../../support/moto.js';

const REGION = TEST_REGION;

async function caught(promise: Promise<unknown>): Promise<AwsCallError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AwsCallError);
    return err as AwsCallError;
  }
  throw new Error('expected the call to fail');
}

describe('CloudWatch adapter against moto', () => {
  let moto: Moto;
  let cloudwatch: CloudWatchPort;

  beforeAll(async () => {
    moto = await startMoto();
    for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
    cloudwatch = createCloudWatchAdapter({ endpoint: moto.endpoint, maxRecords: 50 });
    const api = Array.from({ length: 110 }, (_, i) => ({ name: `govisax-api-${String(i).padStart(3, '0')}`, state: 'OK' as const }));
    await seedAlarms(moto.endpoint, [
      ...api,
      { name: 'govisax-api-5xx', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than 5.0' },
      { name: 'govisax-db-cpu', state: 'INSUFFICIENT_DATA' },
      { name: 'govisax-db-connections', state: 'OK' },
      { name: 'other-team-cpu', state: 'ALARM' },
    ]);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  it('returns every alarm of each prefix, mapped, once each', async () => {
    const alarms = await cloudwatch.describeAlarms(REGION, ['govisax-api-', 'govisax-db-', 'govisax-api-5']);

    expect(alarms).toHaveLength(113);
    expect(new Set(alarms.map((a) => a.name)).size).toBe(113);
    expect(alarms.some((a) => a.name.startsWith('other-'))).toBe(false);
    const fired = alarms.find((a) => a.name === 'govisax-api-5xx');
    expect(fired).toEqual({
      name: 'govisax-api-5xx',
      state: 'ALARM',
      reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than 5.0',
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      kind: 'metric',
      metric: { namespace: 'AWS/ECS', name: 'CPUUtilization', statistic: 'Average', period: 60, threshold: 80, comparison: 'GreaterThanThreshold' },
    });
    expect(alarms.find((a) => a.name === 'govisax-db-cpu')).toMatchObject({ state: 'INSUFFICIENT_DATA', reason: 'seeded INSUFFICIENT_DATA' });
    expect(alarms.map((a) => a.name)).toEqual([...alarms.map((a) => a.name)].sort());
  });

  it('reads the endpoint from AWS_ENDPOINT_URL when none is given', async () => {
    const alarms = await createCloudWatchAdapter().describeAlarms(REGION, ['govisax-db-']);

    expect(alarms.map((a) => [a.name, a.state])).toEqual([
      ['govisax-db-connections', 'OK'],
      ['govisax-db-cpu', 'INSUFFICIENT_DATA'],
    ]);
  });

  it('returns nothing for no prefixes or a prefix nothing matches', async () => {
    expect(await cloudwatch.describeAlarms(REGION, [])).toEqual([]);
    expect(await cloudwatch.describeAlarms(REGION, ['nobody-'])).toEqual([]);
  });

  it('reads metric datapoints over a window with GetMetricData', async () => {
    const client = new CloudWatchClient({ region: REGION, endpoint: moto.endpoint });
    const now = Date.now();
    const dims = [{ Name: 'LoadBalancer', Value: 'app/govisax-prod-alb/0123' }];
    await client.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricData: [0.2, 0.4, 0.9].map((v, i) => ({ MetricName: 'TargetResponseTime', Dimensions: dims, Value: v, Timestamp: new Date(now - (30 - i) * 60_000) })),
      }),
    );
    const metric = { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: { LoadBalancer: 'app/govisax-prod-alb/0123' } };
    const window = { start: new Date(now - 3600_000), end: new Date(now) };
    const average = await cloudwatch.getMetricData(REGION, { period: 3600, metric: { ...metric, stat: 'Average' } }, window.start, window.end);
    expect(average.values).toHaveLength(1);
    expect(average.values[0]).toBeCloseTo(0.5, 5);
    const max = await cloudwatch.getMetricData(REGION, { period: 3600, metric: { ...metric, stat: 'Maximum' } }, window.start, window.end);
    expect(max.values).toEqual([0.9]);
    const other = await cloudwatch.getMetricData(REGION, { period: 3600, metric: { ...metric, dimensions: { LoadBalancer: 'app/other/1' }, stat: 'Average' } }, window.start, window.end);
    expect(other).toEqual({ values: [], timestamps: [] });
  });
});

describe('CloudWatch adapter with a mocked client', () => {
  const client = new CloudWatchClient({ region: REGION, credentials: TEST_CREDENTIALS });
  const mock = mockClient(client);
  const cloudwatch = createCloudWatchAdapter({ clientFor: () => client, maxRecords: 50 });
  const at = new Date('2026-03-01T10:00:00Z');

  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('follows NextToken through every page and maps composite alarms', async () => {
    mock
      .on(DescribeAlarmsCommand, { AlarmNamePrefix: 'govisax-', NextToken: undefined })
      .resolves({
        MetricAlarms: [{ AlarmName: 'govisax-a', StateValue: 'OK', StateReason: 'fine', StateUpdatedTimestamp: at }],
        NextToken: 't2',
      })
      .on(DescribeAlarmsCommand, { AlarmNamePrefix: 'govisax-', NextToken: 't2' })
      .resolves({
        MetricAlarms: [{ AlarmName: 'govisax-b', StateValue: 'ALARM', StateReason: 'high', StateUpdatedTimestamp: at }],
        CompositeAlarms: [{ AlarmName: 'govisax-health', StateValue: 'ALARM', StateReason: 'child fired', StateUpdatedTimestamp: at }],
      });

    const alarms = await cloudwatch.describeAlarms(REGION, ['govisax-']);

    expect(alarms).toEqual([
      { name: 'govisax-a', state: 'OK', reason: 'fine', updatedAt: '2026-03-01T10:00:00.000Z', kind: 'metric' },
      { name: 'govisax-b', state: 'ALARM', reason: 'high', updatedAt: '2026-03-01T10:00:00.000Z', kind: 'metric' },
      { name: 'govisax-health', state: 'ALARM', reason: 'child fired', updatedAt: '2026-03-01T10:00:00.000Z', kind: 'composite' },
    ]);
    expect(mock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
      { AlarmNamePrefix: 'govisax-', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 50, NextToken: undefined },
      { AlarmNamePrefix: 'govisax-', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 50, NextToken: 't2' },
    ]);
  });

  it('reports a missing permission as access_denied, naming the IAM action', async () => {
    mock.on(DescribeAlarmsCommand).rejects(
      new CloudWatchServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User: arn:aws:sts::123456789012:assumed-role/golive/i-0abc is not authorized to perform: cloudwatch:DescribeAlarms',
      }),
    );

    const err = await caught(cloudwatch.describeAlarms(REGION, ['govisax-']));

    expect(err).toMatchObject({ kind: 'access_denied', operation: 'DescribeAlarms', awsCode: 'AccessDenied' });
    expect(err.message).toBe(
      'AWS refused DescribeAlarms for alarms starting with "govisax-" (ap-south-1): the bot\'s IAM role lacks cloudwatch:DescribeAlarms.',
    );
  });

  it('asks for an expression with its inputs hidden, follows NextToken and keeps only numbers, oldest first', async () => {
    mock
      .on(GetMetricDataCommand, { NextToken: undefined })
      .resolves({ MetricDataResults: [{ Id: 'result', Timestamps: [new Date('2026-03-01T09:00:00Z')], Values: [0.3], StatusCode: 'PartialData' }], NextToken: 'p2' })
      .on(GetMetricDataCommand, { NextToken: 'p2' })
      .resolves({ MetricDataResults: [{ Id: 'result', Timestamps: [new Date('2026-03-01T08:00:00Z'), new Date('2026-03-01T10:00:00Z')], Values: [0.1, Number.NaN], StatusCode: 'Complete' }] });
    const series = await cloudwatch.getMetricData(
      REGION,
      { period: 3600, expression: '100 * errors / requests', metrics: { errors: { namespace: 'AWS/ApplicationELB', metric: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: 'lb' }, stat: 'Sum' }, requests: { namespace: 'AWS/ApplicationELB', metric: 'RequestCount', dimensions: {}, stat: 'Sum' } } },
      new Date('2026-03-01T07:00:00Z'),
      at,
    );
    expect(series).toEqual({ values: [0.1, 0.3], timestamps: ['2026-03-01T08:00:00.000Z', '2026-03-01T09:00:00.000Z'] });
    expect(mock.commandCalls(GetMetricDataCommand)[0]!.args[0].input).toEqual({
      MetricDataQueries: [
        { Id: 'errors', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: 'lb' }] }, Period: 3600, Stat: 'Sum' }, ReturnData: false },
        { Id: 'requests', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: [] }, Period: 3600, Stat: 'Sum' }, ReturnData: false },
        { Id: 'result', Expression: '100 * errors / requests', Period: 3600, ReturnData: true },
      ],
      StartTime: new Date('2026-03-01T07:00:00Z'),
      EndTime: at,
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    });
  });

  it('reports a missing GetMetricData permission naming the IAM action', async () => {
    mock.on(GetMetricDataCommand).rejects(new CloudWatchServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized to perform: cloudwatch:GetMetricData' }));
    const err = await caught(cloudwatch.getMetricData(REGION, { period: 60, metric: { namespace: 'AWS/ECS', metric: 'CPUUtilization', dimensions: {}, stat: 'Average' } }, new Date(at.getTime() - 3600_000), at));
    expect(err.message).toBe("AWS refused GetMetricData for AWS/ECS CPUUtilization (ap-south-1): the bot's IAM role lacks cloudwatch:GetMetricData.");
  });

  it('reports throttling as throttled', async () => {
    mock.on(DescribeAlarmsCommand).rejects(
      new CloudWatchServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    );

    const err = await caught(cloudwatch.describeAlarms(REGION, ['govisax-']));

    expect(err.kind).toBe('throttled');
    expect(err.message).toBe('AWS CloudWatch is throttling DescribeAlarms (ap-south-1) and still refused after retries; try again in a minute.');
  });
});
