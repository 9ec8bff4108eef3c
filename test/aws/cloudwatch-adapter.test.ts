import { CloudWatchClient, CloudWatchServiceException, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCloudWatchAdapter } from '../../src/aws/cloudwatch-adapter.js';
import type { CloudWatchPort } from '../../src/aws/cloudwatch-port.js';
import { AwsCallError } from '../../src/aws/ecs-port.js';
import { awsTestEnv, seedAlarms, startMoto, TEST_REGION, type Moto } from '../support/moto.js';

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
});

describe('CloudWatch adapter with a mocked client', () => {
  const client = new CloudWatchClient({ region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
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

  it('reports throttling as throttled', async () => {
    mock.on(DescribeAlarmsCommand).rejects(
      new CloudWatchServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    );

    const err = await caught(cloudwatch.describeAlarms(REGION, ['govisax-']));

    expect(err.kind).toBe('throttled');
    expect(err.message).toBe('AWS CloudWatch is throttling DescribeAlarms (ap-south-1) and still refused after retries; try again in a minute.');
  });
});
