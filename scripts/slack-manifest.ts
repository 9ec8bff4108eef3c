// The parts of manifest.yml (and README's scope list) that follow from the code: the slash command's
// description and usage hint from the command specs, the bot scopes from the Web API methods golive calls
// and the scopes Slack's OpenAPI spec gives each. `npm run manifest` rewrites both files;
// test/manifest.test.ts fails when they drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument } from 'yaml';
import { commandSpecs } from '../src/command-specs.js';
import type { CommandSpec } from '../src/platform/commands/command-spec.js';
import { WEB_API_METHODS, type WebApiUse } from '../src/platform/slack/web-api-methods.js';

export const MANIFEST_FILE = fileURLToPath(new URL('../manifest.yml', import.meta.url));
export const README_FILE = fileURLToPath(new URL('../README.md', import.meta.url));
export const SPEC_FILE = fileURLToPath(new URL('../test/fixtures/slack-web-api/slack_web_openapi_v2.json', import.meta.url));

/** Scopes no Web API method implies, and why golive asks for each. */
export const FEATURE_SCOPES: Readonly<Record<string, string>> = {
  commands: 'the `/golive` slash command',
  'chat:write.public': 'posts in a public runbook channel the bot has not been invited to yet',
  'users:read': 'Slack requires it alongside `users:read.email`',
  'reactions:read': 'the `reaction_added` event: a 📌 on a message in an incident channel adds it to the incident timeline',
};

/**
 * Methods newer than the OpenAPI spec (Slack stopped updating it), with the scopes their reference pages
 * give: docs.slack.dev/reference/methods/files.getUploadURLExternal and …/files.completeUploadExternal
 * (files:write; the pages add files:read only for the SDKs' helpers, which call files.info, and golive does not).
 */
export const SPEC_ADDITIONS: Readonly<Record<string, string[]>> = {
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
};

// The spec names classic scopes; a bot token asks for their granular names.
const BOT_SCOPE: Readonly<Record<string, string>> = { 'chat:write:bot': 'chat:write', 'channels:write': 'channels:manage' };
const USER_TOKEN_ONLY = new Set(['chat:write:user']);
// A scope's family says which kind of conversation it covers; golive needs only those of the kinds it acts on.
const KIND_OF_FAMILY: Readonly<Record<string, string>> = { channels: 'public', groups: 'private', im: 'im', mpim: 'mpim' };

type OpenApi = { paths: Record<string, Record<string, { security?: { slackAuth?: string[] }[] }>> };

/** Method name → the scopes the spec lists for it (any one of which Slack accepts for a given token and conversation). */
export function specScopes(spec: OpenApi = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as OpenApi): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(spec.paths)) {
    out.set(path.replace(/^\//, ''), [...new Set(Object.values(ops).flatMap((op) => (op.security ?? []).flatMap((s) => s.slackAuth ?? [])))]);
  }
  for (const [method, scopes] of Object.entries(SPEC_ADDITIONS)) if (!out.has(method)) out.set(method, scopes);
  return out;
}

/** The bot-token scopes one method needs on the conversations golive calls it on. */
export function botScopesFor(method: string, listed: readonly string[] | undefined, use: WebApiUse): string[] {
  if (!listed) throw new Error(`${method} is not a method in Slack's Web API spec`);
  if (listed.length === 1 && listed[0] === 'none') return [];
  const scopes = listed.filter((s) => {
    if (USER_TOKEN_ONLY.has(s)) return false;
    const kind = KIND_OF_FAMILY[s.split(':')[0]!];
    return !kind || (use.on as readonly string[]).includes(kind);
  });
  if (scopes.length === 0) throw new Error(`${method}: the spec lists ${listed.join(', ')}, none of which a bot token has on ${use.on.join('/') || 'no conversation'}`);
  return scopes.map((s) => BOT_SCOPE[s] ?? s);
}

/** Every bot scope golive needs, each with why: feature scopes first, then in the order of the method list. */
export function requiredBotScopes(scopesByMethod = specScopes()): { scope: string; why: string }[] {
  const methods = new Map<string, string[]>();
  for (const [method, use] of Object.entries(WEB_API_METHODS)) {
    for (const scope of botScopesFor(method, scopesByMethod.get(method), use)) methods.set(scope, [...(methods.get(scope) ?? []), method]);
  }
  return [
    ...Object.entries(FEATURE_SCOPES).map(([scope, why]) => ({ scope, why })),
    ...[...methods].filter(([scope]) => !(scope in FEATURE_SCOPES)).map(([scope, used]) => ({ scope, why: used.map((m) => `\`${m}\``).join(', ') })),
  ];
}

/** The slash command's description and usage hint, from the command specs. */
export function slashCommandText(specs: readonly CommandSpec[] = commandSpecs): { description: string; usage_hint: string } {
  // ' · ' between subcommands: a usage itself uses '|' for alternatives.
  return { description: `Run the launch: ${specs.map((s) => s.name).join(', ')}`, usage_hint: specs.map((s) => s.usage).join(' · ') };
}

/** manifest.yml with the derived parts as they should be; every other byte (comments, folding) kept. */
export function syncManifest(text: string, scopes = requiredBotScopes()): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`manifest.yml is not valid YAML: ${doc.errors[0]!.message}`);
  const command = doc.getIn(['features', 'slash_commands', 0]);
  if (!isMap(command)) throw new Error('manifest.yml has no features.slash_commands[0]');
  const bot = doc.getIn(['oauth_config', 'scopes', 'bot'], true);
  if (!isSeq(bot) || !bot.range) throw new Error('manifest.yml has no oauth_config.scopes.bot list');
  // Text edits at the nodes' source ranges, last first, so the rest of the file stays byte for byte.
  const edits: { at: number; end: number; text: string }[] = [];
  for (const [key, value] of Object.entries(slashCommandText())) {
    const node = command.get(key, true) as { range?: [number, number, number] } | undefined;
    if (!node?.range) throw new Error(`manifest.yml: the slash command has no ${key}`);
    // A JSON string is a YAML double-quoted scalar, kept on one line whatever its length.
    edits.push({ at: node.range[0], end: node.range[1], text: JSON.stringify(value) });
  }
  const indent = ' '.repeat(bot.range[0] - text.lastIndexOf('\n', bot.range[0] - 1) - 1);
  edits.push({ at: bot.range[0], end: bot.range[2], text: `${scopes.map(({ scope, why }) => `- ${scope} # ${why.replaceAll('`', '')}`).join(`\n${indent}`)}\n` });
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  return out;
}

const README_START = '<!-- bot scopes: generated by npm run manifest -->';
const README_END = '<!-- end of bot scopes -->';

/** README.md with its scope list as it should be. */
export function syncReadme(text: string, scopes = requiredBotScopes()): string {
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${README_START}" … "${README_END}" block`);
  const table = ['', '| bot scope | why |', '|---|---|', ...scopes.map(({ scope, why }) => `| \`${scope}\` | ${why} |`), ''].join('\n');
  return `${text.slice(0, start + README_START.length)}\n${table}\n${text.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MANIFEST_FILE, syncManifest(readFileSync(MANIFEST_FILE, 'utf8')));
  writeFileSync(README_FILE, syncReadme(readFileSync(README_FILE, 'utf8')));
  console.log('manifest.yml and README.md: slash command text and bot scopes written');
}
