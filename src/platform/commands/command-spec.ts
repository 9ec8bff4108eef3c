import type { SlackMessage } from '../slack/slack-port.js';

/** One invocation of a subcommand. */
export interface CommandContext {
  userId: string;
  channelId: string;
  /** Words after the subcommand name, split on whitespace. */
  args: string[];
  /** The text after the subcommand name, as typed (trimmed). */
  rest: string;
  /** Slack's trigger_id, for opening a modal within its 3-second life. */
  triggerId?: string;
  /** Replies privately to the person who ran the command. */
  respond(message: SlackMessage): Promise<void>;
}

/**
 * What `help`, the malformed-input reply, manifest.yml and README's command
 * table say about a `/golive` subcommand. Static, so they can be read
 * without building the app.
 */
export interface CommandSpec {
  name: string;
  /** e.g. `check <item> [note]` (without `/golive`). */
  usage: string;
  description: string;
  /** Whether running it changes recorded state or posts to the channel. */
  sideEffects: boolean;
  /** Who may run it, in words (enforced by the service it calls). */
  who: string;
  /** Fewest arguments it needs; fewer gets the usage privately. */
  minArgs: number;
  /** Most arguments it takes; more gets the usage privately (undefined: free text). */
  maxArgs?: number;
}

/**
 * A subcommand with its handler, which closes over the services it uses.
 * Handlers throw GoliveError for anything the user must fix.
 */
export interface Command extends CommandSpec {
  run(ctx: CommandContext): Promise<void>;
}

/** A command from its spec and handler. */
export function command(spec: CommandSpec, run: (ctx: CommandContext) => Promise<void>): Command {
  return { ...spec, run };
}

/** The commands in the specs' order, each spec with exactly one command: a module that forgot one fails at start, not at the first use. */
export function inSpecOrder(specs: readonly CommandSpec[], commands: readonly Command[]): Command[] {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const missing = specs.filter((s) => !byName.has(s.name)).map((s) => s.name);
  const unlisted = commands.filter((c) => !specs.some((s) => s.name === c.name)).map((c) => c.name);
  if (missing.length > 0 || unlisted.length > 0 || byName.size !== commands.length) {
    throw new Error(`the command specs and the modules' commands do not match (no command for: ${missing.join(', ') || '-'}; not in the specs: ${unlisted.join(', ') || '-'})`);
  }
  return specs.map((s) => byName.get(s.name)!);
}
