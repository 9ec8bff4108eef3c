import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { openDatabase } from '../platform/store/open-database.js';
import { Store } from '../platform/store/store.js';
import { SqliteStore } from '../platform/store/sqlite-store.js';
import type { Config } from '../config.js';
import type { Clock } from '../platform/clock.js';
import { createApp, type GoliveApp } from '../create-app.js';
import { createLogger } from '../platform/logger.js';
import { loadRunbookFile, RunbookError } from '../platform/runbook/load-runbook.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { CloudWatchSim, type CloudWatchSimSnapshot } from './cloudwatch-sim.js';
import { EcsSim, type EcsSimSnapshot } from './ecs-sim.js';
import { EvidenceSim, type EvidenceSimSnapshot } from './evidence-sim.js';
import { Interactions } from './interactions.js';
import { PagerSim, type PagerSimSnapshot } from './pager-sim.js';
import { sandboxDirectory } from './people.js';
import { createSandboxHandler } from './sandbox-server.js';
import type { SandboxConfig } from './sandbox-config.js';
import { SavedStateRepository } from './saved-state-repository.js';
import { SlackSim, type SlackSimSnapshot } from './slack-sim.js';

/** A running sandbox: the page, the simulated world, and the real app wired to it. */
export interface RunningSandbox {
  /** The page's URL. */
  url: string;
  app: GoliveApp;
  runbook: Runbook;
  slack: SlackSim;
  ecs: EcsSim;
  cloudwatch: CloudWatchSim;
  pager: PagerSim;
  evidence: EvidenceSim;
  interactions: Interactions;
  /** Saves the world and stops the app and the page. */
  stop(): Promise<void>;
}

/** How a test runs the sandbox; the `golive sandbox` command gives none of these. */
export interface SandboxOptions {
  logDestination?: DestinationStream;
  alarmPolling?: boolean;
  clock?: Clock;
  canaryPollMs?: number;
  /** Shrinks golive's Slack pacing and its gathering window (10 s between checklist announcements) for a test; 1 otherwise. */
  slackLimitScale?: number;
}

/**
 * Starts golive against a simulated Slack workspace, ECS, CloudWatch and
 * PagerDuty, all in this process and on this machine. The real app runs
 * unchanged: the page's clicks become Slack-signed requests to its receiver,
 * and its Web API calls land on the sandbox's Slack simulator.
 */
export async function startSandbox(config: SandboxConfig, opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const loaded = loadRunbookFile(config.runbookPath);
  if (!loaded.ok) throw new RunbookError(loaded.problems);
  const store = new SqliteStore(openDatabase(config.dbPath));
  try {
    return await wire(config, loaded.runbook, store, opts);
  } catch (err) {
    void store.close();
    throw err;
  }
}

