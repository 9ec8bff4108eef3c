import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { createAlarmsModule, type AlarmService } from './alarms/index.js';
import { createCanaryModule } from './canary/index.js';
import { checklistGathering, createChecklistModule, type ChecklistService } from './checklist/index.js';
import { commandSpecs } from './command-specs.js';
import { ConfigError, databaseSecrets, SIGNING_SECRET_MISSING, StartupError, type Config } from './config.js';
import { createDeploysModule } from './deploys/index.js';
import { createEscalationModule, type EscalationService } from './escalation/index.js';
import { createEvidenceModule, createHttpProbe, createTlsProbe, type EvidencePorts, type EvidenceService } from './evidence/index.js';
import { createGoNoGoModule, type GoNoGoService } from './gonogo/index.js';
import { createHistoryModule } from './history/index.js';
import { createHomeModule } from './home/index.js';
import { createIncidentsModule, type IncidentService } from './incidents/index.js';
import { createLocksModule } from './locks/index.js';
import { createReportModule } from './report/index.js';
import { logNodeSupport } from './platform/aws/aws-client.js';
import { createCloudWatchAdapter } from './platform/aws/cloudwatch-adapter.js';
import type { CloudWatchPort, MetricBatchPort } from './platform/aws/cloudwatch-port.js';
import { createEcsAdapter } from './platform/aws/ecs-adapter.js';
import type { EcsPort } from './platform/aws/ecs-port.js';
import type { AcmPort } from './platform/aws/acm-port.js';
import type { EcrPort } from './platform/aws/ecr-port.js';
import { loadOnFirstUse } from './platform/aws/load-on-first-use.js';
import type { RdsPort } from './platform/aws/rds-port.js';
import type { Route53Port } from './platform/aws/route53-port.js';
import type { SecretsPort } from './platform/aws/secrets-port.js';
import type { SesPort } from './platform/aws/ses-port.js';
import { Background } from './platform/background.js';
import { ChangeSignals } from './platform/change-signals.js';
import { systemClock, type Clock } from './platform/clock.js';
import { inSpecOrder } from './platform/commands/command-spec.js';
import { helpCommand } from './platform/commands/help.js';
import type { FeatureModule } from './platform/feature-module.js';
import { WatchHealth } from './platform/health/watch-health.js';
import { healthRoute } from './platform/http/health.js';
import { boltRoutes, routeListener } from './platform/http/routes.js';
import { createLogger, type Logger } from './platform/logger.js';
import { Outbox } from './platform/outbox/outbox.js';
import { createOnCallLookup } from './platform/pager/oncall.js';
import { pagingRules } from './platform/pager/paging-rules.js';
import type { PagerPort } from './platform/pager/pager-port.js';
import { createPagerDutyAdapter } from './platform/pager/pagerduty-adapter.js';
import { RoleDirectory } from './platform/roles/resolve-roles.js';
import { loadRunbookFile, RunbookError } from './platform/runbook/load-runbook.js';
import type { Runbook } from './platform/runbook/schema.js';
import { Scheduler, type Job } from './platform/scheduler.js';
import { toBoltLogger } from './platform/slack/bolt-logger.js';
import { createWebApiClient } from './platform/slack/web-api-client.js';
import { guardHttpReceiver } from './platform/slack/guard-receiver.js';
import { CallScheduler } from './platform/slack/call-scheduler.js';
import { createSlackAdapter } from './platform/slack/slack-adapter.js';
import { SlackCallError, type SlackPort } from './platform/slack/slack-port.js';
import { Inbox } from './platform/slack/inbox.js';
import { createSlackUi, RECORDED_CONTEXT, REPLAY_CONTEXT } from './platform/slack/slack-ui.js';
import { startAckThread, type AckThread, type AcceptedRequest } from './platform/slack/ack-thread.js';
import { AuditRepository } from './platform/store/audit-repository.js';
import { detailOf } from './platform/store/check-database.js';
import { changeRelayFor, leaderLockFor, openStore } from './platform/store/open-store.js';
import { RequestRepository } from './platform/store/request-repository.js';
import type { Store } from './platform/store/store.js';
import { LeaderRepository } from './platform/leadership/leader-repository.js';
import { Leadership } from './platform/leadership/leadership.js';
import { Liveness } from './platform/leadership/liveness.js';
import { ReplicaRepository } from './platform/leadership/replica-repository.js';
import type { SnsVerifier } from './alarms/verify-sns.js';
import type { TimelineService } from './timeline/index.js';
import { createTimelineModule } from './timeline/index.js';

