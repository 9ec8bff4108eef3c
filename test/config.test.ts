import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../src/config.js';

const VALID = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'sign-secret-value', GOLIVE_RUNBOOK: 'runbooks/govisax.yml' };

function problems(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig', () => {
  it('applies the defaults', () => {
    expect(readConfig(VALID)).toEqual({
      slack: { botToken: 'xoxb-1-2-abc', signingSecret: 'sign-secret-value', appToken: undefined, apiUrl: 'https://slack.com/api/' },
      port: 3000,
      runbookPath: 'runbooks/govisax.yml',
      dbPath: 'data/golive.db',
      aws: { region: undefined, endpointUrl: undefined },
      pagerduty: { routingKey: undefined, eventsUrl: 'https://events.pagerduty.com/v2/enqueue' },
      logLevel: 'info',
    });
  });

  it('reads every variable and adds the trailing slash Slack URLs need', () => {
    const c = readConfig({
      ...VALID,
      SLACK_APP_TOKEN: 'xapp-1-A1-xyz',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      PORT: '8080',
      GOLIVE_DB: '/data/g.db',
      AWS_REGION: 'ap-south-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      PAGERDUTY_ROUTING_KEY: 'a'.repeat(32),
      PAGERDUTY_EVENTS_URL: 'https://127.0.0.1:8443/v2/enqueue',
      LOG_LEVEL: 'debug',
    });
    expect(c.slack.apiUrl).toBe('http://127.0.0.1:9999/api/');
    expect(c.slack.appToken).toBe('xapp-1-A1-xyz');
    expect([c.port, c.dbPath, c.aws.region, c.aws.endpointUrl, c.logLevel]).toEqual([8080, '/data/g.db', 'ap-south-1', 'http://127.0.0.1:5000', 'debug']);
  });

  it('names every problem at once', () => {
    expect(problems({ PORT: '70000', LOG_LEVEL: 'loud', SLACK_APP_TOKEN: 'xoxb-wrong', AWS_ENDPOINT_URL: 'moto', PAGERDUTY_ROUTING_KEY: 'short' })).toEqual([
      'SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)',
      'SLACK_SIGNING_SECRET is not set (from the Slack app\'s "Basic Information" page)',
      'SLACK_APP_TOKEN does not look like an app-level token (it should start with "xapp-"); unset it for HTTP mode',
      'PORT must be a number from 0 to 65535 (got "70000")',
      'GOLIVE_RUNBOOK is not set (the path of the launch runbook YAML, e.g. runbooks/govisax.yml)',
      'AWS_ENDPOINT_URL is not an http(s) URL',
      'PAGERDUTY_ROUTING_KEY should be the 32-character integration key of an Events API v2 integration',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('treats blank values as unset', () => {
    expect(problems({ ...VALID, SLACK_BOT_TOKEN: '   ' })).toEqual(['SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)']);
  });

  it('never puts a secret value in the message', () => {
    let message = '';
    try {
      readConfig({ SLACK_BOT_TOKEN: 'not-a-token-SECRET123', SLACK_SIGNING_SECRET: 'SIGNSECRET456', SLACK_APP_TOKEN: 'bad-APPSECRET789', PAGERDUTY_ROUTING_KEY: 'ROUTINGSECRET0' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('SLACK_BOT_TOKEN does not look like a bot token');
    expect(message).not.toMatch(/SECRET123|SIGNSECRET456|APPSECRET789|ROUTINGSECRET0/);
  });
});
