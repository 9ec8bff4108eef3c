import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { lockCommand, unlockCommand } from './lock-command.js';
import { LockService } from './lock-service.js';

export type { LockOverview, LockService } from './lock-service.js';
export type { LockRow, PlacedFreeze, Restriction } from './decide-locks.js';
export { describeRestriction, freezeTimelineLines, scopeLabel } from './describe-locks.js';
export { lockSpec, unlockSpec } from './lock-command.js';

/** Deploy locks (`/golive lock`, `/golive unlock`) and the runbook's freeze windows. */
export interface LocksModule extends FeatureModule {
  locks: LockService;
}

export function createLocksModule(deps: {
  runbook: Runbook;
  store: Store;
  clock: Clock;
  roles: RoleDirectory;
  signals: ChangeSignals;
  /** T-0 as the timeline holds it: freeze windows relative to it are placed when asked. */
  t0: () => Promise<Date | undefined>;
}): LocksModule {
  const { runbook, store, clock, roles, signals } = deps;
  const locks = new LockService({ runbook, store, clock, roles, t0: deps.t0, afterCommit: () => signals.emit('outbox', 'status', 'home') });
  return {
    locks,
    commands: [lockCommand({ locks, runbook }), unlockCommand({ locks, runbook, clock })],
    jobs: [{ name: 'lock-expiry', schedule: 'sweep', run: () => locks.expireDue(), failure: 'lock expiry sweep failed' }],
  };
}