function isMetricBatch(port: CloudWatchPort): port is CloudWatchPort & MetricBatchPort {
  return typeof (port as Partial<MetricBatchPort>).getMetricDataBatch === 'function';
}

/** Why auth.test failed at start-up, in words: no answer from Slack is not Slack refusing the token. */
function startupSlackError(err: Error, apiUrl: string): StartupError {
  const code = err instanceof SlackCallError ? err.slackError : err.message;
  if (code.startsWith('request_error')) return new StartupError(`Slack could not be reached at ${apiUrl} (auth.test: ${code}). Check the network (DNS, firewall, proxy) and SLACK_API_URL.`);
  if (code.startsWith('http_error')) return new StartupError(`Slack answered auth.test with an HTTP error at ${apiUrl} (${code}). Check SLACK_API_URL, or try again if Slack is having an outage.`);
  return new StartupError(`Slack refused the bot token (auth.test: ${code}). Check SLACK_BOT_TOKEN and SLACK_API_URL.`);
}

function loadRunbook(file: string): Runbook {
  const loaded = loadRunbookFile(file);
  if (!loaded.ok) throw new RunbookError(loaded.problems);
  return loaded.runbook;
}

/** What `createApp` needs; everything but `config` defaults to the real thing. */
export interface AppOptions {
  config: Config;
  runbook?: Runbook;
  slack?: SlackPort;
  ecs?: EcsPort;
  cloudwatch?: CloudWatchPort;
  /** Batched GetMetricData for canary analyses (default: `cloudwatch` when it has it, else the real adapter). */
  metrics?: MetricBatchPort;
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  /** How often a rollout is polled (default 5 s); tests use less. */
  rolloutPollMs?: number;
  /** How often expired approval requests and due incident reminders are swept (default 30 s). */
  expirySweepMs?: number;
  pager?: PagerPort;
  /** Verifies SNS pushes; tests inject one that knows the fixtures' certificate. */
  snsVerifier?: SnsVerifier;
  /** Visits an SNS SubscribeURL (default: fetch); tests have no internet to reach SNS. */
  snsConfirm?: (url: string) => Promise<number>;
  /** How often a replica tries to become leader, or checks it still is (default 5 s). */
  leaderCheckMs?: number;
  /** How often the outbox retries (default 5 s). */
  outboxPollMs?: number;
  /** Turns the alarm poll schedule off (tests call `alarms.poll()` themselves). */
  alarmPolling?: boolean;
  /** How long App Home waits for a burst of changes to settle before republishing (default 2 s). */
  homeDebounceMs?: number;
  /** How often a canary's analysis loop looks at the clock (default 1 s); tests with a movable clock use less. */
  canaryPollMs?: number;
  /** After how long a command still without a reply gets a private "still working" notice (default 4 s). */
  slowReplyMs?: number;
  /** How long a clean stop waits for requests being handled (default 8 s, within `docker stop`'s 10); the rest are finished after the restart. */
  stopDrainMs?: number;
  /** What evidence checks read, instead of the real AWS adapters and HTTP/TLS probes (the sandbox, tests). */
  evidencePorts?: Partial<EvidencePorts>;
  /** SES v2 for the SES check and escalation email (default: the real adapter). */
  ses?: SesPort;
  /** Turns the verification schedule off (tests run passes themselves). */
  verificationPolling?: boolean;
  /** Shrinks Slack's rate-limit windows and Retry-After pauses for golive's call scheduler (tests run a minute's budget in less; 0 waits for nothing, for tests that move a simulated clock); default 1. */
  slackLimitScale?: number;
}

/** A wired golive instance. */
export interface GoliveApp {
  /** Starts listening (HTTP mode) or connecting (Socket Mode); resolves with the HTTP port. */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  store: Store;
  outbox: Outbox;
  /** Whether this replica does the timed work. */
  leadership: Leadership;
  /** The services tests and the sandbox drive directly (a poll now, a reminder sweep now). */
  services: { checklist: ChecklistService; alarms: AlarmService; incidents: IncidentService; timeline: TimelineService; evidence: EvidenceService; escalation: EscalationService; gonogo: GoNoGoService; slack: SlackPort };
}

