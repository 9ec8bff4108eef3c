import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { CloudWatchPort } from '../platform/aws/cloudwatch-port.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { WatchHealth } from '../platform/health/watch-health.js';
import type { Logger } from '../platform/logger.js';
import type { Outbox } from '../platform/outbox/outbox.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { registerAlarmButtons } from './alarm-buttons.js';
import { createAlarmHooks } from './alarm-hooks.js';
import { SlackAlarmNotifier } from './alarm-notifier.js';
import { AlarmService } from './alarm-service.js';
import { alarmsCommand } from './alarms-command.js';
import { createSnsVerifier, type SnsVerifier } from './verify-sns.js';

export { alarmConsoleUrl, alarmDedupKey, AlarmService, type AlarmRow, type IncidentNeed } from './alarm-service.js';
export { alarmRegion, alarmRuleFor, firingRead, flappingRule, isNewTransition, watcherFreshForMs, type AlarmRule, type FiringRead } from './alarm-rules.js';
export { describeFiringSource, type FiringAlarms, type FiringAnswer, type FiringSource } from './describe-firing.js';
export { ACTION_ALARM_DECLARE } from './render-alarms.js';
export { alarmsSpec } from './alarms-command.js';

/** The alarm watcher: CloudWatch polls and SNS/EventBridge pushes, one pipeline, its posts and pages. */
export interface AlarmsModule extends FeatureModule {
  alarms: AlarmService;
}

export function createAlarmsModule(deps: {
  runbook: Runbook;
  store: Store;
  cloudwatch: CloudWatchPort;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  /** AWS_REGION, for the alarm-region rule. */
  defaultRegion?: string;
  eventBridgeSecret?: string;
  /** Verifies SNS pushes; tests inject one that knows the fixtures' certificate. */
  snsVerifier?: SnsVerifier;
  /** Visits an SNS SubscribeURL (default: fetch). */
  snsConfirm?: (url: string) => Promise<number>;
  /** Whether the schedule polls (tests call `alarms.poll()` themselves). */
  polling: boolean;
  /** golive's own health: told how each poll went, and shown by `/golive alarms`. */
  health: WatchHealth;
  /** Who may acknowledge an alarm. */
  roles: Pick<RoleDirectory, 'isNamed'>;
}): AlarmsModule {
  const { runbook, store, clock, logger, signals, health, roles } = deps;
  const alarms = new AlarmService({ runbook, store, cloudwatch: deps.cloudwatch, clock, logger, defaultRegion: deps.defaultRegion, afterCommit: () => signals.emit('outbox', 'home'), health, roles });
  alarms.notify(new SlackAlarmNotifier({ runbook, store, clock }));
  const hooks = createAlarmHooks({
    alarms,
    verifier: deps.snsVerifier ?? createSnsVerifier({ maxAgeMs: 60 * 60_000 }),
    allowedTopics: runbook.alarms?.sns_topics ?? [],
    eventBridgeSecret: deps.eventBridgeSecret,
    logger,
    confirm: deps.snsConfirm,
  });
  const schedule = runbook.alarms?.schedule;
  return {
    alarms,
    commands: [alarmsCommand({ alarms, outbox: deps.outbox, runbook, health })],
    register: (ui) => registerAlarmButtons(ui, { alarms }),
    routes: [
      { path: '/hooks/sns', method: 'POST', handler: (req, res) => hooks.sns(req, res) },
      { path: '/hooks/eventbridge', method: 'POST', handler: (req, res) => hooks.eventbridge(req, res) },
    ],
    jobs: [
      ...(schedule && deps.polling
        ? [
            {
              name: 'alarm-poll',
              schedule: { cron: schedule },
              atStart: 'background' as const,
              run: async () => logger.debug(await alarms.poll(), 'alarm poll'),
              failure: 'alarm poll failed; the next one will retry',
            },
          ]
        : []),
      { name: 'held-pages', schedule: 'sweep', run: () => alarms.releaseHeldPages(), failure: 'releasing held pages of settled alarms failed' },
      { name: 'alarm-storms', schedule: 'sweep', run: () => alarms.sweepStorms(), failure: 'drawing or ending an alarm storm failed; the next sweep retries' },
    ],
  };
}
