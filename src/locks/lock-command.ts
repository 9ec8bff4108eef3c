import { renderNotice } from '../platform/slack/blocks.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';
import type { Clock } from '../platform/clock.js';
import { formatTime } from '../platform/format-time.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { LockService } from './lock-service.js';
import { describeRestriction, scopeLabel } from './describe-locks.js';

export const lockSpec: CommandSpec = {
  name: 'lock',
  usage: 'lock <service|all> <reason> [for <duration>]',
  description:
    'Hold deploys (never rollbacks) of a service, or of all, until `/golive unlock` or until the time runs out (`for 2h`; default from the runbook, 4 h). Announced in the channel; shown on `/golive status` and App Home.',
  sideEffects: true,
  who: "the service's deployers and rollback approvers (and `locks.roles`)",
  minArgs: 2,
};

export const unlockSpec: CommandSpec = {
  name: 'unlock',
  usage: 'unlock <service|all>',
  description: 'Lift a deploy lock, whoever set it. Freeze windows from the runbook stay.',
  sideEffects: true,
  who: "the service's deployers and rollback approvers (and `locks.roles`)",
  minArgs: 1,
  maxArgs: 1,
};

/** `/golive lock`: sets (or, for its holder, extends) a deploy lock. */
export function lockCommand(deps: { locks: LockService; runbook: Runbook }): Command {
  return command(lockSpec, async (ctx) => {
    const { runbook } = deps;
    const { lock: l, extended, capped } = await deps.locks.lock(ctx.rest, { userId: ctx.userId, source: 'command', channel: ctx.channelId });
    const cap = capped ? ` (the runbook's longest lock, ${runbook.locks.max_duration})` : '';
    await ctx.respond(renderNotice(`🔒 ${extended ? 'Your lock on' : 'Locked'} ${scopeLabel(l.scope)}${extended ? ' now lasts' : ''} until ${formatTime(l.expires_at, runbook.launch.timezone)}${cap}. It is announced in <#${runbook.launch.channel}>.`));
  });
}

/** `/golive unlock`: lifts a deploy lock and says what still holds the service. */
export function unlockCommand(deps: { locks: LockService; runbook: Runbook; clock: Clock }): Command {
  return command(unlockSpec, async (ctx) => {
    const { lock: l, stillHeld } = await deps.locks.unlock(ctx.args[0] ?? '', { userId: ctx.userId, source: 'command', channel: ctx.channelId });
    const still = stillHeld.map((r) => `• ${describeRestriction(r, { timezone: deps.runbook.launch.timezone, now: deps.clock.now() })}`);
    await ctx.respond(renderNotice(`🔓 Unlocked ${scopeLabel(l.scope)}.`, still.length > 0 ? `Deploys are still held by:\n${still.join('\n')}` : undefined));
  });
}
