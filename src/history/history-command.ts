import { GoliveError } from '../platform/errors.js';
import { renderHistory } from './render-history.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { AuditRepository } from '../platform/store/audit-repository.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

const DEFAULT_ROWS = 20;
const MAX_ROWS = 100;

export const historySpec: CommandSpec = {
  name: 'history',
  usage: 'history [n]',
  description: `The audit trail: the last n changes (default ${DEFAULT_ROWS}, at most ${MAX_ROWS}) with who, when and from where. Shown only to you.`,
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
};

/** `/golive history`: the audit trail, privately. */
export function historyCommand(deps: { audit: AuditRepository; runbook: Runbook }): Command {
  return command(historySpec, async (ctx) => {
    const raw = ctx.args[0];
    if (raw !== undefined && !/^\d{1,4}$/.test(raw)) throw new GoliveError('usage', '`n` must be a whole number of entries, e.g. `/golive history 50`.');
    const n = raw === undefined ? DEFAULT_ROWS : Math.min(Math.max(Number(raw), 1), MAX_ROWS);
    const rows = await deps.audit.history(n);
    await ctx.respond(renderHistory(rows, deps.runbook.launch.timezone, n));
  });
}
