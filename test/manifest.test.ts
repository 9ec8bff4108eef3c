import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILE, README_FILE, requiredBotScopes, specScopes, syncManifest, syncReadme } from '../scripts/slack-manifest.js';
import { WEB_API_METHODS } from '../src/platform/slack/web-api-methods.js';
import { PROJECT_ROOT } from './support/start-app.js';

const FIX = 'run `npm run manifest` to write the expected text';
const manifestText = readFileSync(MANIFEST_FILE, 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    // The sandbox simulates Slack's side; the method list itself names every method.
    if (rel === 'src/sandbox' || rel === 'src/platform/slack/web-api-methods.ts') return [];
    return e.isDirectory() ? sourceFiles(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

describe('manifest.yml', () => {
  it('is valid YAML', () => {
    expect(parseDocument(manifestText).errors.map((e) => e.message)).toEqual([]);
  });

  it("validates against SchemaStore's Slack app manifest schema", () => {
    const schema = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/slack-app-manifest/slack-app-manifest.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    validate(parseDocument(manifestText).toJS());
    expect(validate.errors ?? []).toEqual([]);
  });

  it('has the slash command text and the bot scopes that follow from the command specs and the Web API methods golive calls', () => {
    expect(manifestText, FIX).toBe(syncManifest(manifestText));
  });

  it("README's scope list is the manifest's", () => {
    const readme = readFileSync(README_FILE, 'utf8');
    expect(readme, FIX).toBe(syncReadme(readme));
    const bot = parseDocument(manifestText).getIn(['oauth_config', 'scopes', 'bot']) as { toJSON(): string[] };
    expect(bot.toJSON()).toEqual(requiredBotScopes().map((s) => s.scope));
  });
});

describe('the Web API method list', () => {
  it('names exactly the methods the code calls', () => {
    const methods = [...specScopes().keys()];
    const called = new Set<string>();
    for (const file of sourceFiles('src')) {
      const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
      for (const m of methods) if (text.includes(`'${m}'`) || text.includes(`"${m}"`)) called.add(m);
    }
    expect([...called].sort()).toEqual(Object.keys(WEB_API_METHODS).sort());
  });

  it("maps the spec's classic scopes to bot scopes on the conversations golive uses", () => {
    const scopes = specScopes();
    expect(scopes.get('conversations.create')).toEqual(['channels:write', 'groups:write', 'im:write', 'mpim:write']);
    expect(requiredBotScopes(scopes).find((s) => s.scope === 'channels:manage')?.why).toBe('`conversations.create`, `conversations.setTopic`, `conversations.invite`, `conversations.archive`');
    expect(requiredBotScopes(scopes).find((s) => s.scope === 'groups:history')?.why).toBe('`conversations.history`, `conversations.replies`');
    expect(requiredBotScopes(scopes).map((s) => s.scope)).not.toContain('groups:write');
  });
});
