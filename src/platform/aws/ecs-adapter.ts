import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsClientConfig, perRegion, sendAws as send, type AwsClientOptions } from './aws-client.js';
import type { AwsCall } from './classify-aws-error.js';
import {
  AwsCallError,
  type EcsDeployment,
  type EcsPort,
  type EcsServiceState,
  type ServiceRef,
  type TaskDefinitionRevision,
} from './ecs-port.js';

/** How the real ECS adapter builds its clients. */
export interface EcsAdapterOptions extends AwsClientOptions {
  /** Supplies the client for a region instead of building one (tests pass mocked clients). */
  clientFor?: (region: string) => ECSClient;
}


/** Builds an ECS client for a region with golive's retry and timeout settings. */
export function createEcsClient(region: string, options: AwsClientOptions = {}): ECSClient {
  return new ECSClient(awsClientConfig(region, options));
}


/** The EcsPort backed by @aws-sdk/client-ecs; one client per region, created on first use. */
export function createEcsAdapter(options: EcsAdapterOptions = {}): EcsPort {
  const clientFor = perRegion((region) => (options.clientFor ? options.clientFor(region) : createEcsClient(region, options)));
  // RegisterTaskDefinition is not idempotent: the SDK must not repeat one whose answer was slow (see registerWithImage).
  const onceClientFor = perRegion((region) => (options.clientFor ? options.clientFor(region) : createEcsClient(region, { ...options, maxAttempts: 1 })));
  return {
    describeService: (ref) => describeService(clientFor(ref.region), ref),
    describeTaskDefinition: (region, taskDefinition) => describeTaskDefinition(clientFor(region), region, taskDefinition),
    registerWithImage: (region, from, container, image) => registerWithImage(clientFor(region), region, from, container, image, onceClientFor(region)),
    updateService: (ref, taskDefinition, desiredCount) => updateService(clientFor(ref.region), ref, taskDefinition, desiredCount),
    listRevisions: (region, family) => listRevisions(clientFor(region), region, family),
  };
}

/** Current state of a service; not_found when it does not exist or has been deleted. */
export async function describeService(client: ECSClient, ref: ServiceRef): Promise<EcsServiceState> {
  const call = ecsCall('DescribeServices', ref.region, ref);
  const out = await send(call, () => client.send(new DescribeServicesCommand({ cluster: ref.cluster, services: [ref.service] })));
  const service = out.services?.find((s) => s.serviceName === ref.service || s.serviceArn === ref.service) ?? out.services?.[0];
  if (!service) {
    const failure = out.failures?.[0];
    if (!failure || failure.reason === 'MISSING') {
      throw new AwsCallError(call.operation, 'not_found', serviceNotFound(ref), 'MISSING');
    }
    throw new AwsCallError(
      call.operation,
      'unknown',
      `ECS could not describe service "${ref.service}" in cluster "${ref.cluster}" (${ref.region}): ${failure.reason ?? 'no reason given'}${failure.detail ? ` (${failure.detail})` : ''}.`,
      failure.reason,
    );
  }
  if (service.status === 'INACTIVE') {
    throw new AwsCallError(call.operation, 'not_found', `${serviceNotFound(ref)} It has been deleted (status INACTIVE).`, 'INACTIVE');
  }
  return toServiceState(service, ref);
}

/** One task definition (family, family:revision or ARN) with its containers' images. */
export async function describeTaskDefinition(client: ECSClient, region: string, taskDefinition: string): Promise<TaskDefinitionRevision> {
  const call = ecsCall('DescribeTaskDefinition', region, { taskDefinition });
  const out = await send(call, () => client.send(new DescribeTaskDefinitionCommand({ taskDefinition })));
  if (!out.taskDefinition) throw new AwsCallError(call.operation, 'not_found', taskDefinitionNotFound(taskDefinition, region));
  return toRevision(out.taskDefinition);
}

/** How long golive looks for a revision a RegisterTaskDefinition without an answer may have made: after 1, 3 and 7 s. */
const LOOK_FOR_REGISTERED_MS = [1000, 2000, 4000];
/** How far ECS's clock (a revision's registeredAt) may be behind this host's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Registers a copy of `from` in which only `container`'s image is `image`,
 * keeping the task definition's tags. Returns the new revision.
 *
 * RegisterTaskDefinition makes a new revision every time it is called, so it
 * is sent once (`registerClient` retries nothing): a refusal (throttling) is
 * tried again, but a call without an answer (a timeout, a reset, a 5xx) may
 * have registered, so the family's newest revisions are looked through for
 * it for a few seconds, and it is used if found. If it is not, the call fails
 * rather than register again and leave an orphan revision newer than what runs.
 */
