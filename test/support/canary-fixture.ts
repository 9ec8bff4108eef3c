import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CreateServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { TEST_CREDENTIALS, TEST_REGION } from './moto.js';

/** The namespace and dimensions the canary tests' app publishes its metrics under, split by Variant. */
export const CANARY_NAMESPACE = 'GoVisaX/App';

/** One version's traffic in one minute: requests, 5xx responses, and the average latency. */
export interface VariantTraffic {
  requests: number;
  errors: number;
  latencyMs?: number;
}

/**
 * Publishes one minute of both versions' metrics with PutMetricData, the way
 * an app reporting per-version metrics (EMF) would: Requests, Http5xx and
 * LatencyMs with dimensions Service=api, Variant=canary|stable.
 */
export async function putVariantMetrics(endpoint: string, at: Date, traffic: { canary?: VariantTraffic; stable?: VariantTraffic }, region = TEST_REGION): Promise<void> {
  const client = new CloudWatchClient({ endpoint, region, credentials: TEST_CREDENTIALS });
  try {
    const data: MetricDatum[] = [];
    for (const variant of ['canary', 'stable'] as const) {
      const t = traffic[variant];
      if (!t) continue;
      const Dimensions = [
        { Name: 'Service', Value: 'api' },
        { Name: 'Variant', Value: variant },
      ];
      data.push({ MetricName: 'Requests', Dimensions, Timestamp: at, Value: t.requests, Unit: 'Count' });
      // Like ALB counts, a minute without errors publishes no Http5xx datapoint.
      if (t.errors > 0) data.push({ MetricName: 'Http5xx', Dimensions, Timestamp: at, Value: t.errors, Unit: 'Count' });
      if (t.latencyMs !== undefined) data.push({ MetricName: 'LatencyMs', Dimensions, Timestamp: at, Value: t.latencyMs, Unit: 'Milliseconds' });
    }
    if (data.length > 0) await client.send(new PutMetricDataCommand({ Namespace: CANARY_NAMESPACE, MetricData: data }));
  } finally {
    client.destroy();
  }
}

/** The canary section of a test runbook: 5xx rate ≤ stable + 0.5 points, latency ≤ 1.2 × stable, the API alarms. */
export function canaryYaml(opts: { service?: string; bakeMinutes?: number; intervalSeconds?: number; autoPromote?: boolean; allowOverride?: boolean; always?: boolean; healthUrl?: string; decideWithin?: number; failureLimit?: number } = {}): string {
  return `    canary:
      service: ${opts.service ?? 'GoVisaX-Prod-Service-Canary'}
      bake_minutes: ${opts.bakeMinutes ?? 5}
      interval_seconds: ${opts.intervalSeconds ?? 60}
      auto_promote: ${opts.autoPromote ?? false}
      allow_override: ${opts.allowOverride ?? false}
      always: ${opts.always ?? false}
      decide_within_minutes: ${opts.decideWithin ?? 30}
      failure_limit: ${opts.failureLimit ?? 0}
      alarms: [GoVisaX-Prod-API]
${opts.healthUrl ? `      health_check: { url: "${opts.healthUrl}", expect_status: 200, timeout_seconds: 2 }\n` : ''}      metrics:
        - label: 5xx rate
          namespace: ${CANARY_NAMESPACE}
          metric: Http5xx
          per: Requests
          stat: Sum
          dimensions: { Service: api }
          canary: { Variant: canary }
          stable: { Variant: stable }
          max_above_stable: 0.5
          unit: "%"
        - label: Latency
          namespace: ${CANARY_NAMESPACE}
          metric: LatencyMs
          stat: Average
          dimensions: { Service: api }
          canary: { Variant: canary }
          stable: { Variant: stable }
          max_times_stable: 1.2
          unit: ms
`;
}

/** Creates the canary ECS service beside the seeded main one: same cluster and revision, desired count 0. */
export async function seedCanaryService(endpoint: string, seed: { cluster: string; service: string; taskDefinition: string }, region = TEST_REGION): Promise<void> {
  const client = new ECSClient({ endpoint, region, credentials: TEST_CREDENTIALS });
  try {
    await client.send(new CreateServiceCommand({ cluster: seed.cluster, serviceName: seed.service, taskDefinition: seed.taskDefinition, desiredCount: 0 }));
  } finally {
    client.destroy();
  }
}

/** The canary service as ECS reports it. */
export async function describeCanaryService(endpoint: string, cluster: string, service: string, region = TEST_REGION): Promise<{ taskDefinition: string; desiredCount: number }> {
  const client = new ECSClient({ endpoint, region, credentials: TEST_CREDENTIALS });
  try {
    const s = (await client.send(new DescribeServicesCommand({ cluster, services: [service] }))).services![0]!;
    return { taskDefinition: s.taskDefinition!, desiredCount: s.desiredCount! };
  } finally {
    client.destroy();
  }
}
