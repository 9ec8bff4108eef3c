import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseEventBridgeAlarmEvent,
  parseSnsAlarmMessage,
  regionFromName,
  summariseMetricQueries,
  type AlarmTransition,
} from '../../src/alarms/parse-alarm-event.js';

const AWS = new URL('../fixtures/aws/', import.meta.url);
const readText = (path: string) => readFileSync(new URL(path, AWS), 'utf8');
const readJson = (path: string) => JSON.parse(readText(path)) as Record<string, unknown>;
const EVENTS = readdirSync(new URL('eventbridge/', AWS))
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The transition a parse must produce, failing the test with the reason otherwise. */
function transitionOf(result: ReturnType<typeof parseEventBridgeAlarmEvent>): AlarmTransition {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.transition;
}

describe('parseEventBridgeAlarmEvent', () => {
  it('sees all six samples', () => {
    expect(EVENTS).toHaveLength(6);
  });

  it.each(EVENTS)('%s is parsed if it is a state change, else refused as "not a state change"', (file) => {
    const event = readJson(`eventbridge/${file}`);
    const result = parseEventBridgeAlarmEvent(event);
    if (event['detail-type'] === 'CloudWatch Alarm State Change') {
      const t = transitionOf(result);
      expect(t.source).toBe('eventbridge');
      expect(t.alarmName).toBe((event.detail as { alarmName: string }).alarmName);
      expect(t.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    } else {
      expect(event['detail-type']).toBe('CloudWatch Alarm Configuration Change');
      expect(result).toStrictEqual({ ok: false, reason: 'not a state change' });
    }
  });

  it('reads every field of the single-metric sample', () => {
    expect(parseEventBridgeAlarmEvent(readJson('eventbridge/metric_alarm_single_metric.json'))).toStrictEqual({
      ok: true,
      transition: {
        alarmName: 'ServerCpuTooHigh',
        alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
        region: 'us-east-1',
        accountId: '123456789012',
        from: 'OK',
        to: 'ALARM',
        reason:
          'Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
        at: '2019-10-02T17:04:40.989Z',
        kind: 'metric',
        metric: {
          namespace: 'AWS/EC2',
          name: 'CPUUtilization',
          threshold: 50,
          statistic: 'Average',
          period: 300,
          dimensions: { InstanceId: 'i-12345678901234567' },
        },
        source: 'eventbridge',
      },
    });
  });

  it('also reads the event as JSON text', () => {
    const text = readText('eventbridge/metric_alarm_single_metric.json');
    expect(parseEventBridgeAlarmEvent(text)).toStrictEqual(parseEventBridgeAlarmEvent(JSON.parse(text)));
  });

  it('names a metric-math alarm after its expression and keeps what its inputs share', () => {
    const t = transitionOf(parseEventBridgeAlarmEvent(readJson('eventbridge/metric_alarm_metric_math.json')));
    expect(t).toMatchObject({ alarmName: 'TotalNetworkTrafficTooHigh', from: 'INSUFFICIENT_DATA', to: 'ALARM', at: '2019-10-02T17:20:48.554Z', kind: 'metric' });
    expect(t.metric).toStrictEqual({
      namespace: 'AWS/EC2',
      name: 'Total Network Traffic',
      threshold: 10000,
      statistic: 'Maximum',
      period: 300,
      dimensions: { InstanceId: 'i-12345678901234567' },
    });
  });

  it('takes an anomaly-detection alarm’s metric, not its band, and invents no threshold', () => {
    const t = transitionOf(parseEventBridgeAlarmEvent(readJson('eventbridge/metric_alarm_anomaly_detection.json')));
    expect(t).toMatchObject({ alarmName: 'EC2 CPU Utilization Anomaly', from: 'OK', to: 'ALARM', at: '2019-10-03T16:00:04.653Z', kind: 'metric' });
    expect(t.metric).toStrictEqual({
      namespace: 'AWS/EC2',
      name: 'CPUUtilization',
      statistic: 'Average',
      period: 60,
      dimensions: { InstanceId: 'i-12345678901234567' },
    });
  });

  it('reads a composite alarm without a metric', () => {
    const t = transitionOf(parseEventBridgeAlarmEvent(readJson('eventbridge/composite_alarm_state_change_with_suppressor.json')));
    expect(t).toStrictEqual({
      alarmName: 'ServiceAggregatedAlarm',
      alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm',
      region: 'us-east-1',
      accountId: '123456789012',
      from: 'OK',
      to: 'ALARM',
      reason: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC',
      at: '2022-07-22T15:57:45.394Z',
      kind: 'composite',
      source: 'eventbridge',
    });
  });

  it.each([
    ['a string that is not JSON', 'nope', 'not an EventBridge event'],
    ['null', null, 'not an EventBridge event'],
    ['a scheduled event', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, 'not a CloudWatch alarm event'],
    ['a forged source', { source: 'my.app', 'detail-type': 'CloudWatch Alarm State Change', detail: {} }, 'not a CloudWatch alarm event'],
    [
      'a contributor state change',
      { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm Contributor State Change', detail: {} },
      'unsupported detail-type "CloudWatch Alarm Contributor State Change"',
    ],
    ['no detail', { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change' }, 'event has no detail'],
  ])('refuses %s', (_what, body, reason) => {
    expect(parseEventBridgeAlarmEvent(body)).toStrictEqual({ ok: false, reason });
  });

  it('refuses a state change without a name, a known state or a time', () => {
    const event = readJson('eventbridge/metric_alarm_single_metric.json') as { detail: Record<string, Record<string, unknown>> };
    const edit = (change: (d: Record<string, Record<string, unknown>>) => void) => {
      const copy = structuredClone(event);
      change(copy.detail);
      return parseEventBridgeAlarmEvent(copy);
    };
    expect(edit((d) => delete d.alarmName)).toStrictEqual({ ok: false, reason: 'event has no detail.alarmName' });
    expect(edit((d) => (d.state = { ...d.state, value: 'FIRING' }))).toStrictEqual({ ok: false, reason: 'unknown alarm state "FIRING"' });
    expect(edit((d) => (d.state = { ...d.state, timestamp: '02/10/19' }))).toStrictEqual({
      ok: false,
      reason: 'detail.state.timestamp is not a valid time',
    });
  });
});

describe('parseSnsAlarmMessage', () => {
  it('reads every field of the single-metric message', () => {
    const envelope = readJson('sns-lambda/cloudwatch-alarm-sns-payload-single-metric.json') as { Records: { Sns: { Message: string; TopicArn: string } }[] };
    const sns = envelope.Records[0]?.Sns;
    if (!sns) throw new Error('fixture has no record');
    expect(JSON.parse(sns.Message)).toStrictEqual(readJson('sns-lambda/cloudwatch-alarm-sns-payload-single-metric.Message.json'));
    expect(parseSnsAlarmMessage(sns.Message, sns.TopicArn)).toStrictEqual({
      ok: true,
      transition: {
        alarmName: 'EXAMPLE',
        // The fixture's placeholders: kept as given, but REGION and ACCOUNT_NUMBER are not a region or an account.
        alarmArn: 'arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE',
        accountId: '123456789012',
        from: 'INSUFFICIENT_DATA',
        to: 'ALARM',
        reason:
          'Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).',
        at: '2015-06-03T17:43:27.123Z',
        kind: 'metric',
        metric: {
          namespace: 'AWS/EC2',
          name: 'NetworkOut',
          threshold: 0,
          comparison: 'GreaterThanThreshold',
          statistic: 'Average',
          period: 60,
          dimensions: { InstanceId: 'TestInstance' },
        },
        source: 'sns',
      },
    });
  });

  it('reads every field of the multiple-metrics message', () => {
    const envelope = readJson('sns-lambda/cloudwatch-alarm-sns-payload-multiple-metrics.json') as { Records: { Sns: { Message: string } }[] };
    const message = envelope.Records[0]?.Sns.Message ?? '';
    expect(JSON.parse(message)).toStrictEqual(readJson('sns-lambda/cloudwatch-alarm-sns-payload-multiple-metrics.Message.json'));
    expect(parseSnsAlarmMessage(message)).toStrictEqual({
      ok: true,
      transition: {
        alarmName: 'EXAMPLE',
        alarmArn: 'arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE',
        from: 'INSUFFICIENT_DATA',
        to: 'ALARM',
        reason:
          'Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).',
        at: '2015-06-03T17:43:27.123Z',
        kind: 'metric',
        metric: {
          namespace: 'AWS/EC2',
          name: 'Expression1',
          threshold: 0,
          comparison: 'GreaterThanThreshold',
          statistic: 'Average',
          period: 60,
          dimensions: { InstanceId: 'TestInstance' },
        },
        source: 'sns',
      },
    });
  });

  const single = () => readJson('sns-lambda/cloudwatch-alarm-sns-payload-single-metric.Message.json');

  it('maps the long region name, else takes the region from AlarmArn, else from the topic', () => {
    const arn = 'arn:aws:cloudwatch:eu-west-1:210987654321:alarm:GoVisaX-Prod-API-5XX-Rate';
    const region = (fields: Record<string, unknown>, topicArn?: string) => {
      const result = parseSnsAlarmMessage(JSON.stringify({ ...single(), ...fields }), topicArn);
      return result.ok ? result.transition.region : result.reason;
    };
    expect(region({ Region: 'US East (Ohio)', AlarmArn: arn })).toBe('us-east-2');
    expect(region({ Region: 'EU (Ireland)' })).toBe('eu-west-1');
    expect(region({ Region: 'Somewhere (New)', AlarmArn: arn })).toBe('eu-west-1');
    expect(region({ Region: 'EXAMPLE' }, 'arn:aws:sns:ap-southeast-2:210987654321:alarms')).toBe('ap-southeast-2');
    expect(region({ Region: 'EXAMPLE' }, 'arn:aws:sns:EXAMPLE')).toBeUndefined();
    const t = parseSnsAlarmMessage(JSON.stringify({ ...single(), AWSAccountId: 'EXAMPLE', AlarmArn: arn }));
    expect(t.ok && t.transition.accountId).toBe('210987654321');
  });

  it('reads a composite alarm notification and an extended statistic', () => {
    const composite = parseSnsAlarmMessage(JSON.stringify({ ...single(), Trigger: undefined, AlarmRule: 'ALARM(a) OR ALARM(b)' }));
    expect(composite.ok && composite.transition.kind).toBe('composite');
    expect(composite.ok && composite.transition.metric).toBeUndefined();
    const p95 = parseSnsAlarmMessage(
      JSON.stringify({ ...single(), Trigger: { ...(single().Trigger as object), StatisticType: 'ExtendedStatistic', Statistic: undefined, ExtendedStatistic: 'p95' } }),
    );
    expect(p95.ok && p95.transition.metric?.statistic).toBe('p95');
  });

  it.each([
    ['the fixtures’ "Hello world"', 'Hello world', 'not a CloudWatch alarm message'],
    ['other JSON', '{"default":"hi"}', 'not a CloudWatch alarm message'],
    ['a JSON array', '[1]', 'not a CloudWatch alarm message'],
    ['an unknown state', JSON.stringify({ AlarmName: 'A', NewStateValue: 'RED' }), 'unknown alarm state "RED"'],
    ['no StateChangeTime', JSON.stringify({ AlarmName: 'A', NewStateValue: 'OK' }), 'StateChangeTime is not a valid time'],
  ])('refuses %s', (_what, message, reason) => {
    expect(parseSnsAlarmMessage(message)).toStrictEqual({ ok: false, reason });
  });
});

describe('summariseMetricQueries', () => {
  it('reads DescribeAlarms’ PascalCase metric queries the same way', () => {
    expect(
      summariseMetricQueries([
        { Id: 'm1', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: 'app/govisax/1' }] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'm2', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: [{ Name: 'LoadBalancer', Value: 'app/govisax/1' }] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'e1', Expression: '100*m1/m2', Label: '5XX rate', ReturnData: true },
      ]),
    ).toStrictEqual({ namespace: 'AWS/ApplicationELB', name: '5XX rate', statistic: 'Sum', period: 60, dimensions: { LoadBalancer: 'app/govisax/1' } });
  });

  it('leaves out what the inputs do not share', () => {
    expect(
      summariseMetricQueries([
        { id: 'a', metricStat: { metric: { namespace: 'AWS/EC2', name: 'X', dimensions: { I: '1' } }, period: 60, stat: 'Sum' } },
        { id: 'b', metricStat: { metric: { namespace: 'AWS/ELB', name: 'Y', dimensions: { I: '2' } }, period: 300, stat: 'Sum' } },
        { id: 'e', expression: 'a+b' },
      ]),
    ).toStrictEqual({ name: 'a+b', statistic: 'Sum' });
    expect(summariseMetricQueries([])).toBeUndefined();
  });
});

describe('regionFromName', () => {
  it.each([
    ['US East (N. Virginia)', 'us-east-1'],
    ['Asia Pacific (Tokyo)', 'ap-northeast-1'],
    ['Europe (Frankfurt)', 'eu-central-1'],
    ['EU (Frankfurt)', 'eu-central-1'],
    ['South America (São Paulo)', 'sa-east-1'],
    ['China (Ningxia)', 'cn-northwest-1'],
    ['AWS GovCloud (US)', 'us-gov-west-1'],
    ['us-west-2', 'us-west-2'],
    ['EXAMPLE', undefined],
    [42, undefined],
  ])('%s → %s', (name, code) => expect(regionFromName(name)).toBe(code));
});
