import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { commandSpecs } from './command-specs.js';
import type { CommandServices } from './platform/commands/command-spec.js';
import { openDatabase } from './platform/store/open-database.js';
import { AuditRepository } from './platform/store/audit-repository.js';
import { RequestRepository } from './platform/store/request-repository.js';
import { Store } from './platform/store/store.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { CloudWatchPort } from './platform/aws/cloudwatch-port.js';
import { logNodeSupport } from './platform/aws/aws-client.js';
import { createCloudWatchAdapter } from './platform/aws/cloudwatch-adapter.js';
import { createEcsAdapter } from './platform/aws/ecs-adapter.js';
import type { EcsPort } from './platform/aws/ecs-port.js';
import { ConfigError, SIGNING_SECRET_MISSING, type Config } from './config.js';
import { createSnsVerifier, type SnsVerifier } from './alarms/verify-sns.js';
import { createAlarmHooks } from './alarms/alarm-hooks.js';
import { createPagerDutyAdapter } from './platform/pager/pagerduty-adapter.js';
import { createOnCallLookup } from './platform/pager/oncall.js';
import type { PagerPort } from './platform/pager/pager-port.js';
import { AlarmService } from './alarms/alarm-service.js';
import { SlackAlarmNotifier } from './alarms/alarm-notifier.js';
import { IncidentService } from './incidents/incident-service.js';
import { SlackIncidentNotifier } from './incidents/incident-notifier.js';
import cron, { type ScheduledTask } from 'node-cron';
import { createLogger, type Logger } from './platform/logger.js';
import { Outbox } from './platform/outbox/outbox.js';
import { loadRunbookFile, RunbookError } from './platform/runbook/load-runbook.js';
import type { Runbook } from './platform/runbook/schema.js';
import { ApprovalService } from './deploys/approval-service.js';
import { ChecklistService } from './checklist/checklist-service.js';
import { DeployService } from './deploys/deploy-service.js';
import { RoleDirectory } from './platform/roles/resolve-roles.js';
import { announceChecklistChanges } from './checklist/announce-changes.js';
import { toBoltLogger } from './platform/slack/bolt-logger.js';
import { registerHandlers } from './platform/slack/register-handlers.js';
import { createSlackAdapter } from './platform/slack/slack-adapter.js';
import { guardHttpReceiver } from './platform/slack/guard-receiver.js';
import type { SlackPort } from './platform/slack/slack-port.js';
import { ChangeBoard } from './deploys/change-board.js';
import { StatusBoard } from './checklist/status-board.js';
import { GoNoGoService } from './gonogo/gonogo-service.js';
import { TimelineService } from './timeline/timeline-service.js';
import { SlackGoNoGoNotifier } from './gonogo/gonogo-notifier.js';
import { SlackTimelineNotifier } from './timeline/timeline-notifier.js';
import { HomeTab } from './home/home-tab.js';
import { decisionLine } from './gonogo/render-gonogo.js';
import { ReportService } from './report/report-service.js';
import { ReportLinkRepository } from './report/report-link-repository.js';
import { ChangeStories } from './deploys/change-stories.js';
import { GoNoGoRepository } from './gonogo/gonogo-repository.js';
import { AlarmRepository } from './alarms/alarm-repository.js';
import { IncidentRepository } from './incidents/incident-repository.js';
import { OutboxRepository } from './platform/outbox/outbox-repository.js';

/** What `createApp` needs; everything but `config` defaults to the real thing. */
export interface AppOptions {
  config: Config;
  runbook?: Runbook;
  slack?: SlackPort;
  ecs?: EcsPort;
  cloudwatch?: CloudWatchPort;
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
  /** How often the outbox retries (default 5 s). */
  outboxPollMs?: number;
  /** Turns the alarm poll schedule off (tests call `alarms.poll()` themselves). */
  alarmPolling?: boolean;
  /** How long App Home waits for a burst of changes to settle before republishing (default 2 s). */
  homeDebounceMs?: number;
  /** After how long a command still without a reply gets a private "still working" notice (default 4 s). */
  slowReplyMs?: number;
}

