import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The project's own eslint.config.js; the type-aware rules are switched off here because building the TypeScript
// program takes a minute, and the boundary rules do not need it (`npm run lint` runs everything on the tree).
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off', '@typescript-eslint/await-thenable': 'off' },
  },
});

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('a feature reaches another feature only through its index.ts', async () => {
    expect(await boundaryErrors('src/deploys/deploy-command.ts', "import { ChecklistRepository } from '../checklist/checklist-repository.js';\nexport const x = ChecklistRepository;\n")).toEqual([
      "'../checklist/checklist-repository.js' import is restricted from being used by a pattern. Import another feature through its index.ts (its public surface), not its files.",
    ]);
    expect(await boundaryErrors('src/deploys/deploy-command.ts', "import { ChecklistService } from '../checklist/index.js';\nexport const x = ChecklistService;\n")).toEqual([]);
  });

  it('a service never imports the Slack side or an SDK', async () => {
    const errors = await boundaryErrors(
      'src/alarms/alarm-service.ts',
      "import { escapeText } from '../platform/slack/render.js';\nimport { renderAlarmList } from './render-alarms.js';\nimport { CloudWatchClient } from '@aws-sdk/client-cloudwatch';\nimport { App } from '@slack/bolt';\nexport const x = [escapeText, renderAlarmList, CloudWatchClient, App];\n",
    );
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/A service or repository never imports the Slack side/);
    expect(errors[2]).toMatch(/never imports an SDK/);
    // The Slack port is golive's own interface, as the AWS ports are.
    expect(await boundaryErrors('src/incidents/incident-service.ts', "import type { SlackPort } from '../platform/slack/slack-port.js';\nexport type X = SlackPort;\n")).toEqual([]);
  });

  it('the platform never imports a feature or the composition root', async () => {
    const errors = await boundaryErrors('src/platform/outbox/outbox.ts', "import { AlarmService } from '../../alarms/index.js';\nimport { createApp } from '../../create-app.js';\nexport const x = [AlarmService, createApp];\n");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/The platform never imports a feature/);
  });

  it('only the store uses a database driver', async () => {
    const drivers = "import pg from 'pg';\nimport Database from 'better-sqlite3';\nexport const x = [pg, Database];\n";
    for (const file of ['src/checklist/checklist-repository.ts', 'src/create-app.ts', 'src/platform/outbox/outbox.ts', 'src/alarms/alarm-service.ts']) {
      const errors = await boundaryErrors(file, drivers);
      expect(errors, file).toHaveLength(2);
      expect(errors[0]).toMatch(/Only src\/platform\/store\/ uses a database driver/);
    }
    expect(await boundaryErrors('src/platform/store/postgres-store.ts', drivers)).toEqual([]);
  });
});
