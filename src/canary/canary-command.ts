import { GoliveError } from '../platform/errors.js';
import { escapeText } from '../platform/escape.js';
import { renderNotice } from '../platform/slack/blocks.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';
import type { Clock } from '../platform/clock.js';
import type { Runbook, Service } from '../platform/runbook/schema.js';
import type { CanaryService } from './canary-service.js';
import { decidedText, renderScorecard } from './render-canary.js';

export const canarySpec: CommandSpec = {
  name: 'canary',
  usage: 'canary <service> [promote [note] | abort [reason]]',
  description:
    "The service's latest canary: its scorecard (privately), or *Promote* / *Abort* it, as the buttons on its deploy card do. Promote waits for the bake to end and is refused while the analysis fails, unless the runbook allows an override with a note.",
  sideEffects: true,
  who: "promote: the canary's promoters (default the deployers); abort: they, the deployers and the rollback approvers",
  minArgs: 1,
};

/** `/golive canary`: the latest canary's scorecard, or Promote / Abort typed instead of clicked. */
export function canaryCommand(deps: { canary: CanaryService; findService: (name: string) => Service; runbook: Runbook; clock: Clock }): Command {
  return command(canarySpec, async (ctx) => {
    const [serviceName = '', verbWord = '', ...words] = ctx.args;
    const { canary: canaries, runbook, clock } = deps;
    const service = deps.findService(serviceName);
    if (!service.canary) throw new GoliveError('not_configured', `\`${service.name}\` has no canary in the runbook.`, 'Add a `canary:` section to the service (docs/runbook.md).');
    const c = await canaries.latestFor(service.name);
    if (!c) throw new GoliveError('usage', `\`${service.name}\` has had no canary deploy yet.`, `Start one: \`/golive deploy ${service.name} <image-tag>${service.canary.always ? '' : ' --canary'}\`.`);
    const verb = verbWord.toLowerCase();
    const text = words.join(' ').trim() || undefined;
    const tz = runbook.launch.timezone;
    if (!verb) return ctx.respond(renderScorecard(c, service, clock.now(), tz));
    if (verb === 'promote') {
      const out = await canaries.promote(c.id, ctx.userId, text, 'command');
      if (out.kind === 'needs_note') {
        throw new GoliveError('canary_state', `Promote refused: the analysis fails (${escapeText(out.failing.join('; '))}). The runbook allows promoting anyway with a note saying why. Nothing was changed.`, `\`/golive canary ${service.name} promote <why>\``);
      }
      if (out.kind === 'decided') return ctx.respond(renderNotice(decidedText(out.canary, tz)));
      return ctx.respond(renderNotice(`🚀 Promoting the canary of \`${service.name}\`: the service rolls out now; progress is on the deploy card in <#${runbook.launch.channel}>.`));
    }
    if (verb === 'abort') {
      const out = await canaries.abort(c.id, ctx.userId, text, 'command');
      if (out.kind === 'decided') return ctx.respond(renderNotice(decidedText(out.canary, tz)));
      return ctx.respond(renderNotice(`🛑 Aborted the canary of \`${service.name}\`: the canary service is back to 0 tasks and the service was not changed.`));
    }
    throw new GoliveError('usage', `\`${verbWord.replace(/[`<>&]/g, '').slice(0, 30)}\` is not something a canary does: use \`promote\` or \`abort\`, or nothing to see its scorecard. Nothing was changed.`, `Usage: \`/golive ${canarySpec.usage}\``);
  });
}
