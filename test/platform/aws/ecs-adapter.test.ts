import { createServer, type Server, type Socket } from 'node:net';
import {
  AccessDeniedException,
  ClientException,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ECSServiceException,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEcsAdapter, parseTaskDefinitionArn, withImage } from '../../../src/platform/aws/ecs-adapter.js';
import { imageWithTag } from '../../../src/platform/aws/image-ref.js';
import { AwsCallError, type EcsPort } from '../../../src/platform/aws/ecs-port.js';
import { startAwsTap } from '../../support/aws-tap.js';
import { awsTestEnv, type Moto, SEED_TAGS, seedEcs, seededImage, SIDECAR, startMoto, TEST_CREDENTIALS, TEST_REGION } from '../../support/moto.js';

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

describe('ECS adapter against moto', () => {
  let moto: Moto;
  let ecs: EcsPort;
  let raw: ECSClient;

  beforeAll(async () => {
    moto = await startMoto({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
    for (const [key, value] of Object.entries(awsTestEnv(moto.endpoint))) vi.stubEnv(key, value);
    ecs = createEcsAdapter({ endpoint: moto.endpoint });
    raw = new ECSClient({ endpoint: moto.endpoint, region: REGION });
  });

  afterAll(async () => {
    raw?.destroy();
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  it('describes a service, reading the endpoint and region from the environment', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'describe', service: 'api', family: 'describe-api', container: 'app', revisions: 3 });
    const fromEnv = createEcsAdapter();

    const state = await fromEnv.describeService({ cluster: 'describe', service: 'api', region: REGION });

    expect(state).toMatchObject({
      cluster: 'describe',
      service: 'api',
      taskDefinition: seeded.serviceTaskDefinitionArn,
      desiredCount: 2,
      runningCount: 2,
      events: [],
    });
    expect(seeded.serviceTaskDefinitionArn).toMatch(/describe-api:2$/);
    expect(state.deployments).toEqual([
      {
        id: expect.stringMatching(/^ecs-svc\//),
        status: 'PRIMARY',
        taskDefinition: seeded.serviceTaskDefinitionArn,
        desiredCount: 2,
        runningCount: 2,
        rolloutState: 'COMPLETED',
        rolloutStateReason: expect.stringContaining('completed'),
      },
    ]);
  });

  it('describes a task definition with the image of each container', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'td', service: 'api', family: 'td-api', container: 'app', revisions: 2 });

    const revision = await ecs.describeTaskDefinition(REGION, 'td-api:1');

    expect(revision).toEqual({
      arn: seeded.taskDefinitionArns[0],
      family: 'td-api',
      revision: 1,
      status: 'ACTIVE',
      images: { app: seededImage(1), [SIDECAR.name]: SIDECAR.image },
    });
  });

  it('registers a new revision with only the named container image changed, keeping tags', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'reg', service: 'api', family: 'reg-api', container: 'app', revisions: 3 });
    const image = imageWithTag(seededImage(3), 'v4');

    const created = await ecs.registerWithImage(REGION, seeded.taskDefinitionArns[2] ?? '', 'app', image);

    expect(created).toMatchObject({ family: 'reg-api', revision: 4, status: 'ACTIVE', images: { app: image, [SIDECAR.name]: SIDECAR.image } });
    const [before, after] = await Promise.all([
      raw.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'reg-api:3', include: ['TAGS'] })),
      raw.send(new DescribeTaskDefinitionCommand({ taskDefinition: created.arn, include: ['TAGS'] })),
    ]);
    expect(after.tags).toEqual(SEED_TAGS);
    const strip = (td: TaskDefinition | undefined) => ({ ...td, taskDefinitionArn: undefined, revision: undefined, registeredAt: undefined });
    const expected = strip(before.taskDefinition);
    expected.containerDefinitions = expected.containerDefinitions?.map((c) => (c.name === 'app' ? { ...c, image } : c));
    expect(strip(after.taskDefinition)).toEqual(expected);
  });

  it('registers one revision when RegisterTaskDefinition answers after the attempt timeout, instead of a second one on a retry', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'slow', service: 'api', family: 'slow-api', container: 'app', revisions: 2 });
    const image = imageWithTag(seededImage(2), 'v3');
    const tap = await startAwsTap(moto.endpoint);
    try {
      let held = 0;
      // moto registers the revision; its answer never reaches golive, which gives up after 500 ms.
      tap.after = (call) => (call.operation === 'RegisterTaskDefinition' && held++ === 0 ? 'hang' : undefined);
      const slow = createEcsAdapter({ endpoint: tap.endpoint, requestTimeout: 500 });
      const made = await slow.registerWithImage(REGION, seeded.taskDefinitionArns[1] ?? '', 'app', image);
      expect(tap.forwarded('RegisterTaskDefinition')).toHaveLength(1);
      expect((await ecs.listRevisions(REGION, 'slow-api')).map((r) => r.revision)).toEqual([3, 2, 1]);
      expect(made).toMatchObject({ family: 'slow-api', revision: 3, status: 'ACTIVE', images: { app: image, [SIDECAR.name]: SIDECAR.image } });
    } finally {
      await tap.close();
    }
  });

  it('registers nothing more, and says so, when no revision shows up after a RegisterTaskDefinition without an answer', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'lost', service: 'api', family: 'lost-api', container: 'app', revisions: 2 });
    const tap = await startAwsTap(moto.endpoint);
    try {
      // The request never reaches ECS (the SDK reports the dropped connection as a timeout).
      tap.before = (call) => (call.operation === 'RegisterTaskDefinition' ? 'drop' : undefined);
      const lost = createEcsAdapter({ endpoint: tap.endpoint, requestTimeout: 500 });
      const err = await caught(lost.registerWithImage(REGION, seeded.taskDefinitionArns[1] ?? '', 'app', imageWithTag(seededImage(2), 'v3')));
      expect(tap.calls.filter((c) => c.operation === 'RegisterTaskDefinition')).toHaveLength(1);
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe(
        'AWS ECS did not answer RegisterTaskDefinition for lost-api in time (ap-south-1), and no new revision showed up in the 7 s after, so golive did not register another (it would be a stray revision newer than what runs). Nothing was deployed; run the deploy again.',
      );
      expect((await ecs.listRevisions(REGION, 'lost-api')).map((r) => r.revision)).toEqual([2, 1]);
    } finally {
      await tap.close();
    }
  });

  it('refuses to register when the container is not in the definition, naming the ones that are', async () => {
    await seedEcs(moto.endpoint, { cluster: 'nocontainer', service: 'api', family: 'nocontainer-api', container: 'app', revisions: 1 });

    const err = await caught(ecs.registerWithImage(REGION, 'nocontainer-api:1', 'web', 'nginx:1'));

    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('Task definition "nocontainer-api:1" has no container "web"; its containers are "app", "log-router".');
    const list = await ecs.listRevisions(REGION, 'nocontainer-api');
    expect(list.map((r) => r.revision)).toEqual([1]);
  });

  it('updates the service; describing it afterwards shows the new task definition', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'upd', service: 'api', family: 'upd-api', container: 'app', revisions: 3 });
    const ref = { cluster: 'upd', service: 'api', region: REGION };
    const target = seeded.taskDefinitionArns[2] ?? '';

    const reported = await ecs.updateService(ref, target);
    const described = await ecs.describeService(ref);

    expect(reported.taskDefinition).toBe(target);
    expect(described.taskDefinition).toBe(target);
    // moto leaves the deployments untouched: still one PRIMARY, COMPLETED deployment on the old revision.
    expect(described.deployments).toHaveLength(1);
    expect(described.deployments[0]).toMatchObject({ status: 'PRIMARY', taskDefinition: seeded.serviceTaskDefinitionArn, rolloutState: 'COMPLETED' });
  });

  it('lists ACTIVE revisions of exactly the family, newest first', async () => {
    const seeded = await seedEcs(moto.endpoint, { cluster: 'list', service: 'api', family: 'list-api', container: 'app', revisions: 4 });

    const revisions = await ecs.listRevisions(REGION, 'list-api');

    expect(revisions.map((r) => r.revision)).toEqual([4, 3, 2, 1]);
    expect(revisions.map((r) => r.arn)).toEqual([...seeded.taskDefinitionArns].reverse());
    expect(revisions.every((r) => r.family === 'list-api' && r.status === 'ACTIVE')).toBe(true);
    expect(revisions[0]?.images).toEqual({});
    expect(revisions.map((r) => r.arn)).not.toContain(seeded.decoyArn);
  });

  it('reports an unknown service, cluster or task definition as not_found', async () => {
    await seedEcs(moto.endpoint, { cluster: 'nf', service: 'api', family: 'nf-api', container: 'app', revisions: 1 });

    const service = await caught(ecs.describeService({ cluster: 'nf', service: 'ghost', region: REGION }));
    expect(service).toMatchObject({ kind: 'not_found', operation: 'DescribeServices' });
    expect(service.message).toBe('ECS service "ghost" was not found in cluster "nf" (ap-south-1).');

    const cluster = await caught(ecs.describeService({ cluster: 'nowhere', service: 'api', region: REGION }));
    expect(cluster).toMatchObject({ kind: 'not_found', awsCode: 'ClusterNotFoundException' });
    expect(cluster.message).toBe('ECS cluster "nowhere" was not found (ap-south-1).');

    const update = await caught(ecs.updateService({ cluster: 'nf', service: 'ghost', region: REGION }, 'nf-api:1'));
    expect(update).toMatchObject({ kind: 'not_found', operation: 'UpdateService', awsCode: 'ServiceNotFoundException' });
    expect(update.message).toBe('ECS service "ghost" was not found in cluster "nf" (ap-south-1).');

    const td = await caught(ecs.describeTaskDefinition(REGION, 'nf-api:9'));
    expect(td).toMatchObject({ kind: 'not_found', awsCode: 'ClientException' });
    expect(td.message).toBe('ECS task definition "nf-api:9" was not found (ap-south-1).');

    const register = await caught(ecs.registerWithImage(REGION, 'nf-api:9', 'app', 'x:1'));
    expect(register.message).toBe('ECS task definition "nf-api:9" was not found (ap-south-1).');
  });

  it('treats a deleted (INACTIVE) service as not_found', async () => {
    await seedEcs(moto.endpoint, { cluster: 'gone', service: 'api', family: 'gone-api', container: 'app', revisions: 1 });
    await raw.send(new DeleteServiceCommand({ cluster: 'gone', service: 'api', force: true }));

    const err = await caught(ecs.describeService({ cluster: 'gone', service: 'api', region: REGION }));

    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('ECS service "api" was not found in cluster "gone" (ap-south-1). It has been deleted (status INACTIVE).');
  });
});

