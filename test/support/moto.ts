import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';

/** A running moto_server. */
export interface Moto {
  /** Base URL, e.g. `http://127.0.0.1:40123`; use it as the SDK endpoint. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Region the helpers seed and `awsTestEnv` selects. */
export const TEST_REGION = 'ap-south-1';
/** The account id moto puts in every ARN. */
export const TEST_ACCOUNT = '123456789012';
/** moto's fake credentials. */
export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and resolves once it answers
 * HTTP. `env` is added to the server's environment, e.g. `{ MOTO_ECS_SERVICE_RUNNING: '2' }`
 * so services report running tasks (moto reports 0 otherwise).
 */
export async function startMoto(options: { env?: Record<string, string> } = {}): Promise<Moto> {
  let lastError: unknown;
  // Another process can take the probed port before moto binds it; try a fresh one.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort(), options.env ?? {});
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) throw err;
    }
  }
  throw lastError;
}

/** The environment the AWS SDK needs to talk to moto: fake credentials, region and endpoint. */
export function awsTestEnv(endpoint: string): Record<'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION' | 'AWS_ENDPOINT_URL', string> {
  return {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    AWS_ENDPOINT_URL: endpoint,
  };
}

/** Forgets everything moto holds (all services, all regions). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

/** What `seedEcs` created. */
export interface SeededEcs {
  clusterArn: string;
  serviceArn: string;
  /** ARNs of the family's revisions, revision 1 first. */
  taskDefinitionArns: string[];
  /** ARN of `<family>-worker:1`, which a prefix listing of `<family>` also matches on AWS. */
  decoyArn: string;
  /** The revision the service runs: the latest but one (or 1 when there is only one). */
  serviceTaskDefinitionArn: string;
}

/** Container added to every seeded revision next to the main one; its image never changes. */
export const SIDECAR = { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0' };
/** Tags every seeded revision of the family carries. */
export const SEED_TAGS = [{ key: 'team', value: 'govisax' }];

/** ECR image of seeded revision `n`. */
export function seededImage(n: number): string {
  return `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/govisax:v${n}`;
}

/**
 * Creates a cluster, registers `revisions` revisions of `family` (images
 * `…/govisax:v1..vN`, a log-router sidecar, Fargate-sized, tagged), a decoy
 * family `<family>-worker`, and a service with desiredCount 2 on the latest-but-one revision.
 */
export async function seedEcs(
  endpoint: string,
  seed: { cluster: string; service: string; family: string; container: string; revisions: number; region?: string },
): Promise<SeededEcs> {
  if (seed.revisions < 1) throw new Error('seedEcs needs at least one revision');
  const client = new ECSClient({ endpoint, region: seed.region ?? TEST_REGION, credentials: TEST_CREDENTIALS });
  try {
    const cluster = await client.send(new CreateClusterCommand({ clusterName: seed.cluster }));
    const taskDefinitionArns: string[] = [];
    for (let n = 1; n <= seed.revisions; n++) {
      const out = await client.send(
        new RegisterTaskDefinitionCommand({
          family: seed.family,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [
            { name: seed.container, image: seededImage(n), essential: true, portMappings: [{ containerPort: 8080, protocol: 'tcp' }] },
            { name: SIDECAR.name, image: SIDECAR.image, essential: false },
          ],
          tags: SEED_TAGS,
        }),
      );
      taskDefinitionArns.push(out.taskDefinition?.taskDefinitionArn ?? '');
    }
    const decoy = await client.send(
      new RegisterTaskDefinitionCommand({
        family: `${seed.family}-worker`,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'worker', image: `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/govisax-worker:v1`, essential: true }],
      }),
    );
    const serviceTaskDefinitionArn = taskDefinitionArns[Math.max(0, taskDefinitionArns.length - 2)] ?? '';
    const service = await client.send(
      new CreateServiceCommand({ cluster: seed.cluster, serviceName: seed.service, taskDefinition: serviceTaskDefinitionArn, desiredCount: 2 }),
    );
    return {
      clusterArn: cluster.cluster?.clusterArn ?? '',
      serviceArn: service.service?.serviceArn ?? '',
      taskDefinitionArns,
      decoyArn: decoy.taskDefinition?.taskDefinitionArn ?? '',
      serviceTaskDefinitionArn,
    };
  } finally {
    client.destroy();
  }
}

/** Creates metric alarms (PutMetricAlarm) and forces each into `state` (SetAlarmState). */
export async function seedAlarms(
  endpoint: string,
  alarms: { name: string; state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; reason?: string }[],
  region = TEST_REGION,
): Promise<void> {
  const client = new CloudWatchClient({ endpoint, region, credentials: TEST_CREDENTIALS });
  try {
    for (const alarm of alarms) {
      await client.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm.name,
          Namespace: 'AWS/ECS',
          MetricName: 'CPUUtilization',
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 80,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
      await client.send(
        new SetAlarmStateCommand({ AlarmName: alarm.name, StateValue: alarm.state, StateReason: alarm.reason ?? `seeded ${alarm.state}` }),
      );
    }
  } finally {
    client.destroy();
  }
}

class PortTakenError extends Error {}

async function startOnce(port: number, env: Record<string, string>): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  // Own process group, so stop() also ends anything the pyenv shim started.
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    // moto logs every request; keep only the tail for error messages.
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));

  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (spawnError) {
      untrack(child);
      throw new Error(`could not start moto_server (is it on PATH?): ${spawnError.message}`);
    }
    if (exited) {
      untrack(child);
      if (/address already in use/i.test(output)) throw new PortTakenError(`port ${port} was taken`);
      throw new Error(`moto_server ${exited}:\n${output}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return { endpoint, stop: () => stopChild(child) };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopChild(child);
  throw new Error(`moto_server did not answer on ${endpoint} within 15 s:\n${output}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    untrack(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(child, 'SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)]);
  if (!killed) {
    signal(child, 'SIGKILL');
    await exited;
  }
  untrack(child);
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

function track(child: ChildProcess): void {
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) signal(c, 'SIGKILL');
    });
  }
}

function untrack(child: ChildProcess): void {
  running.delete(child);
}
