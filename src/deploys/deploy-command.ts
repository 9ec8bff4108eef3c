import { GoliveError } from '../platform/errors.js';
import { renderDryRun } from './render-changes.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { Background } from '../platform/background.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { ChangeBoard } from './change-board.js';
import type { DeployService } from './deploy-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

const FLAGS = new Set(['--dry-run', '--override', '--canary']);

export const deploySpec: CommandSpec = {
  name: 'deploy',
  usage: 'deploy <service> <image-tag | :revision> [--canary] [--dry-run] [--override]',
  description:
    'Deploy to ECS: a new revision with the image tag, or an existing revision. Refused while gate blockers are open, alarms fire, or a lock or freeze window holds the service. `--canary` (or the runbook) tries it on the canary service first, judged against the stable version, then Promote / Abort. Progress in a thread; Roll back offered on failure. `--dry-run` changes nothing.',
  sideEffects: true,
  who: "the service's deployers",
  minArgs: 2,
  maxArgs: 5,
};

/** `/golive deploy`: checks, then deploys in the background (or asks for an override). */
export function deployCommand(deps: { deploys: DeployService; changeBoard: ChangeBoard; background: Background; runbook: Runbook }): Command {
  return command(deploySpec, async (ctx) => {
    const flags = ctx.args.filter((a) => a.startsWith('--'));
    const words = ctx.args.filter((a) => !a.startsWith('--'));
    const unknown = flags.filter((f) => !FLAGS.has(f.toLowerCase()));
    if (unknown.length > 0 || words.length !== 2) {
      throw new GoliveError('usage', unknown.length > 0 ? `Unknown option \`${unknown[0]!.replace(/[`<>&]/g, '')}\`. Nothing was changed.` : '`/golive deploy` needs a service and one image tag or revision. Nothing was changed.', `Usage: \`/golive ${deploySpec.usage}\``);
    }
    const dryRun = flags.some((f) => f.toLowerCase() === '--dry-run');
    const override = flags.some((f) => f.toLowerCase() === '--override');
    const askedCanary = flags.some((f) => f.toLowerCase() === '--canary');
    const { deploys, changeBoard } = deps;
    const [serviceName, targetArg] = words as [string, string];
    const plan = await deploys.plan(serviceName, targetArg, ctx.userId);
    const strategy = deploys.strategyFor(plan.service, askedCanary);
    if (dryRun) return ctx.respond(renderDryRun(plan, strategy?.dryRunSteps(plan)));
    if (plan.blockedBy.length > 0) {
      if (!override) return deploys.refuse(plan, ctx.userId);
      const request = await deploys.proposeOverride(plan, targetArg, ctx.userId, { canary: strategy !== undefined });
      await changeBoard.postRequest(request);
      return ctx.respond(renderNotice(`Deploy of \`${plan.service.name}\` is blocked, so I asked for an override approval (request #${request.id}). It runs when an approver other than you approves it.`));
    }
    // Claimed now, before replying, so a second deploy racing this one is refused to its sender; the gate is decided again as it is claimed.
    let id: number;
    if (strategy) {
      const started = await strategy.start(plan, ctx.userId);
      id = started.deployId;
      deps.background.run(started.run);
    } else {
      const deployId = await deploys.start(plan, ctx.userId);
      id = deployId;
      deps.background.run(() => deploys.run(deployId, plan));
    }
    const opsChannel = deps.runbook.launch.channel;
    const notes: string[] = [];
    if (override) notes.push('Nothing blocks this deploy; `--override` was not needed and is ignored.');
    if (ctx.channelId !== opsChannel) notes.push(`Deploy #${id} of \`${plan.service.name}\` started; progress is in <#${opsChannel}>.`);
    if (notes.length > 0) await ctx.respond(renderNotice(notes.join('\n')));
  });
}