describe('ECS adapter failures', () => {
  const ref = { cluster: 'prod', service: 'api', region: REGION };
  const client = new ECSClient({ region: REGION, credentials: TEST_CREDENTIALS });
  const mock = mockClient(client);
  const ecs = createEcsAdapter({ clientFor: () => client });

  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('reports throttling that outlasted the retries as throttled', async () => {
    mock.on(DescribeServicesCommand).rejects(
      new ECSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    );

    const err = await caught(ecs.describeService(ref));

    expect(err).toMatchObject({ kind: 'throttled', operation: 'DescribeServices', awsCode: 'ThrottlingException' });
    expect(err.message).toBe('AWS ECS is throttling DescribeServices (ap-south-1) and still refused after retries; try again in a minute.');
  });

  it('reports a missing permission as access_denied, naming the IAM action', async () => {
    mock.on(UpdateServiceCommand).rejects(
      new AccessDeniedException({
        $metadata: { httpStatusCode: 400 },
        message:
          'User: arn:aws:sts::123456789012:assumed-role/golive/i-0abc is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:ap-south-1:123456789012:service/prod/api because no identity-based policy allows the ecs:UpdateService action',
      }),
    );

    const err = await caught(ecs.updateService(ref, 'govisax-prod:3'));

    expect(err).toMatchObject({ kind: 'access_denied', operation: 'UpdateService', awsCode: 'AccessDeniedException' });
    expect(err.message).toBe('AWS refused UpdateService for service "api" in cluster "prod" (ap-south-1): the bot\'s IAM role lacks ecs:UpdateService.');
  });

  it('names iam:PassRole when that is what AWS says is missing', async () => {
    mock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { family: 'govisax-prod', revision: 3, containerDefinitions: [{ name: 'app', image: 'app:v3' }], taskRoleArn: 'arn:aws:iam::1:role/app' },
    });
    mock.on(RegisterTaskDefinitionCommand).rejects(
      new ClientException({
        $metadata: {},
        message: 'User: arn:aws:sts::1:assumed-role/golive/x is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/app',
      }),
    );

    const err = await caught(ecs.registerWithImage(REGION, 'govisax-prod:3', 'app', 'app:v4'));

    expect(err.kind).toBe('access_denied');
    expect(err.message).toBe('AWS refused RegisterTaskDefinition for task definition "govisax-prod:3" (ap-south-1): the bot\'s IAM role lacks iam:PassRole.');
  });

  it('reports rejected credentials as access_denied without echoing them', async () => {
    mock.on(ListTaskDefinitionsCommand).rejects(
      new ECSServiceException({
        name: 'UnrecognizedClientException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'The security token included in the request is invalid. AKIAIOSFODNN7EXAMPLE',
      }),
    );

    const err = await caught(ecs.listRevisions(REGION, 'govisax-prod'));

    expect(err.kind).toBe('access_denied');
    expect(err.message).toBe(
      "AWS did not accept the bot's credentials for ListTaskDefinitions (ap-south-1): check the AWS credentials or role golive runs with.",
    );
  });

  it('reports an unreachable endpoint as network', async () => {
    mock.on(DescribeServicesCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }));

    const err = await caught(ecs.describeService(ref));

    expect(err.kind).toBe('network');
    expect(err.message).toBe('Could not reach AWS ECS for DescribeServices (ap-south-1): connection refused.');
  });

  it('reports invalid parameters with AWS’s reason', async () => {
    mock.on(UpdateServiceCommand).rejects(
      new ECSServiceException({ name: 'InvalidParameterException', $fault: 'client', $metadata: {}, message: 'Task definition does not support launch_type FARGATE' }),
    );

    const err = await caught(ecs.updateService(ref, 'govisax-prod:3'));

    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'AWS rejected UpdateService for service "api" in cluster "prod" (ap-south-1): Task definition does not support launch_type FARGATE.',
    );
  });

  it('reads every page of revisions, keeps only the exact family and sorts newest first', async () => {
    const arn = (family: string, revision: number) => `arn:aws:ecs:ap-south-1:123456789012:task-definition/${family}:${revision}`;
    mock
      .on(ListTaskDefinitionsCommand, { nextToken: undefined })
      .resolves({ taskDefinitionArns: [arn('govisax-prod', 2), arn('govisax-prod-worker', 7)], nextToken: 'page-2' })
      .on(ListTaskDefinitionsCommand, { nextToken: 'page-2' })
      .resolves({ taskDefinitionArns: [arn('govisax-prod', 10), arn('govisax-prod', 9)] });

    const revisions = await ecs.listRevisions(REGION, 'govisax-prod');

    expect(revisions.map((r) => r.revision)).toEqual([10, 9, 2]);
    expect(mock.commandCalls(ListTaskDefinitionsCommand).map((c) => c.args[0].input)).toEqual([
      { familyPrefix: 'govisax-prod', status: 'ACTIVE', sort: 'DESC', nextToken: undefined },
      { familyPrefix: 'govisax-prod', status: 'ACTIVE', sort: 'DESC', nextToken: 'page-2' },
    ]);
  });

  it('keeps the ten newest events, newest first', async () => {
    const events = Array.from({ length: 12 }, (_, i) => ({
      id: `e${i}`,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
      message: `(service api) event ${i}`,
    }));
    mock.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'api', status: 'ACTIVE', taskDefinition: 'td:1', desiredCount: 1, runningCount: 1, deployments: [], events }],
      failures: [],
    });

    const state = await ecs.describeService(ref);

    expect(state.events).toHaveLength(10);
    expect(state.events[0]).toEqual({ at: '2026-01-01T00:11:00.000Z', message: '(service api) event 11' });
    expect(state.events[9]?.message).toBe('(service api) event 2');
  });
});

