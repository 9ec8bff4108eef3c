import { CloudWatchClient, CloudWatchServiceException, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analysisQueries, scoreMetrics } from '../../../src/canary/analyse-metrics.js';
import { createCloudWatchAdapter, getMetricDataBatch } from '../../../src/platform/aws/cloudwatch-adapter.js';
import { AwsCallError } from '../../../src/platform/aws/ecs-port.js';
import { parseRunbook } from '../../../src/platform/runbook/load-runbook.js';
import { canaryYaml, putVariantMetrics } from '../../support/canary-fixture.js';
import { awsTestEnv, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../support/moto.js';

const runbook = parseRunbook(
  `version: 1
launch: { name: Batch, channel: C0OPS }
roles: { devops: { name: DevOps, users: [U0DEVOPS] } }
gates: [{ id: g, title: G, items: [{ id: i, title: I, level: info, owner: devops }] }]
alarms: { prefixes: [GoVisaX-Prod] }
services:
  - name: api
    cluster: C
    service: S
    region: ${TEST_REGION}
    family: f
    container: c
    deployers: [devops]
    rollback_approvers: [devops]
${canaryYaml()}`,
  'batch.yml',
);

describe('GetMetricData batch against moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
    for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  it('reads every metric of both versions in one call, split by the Variant dimension, and the analysis scores them', async () => {
    if (!runbook.ok) throw new Error(JSON.stringify(runbook.problems));
    const canary = runbook.runbook.services[0]!.canary!;
    const start = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000);
    await putVariantMetrics(moto.endpoint, new Date(start.getTime() + 10_000), { canary: { requests: 100, errors: 0, latencyMs: 110 }, stable: { requests: 1000, errors: 2, latencyMs: 100 } });
    await putVariantMetrics(moto.endpoint, new Date(start.getTime() + 70_000), { canary: { requests: 100, errors: 5, latencyMs: 150 }, stable: { requests: 1000, errors: 3, latencyMs: 100 } });
    const cloudwatch = createCloudWatchAdapter({ endpoint: moto.endpoint });
    const queries = analysisQueries(canary);
    expect(queries).toHaveLength(6);
    const batch = await cloudwatch.getMetricDataBatch(TEST_REGION, queries, 60, start, new Date(start.getTime() + 3 * 60_000));
    expect(batch.calls).toBe(1);
    expect(batch.series.m0_c_d!.values).toEqual([100, 100]);
    expect(batch.series.m0_s_d!.values).toEqual([1000, 1000]);
    expect(batch.series.m0_c_n!.values).toEqual([5]);
    const [rate, latency] = scoreMetrics(canary, batch.series);
    expect(rate!.intervals.map((i) => [i.canary, i.stable, i.verdict])).toEqual([
      [0, 0.2, 'pass'],
      [5, 0.3, 'fail'],
    ]);
    expect(latency!.intervals.map((i) => [i.canary, i.stable, i.verdict])).toEqual([
      [110, 100, 'pass'],
      [150, 100, 'fail'],
    ]);
  });
});

describe('GetMetricData batch, faults (stubbed client)', () => {
  it('follows NextToken, counting each page as a call, and keeps each query apart', async () => {
    const client = new CloudWatchClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const mock = mockClient(client);
    const t = (s: number) => new Date(Date.UTC(2026, 11, 1, 8, 0, s));
    mock
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'a', Values: [1], Timestamps: [t(60)] }], NextToken: 'page2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'a', Values: [2], Timestamps: [t(0)] }, { Id: 'b', Values: [Number.NaN, 3], Timestamps: [t(0), t(60)] }, { Id: 'zz', Values: [9], Timestamps: [t(0)] }] });
    const ref = { namespace: 'N', metric: 'M', dimensions: { V: 'c' }, stat: 'Sum' };
    const out = await getMetricDataBatch(client, TEST_REGION, [{ id: 'a', metric: ref }, { id: 'b', metric: ref }], 60, t(0), t(120));
    expect(out.calls).toBe(2);
    expect(out.series).toEqual({ a: { values: [2, 1], timestamps: [t(0).toISOString(), t(60).toISOString()] }, b: { values: [3], timestamps: [t(60).toISOString()] } });
    const sent = mock.commandCalls(GetMetricDataCommand);
    expect(sent[1]!.args[0].input.NextToken).toBe('page2');
    expect(sent[0]!.args[0].input.MetricDataQueries).toEqual([
      { Id: 'a', MetricStat: { Metric: { Namespace: 'N', MetricName: 'M', Dimensions: [{ Name: 'V', Value: 'c' }] }, Period: 60, Stat: 'Sum' }, ReturnData: true },
      { Id: 'b', MetricStat: { Metric: { Namespace: 'N', MetricName: 'M', Dimensions: [{ Name: 'V', Value: 'c' }] }, Period: 60, Stat: 'Sum' }, ReturnData: true },
    ]);
  });

  it('turns an AWS refusal into words', async () => {
    const client = new CloudWatchClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    mockClient(client).on(GetMetricDataCommand).rejects(new CloudWatchServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized to perform: cloudwatch:GetMetricData' }));
    const err = await getMetricDataBatch(client, TEST_REGION, [{ id: 'a', metric: { namespace: 'N', metric: 'Http5xx', dimensions: {}, stat: 'Sum' } }], 60, new Date(0), new Date(60_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).kind).toBe('access_denied');
    expect((err as AwsCallError).message).toContain('GetMetricData');
  });
});
