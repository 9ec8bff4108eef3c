import { renderNotice } from '../platform/slack/blocks.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';
import type { Clock } from '../platform/clock.js';
import type { EvidenceService } from './evidence-service.js';
import { renderVerifyRun } from './render-evidence.js';

export const verifySpec: CommandSpec = {
  name: 'verify',
  usage: 'verify [item|gate]',
  description:
    "Runs the items' evidence checks now (AWS, HTTP, TLS) — every checked item, one gate's, or one item — and shows what each found. Results are kept and shown on the status; drift, recoveries and golive's own sign-offs are announced in the channel.",
  sideEffects: true,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 1,
};

/** `/golive verify [item|gate]`: runs checks now and answers privately with what each found. */
export function verifyCommand(deps: { evidence: EvidenceService; clock: Clock }): Command {
  return command(verifySpec, async (ctx) => {
    const { evidence, clock } = deps;
    if (!evidence.configured) return ctx.respond(renderNotice('No item of this runbook has a check.', 'Add `verify:` to an item in the runbook (docs/runbook.md, "Evidence checks") to have golive check it.'));
    const run = await evidence.verify(evidence.resolve(ctx.args[0]), 'command');
    await ctx.respond(renderVerifyRun(run, clock.now()));
  });
}