async function wire(config: SandboxConfig, runbook: Runbook, store: Store, opts: SandboxOptions): Promise<RunningSandbox> {
  const saved = await SavedStateRepository.open(store);
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(24).toString('hex');

  const directory = sandboxDirectory(runbook);
  const slack = new SlackSim({ directory, token: botToken, opsChannel: { id: runbook.launch.channel, name: 'ops' }, snapshot: await saved.load<SlackSimSnapshot>('slack') });
  const ecs = new EcsSim(runbook.services, { rolloutMs: config.rolloutMs, snapshot: await saved.load<EcsSimSnapshot>('ecs') });
  const cloudwatch = new CloudWatchSim(runbook, { snapshot: await saved.load<CloudWatchSimSnapshot>('cloudwatch') });
  const pager = new PagerSim({ snapshot: await saved.load<PagerSimSnapshot>('pager') });
  const evidence = new EvidenceSim(runbook, { snapshot: await saved.load<EvidenceSimSnapshot>('evidence') });

  // Changes are saved and announced once per turn of the event loop, however many a request makes.
  let version = 0;
  let pending = false;
  const subscribers = new Set<(v: number) => void>();
  // One save at a time, in order, so that stop() can wait for the last before closing the database.
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> =>
    (saving = saving
      .catch(() => undefined)
      .then(() =>
        store.transaction(async () => {
          await saved.save('slack', slack.snapshot());
          await saved.save('ecs', ecs.snapshot());
          await saved.save('cloudwatch', cloudwatch.snapshot());
          await saved.save('pager', pager.snapshot());
          await saved.save('evidence', evidence.snapshot());
        }),
      ));
  const changed = () => {
    version += 1;
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (store.isOpen) void save();
      for (const s of subscribers) s(version);
    });
  };
  for (const sim of [slack, ecs, cloudwatch, pager, evidence]) sim.onChange(changed);
  await save();

  let app: GoliveApp | undefined;
  let appPort = 0;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`The sandbox cannot listen on ${config.host}:${config.port}: the port is in use. Set PORT to another port (PORT=0 picks a free one).`) : err));
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const interactions = new Interactions({ slack, signingSecret, baseUrl: base });
  slack.filesBaseUrl = base;
  server.on(
    'request',
    createSandboxHandler({
      runbook,
      slack,
      ecs,
      cloudwatch,
      pager,
      evidence,
      verifyItems: async (ids) => {
        const checks = app?.services.evidence;
        if (checks) await checks.verify(checks.checked().filter((t) => ids.includes(t.item.id)), 'sandbox');
      },
      interactions,
      pollAlarms: async () => {
        await app?.services.alarms.poll();
      },
      fromApp: async (path) => {
        const res = await fetch(`http://127.0.0.1:${appPort}${path}`);
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
      },
      appHealth: async () => {
        const res = await fetch(`http://127.0.0.1:${appPort}/healthz`);
        return { status: res.status, body: await res.text() };
      },
      loopbackOnly: ['127.0.0.1', 'localhost', '::1'].includes(config.host),
      version: () => version,
      subscribe: (send) => {
        subscribers.add(send);
        return () => subscribers.delete(send);
      },
    }),
  );

  // The smoke check must not leave the machine: it asks the sandbox's simulated service instead.
  const sandboxRunbook: Runbook = structuredClone(runbook);
  for (const s of sandboxRunbook.services) if (s.smoke_check) s.smoke_check.url = `${base}/sandbox/smoke/${s.name}`;
  // So must a canary's health check: the simulated service answers it.
  for (const s of sandboxRunbook.services) if (s.canary?.health_check) s.canary.health_check.url = `${base}/sandbox/smoke/${s.name}`;

  const appConfig: Config = {
    slack: { botToken, signingSecret, apiUrl: `${base}/api/`, limitScale: 1 },
    port: 0,
    // The sandbox's own server is the only way in; its clock is its own (the accepting thread stamps with the system's).
    ackThread: false,
    runbookPath: config.runbookPath,
    dbPath: config.dbPath,
    replica: 'sandbox',
    aws: {},
    pagerduty: { eventsUrl: `${base}/sandbox/pagerduty-unused`, apiUrl: `${base}/sandbox/pagerduty-unused` },
    logLevel: config.logLevel,
    // The report's link: the sandbox page passes /reports/… through to the app.
    publicUrl: base,
  };
  const logger = createLogger({ level: config.logLevel, secrets: [botToken, signingSecret], destination: opts.logDestination });
  try {
    app = createApp({ config: appConfig, runbook: sandboxRunbook, store, ecs, cloudwatch, pager, logger, rolloutPollMs: 1000, alarmPolling: opts.alarmPolling, clock: opts.clock, canaryPollMs: opts.canaryPollMs, slackLimitScale: opts.slackLimitScale, evidencePorts: evidence.ports(ecs), ses: evidence.ses });
    appPort = (await app.start()).port;
  } catch (err) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  interactions.connect(`http://127.0.0.1:${appPort}/slack/events`);

  const running = app;
  return {
    url: `${base}/`,
    app: running,
    runbook: sandboxRunbook,
    slack,
    ecs,
    cloudwatch,
    pager,
    evidence,
    interactions,
    async stop() {
      await running.stop();
      for (const s of subscribers) subscribers.delete(s);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await save();
      void store.close();
    },
  };
}

/** What `npm start` prints when the sandbox is up. */
export function sandboxBanner(s: RunningSandbox, config: SandboxConfig): string {
  const people = s.slack
    .people()
    .map((p) => `${p.name} (${p.roleNames.join(', ') || 'no role'})`)
    .join(', ');
  return [
    '',
    `  golive SANDBOX: ${s.runbook.launch.name}`,
    `  Open ${s.url} in your browser.`,
    '',
    `  No Slack workspace, AWS account or PagerDuty account is used: Slack, ECS, CloudWatch and`,
    `  PagerDuty are simulated in this process. Session state: ${config.dbPath} (delete it to start over).`,
    `  Runbook: ${config.runbookPath}. People: ${people}.`,
    `  To run the real bot instead, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README.md).`,
    '',
  ].join('\n');
}
