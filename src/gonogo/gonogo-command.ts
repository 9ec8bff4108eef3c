import { renderEvidence } from './render-gonogo.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { GoNoGoService } from './gonogo-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const gonogoSpec: CommandSpec = {
  name: 'gonogo',
  usage: 'gonogo',
  description:
    'Evaluates the go/no-go criteria (checklist, sign-offs, alarms, CloudWatch metrics, incidents) and posts a decision card with the evidence and Go / No-Go buttons for the voters.',
  sideEffects: true,
  who: 'anyone named in a runbook role calls it; the voter roles vote',
  minArgs: 0,
  maxArgs: 0,
};

/** `/golive gonogo`: opens (or refreshes) the decision card. */
export function gonogoCommand(deps: { gonogo: GoNoGoService; runbook: Runbook }): Command {
  return command(gonogoSpec, async (ctx) => {
    const { gonogo: service, runbook } = deps;
    if (!service.configured) return ctx.respond(renderNotice('This runbook has no go/no-go criteria.', 'Add a `gonogo:` section with `voters` and `criteria` to the runbook.'));
    const { decision, evidence, created, refreshed } = await service.open({ userId: ctx.userId, source: 'command', channel: ctx.channelId });
    const tz = runbook.launch.timezone;
    if (created) {
      return ctx.respond(renderNotice(`Go/No-Go decision #${decision.id} is posted in <#${decision.channel}> for ${service.voterLabel()} to vote on.`));
    }
    if (refreshed) {
      return ctx.respond(renderEvidence(evidence, tz, `Go/No-Go decision #${decision.id} is already open in <#${decision.channel}> with no votes yet; its card now shows the criteria as they stand:`));
    }
    const votes = await service.votes(decision.id);
    await ctx.respond(
      renderEvidence(evidence, tz, `Go/No-Go decision #${decision.id} is already open in <#${decision.channel}> (${votes.length} vote${votes.length === 1 ? '' : 's'} so far); vote on its card. The criteria as they stand now:`),
    );
  });
}
