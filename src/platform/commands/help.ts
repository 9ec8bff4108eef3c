import type { SlackMessage } from '../slack/slack-port.js';
import { renderNotice } from '../slack/blocks.js';
import { command, type Command, type CommandSpec } from './command-spec.js';

/** The usage list, generated from the specs so it never drifts from what the commands accept. */
export function usageText(specs: readonly CommandSpec[]): string {
  return specs.map((s) => `• \`/golive ${s.usage}\` — ${s.description}${s.who !== 'anyone' ? ` _(${s.who})_` : ''}`).join('\n');
}

export function renderHelp(specs: readonly CommandSpec[], intro = '*golive* runs the launch from this channel. Commands:'): SlackMessage {
  return renderNotice(intro, usageText(specs));
}

export const helpSpec: CommandSpec = {
  name: 'help',
  usage: 'help',
  description: 'This list.',
  sideEffects: false,
  who: 'anyone',
  minArgs: 0,
};

/** `/golive help`: every command's usage. */
export function helpCommand(specs: readonly CommandSpec[]): Command {
  return command(helpSpec, async (ctx) => {
    await ctx.respond(renderHelp(specs));
  });
}