/** The composition root: builds the platform's adapters, each feature module on top of them, and hands their commands, buttons, routes and jobs to Bolt, one route table and one scheduler. */
export function createApp(options: AppOptions): GoliveApp {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: [config.slack.botToken, config.slack.signingSecret, config.slack.appToken, config.pagerduty.routingKey, config.pagerduty.apiToken, config.eventBridgeSecret, ...databaseSecrets(config)] });

  logNodeSupport(logger);

  const runbook = options.runbook ?? loadRunbook(config.runbookPath);
  const paging = pagingRules(runbook);
  if (paging.length > 0 && !config.pagerduty.routingKey && !options.pager) {
    throw new ConfigError([`PAGERDUTY_ROUTING_KEY is not set, but the runbook pages on-call (${paging.join(', ')}): set the Events API v2 integration key, or set page: false`]);
  }
  const socketMode = Boolean(config.slack.appToken);
  if (!socketMode && !config.slack.signingSecret) throw new ConfigError([SIGNING_SECRET_MISSING]);
  // Opened, read through and written once before anything else: a damaged or read-only database stops the start here, naming the file.
  const store = options.store ?? openStore(config, logger);
  // One replica does the timed work; with SQLite that is always this one.
  const lock = leaderLockFor(store, (err) => leadership.lost(err));
  const leadership: Leadership = new Leadership({ replica: config.replica, lock, rows: new LeaderRepository(store), clock, logger, checkMs: options.leaderCheckMs });
  // Several replicas (a lock to elect the leader): each says it is alive, and what one that died was doing is taken over.
  const liveness = new Liveness({ replica: config.replica, rows: lock ? new ReplicaRepository(store) : undefined, logger });
  const watchers = { replica: config.replica, shared: liveness.shared, deadBefore: () => liveness.deadBefore() };

  // The platform: Slack, AWS, PagerDuty, the outbox, roles.
  const webApi = {
    apiUrl: config.slack.apiUrl,
    // A Slack call that never answers would hold up the outbox, and every page queued behind it.
    timeoutMs: 10_000,
    // Interactive replies should fail fast; posts that must arrive go through the outbox, which retries for longer.
    retries: { retries: 2, factor: 2, minTimeoutMs: 250, maxTimeoutMs: 2000 },
    logger,
  };
  // The outbox's own client retries nothing: a post whose answer was lost is looked up before it is sent again (src/platform/outbox/outbox.ts).
  // Both clients' calls wait their turn in one scheduler: Slack's budgets are per method, whoever calls.
  const slackCalls = new CallScheduler({ scale: options.slackLimitScale ?? config.slack.limitScale });
  const slack =
    options.slack ??
    createSlackAdapter(createWebApiClient(config.slack.botToken, webApi), createWebApiClient(config.slack.botToken, { ...webApi, retries: { ...webApi.retries, retries: 0 } }), slackCalls);
  const awsOptions = { endpoint: config.aws.endpointUrl };
  const ecs = options.ecs ?? createEcsAdapter(awsOptions);
  const cloudwatch = options.cloudwatch ?? createCloudWatchAdapter(awsOptions);
  const metrics: MetricBatchPort = options.metrics ?? (isMetricBatch(cloudwatch) ? cloudwatch : createCloudWatchAdapter(awsOptions));
  const pager = options.pager ?? (config.pagerduty.routingKey ? createPagerDutyAdapter({ routingKey: config.pagerduty.routingKey, eventsUrl: config.pagerduty.eventsUrl }) : undefined);
  const onCall = config.pagerduty.apiToken ? createOnCallLookup({ token: config.pagerduty.apiToken, apiUrl: config.pagerduty.apiUrl }) : undefined;
  const ses = options.ses ?? loadOnFirstUse<SesPort>(() => import('./platform/aws/ses-adapter.js').then((m) => m.createSesAdapter(awsOptions)), { getAccount: true, sendEmail: true });
  const email = runbook.email;
  const outbox = new Outbox(store, slack, clock, logger, options.outboxPollMs ?? 5000, pager, email ? (m) => ses.sendEmail(email.region, m) : undefined, config.replica);
  outbox.pollOnlyWhen(() => leadership.isLeader());
  const roles = new RoleDirectory(runbook, slack, clock);
  const requests = new RequestRepository(store);
  const inbox = new Inbox({ requests, store, clock, logger, replica: config.replica });
  const signals = new ChangeSignals();
  const background = new Background(logger);
  const shared = { runbook, store, clock, logger, signals };
  // golive's own health: alarm polls, PagerDuty deliveries and the outbox's backlog, told in the ops channel when they fail.
  const health = new WatchHealth({ runbook, store, clock, logger, afterChange: () => signals.emit('outbox', 'status', 'home') });
  outbox.report(health);

  // The features, each built on what it needs.
  const checklist = createChecklistModule({ ...shared, slack, roles });
  outbox.gather(checklistGathering, options.slackLimitScale ?? config.slack.limitScale);
  const alarms = createAlarmsModule({
    ...shared,
    roles,
    cloudwatch,
    outbox,
    defaultRegion: config.aws.region,
    eventBridgeSecret: config.eventBridgeSecret,
    snsVerifier: options.snsVerifier,
    snsConfirm: options.snsConfirm,
    polling: options.alarmPolling !== false,
    health,
  });
  const timeline = createTimelineModule({ ...shared, roles, checklist: checklist.checklist });
  const locks = createLocksModule({ ...shared, roles, t0: async () => (await timeline.timeline.t0())?.at });
  const deploys = createDeploysModule({ ...shared, slack, ecs, alarms: alarms.alarms, checklist: checklist.checklist, roles, background, locks: locks.locks, rolloutPollMs: options.rolloutPollMs ?? 5000, watchers });
  const canary = createCanaryModule({
    ...shared,
    slack,
    ecs,
    metrics,
    deploys: deploys.deploys,
    changeBoard: deploys.changeBoard,
    alarms: alarms.alarms,
    locks: locks.locks,
    roles,
    background,
    pollMs: options.canaryPollMs ?? 1000,
    rolloutPollMs: options.rolloutPollMs ?? 5000,
    watchers,
  });
  const incidents = createIncidentsModule({
    ...shared,
    slack,
    roles,
    background,
    alarms: alarms.alarms,
    deploys: deploys.deploys,
    changeBoard: deploys.changeBoard,
    onCall,
    canPage: pager !== undefined,
    changesBetween: (from, until) => deploys.changes.between(from, until),
  });
  const gonogo = createGoNoGoModule({ ...shared, slack, cloudwatch, alarms: alarms.alarms, checklist: checklist.checklist, timeline: timeline.timeline, incidents: incidents.incidents, roles, defaultRegion: config.aws.region });
  const home = createHomeModule({
    ...shared,
    slack,
    statusBoard: checklist.statusBoard,
    alarms: alarms.alarms,
    incidents: incidents.incidents,
    timeline: timeline.timeline,
    gonogo: gonogo.gonogo,
    approvals: deploys.approvals,
    debounceMs: options.homeDebounceMs ?? 2000,
  });
  const evidence = createEvidenceModule({
    ...shared,
    background,
    checklist: checklist.checklist,
    polling: options.verificationPolling !== false,
    ports: {
      // Loaded when a check first asks that service (see load-on-first-use.ts).
      secrets: loadOnFirstUse<SecretsPort>(() => import('./platform/aws/secrets-adapter.js').then((m) => m.createSecretsAdapter(awsOptions)), { describeSecrets: true }),
      acm: loadOnFirstUse<AcmPort>(() => import('./platform/aws/acm-adapter.js').then((m) => m.createAcmAdapter(awsOptions)), { listCertificates: true, describeCertificate: true }),
      route53: loadOnFirstUse<Route53Port>(() => import('./platform/aws/route53-adapter.js').then((m) => m.createRoute53Adapter(awsOptions)), { zonesNamed: true, recordSet: true }),
      rds: loadOnFirstUse<RdsPort>(() => import('./platform/aws/rds-adapter.js').then((m) => m.createRdsAdapter(awsOptions)), { describeInstance: true, latestSnapshot: true }),
      ecr: loadOnFirstUse<EcrPort>(() => import('./platform/aws/ecr-adapter.js').then((m) => m.createEcrAdapter(awsOptions)), { findImage: true }),
      ses,
      ecs,
      alarms: alarms.alarms,
      http: createHttpProbe(),
      tls: createTlsProbe(),
      ...options.evidencePorts,
    },
  });
  const escalation = createEscalationModule({ ...shared, roles, incidents: incidents.incidents, alarms: alarms.alarms, canPage: pager !== undefined });
  const history = createHistoryModule({ audit: new AuditRepository(store), runbook, changes: deploys.changes });
  const report = createReportModule({
    ...shared,
    slack,
    outbox,
    roles,
    checklist: checklist.checklist,
    timeline: timeline.timeline,
    gonogo: gonogo.gonogo,
    changes: deploys.changes,
    alarms: alarms.alarms,
    incidents: incidents.incidents,
    publicUrl: config.publicUrl,
  });

  const modules: FeatureModule[] = [checklist, evidence, gonogo, timeline, deploys, canary, locks, alarms, incidents, escalation, history, home, report];

  // What a committed change means for the parts that show it, now that they all exist.
  checklist.statusBoard.useVerdict((snapshot, own) => gonogo.verdictLine(snapshot, own));
  checklist.statusBoard.showHolds(() => locks.locks.holdLines());
  checklist.statusBoard.showDegraded(() => health.lines());
  // With replicas, the leader alone redraws boards and App Home, for changes made on any of them (told through the store).
  const relay = changeRelayFor(
    store,
    (kind) => {
      if (leadership.isLeader() && (kind === 'status' || kind === 'home')) signals.emit(kind);
    },
    (err) => logger.warn({ err }, 'lost the connection that tells replicas of changes; reopening it'),
  );
  const drawsHere = () => !relay || leadership.isLeader();
  const told = new Set<'status' | 'home'>();
  const tellLeader = (kind: 'status' | 'home') => {
    // Once per turn of the event loop, however many changes it committed.
    if (told.has(kind)) return;
    told.add(kind);
    setImmediate(() => {
      told.delete(kind);
      relay?.publish(kind).catch((err: unknown) => logger.warn({ err, kind }, 'could not tell the leader to redraw; the next change will'));
    });
  };
  // A new leader may have missed notices while the old one led: it redraws once.
  if (relay) leadership.onChange((leading) => leading && signals.emit('status', 'home'));
  let boardsDue = false;
  signals.on('outbox', () => void outbox.flush());
  signals.on('status', () => {
    if (!drawsHere()) return tellLeader('status');
    // One refresh per turn of the event loop, however many changes it committed.
    if (boardsDue) return;
    boardsDue = true;
    setImmediate(() => {
      boardsDue = false;
      void checklist.statusBoard.refreshAll();
    });
  });
  signals.on('home', () => (drawsHere() ? home.home.changed() : tellLeader('home')));
  signals.onHomeViewer((userId) => home.home.publish(userId));

  // One route table, for whichever receiver Slack reaches golive through.
  const routes = [healthRoute({ store, outbox, health, leadership, mode: socketMode ? 'socket' : 'http', runbookPath: config.runbookPath, runbook }), ...modules.flatMap((m) => m.routes ?? [])];
  const receiver = socketMode
    ? new SocketModeReceiver({
        appToken: config.slack.appToken!,
        logger: toBoltLogger(logger),
        // Bolt's default Socket Mode receiver ignores the app's clientOptions, so apps.connections.open would bypass SLACK_API_URL.
        installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
      })
    : new HTTPReceiver({ signingSecret: config.slack.signingSecret!, endpoints: '/slack/events', logger: toBoltLogger(logger), customRoutes: boltRoutes(routes) });
  if (receiver instanceof HTTPReceiver) guardHttpReceiver(receiver, '/slack/events');
  const bolt = new App({
    token: config.slack.botToken,
    receiver,
    logger: toBoltLogger(logger),
    logLevel: LogLevel.INFO,
    // Bolt would call auth.test in the constructor; start() checks the token first, to fail with a clear
    // message, then runs init(). (With tokenVerificationEnabled: false instead, Bolt 5 calls auth.test
    // again for every incoming request, before the ack.)
    deferInitialization: true,
    // golive keeps no conversation state; Bolt's store would look one up for every request.
    convoStore: false,
    // Bolt's own client (its auth.test at start-up); golive's calls go through the adapter above.
    clientOptions: { slackApiUrl: config.slack.apiUrl, timeout: webApi.timeoutMs, rejectRateLimitedCalls: true, retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 }, logger: toBoltLogger(logger) },
  });
  const commands = inSpecOrder(commandSpecs, [...modules.flatMap((m) => m.commands ?? []), helpCommand(commandSpecs)]);
  const ui = createSlackUi(bolt, { slack, inbox, logger, commands, launchChannel: runbook.launch.channel, slowReplyMs: options.slowReplyMs });
  for (const m of modules) m.register?.(ui);

  const pruneRequests: Job = {
    // Replays older than Bolt's 5-minute signature window are refused anyway; their keys need not be kept.
    name: 'request-keys',
    schedule: 'sweep',
    atStart: 'required',
    run: () => requests.prune(new Date(clock.now().getTime() - 24 * 3600_000).toISOString()),
    failure: 'pruning old request keys failed',
  };
  // What the previous process acknowledged and did not finish, run again as if Slack had just sent it. With several
  // replicas: this one's own from before this start, and, on the leader (`others`), those of replicas that died.
  let startedAt = clock.now().toISOString();
  const replay = (others: boolean) =>
    inbox.finishUnfinished((body) => bolt.processEvent({ body, ack: async () => undefined, customProperties: { [REPLAY_CONTEXT]: true } }), slack, liveness.shared ? { since: startedAt, deadBefore: others ? liveness.deadBefore() : undefined } : undefined);
  const takeoverJobs: Job[] = liveness.shared
    ? [
        {
          // In the background: running a request again can take as long as the request (AWS, Slack).
          name: 'request-takeover',
          schedule: 'sweep',
          run: async () => background.run(() => replay(true)),
          failure: 'running again the requests of a replica that stopped failed',
        },
        {
          name: 'outbox-takeover',
          schedule: 'sweep',
          run: async () => {
            const deadBefore = liveness.deadBefore();
            if (deadBefore) await outbox.takeOverClaims(deadBefore);
          },
          failure: 'taking over the outbox rows of a replica that stopped failed',
        },
      ]
    : [];
  // The sweep runs its jobs in this order: expiries (requests, then locks), request keys, held pages, reminders, escalation levels, evidence checks.
  const scheduler = new Scheduler([...(report.jobs ?? []), ...(deploys.jobs ?? []), ...(canary.jobs ?? []), ...(locks.jobs ?? []), pruneRequests, ...takeoverJobs, ...(timeline.jobs ?? []), ...(alarms.jobs ?? []), ...(incidents.jobs ?? []), ...(escalation.jobs ?? []), ...(evidence.jobs ?? [])], {
    sweepMs: options.expirySweepMs ?? 30_000,
    logger,
    background,
    leadership,
  });

  // The accepting thread stamps the inbox with the system clock and opens the database by its name, so an app given
  // a clock of its own or a store object (tests, the sandbox) accepts on the main thread.
  const acceptOnThread = !socketMode && config.ackThread && !options.clock && !options.store && config.dbPath !== ':memory:';
  let ackThread: AckThread | undefined;
  const runAccepted = (r: AcceptedRequest) => {
    if (!r.first) return logger.info({ key: r.key, retryNum: r.retryNum }, 'duplicate request ignored');
    // Run now by the replay after a restart (it found the row first): not twice.
    if (!inbox.acceptedLive(r.key)) return;
    const run = bolt.processEvent({ body: JSON.parse(r.json) as Record<string, unknown>, ack: async () => undefined, retryNum: r.retryNum, retryReason: r.retryReason, customProperties: { [RECORDED_CONTEXT]: true } });
    inbox.track(run.catch((err: unknown) => logger.error({ err, key: r.key }, 'a request the accepting thread handed over failed')));
  };

  let socketServer: Server | undefined;
  return {
    store,
    outbox,
    leadership,
    services: { checklist: checklist.checklist, alarms: alarms.alarms, incidents: incidents.incidents, timeline: timeline.timeline, evidence: evidence.evidence, escalation: escalation.escalation, gonogo: gonogo.gonogo, slack },
    async start() {
      // PostgreSQL is connected and migrated here (SQLite was when it was opened); the URL shown has no password.
      await store.ready().catch((err: unknown) => {
        throw new StartupError(`golive cannot start: it cannot reach its database ${store.target} (${detailOf(err)}). Check GOLIVE_DB and GOLIVE_DB_PASSWORD, that the database is up, and that the network (security groups, firewall) lets golive reach it.`);
      });
      // Requests received from here on are this life's; the ones before are a previous process's.
      startedAt = clock.now().toISOString();
      // Alive before it leads, so the first take-over already sees the others' beats as fresh as its own.
      await liveness.start();
      await leadership.start();
      await relay?.start();
      const auth = await slack.call('auth.test', {}).catch((err: Error) => {
        throw startupSlackError(err, config.slack.apiUrl);
      });
      logger.info({ team: auth.team_id, botUser: auth.user_id }, 'connected to Slack');
      checklist.statusBoard.useWorkspaceUrl(auth.url);
      // Bolt keeps the bot's ids from here on instead of asking Slack again per request.
      await bolt.init();
      // Rows a dead process had claimed are sent now, not when its claims run out a minute later (with SQLite that
      // is every other process: the one before this start).
      const deadBefore = liveness.deadBefore();
      if (deadBefore) await outbox.takeOverClaims(deadBefore).catch((err: unknown) => logger.warn({ err }, 'could not take over the outbox rows of a process that stopped'));
      outbox.start();
      await scheduler.start();
      let port: number;
      if (socketMode) {
        await bolt.start();
        socketServer = createServer(routeListener(routes));
        socketServer.listen(config.port);
        await once(socketServer, 'listening');
        port = (socketServer.address() as AddressInfo).port;
      } else if (acceptOnThread) {
        // Bolt's receiver listens on loopback only; the accepting thread, on golive's port, passes it what it does not answer itself.
        const httpServer = (await bolt.start({ port: 0, host: '127.0.0.1' })) as Server;
        const mainPort = (httpServer.address() as AddressInfo).port;
        ackThread = await startAckThread({ port: config.port, mainPort, signingSecret: config.slack.signingSecret!, dbPath: config.dbPath, dbPassword: config.dbPassword, replica: config.replica }, runAccepted, logger).catch((err: Error) => {
          throw new StartupError(`golive cannot start: it cannot listen for Slack's requests: ${err.message}. Set PORT to a free port (or stop what holds this one).`);
        });
        port = ackThread.port;
      } else {
        const httpServer = (await bolt.start(config.port)) as Server;
        port = (httpServer.address() as AddressInfo).port;
      }
      logger.info({ port, mode: socketMode ? 'socket' : 'http', ...(ackThread ? { acceptingThread: true } : {}), runbook: config.runbookPath, launch: runbook.launch.name }, 'golive is running');
      background.run(() => replay(leadership.isLeader()));
      // Taking the lead later: what replicas that died left is this one's to finish now.
      if (liveness.shared) leadership.onChange((leading) => leading && background.run(() => replay(true)));
      return { port };
    },
    async stop() {
      // Stop accepting first, then let the requests already acknowledged finish: they are in the inbox, so
      // whatever does not finish in time is run again by the next start.
      await ackThread?.stop().catch((err: unknown) => logger.warn({ err }, 'the accepting thread did not stop cleanly'));
      ackThread = undefined;
      await bolt.stop().catch(() => undefined);
      const unfinished = await inbox.drain(options.stopDrainMs ?? 8000);
      if (unfinished > 0) logger.warn({ unfinished }, 'stopping with requests still being handled; the next start finishes them');
      // No Slack call waits out a rate limit any more: a refresh is redone by the next change, a post stays in the outbox.
      slackCalls.stop();
      await scheduler.stop();
      // At once, so another replica takes the timed work over at its next try.
      await leadership.stop();
      await relay?.stop();
      home.home.stop();
      // Analysis loops run until their canary is decided; they stop here and resume on the next start.
      await canary.stop();
      checklist.statusBoard.stop();
      await background.drain();
      await outbox.stop();
      // Last: until now this replica was still finishing its work; from now the others take over what is left at once.
      await liveness.stop();
      if (socketServer) await new Promise<void>((resolve) => socketServer!.close(() => resolve()));
      socketServer = undefined;
      if (!options.store) await store.close();
    },
  };
}
