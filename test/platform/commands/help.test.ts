import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandSpecs } from '../../../src/command-specs.js';
import { usageText } from '../../../src/platform/commands/help.js';
import { privateReply } from '../../support/golive-client.js';
import { startTestApp, type TestApp } from '../../support/start-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('/golive help', () => {
  it('lists every command from its spec', async () => {
    const reply = await privateReply(t, 'help');
    expect(reply).toBe(`*golive* runs the launch from this channel. Commands:\n${usageText(commandSpecs)}`);
    for (const spec of commandSpecs) expect(reply).toContain(`\`/golive ${spec.usage}\``);
    expect(reply).toContain("• `/golive check <item> [note]` — Sign a checklist item off, with an optional note. Recorded with who and when; announced in the channel. _(members of the item's owner role)_");
  });

  it('is what a bare /golive shows', async () => {
    expect(await privateReply(t, '')).toBe(await privateReply(t, 'help'));
  });

  it('answers an unknown subcommand with the closest name and the usage', async () => {
    expect(await privateReply(t, 'stauts')).toBe(`:warning: \`stauts\` is not a golive command. Nothing was changed.\nDid you mean \`status\`?\n${usageText(commandSpecs)}`);
  });

  it('refuses absurdly long input without echoing it', async () => {
    const reply = await privateReply(t, `check ${'x'.repeat(3000)}`);
    expect(reply).toBe(`:warning: That command is 3006 characters long; golive takes at most 1500. Nothing was changed.\n${usageText(commandSpecs)}`);
  });
});
