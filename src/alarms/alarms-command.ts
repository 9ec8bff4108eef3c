import { renderAlarmList } from './render-alarms.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { AlarmService } from './alarm-service.js';
import type { Outbox } from '../platform/outbox/outbox.js';
import type { WatchHealth } from '../platform/health/watch-health.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const alarmsSpec: CommandSpec = {
  name: 'alarms',
  usage: 'alarms',
  description: 'Current state of every watched CloudWatch alarm, firing first, and any page or post that could not be delivered. Shown only to you.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 0,
};

/** `/golive alarms`: every watched alarm's state, and what could not be delivered. */
export function alarmsCommand(deps: { alarms: AlarmService; outbox: Pick<Outbox, 'failed'>; runbook: Runbook; health: Pick<WatchHealth, 'lines'> }): Command {
  return command(alarmsSpec, async (ctx) => {
    const { alarms: service, outbox, runbook, health } = deps;
    if (!service.configured) {
      return ctx.respond(renderNotice('This runbook watches no alarms.', 'Add an `alarms:` section with `prefixes` to the runbook.'));
    }
    await ctx.respond(renderAlarmList(await service.list(), (n) => service.ruleFor(n), runbook.launch.timezone, await outbox.failed(5), await service.lastPollAt(), await health.lines()));
  });
}
