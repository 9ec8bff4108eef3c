import { GoliveError } from '../platform/errors.js';
import { renderHistory } from './render-history.js';
import { ChangeStories, type ChangeStory } from '../deploys/change-stories.js';
import type { CommandSpec } from '../platform/commands/command-spec.js';

const DEFAULT_ROWS = 20;
const MAX_ROWS = 100;

export const history: CommandSpec = {
  name: 'history',
  usage: 'history [n]',
  description: `The audit trail: the last n changes (default ${DEFAULT_ROWS}, at most ${MAX_ROWS}) in words: who did what, when and from where. Shown only to you.`,
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
  async run(ctx) {
    const raw = ctx.args[0];
    if (raw !== undefined && !/^\d{1,4}$/.test(raw)) throw new GoliveError('usage', '`n` must be a whole number of entries, e.g. `/golive history 50`.');
    const n = raw === undefined ? DEFAULT_ROWS : Math.min(Math.max(Number(raw), 1), MAX_ROWS);
    const rows = await ctx.services.audit.history(n);
    // A finished deploy or rollback is told as one story (who asked, who approved, how long): load those first.
    const stories = new ChangeStories(ctx.services.store);
    const changes = new Map<number, ChangeStory>();
    for (const r of rows) {
      const id = r.detail.deploy;
      if (typeof id === 'number' && /\.(succeeded|failed)$/.test(r.action) && !changes.has(id)) {
        const story = await stories.one(id);
        if (story) changes.set(id, story);
      }
    }
    await ctx.respond(renderHistory(rows, { timezone: ctx.services.runbook.launch.timezone, change: (id) => changes.get(id) }, n));
  },
};