/** A wired golive instance. */
export interface GoliveApp {
  /** Starts listening (HTTP mode) or connecting (Socket Mode); resolves with the HTTP port. */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  store: Store;
  services: CommandServices;
  outbox: Outbox;
}

/** The composition root: builds every service and adapter and wires them to Bolt. */
export function createApp(options: AppOptions): GoliveApp {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: [config.slack.botToken, config.slack.signingSecret, config.slack.appToken, config.pagerduty.routingKey, config.pagerduty.apiToken, config.eventBridgeSecret] });

  logNodeSupport(logger);

  let runbook = options.runbook;
  if (!runbook) {
    const loaded = loadRunbookFile(config.runbookPath);
    if (!loaded.ok) throw new RunbookError(loaded.problems);
    runbook = loaded.runbook;
  }
  const paging = [
    ...(runbook.alarms?.rules ?? []).filter((r) => r.page).map((r) => r.match),
    ...Object.entries(runbook.incidents?.severities ?? {}).filter(([, d]) => d?.page).map(([s]) => `incident severity ${s}`),
  ];
  if (paging.length > 0 && !config.pagerduty.routingKey && !options.pager) {
    throw new ConfigError([`PAGERDUTY_ROUTING_KEY is not set, but the runbook pages on-call (${paging.join(', ')}): set the Events API v2 integration key, or set page: false`]);
  }
  const store = options.store ?? new Store(openDatabase(config.dbPath));

  const socketMode = Boolean(config.slack.appToken);
  if (!socketMode && !config.slack.signingSecret) throw new ConfigError([SIGNING_SECRET_MISSING]);
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    // Interactive replies should fail fast; posts that must arrive go through the outbox, which retries for longer.
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    rejectRateLimitedCalls: true,
    // A Slack call that never answers would hold up the outbox, and every page queued behind it.
    timeout: 10_000,
  };
  const receiver = socketMode
    ? new SocketModeReceiver({
        appToken: config.slack.appToken!,
        logger: toBoltLogger(logger),
        // Bolt's default Socket Mode receiver ignores the app's clientOptions, so apps.connections.open would bypass SLACK_API_URL.
        installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
      })
    : new HTTPReceiver({
        signingSecret: config.slack.signingSecret!,
        endpoints: '/slack/events',
        logger: toBoltLogger(logger),
        customRoutes: [
          { path: '/healthz', method: ['GET'], handler: (_req, res) => void sendHealth(res) },
          { path: '/hooks/sns', method: ['POST'], handler: (req, res) => hooks.sns(req, res) },
          { path: '/hooks/eventbridge', method: ['POST'], handler: (req, res) => hooks.eventbridge(req, res) },
          { path: '/reports/:token', method: ['GET'], handler: (req, res) => void reports.serve(req, res) },
          { path: '/reports/:token/:file', method: ['GET'], handler: (req, res) => void reports.serve(req, res) },
        ],
      });
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
    clientOptions,
  });

  // The outbox's own client retries nothing: a post whose answer was lost is looked up before it is sent again (src/platform/outbox/outbox.ts).
  const slack = options.slack ?? createSlackAdapter(bolt.client, new WebClient(config.slack.botToken, { ...clientOptions, retryConfig: { retries: 0 }, logger: toBoltLogger(logger) }));
  const roles = new RoleDirectory(runbook, slack, clock);
  const checklist = new ChecklistService(runbook, store, roles, clock);
  const statusBoard = new StatusBoard({
    runbook,
    store,
    slack,
    checklist,
    roles,
    clock,
    logger,
    decision: async () => {
      // Called only when rendering, after everything below is built.
      const latest = goNoGo.configured ? await goNoGo.latest() : undefined;
      return latest ? decisionLine(latest, runbook.launch.timezone) : undefined;
    },
  });
  const pager = options.pager ?? (config.pagerduty.routingKey ? createPagerDutyAdapter({ routingKey: config.pagerduty.routingKey, eventsUrl: config.pagerduty.eventsUrl }) : undefined);
  const outbox = new Outbox(store, slack, clock, logger, options.outboxPollMs ?? 5000, pager);

  let scheduled = false;
  const afterCommit = () => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate runs after the current transaction has committed.
    setImmediate(() => {
      scheduled = false;
      void outbox.flush();
      void statusBoard.refreshAll();
      home.changed();
    });
  };
  announceChecklistChanges({ runbook, store, checklist, clock, afterCommit });

  const awsOptions = { endpoint: config.aws.endpointUrl };
  const ecs = options.ecs ?? createEcsAdapter(awsOptions);
  const cloudwatch = options.cloudwatch ?? createCloudWatchAdapter(awsOptions);
  const approvals = new ApprovalService(runbook, store, roles, clock);
  const deploys = new DeployService({ runbook, store, ecs, cloudwatch, checklist, roles, approvals, clock, logger, rolloutPollMs: options.rolloutPollMs ?? 5000 });
  const changeBoard = new ChangeBoard({ runbook, store, slack, approvals, clock, logger, kickOutbox: () => void outbox.flush(), onChange: () => home.changed() });
  deploys.observe(changeBoard);

  const flushAndRefreshHome = () => {
    void outbox.flush();
    home.changed();
  };
  const alarms = new AlarmService({ runbook, store, cloudwatch, clock, logger, defaultRegion: config.aws.region, afterCommit: flushAndRefreshHome });
  alarms.notify(new SlackAlarmNotifier({ runbook, store, clock }));
  const onCall = config.pagerduty.apiToken ? createOnCallLookup({ token: config.pagerduty.apiToken, apiUrl: config.pagerduty.apiUrl }) : undefined;
  const incidents = new IncidentService({
    runbook,
    store,
    slack,
    roles,
    clock,
    logger,
    afterCommit: flushAndRefreshHome,
    onCall,
    canPage: pager !== undefined,
    alarmTransitions: (name, from, until) => alarms.transitions(name, from, until),
    lastDeployedService: () => deploys.lastDeployedService(),
    changesBetween: async (from, until) => (await new ChangeStories(store).all()).filter((c) => c.startedAt >= from && c.startedAt <= until),
  });
  const timeline = new TimelineService({ runbook, store, clock, roles, afterCommit });
  timeline.notify(new SlackTimelineNotifier({ runbook, store, clock, checklist, t0: async () => (await timeline.t0())?.at }));
  const goNoGo = new GoNoGoService({ runbook, store, cloudwatch, checklist, timeline, roles, clock, logger, defaultRegion: config.aws.region, afterCommit, incidents });
  goNoGo.notify(new SlackGoNoGoNotifier({ runbook, store, clock, voters: () => goNoGo.voterLabel() }));
  const changeStories = new ChangeStories(store);
  const gonogoRows = new GoNoGoRepository(store);
  const reports = new ReportService({
    store,
    slack,
    outbox,
    clock,
    logger,
    roles,
    publicUrl: config.publicUrl,
    links: new ReportLinkRepository(store),
    incidents,
    sources: {
      runbook,
      checklist: () => checklist.snapshot(),
      t0: () => timeline.t0(),
      milestones: () => timeline.schedule(),
      decisions: async () => Promise.all((await gonogoRows.decisions()).map(async (decision) => ({ decision, votes: await gonogoRows.votes(decision.id) }))),
      changes: () => changeStories.all(),
      alarmTransitions: () => new AlarmRepository(store).allTransitions(),
      pagerTriggers: () => new OutboxRepository(store).pagerTriggers(),
      incidents: () => new IncidentRepository(store).all(),
      alarmSeverity: (name) => (runbook.alarms ? alarms.ruleFor(name).severity : null),
      userName: (id) => slack.userName(id),
    },
  });
  incidents.onResolved((incident, by, at) => reports.queuePostmortem(incident, by, at));
  incidents.notify(new SlackIncidentNotifier({ runbook, store, clock, postmortemLink: (id) => reports.url(`INC-${id}-postmortem.html`) }));
  const home = new HomeTab({ runbook, store, slack, clock, logger, statusBoard, alarms, incidents, timeline, gonogo: goNoGo, approvals, debounceMs: options.homeDebounceMs ?? 2000 });
  alarms.onIncidentNeeded((need) =>
    background(async () => {
      // The commander of an alarm-declared incident is the severity's owner (else its first invitee): someone who can act.
      const def = runbook.incidents?.severities[need.severity];
      const roleNames = [...(def?.owner ? [def.owner] : []), ...(def?.invite ?? [])];
      let commander: string | undefined;
      for (const r of roleNames) {
        commander = (await roles.members(r)).users[0];
        if (commander) break;
      }
      if (!def || !commander) {
        logger.error({ alarm: need.name, severity: need.severity }, 'cannot open the incident the alarm rule asks for: the severity is undefined or has no owner/invite role with members');
        return;
      }
      try {
        await incidents.declare({ severity: need.severity, summary: `${need.name}: ${need.reason}`, userId: commander, declaredBy: 'golive', source: 'system', alarm: { name: need.name, firedAt: need.firedAt, post: need.post } });
      } catch (err) {
        logger.error({ err, alarm: need.name }, 'could not open the incident the alarm rule asks for');
      }
    }),
  );
  const hooks = createAlarmHooks({
    alarms,
    verifier: options.snsVerifier ?? createSnsVerifier({ maxAgeMs: 60 * 60_000 }),
    allowedTopics: runbook.alarms?.sns_topics ?? [],
    eventBridgeSecret: config.eventBridgeSecret,
    logger,
    confirm: options.snsConfirm,
  });

  // Long work (rollouts) runs after the reply; stop() waits for it so a deploy is not cut off by a clean shutdown.
  const inFlight = new Set<Promise<unknown>>();
  const background = (task: () => Promise<unknown>) => {
    const p: Promise<unknown> = task()
      .catch((err: unknown) => logger.error({ err }, 'background task failed'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const requests = new RequestRepository(store);
  const services: CommandServices = { runbook, store, audit: new AuditRepository(store), outbox, clock, logger, checklist, statusBoard, deploys, approvals, changeBoard, alarms, incidents, gonogo: goNoGo, timeline, home, slack, background, specs: commandSpecs, reports };
  registerHandlers(bolt, services, { slowReplyMs: options.slowReplyMs });

  const rb = runbook;
  async function health() {
    const db = await store.health();
    const dbOk = db.ok;
    return {
      status: dbOk ? 'ok' : 'error',
      mode: socketMode ? 'socket' : 'http',
      database: { ok: dbOk, path: config.dbPath, schema_version: db.ok ? db.schemaVersion : 0, outbox_pending: db.ok ? await outbox.pendingCount() : null, ...(db.ok ? {} : { error: db.error }) },
      runbook: { ok: true, path: config.runbookPath, launch: rb.launch.name, gates: rb.gates.length, items: rb.gates.reduce((n, g) => n + g.items.length, 0) },
    };
  }
  async function sendHealth(res: ServerResponse) {
    const body = await health();
    res.writeHead(body.status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  let healthServer: Server | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let alarmTask: ScheduledTask | undefined;
  let milestoneTask: ScheduledTask | undefined;
  let httpServer: Server | undefined;
  return {
    store,
    services,
    outbox,
    async start() {
      const auth = await slack.call('auth.test', {}).catch((err: Error) => {
        throw new Error(`Slack refused the bot token (auth.test: ${err.message}). Check SLACK_BOT_TOKEN and SLACK_API_URL.`);
      });
      logger.info({ team: auth.team_id, botUser: auth.user_id }, 'connected to Slack');
      // Bolt keeps the bot's ids from here on instead of asking Slack again per request.
      await bolt.init();
      await requests.prune(new Date(clock.now().getTime() - 24 * 3600_000).toISOString());
      await reports.start();
      outbox.start();
      // Deploys and requests a previous process left running are checked against ECS; their cards update as each settles.
      background(() => deploys.recover((id) => changeBoard.updateRequest(id)));
      let sweeping = false;
      const sweep = async () => {
        // A slow sweep (a locked database) must not stack up behind itself.
        if (sweeping) return;
        sweeping = true;
        // Separate tries: a failing approvals sweep must not hold back incident reminders, or the other way round.
        try {
          for (const r of await approvals.expireDue()) void changeBoard.updateRequest(r.id);
        } catch (err) {
          logger.error({ err }, 'approval expiry sweep failed');
        }
        try {
          // Replays older than Bolt's 5-minute signature window are refused anyway; their keys need not be kept.
          await requests.prune(new Date(clock.now().getTime() - 24 * 3600_000).toISOString());
        } catch (err) {
          logger.error({ err }, 'pruning old request keys failed');
        }
        try {
          await alarms.releaseHeldPages();
        } catch (err) {
          logger.error({ err }, 'releasing held pages of settled alarms failed');
        }
        try {
          await incidents.runDueReminders();
        } catch (err) {
          logger.error({ err }, 'incident reminder sweep failed');
        }
        sweeping = false;
      };
      // Milestones: the first run posts any missed while golive was down, marked late; then twice a minute.
      await timeline.ensureStarted();
      await timeline.syncRunbookT0();
      const postMilestones = async () => {
        try {
          await timeline.runDue();
        } catch (err) {
          logger.error({ err }, 'milestone run failed; the next one will retry');
        }
      };
      await postMilestones();
      if (runbook.milestones.length > 0) milestoneTask = cron.schedule('*/30 * * * * *', postMilestones, { noOverlap: true, name: 'milestones' });
      expiryTimer = setInterval(() => void sweep(), options.expirySweepMs ?? 30_000);
      expiryTimer.unref();
      if (runbook.alarms && options.alarmPolling !== false) {
        const poll = async () => {
          try {
            const r = await alarms.poll();
            logger.debug(r, 'alarm poll');
          } catch (err) {
            logger.error({ err }, 'alarm poll failed; the next one will retry');
          }
        };
        // noOverlap: a slow DescribeAlarms (throttling, 10,000 alarms) must not stack polls.
        alarmTask = cron.schedule(runbook.alarms.schedule, poll, { noOverlap: true, name: 'alarm-poll' });
        void poll();
      }
      let port: number;
      if (socketMode) {
        await bolt.start();
        healthServer = createServer((req: IncomingMessage, res: ServerResponse) => {
          const path = req.url?.split('?')[0];
          if (req.method === 'GET' && path === '/healthz') return void sendHealth(res);
          if (req.method === 'POST' && path === '/hooks/sns') return hooks.sns(req, res);
          if (req.method === 'POST' && path === '/hooks/eventbridge') return hooks.eventbridge(req, res);
          if (req.method === 'GET' && path?.startsWith('/reports/')) return void reports.serve(req, res);
          res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => healthServer!.listen(config.port, resolve));
        port = (healthServer.address() as AddressInfo).port;
      } else {
        httpServer = (await bolt.start(config.port)) as Server;
        port = (httpServer.address() as AddressInfo).port;
      }
      logger.info({ port, mode: socketMode ? 'socket' : 'http', runbook: config.runbookPath, launch: rb.launch.name }, 'golive is running');
      return { port };
    },
    async stop() {
      if (expiryTimer) clearInterval(expiryTimer);
      await alarmTask?.destroy();
      await milestoneTask?.destroy();
      home.stop();
      await Promise.allSettled([...inFlight]);
      await outbox.stop();
      await bolt.stop().catch(() => undefined);
      if (healthServer) await new Promise<void>((resolve) => healthServer!.close(() => resolve()));
      healthServer = undefined;
      if (!options.store) store.close();
    },
  };
}