export async function registerWithImage(
  client: ECSClient,
  region: string,
  from: string,
  container: string,
  image: string,
  registerClient: ECSClient = client,
): Promise<TaskDefinitionRevision> {
  const describe = ecsCall('DescribeTaskDefinition', region, { taskDefinition: from });
  const current = await send(describe, () => client.send(new DescribeTaskDefinitionCommand({ taskDefinition: from, include: ['TAGS'] })));
  if (!current.taskDefinition) throw new AwsCallError(describe.operation, 'not_found', taskDefinitionNotFound(from, region));
  const input = withImage(current.taskDefinition, container, image, current.tags);
  const register = ecsCall('RegisterTaskDefinition', region, { taskDefinition: from });
  const startedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await send(register, () => registerClient.send(new RegisterTaskDefinitionCommand(input)));
      if (!out.taskDefinition) {
        throw new AwsCallError(register.operation, 'unknown', `ECS did not return the task definition it registered from "${from}" (${region}).`);
      }
      return toRevision(out.taskDefinition);
    } catch (err) {
      const e = err as AwsCallError;
      if (e.kind === 'throttled' && attempt < 3) {
        await sleep(1000 * attempt);
        continue;
      }
      if (e.kind !== 'timeout' && e.kind !== 'network' && e.kind !== 'unknown') throw err;
      const made = await findRegistered(client, region, current.taskDefinition, imagesOf(input.containerDefinitions ?? []), startedAt - CLOCK_SKEW_MS);
      if (made) return made;
      const family = current.taskDefinition.family ?? from;
      const what = e.kind === 'timeout' ? `AWS ECS did not answer RegisterTaskDefinition for ${family} in time (${region})` : e.message.replace(/[.;]?\s*(try again\.)?$/, '');
      const waited = LOOK_FOR_REGISTERED_MS.reduce((a, b) => a + b, 0) / 1000;
      throw new AwsCallError(
        register.operation,
        e.kind,
        `${what}, and no new revision showed up in the ${waited} s after, so golive did not register another (it would be a stray revision newer than what runs). Nothing was deployed; run the deploy again.`,
        e.awsCode,
      );
    }
  }
}

/** A revision of `from`'s family newer than it, with exactly `images`, registered since `since`: what an unanswered RegisterTaskDefinition made. */
async function findRegistered(client: ECSClient, region: string, from: TaskDefinition, images: Record<string, string>, since: number): Promise<TaskDefinitionRevision | undefined> {
  const family = from.family ?? '';
  for (const waitMs of LOOK_FOR_REGISTERED_MS) {
    await sleep(waitMs);
    const newer = (await listRevisions(client, region, family)).filter((r) => r.revision > (from.revision ?? 0)).slice(0, 5);
    for (const r of newer) {
      const describe = ecsCall('DescribeTaskDefinition', region, { taskDefinition: r.arn });
      const td = (await send(describe, () => client.send(new DescribeTaskDefinitionCommand({ taskDefinition: r.arn })))).taskDefinition;
      if (!td) continue;
      const recent = td.registeredAt === undefined || td.registeredAt.getTime() >= since;
      if (recent && sameImages(imagesOf(td.containerDefinitions ?? []), images)) return toRevision(td);
    }
  }
  return undefined;
}

function imagesOf(containers: { name?: string; image?: string }[]): Record<string, string> {
  return Object.fromEntries(containers.map((c) => [c.name ?? '', c.image ?? '']));
}

