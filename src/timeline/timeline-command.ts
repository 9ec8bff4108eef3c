import { freezeTimelineLines } from '../locks/index.js';
import { renderTimeline } from './render-timeline.js';
import type { Clock } from '../platform/clock.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { TimelineService } from './timeline-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const timelineSpec: CommandSpec = {
  name: 'timeline',
  usage: 'timeline',
  description: 'T-0 and every milestone of the launch: posted, coming (with times in the launch timezone), or waiting for T-0, and the freeze windows. Shown only to you.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 0,
};

/** `/golive timeline`: T-0 and every milestone, privately. */
export function timelineCommand(deps: { timeline: TimelineService; runbook: Runbook; clock: Clock }): Command {
  return command(timelineSpec, async (ctx) => {
    const { timeline: service, runbook, clock } = deps;
    const t0 = await service.t0();
    const now = clock.now();
    await ctx.respond(renderTimeline(await service.schedule(), { tz: runbook.launch.timezone, t0, now, freezes: freezeTimelineLines(runbook.freezes, runbook.launch.timezone, now, t0?.at) }));
  });
}
