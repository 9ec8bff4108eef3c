import { GoliveError } from '../platform/errors.js';
import { renderHistory } from './render-history.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { AuditRepository } from '../platform/store/audit-repository.js';
import type { ChangeStories, ChangeStory } from '../deploys/index.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

const DEFAULT_ROWS = 20;
const MAX_ROWS = 100;

export const historySpec: CommandSpec = {
  name: 'history',
  usage: 'history [n]',
  description: `The audit trail: the last n changes (default ${DEFAULT_ROWS}, at most ${MAX_ROWS}) in words: who did what, when and from where. Shown only to you.`,
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
};

/** `/golive history`: the audit trail, privately. */
export function historyCommand(deps: { audit: AuditRepository; runbook: Runbook; changes: Pick<ChangeStories, 'one'> }): Command {
  return command(historySpec, async (ctx) => {
    const raw = ctx.args[0];
    if (raw !== undefined && !/^\d{1,4}$/.test(raw)) throw new GoliveError('usage', '`n` must be a whole number of entries, e.g. `/golive history 50`.');
    const n = raw === undefined ? DEFAULT_ROWS : Math.min(Math.max(Number(raw), 1), MAX_ROWS);
    const rows = await deps.audit.history(n);
    // A finished deploy or rollback is told as one story (who asked, who approved, how long): load those first.
    const changes = new Map<number, ChangeStory>();
    for (const r of rows) {
      const id = r.detail.deploy;
      if (typeof id === 'number' && /\.(succeeded|failed)$/.test(r.action) && !changes.has(id)) {
        const story = await deps.changes.one(id);
        if (story) changes.set(id, story);
      }
    }
    await ctx.respond(renderHistory(rows, { timezone: deps.runbook.launch.timezone, change: (id) => changes.get(id) }, n));
  });
}