function sameImages(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Points a service at `taskDefinition` and returns the state ECS reports in its answer. */
export async function updateService(client: ECSClient, ref: ServiceRef, taskDefinition: string, desiredCount?: number): Promise<EcsServiceState> {
  const call = ecsCall('UpdateService', ref.region, { ...ref, taskDefinition });
  const out = await send(call, () =>
    client.send(new UpdateServiceCommand({ cluster: ref.cluster, service: ref.service, taskDefinition, ...(desiredCount === undefined ? {} : { desiredCount }) })),
  );
  if (!out.service) {
    throw new AwsCallError(call.operation, 'unknown', `ECS did not return service "${ref.service}" after updating it (${ref.region}).`);
  }
  return toServiceState(out.service, ref);
}

/**
 * ACTIVE revisions of exactly `family`, newest first. Images are left empty:
 * describing every revision would cost one call each.
 */
export async function listRevisions(client: ECSClient, region: string, family: string): Promise<TaskDefinitionRevision[]> {
  const call = ecsCall('ListTaskDefinitions', region, { family });
  const revisions: TaskDefinitionRevision[] = [];
  let nextToken: string | undefined;
  do {
    const page = await send(call, () =>
      client.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', nextToken })),
    );
    for (const arn of page.taskDefinitionArns ?? []) {
      const parsed = parseTaskDefinitionArn(arn);
      // familyPrefix is a prefix: "app" also lists "app-worker".
      if (parsed && parsed.family === family) revisions.push({ arn, ...parsed, status: 'ACTIVE', images: {} });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return revisions.sort((a, b) => b.revision - a.revision);
}

/** Family and revision from a task definition ARN (`…:task-definition/family:7`), or undefined. */
export function parseTaskDefinitionArn(arn: string): { family: string; revision: number } | undefined {
  const match = /task-definition\/([A-Za-z0-9_-]+):(\d+)$/.exec(arn);
  if (!match?.[1] || !match[2]) return undefined;
  return { family: match[1], revision: Number(match[2]) };
}

const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const satisfies readonly (keyof TaskDefinition)[];

/**
 * The RegisterTaskDefinition input that copies `taskDefinition` with
 * `container`'s image replaced: read-only fields are dropped, every other
 * container and setting is kept, and `tags` are carried over when there are any.
 * Throws AwsCallError (invalid) when the definition has no such container.
 */
export function withImage(taskDefinition: TaskDefinition, container: string, image: string, tags?: Tag[]): RegisterTaskDefinitionCommandInput {
  const copy: Record<string, unknown> = { ...taskDefinition };
  for (const field of READ_ONLY_FIELDS) delete copy[field];
  const label = taskDefinitionLabel(taskDefinition);
  const containers = taskDefinition.containerDefinitions ?? [];
  if (!containers.some((c) => c.name === container)) {
    const names = containers.map((c) => `"${c.name ?? '?'}"`).join(', ') || 'none';
    throw new AwsCallError(
      'RegisterTaskDefinition',
      'invalid',
      `Task definition ${label} has no container "${container}"; its containers are ${names}.`,
    );
  }
  if (!taskDefinition.family) {
    throw new AwsCallError('RegisterTaskDefinition', 'invalid', `Task definition ${label} has no family, so it cannot be copied.`);
  }
  const input = copy as unknown as RegisterTaskDefinitionCommandInput;
  return {
    ...input,
    family: taskDefinition.family,
    containerDefinitions: containers.map((c) => (c.name === container ? { ...c, image } : c)),
    ...(tags && tags.length > 0 ? { tags } : {}),
  };
}


function toServiceState(service: Service, ref: ServiceRef): EcsServiceState {
  const events = [...(service.events ?? [])]
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))
    .slice(0, 10)
    .map((e) => ({ at: e.createdAt?.toISOString() ?? '', message: e.message ?? '' }));
  return {
    cluster: ref.cluster,
    service: service.serviceName ?? ref.service,
    taskDefinition: service.taskDefinition ?? '',
    desiredCount: service.desiredCount ?? 0,
    runningCount: service.runningCount ?? 0,
    deployments: (service.deployments ?? []).map(
      (d): EcsDeployment => ({
        id: d.id ?? '',
        status: d.status ?? '',
        taskDefinition: d.taskDefinition ?? '',
        desiredCount: d.desiredCount ?? 0,
        runningCount: d.runningCount ?? 0,
        ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
        ...(d.rolloutStateReason ? { rolloutStateReason: d.rolloutStateReason } : {}),
      }),
    ),
    events,
  };
}

function toRevision(td: TaskDefinition): TaskDefinitionRevision {
  const parsed = td.taskDefinitionArn ? parseTaskDefinitionArn(td.taskDefinitionArn) : undefined;
  const images: Record<string, string> = {};
  for (const c of td.containerDefinitions ?? []) if (c.name && c.image) images[c.name] = c.image;
  return {
    arn: td.taskDefinitionArn ?? '',
    family: td.family ?? parsed?.family ?? '',
    revision: td.revision ?? parsed?.revision ?? 0,
    status: td.status ?? 'ACTIVE',
    images,
  };
}

function taskDefinitionLabel(td: TaskDefinition): string {
  return td.family && td.revision ? `"${td.family}:${td.revision}"` : `"${td.taskDefinitionArn ?? td.family ?? 'unknown'}"`;
}

function serviceNotFound(ref: ServiceRef): string {
  return `ECS service "${ref.service}" was not found in cluster "${ref.cluster}" (${ref.region}).`;
}

function taskDefinitionNotFound(taskDefinition: string, region: string): string {
  return `ECS task definition "${taskDefinition}" was not found (${region}).`;
}

interface EcsSubject {
  cluster?: string;
  service?: string;
  taskDefinition?: string;
  family?: string;
}

function ecsCall(operation: string, region: string, subject: EcsSubject): AwsCall {
  const { cluster, service, taskDefinition, family } = subject;
  const described =
    service && cluster
      ? `service "${service}" in cluster "${cluster}"`
      : taskDefinition
        ? `task definition "${taskDefinition}"`
        : family
          ? `task definition family "${family}"`
          : undefined;
  return {
    api: 'ECS',
    iamPrefix: 'ecs',
    operation,
    region,
    ...(described ? { subject: described } : {}),
    notFound: (code) => {
      if (code === 'ClusterNotFoundException' && cluster) return `ECS cluster "${cluster}" was not found (${region}).`;
      if (code === 'ServiceNotFoundException' && cluster && service) return serviceNotFound({ cluster, service, region });
      if (code === 'ServiceNotActiveException' && cluster && service) {
        return `${serviceNotFound({ cluster, service, region })} It has been deleted (status INACTIVE).`;
      }
      if (code === 'TaskDefinitionNotFound' && taskDefinition) return taskDefinitionNotFound(taskDefinition, region);
      return undefined;
    },
  };
}

