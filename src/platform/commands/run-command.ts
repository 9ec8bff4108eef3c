import type { Command, CommandContext } from './command-spec.js';
import { usageText } from './help.js';
import { GoliveError } from '../errors.js';
import { closestNames } from '../suggest.js';
import { clip, escapeText } from '../escape.js';
import type { SlackMessage } from '../slack/slack-port.js';

/** Slack allows ~4000 characters of command text; nothing golive takes needs more than this. */
export const MAX_COMMAND_TEXT = 1500;

/** Slack sends command text with `&`, `<` and `>` HTML-encoded; we store what the person typed and escape again on output. */
function decodeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Parses `/golive <text>` and runs the matching subcommand. Anything malformed
 * throws a GoliveError whose hint carries the usage, generated from the specs.
 */
export async function runCommand(
  text: string,
  specs: readonly Command[],
  base: { userId: string; channelId: string; triggerId?: string; respond: (m: SlackMessage) => Promise<void> },
): Promise<void> {
  const trimmed = decodeSlackText(text).replace(/\u00a0/g, ' ').trim();
  if (trimmed.length > MAX_COMMAND_TEXT) {
    throw new GoliveError('usage', `That command is ${trimmed.length} characters long; golive takes at most ${MAX_COMMAND_TEXT}. Nothing was changed.`, usageText(specs));
  }
  const words = trimmed.split(/\s+/).filter(Boolean);
  const name = (words[0] ?? 'help').toLowerCase();
  const spec = specs.find((s) => s.name === name);
  if (!spec) {
    const close = closestNames(name, specs.map((s) => s.name));
    const didYouMean = close.length > 0 ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}?\n` : '';
    throw new GoliveError('unknown_command', `\`${escapeText(clip(name.replace(/`/g, ''), 40))}\` is not a golive command. Nothing was changed.`, `${didYouMean}${usageText(specs)}`);
  }
  const args = words.slice(1);
  if (args.length < spec.minArgs || (spec.maxArgs !== undefined && args.length > spec.maxArgs)) {
    const problem = args.length < spec.minArgs ? 'is missing an argument' : 'has too many arguments';
    throw new GoliveError('usage', `\`/golive ${spec.name}\` ${problem}. Nothing was changed.`, `Usage: \`/golive ${spec.usage}\` — ${spec.description}`);
  }
  const ctx: CommandContext = { userId: base.userId, channelId: base.channelId, triggerId: base.triggerId, args, rest: trimmed.slice(words[0]?.length ?? 0).trim(), respond: base.respond };
  await spec.run(ctx);
}
