import { formatTime, timeWithSeconds } from '../platform/format-time.js';
import { T0_FORMS } from '../platform/launch-time.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { TimelineService } from './timeline-service.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';

export const t0Spec: CommandSpec = {
  name: 't0',
  usage: 't0 <time>',
  description: `Sets or moves T-0, the moment the timeline counts from, and announces it in the channel. <time> is ${T0_FORMS.join(', ')}.`,
  sideEffects: true,
  who: 'anyone named in a runbook role',
  minArgs: 1,
};

/** `/golive t0`: sets or moves T-0. */
export function t0Command(deps: { timeline: TimelineService; runbook: Runbook }): Command {
  return command(t0Spec, async (ctx) => {
    const { timeline, runbook } = deps;
    const tz = runbook.launch.timezone;
    const result = await timeline.setT0(ctx.rest, { userId: ctx.userId, source: 'command', channel: ctx.channelId });
    const at = result.t0.at.toISOString();
    // `now` keeps no seconds: say so rather than let 08:00:42 silently become 08:00.
    const rounded = result.roundedFrom ? ` (\`now\` counts from the start of the minute: ${timeWithSeconds(at, tz)}, not ${timeWithSeconds(result.roundedFrom.toISOString(), tz)})` : '';
    if (!result.changed) return ctx.respond(renderNotice(`T-0 is already ${formatTime(at, tz)}${rounded}; nothing changed.`));
    await ctx.respond(renderNotice(`T-0 is now ${formatTime(at, tz)}${rounded}; the change is announced in <#${runbook.launch.channel}>.`));
  });
}
