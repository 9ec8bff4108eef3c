// `npm run bench`: every benchmark of bench/README.md, printed as Markdown tables.
// Numbers, not assertions. `npm run bench -- --only=latency,render,alarms,memory,canary,report,replicas,storm,burst,web-api`
// runs a subset; `--quick` shrinks the request counts for a smoke run.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startMoto } from '../test/support/moto.js';
import { alarmsBench } from './alarms.js';
import { canaryBench } from './canary.js';
import { latencyBench } from './latency.js';
import { memoryBench } from './memory.js';
import { renderBench } from './render.js';
import { replicasBench } from './replicas.js';
import { reportBench } from './report.js';
import { stormBench } from './storm.js';
import { burstBench, runBurst, type BurstRun } from './burst.js';
import { webApiBench } from './web-api.js';
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const quick = args.includes('--quick');
const wants = (name: string) => !only || only.includes(name);
const log = (s: string) => process.stderr.write(`# ${s}\n`);

const dir = mkdtempSync(path.join(tmpdir(), 'golive-bench-'));
// Rendering, the report, the storm (an in-memory CloudWatch), the burst and the Web API client need no AWS.
const moto = only?.every((m) => m === 'render' || m === 'report' || m === 'storm' || m === 'burst' || m === 'web-api') ? undefined : await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
const started = performance.now();
const out: string[] = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}; ${new Date().toISOString().slice(0, 16)}Z`,
];
try {
  if (wants('latency')) {
    log('measure 1: ack latency');
    out.push('## 1. Ack latency over HTTP (golive vs ack-only Bolt)', await latencyBench({ moto: moto!.endpoint, dir, requests: quick ? 200 : 2000, concurrency: [1, 10, 50], rates: [20, 100, 400], rateSeconds: quick ? 3 : 10, log }));
  }
  if (wants('render')) {
    log('measure 2: status rendering');
    out.push('## 2. Status rendering', await renderBench({ log }));
  }
  if (wants('alarms')) {
    log('measure 3: alarm watching');
    out.push('## 3. Alarm watching', await alarmsBench({ moto: moto!.endpoint, dir, sizes: quick ? [100, 1000] : [100, 1000, 10_000], log }));
  }
  if (wants('memory')) {
    log('measure 4: start-up and memory');
    out.push('## 4. Start-up and memory', await memoryBench({ moto: moto!.endpoint, dir, requests: quick ? 1000 : 10_000, log }));
  }
  if (wants('canary')) {
    log('measure 5: canary analysis');
    out.push('## 5. Canary analysis', await canaryBench({ moto: moto!.endpoint, runs: quick ? 3 : 20, intervals: 5, log }));
  }
  if (wants('report')) {
    log('measure 6: the launch report');
    out.push('## 6. The launch report (1,000 audit rows, 200 alarm transitions)', await reportBench({ log }));
  }
  if (wants('replicas')) {
    log('measure 7: PostgreSQL and replicas');
    out.push('## 7. PostgreSQL and replicas', await replicasBench({ moto: moto!.endpoint, dir, requests: quick ? 200 : 1000, concurrency: quick ? [10] : [1, 10, 50], kills: quick ? 2 : 7, alarmSizes: quick ? [1000] : [1000, 10_000], log }));
  }
  if (wants('storm')) {
    log('measure 8: an alarm storm');
    const scale = Number(process.env.BENCH_STORM_SCALE ?? '0.1');
    // BENCH_STORM_SIZES=20,200 at BENCH_STORM_SCALE=1 (Slack's own pace): 2,000 posts one a second would take half an hour;
    // BENCH_STORM_BASELINE=off leaves out the storms-off runs (for 2,000 at Slack's pace).
    const sizes = process.env.BENCH_STORM_SIZES ? process.env.BENCH_STORM_SIZES.split(',').map(Number) : quick ? [20, 200] : [20, 200, 2000];
    out.push(`## 8. An alarm storm (${sizes.map((n) => n.toLocaleString('en-US')).join(', ')} alarms into ALARM in one poll)`, await stormBench({ sizes, scale, stormsOnly: process.env.BENCH_STORM_BASELINE === 'off', log }));
  }
  if (wants('burst')) {
    log('measure 9: the launch-hour burst');
    const scale = Number(process.env.BENCH_BURST_SCALE ?? '1');
    // BENCH_BURST_SAVE=file keeps this build's run as JSON; BENCH_BURST_BEFORE=file puts a saved run (an earlier build's) beside it.
    const before = process.env.BENCH_BURST_BEFORE ? (JSON.parse(readFileSync(process.env.BENCH_BURST_BEFORE, 'utf8')) as BurstRun) : undefined;
    if (process.env.BENCH_BURST_SAVE) {
      const run = await runBurst(scale, log);
      writeFileSync(process.env.BENCH_BURST_SAVE, JSON.stringify(run, null, 1));
      out.push('## 9. The launch-hour burst', `Saved to ${process.env.BENCH_BURST_SAVE}: ${JSON.stringify(run)}`);
    } else out.push('## 9. The launch-hour burst (10 boards, 5 Home tabs, 100 changes in 20 s, then 20 alarms)', await burstBench({ scale, log, before }));
  }
  if (wants('web-api')) {
    log('measure 10: a Web API call');
    out.push("## 10. A Web API call's CPU (golive's client vs @slack/web-api)", await webApiBench({ calls: quick ? 500 : 3000, rounds: quick ? 3 : 5, log }));
  }
  out.push(`Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(out.join('\n\n'));
} finally {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
}
