import { renderTimeline } from './render-timeline.js';
import type { CommandSpec } from '../platform/commands/command-spec.js';

export const timeline: CommandSpec = {
  name: 'timeline',
  usage: 'timeline',
  description: 'T-0 and every milestone of the launch: posted, coming (with times in the launch timezone), or waiting for T-0. Shown only to you.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
  maxArgs: 0,
  async run(ctx) {
    const { timeline: service, runbook, clock } = ctx.services;
    await ctx.respond(renderTimeline(await service.schedule(), { tz: runbook.launch.timezone, t0: await service.t0(), now: clock.now() }));
  },
};
