// Measure 5: canary analysis against moto_server, in-process (the real app over HTTP, the
// real adapters, a fake Slack). The app's clock runs at real speed plus an offset the bench
// moves by one analysis interval at a time, so each interval is analysed at once while the
// time from a failing datapoint being seen to the abort reaching ECS is real elapsed time.
// (a) CloudWatch requests per analysis interval for a canary with two metrics (one a ratio),
//     both versions: 6 MetricStat queries, counted at a proxy in front of moto.
// (b) Abort latency: `abort_detected_at` (the analysis has the failing interval) to
//     `abort_sent_at` (UpdateService to 0 tasks answered), per run.
import { startAwsTap } from '../test/support/aws-tap.js';
import { canaryYaml, putVariantMetrics, seedCanaryService } from '../test/support/canary-fixture.js';
import { writeDeployRunbook } from '../test/support/deploy-fixture.js';
import { golive, query, until } from '../test/support/golive-client.js';
import { awsTestEnv, resetMoto, seedAlarms, seedEcs } from '../test/support/moto.js';
import { startTestApp } from '../test/support/start-app.js';
import { ms, summarize, table } from './support/stats.js';

const CLUSTER = 'GoVisaX-Prod-Cluster';

export async function canaryBench(opts: { moto: string; runs: number; intervals: number; log: (s: string) => void }): Promise<string> {
  await resetMoto(opts.moto);
  const seeded = await seedEcs(opts.moto, { cluster: CLUSTER, service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
  await seedCanaryService(opts.moto, { cluster: CLUSTER, service: 'GoVisaX-Prod-Service-Canary', taskDefinition: seeded.serviceTaskDefinitionArn });
  await seedAlarms(opts.moto, [{ name: 'GoVisaX-Prod-API-5XX-Rate', state: 'OK' }]);
  const tap = await startAwsTap(opts.moto);
  Object.assign(process.env, awsTestEnv(tap.endpoint));
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  const bake = opts.intervals + 1;
  const t = await startTestApp({
    runbook: writeDeployRunbook({ smokeUrl: 'http://127.0.0.1:9/unused', deployRequires: [], serviceExtra: canaryYaml({ bakeMinutes: bake }) }),
    env: { AWS_ENDPOINT_URL: tap.endpoint, LOG_LEVEL: 'info' },
    clock,
    appOptions: { canaryPollMs: 5, alarmPolling: false },
  });
  const latest = async () => (await query<{ id: number; state: string; intervals: number; bake_started_at: string; abort_detected_at: string | null; abort_sent_at: string | null }>(t, 'SELECT * FROM canary ORDER BY id DESC LIMIT 1'))[0];
  const healthy = { canary: { requests: 100, errors: 0, latencyMs: 100 }, stable: { requests: 1000, errors: 2, latencyMs: 100 } };
  const failing = { canary: { requests: 100, errors: 9, latencyMs: 100 }, stable: { requests: 1000, errors: 2, latencyMs: 100 } };
  try {
    const startCanary = async () => {
      const before = (await latest())?.id ?? 0;
      await golive(t, 'deploy api v9 --canary', 'U0DEVOPS');
      await until('the canary to bake', async () => ((await latest())?.id ?? 0) > before && (await latest())!.state === 'baking', 30_000);
      return Date.parse((await latest())!.bake_started_at);
    };
    const nextInterval = async (k: number) => {
      offset += 60_000;
      await until(`interval ${k}`, async () => (await latest())!.intervals >= k || !['baking', 'waiting'].includes((await latest())!.state), 30_000);
    };

    opts.log(`canary: ${opts.intervals} healthy intervals`);
    const bakeStart = await startCanary();
    const gmdBefore = tap.forwarded('GetMetricData').length;
    const daBefore = tap.forwarded('DescribeAlarms').length;
    for (let k = 1; k <= opts.intervals; k++) {
      await putVariantMetrics(opts.moto, new Date(bakeStart + (k - 1) * 60_000 + 5_000), healthy);
      await nextInterval(k);
    }
    const gmd = tap.forwarded('GetMetricData').length - gmdBefore;
    const da = tap.forwarded('DescribeAlarms').length - daBefore;
    await golive(t, 'canary api abort', 'U0DEVOPS');
    await until('the abort', async () => (await latest())!.state === 'aborted', 30_000);

    const abortMs: number[] = [];
    for (let r = 0; r < opts.runs; r++) {
      opts.log(`canary: abort run ${r + 1}/${opts.runs}`);
      const start = await startCanary();
      await putVariantMetrics(opts.moto, new Date(start + 5_000), failing);
      await nextInterval(1);
      await until('the abort', async () => (await latest())!.state === 'aborted', 30_000);
      const row = (await latest())!;
      abortMs.push(Date.parse(row.abort_sent_at!) - Date.parse(row.abort_detected_at!));
    }
    const s = summarize(abortMs);
    return [
      table(
        ['canary metrics (queries, both versions)', 'intervals', 'GetMetricData requests', 'per interval', 'DescribeAlarms requests', 'one request per metric and version would be'],
        [['2 (6 MetricStat)', String(opts.intervals), String(gmd), (gmd / opts.intervals).toFixed(2), String(da), `${6 * opts.intervals}`]],
      ),
      table(['runs', 'failing interval seen → abort at ECS p50 (ms)', 'p99 (ms)', 'max (ms)'], [[String(s.n), ms(s.p50), ms(s.p99), ms(s.max)]]),
    ].join('\n\n');
  } finally {
    await t.close();
    await tap.close();
  }
}