describe('ECS adapter over a real socket', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let port = 0;

  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    // Accepts connections and never answers.
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up on a silent endpoint as timeout', async () => {
    const ecs = createEcsAdapter({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, requestTimeout: 200 });

    const err = await caught(ecs.describeService({ cluster: 'prod', service: 'api', region: REGION }));

    expect(err.kind).toBe('timeout');
    expect(err.message).toBe('AWS ECS did not answer DescribeServices in time (ap-south-1); try again.');
  });

  it('reports a closed port as network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const ecs = createEcsAdapter({ endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, maxAttempts: 1 });

    const err = await caught(ecs.listRevisions(REGION, 'govisax-prod'));

    expect(err.kind).toBe('network');
    expect(err.message).toBe('Could not reach AWS ECS for ListTaskDefinitions (ap-south-1): connection refused.');
  });
});

describe('withImage', () => {
  const described: TaskDefinition = {
    taskDefinitionArn: 'arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-prod:3',
    family: 'govisax-prod',
    revision: 3,
    status: 'ACTIVE',
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.ecr-auth' }],
    compatibilities: ['EC2', 'FARGATE'],
    registeredAt: new Date('2026-01-01T00:00:00Z'),
    registeredBy: 'arn:aws:sts::123456789012:assumed-role/deployer/ci',
    deregisteredAt: new Date('2026-01-02T00:00:00Z'),
    deleteRequestedAt: new Date('2026-01-03T00:00:00Z'),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    containerDefinitions: [
      { name: 'app', image: 'repo/app:v3', essential: true, environment: [{ name: 'MODE', value: 'prod' }] },
      { name: 'log-router', image: 'fluent-bit:2', essential: false },
    ],
  };

  it('copies the definition without read-only fields and swaps one image', () => {
    const input = withImage(described, 'app', 'repo/app:v4', [{ key: 'team', value: 'govisax' }]);

    expect(input).toEqual({
      family: 'govisax-prod',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      containerDefinitions: [
        { name: 'app', image: 'repo/app:v4', essential: true, environment: [{ name: 'MODE', value: 'prod' }] },
        { name: 'log-router', image: 'fluent-bit:2', essential: false },
      ],
      tags: [{ key: 'team', value: 'govisax' }],
    });
    expect(described.containerDefinitions?.[0]?.image).toBe('repo/app:v3');
  });

  it('leaves tags out when there are none', () => {
    expect(withImage(described, 'app', 'x:1', [])).not.toHaveProperty('tags');
    expect(withImage(described, 'app', 'x:1')).not.toHaveProperty('tags');
  });

  it('names the containers that exist when the one asked for does not', () => {
    expect(() => withImage(described, 'web', 'x:1')).toThrowError(
      new AwsCallError('RegisterTaskDefinition', 'invalid', 'Task definition "govisax-prod:3" has no container "web"; its containers are "app", "log-router".'),
    );
  });
});

