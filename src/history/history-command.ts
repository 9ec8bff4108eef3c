import { GoliveError } from '../platform/errors.js';
import { renderHistory } from './render-history.js';
import type { CommandSpec } from '../platform/commands/command-spec.js';

const DEFAULT_ROWS = 20;
const MAX_ROWS = 100;

export const history: CommandSpec = {
  name: 'history',
  usage: 'history [n]',
  description: `The audit trail: the last n changes (default ${DEFAULT_ROWS}, at most ${MAX_ROWS}) with who, when and from where. Shown only to you.`,
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
  async run(ctx) {
    const raw = ctx.args[0];
    if (raw !== undefined && !/^\d{1,4}$/.test(raw)) throw new GoliveError('usage', '`n` must be a whole number of entries, e.g. `/golive history 50`.');
    const n = raw === undefined ? DEFAULT_ROWS : Math.min(Math.max(Number(raw), 1), MAX_ROWS);
    const rows = await ctx.services.audit.history(n);
    await ctx.respond(renderHistory(rows, ctx.services.runbook.launch.timezone, n));
  },
};
