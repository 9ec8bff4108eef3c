import type { FeatureModule } from '../platform/feature-module.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { AuditRepository } from '../platform/store/audit-repository.js';
import type { ChangeStories } from '../deploys/index.js';
import { historyCommand } from './history-command.js';

export { historySpec } from './history-command.js';

/** `/golive history`: the audit trail every feature writes. */
export function createHistoryModule(deps: { audit: AuditRepository; runbook: Runbook; changes: Pick<ChangeStories, 'one'> }): FeatureModule {
  return { commands: [historyCommand(deps)] };
}
