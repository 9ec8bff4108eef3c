import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSandboxConfig, wantsSandbox } from '../../src/sandbox/sandbox-config.js';

describe('when npm start runs the sandbox', () => {
  it('runs it without Slack credentials, on request, and never when refused or in production', () => {
    expect(wantsSandbox({}, [])).toBe(true);
    expect(wantsSandbox({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }, [])).toBe(false);
    // Half a configuration is a mistake to report, not a reason to simulate.
    expect(wantsSandbox({ SLACK_BOT_TOKEN: 'xoxb-1' }, [])).toBe(false);
    expect(wantsSandbox({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }, ['--sandbox'])).toBe(true);
    expect(wantsSandbox({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', GOLIVE_SANDBOX: '1' }, [])).toBe(true);
    expect(wantsSandbox({ GOLIVE_SANDBOX: '0' }, [])).toBe(false);
    expect(wantsSandbox({ NODE_ENV: 'production' }, [])).toBe(false);
    expect(wantsSandbox({ NODE_ENV: 'production', GOLIVE_SANDBOX: 'true' }, [])).toBe(true);
  });
});

describe('readSandboxConfig', () => {
  it('defaults to the GoVisaX runbook, its own database file and port 3000 on loopback', () => {
    expect(readSandboxConfig({})).toEqual({ runbookPath: path.join('runbooks', 'govisax.yml'), dbPath: 'golive-sandbox.db', port: 3000, host: '127.0.0.1', logLevel: 'warn', rolloutMs: 6000 });
    expect(readSandboxConfig({ GOLIVE_RUNBOOK: 'runbooks/minimal.yml', GOLIVE_SANDBOX_DB: '/tmp/s.db', PORT: '0', GOLIVE_SANDBOX_ROLLOUT_SECONDS: '1.5' })).toMatchObject({ runbookPath: 'runbooks/minimal.yml', dbPath: '/tmp/s.db', port: 0, rolloutMs: 1500 });
  });

  it('never uses the real bot’s database, and names every problem at once', () => {
    expect(() => readSandboxConfig({ GOLIVE_DB: 'data/live.db', GOLIVE_SANDBOX_DB: './data/live.db', PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(
      [
        'golive cannot start; fix the configuration:',
        "  - GOLIVE_SANDBOX_DB is the real bot's database (data/live.db); the sandbox keeps its state in a file of its own",
        '  - PORT must be a number from 0 to 65535 (got "x")',
        '  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      ].join('\n'),
    );
    expect(() => readSandboxConfig({ GOLIVE_SANDBOX_DB: path.join('data', 'golive.db') })).toThrow("GOLIVE_SANDBOX_DB is the real bot's database (data/golive.db)");
  });
});