describe('imageWithTag', () => {
  it.each([
    ['123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v1', 'v2', '123456789012.dkr.ecr.ap-south-1.amazonaws.com/govisax:v2'],
    ['localhost:5000/app', 'v2', 'localhost:5000/app:v2'],
    ['localhost:5000/team/app:1.0', '1.1', 'localhost:5000/team/app:1.1'],
    ['app', 'latest', 'app:latest'],
    ['nginx:1.27', '1.28-alpine', 'nginx:1.28-alpine'],
    [`app@sha256:${'a'.repeat(64)}`, 'v3', 'app:v3'],
    [`registry:5000/app:v1@sha256:${'a'.repeat(64)}`, 'v3', 'registry:5000/app:v3'],
    ['app:v1', `sha256:${'b'.repeat(64)}`, `app@sha256:${'b'.repeat(64)}`],
  ])('%s + %s -> %s', (image, tag, expected) => {
    expect(imageWithTag(image, tag)).toBe(expected);
  });

  it('refuses something that is not a tag', () => {
    expect(() => imageWithTag('app:v1', 'v2; rm -rf /')).toThrowError(AwsCallError);
    expect(() => imageWithTag('app:v1', '')).toThrowError(/not a valid image tag/);
  });
});

describe('parseTaskDefinitionArn', () => {
  it('reads family and revision', () => {
    expect(parseTaskDefinitionArn('arn:aws:ecs:ap-south-1:123456789012:task-definition/govisax-prod-worker:12')).toEqual({
      family: 'govisax-prod-worker',
      revision: 12,
    });
    expect(parseTaskDefinitionArn('govisax-prod')).toBeUndefined();
  });
});
