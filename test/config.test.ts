import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, databaseSecrets, readConfig, SECRET_VARIABLES, type Config } from '../src/config.js';

const BOT_TOKEN = 'xoxb-1111-2222-SECRETbot';
const SIGNING_SECRET = 'signing-SECRET-8f3a9c';
const APP_TOKEN = 'xapp-1-A111-2222-SECRETapp';
const ROUTING_KEY = 'R0UT1NGKEYSECRET0123456789abcdef'; // 32 alphanumerics

/** The smallest environment golive starts with. */
function minimalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, GOLIVE_RUNBOOK: 'runbooks/govisax.yml', ...extra };
}

/** Runs readConfig expecting a ConfigError and returns it. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected readConfig to throw a ConfigError');
}

const NOT_SET = {
  bot: 'SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)',
  signing: 'SLACK_SIGNING_SECRET is not set (from the Slack app\'s "Basic Information" page; HTTP mode needs it, Socket Mode with SLACK_APP_TOKEN does not)',
  runbook: 'GOLIVE_RUNBOOK is not set (the path of the launch runbook YAML, e.g. runbooks/govisax.yml)',
};

describe('readConfig', () => {
  it('applies the documented defaults to a minimal environment', () => {
    const expected: Config = {
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: undefined, apiUrl: 'https://slack.com/api/', limitScale: 1 },
      port: 3000,
      ackThread: true,
      runbookPath: 'runbooks/govisax.yml',
      dbPath: 'data/golive.db',
      replica: `${hostname()}-${process.pid}`,
      aws: { region: undefined, endpointUrl: undefined },
      pagerduty: { routingKey: undefined, eventsUrl: 'https://events.pagerduty.com/v2/enqueue', apiToken: undefined, apiUrl: 'https://api.pagerduty.com' },
      eventBridgeSecret: undefined,
      logLevel: 'info',
    };
    expect(readConfig(minimalEnv())).toStrictEqual(expected);
  });

  it('reads every variable of a full environment into the typed config', () => {
    const config = readConfig(
      minimalEnv({
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: 'http://127.0.0.1:4010/api',
        PORT: '8080',
        GOLIVE_DB: '/var/lib/golive/launch.db',
        GOLIVE_REPLICA: 'golive-a',
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://localhost:5000',
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: 'http://localhost:6000/v2/enqueue',
        GOLIVE_EVENTBRIDGE_SECRET: 'eventbridge-shared-secret-0123',
        LOG_LEVEL: 'debug',
        GOLIVE_ACK_THREAD: 'off',
      }),
    );
    expect(config).toStrictEqual({
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: APP_TOKEN, apiUrl: 'http://127.0.0.1:4010/api/', limitScale: 1 },
      port: 8080,
      ackThread: false,
      runbookPath: 'runbooks/govisax.yml',
      dbPath: '/var/lib/golive/launch.db',
      replica: 'golive-a',
      aws: { region: 'eu-west-1', endpointUrl: 'http://localhost:5000' },
      pagerduty: { routingKey: ROUTING_KEY, eventsUrl: 'http://localhost:6000/v2/enqueue', apiToken: undefined, apiUrl: 'https://api.pagerduty.com' },
      eventBridgeSecret: 'eventbridge-shared-secret-0123',
      logLevel: 'debug',
    } satisfies Config);
  });

  it('takes a PostgreSQL URL in GOLIVE_DB and its password from GOLIVE_DB_PASSWORD, and masks both', () => {
    const config = readConfig(minimalEnv({ GOLIVE_DB: 'postgres://golive:in-url-pw@db.internal:5432/golive?sslmode=verify-full&sslrootcert=/etc/ssl/rds/global-bundle.pem', GOLIVE_DB_PASSWORD: 'from-secret-pw' }));
    expect(config.dbPath).toBe('postgres://golive:in-url-pw@db.internal:5432/golive?sslmode=verify-full&sslrootcert=/etc/ssl/rds/global-bundle.pem');
    expect(config.dbPassword).toBe('from-secret-pw');
    expect(databaseSecrets(config)).toStrictEqual(['from-secret-pw', 'in-url-pw']);
    expect(SECRET_VARIABLES).toContain('GOLIVE_DB_PASSWORD');
  });

  it('reports every problem of a PostgreSQL URL together, never echoing the URL (it may hold a password)', () => {
    expect(() => readConfig(minimalEnv({ GOLIVE_DB: 'postgres://golive:secret-pw@db.internal/golive?sslmode=verify-ca' }))).toThrow(
      new ConfigError(['GOLIVE_DB has sslmode=verify-ca without sslrootcert=: name the CA bundle file (for RDS, global-bundle.pem)']),
    );
    expect(() => readConfig(minimalEnv({ GOLIVE_DB: 'postgresql://golive:secret-pw@db.internal/golive?sslmode=on' }))).toThrow(
      new ConfigError(['GOLIVE_DB has sslmode=on; use disable, require, verify-ca or verify-full (with sslrootcert= the CA bundle, e.g. RDS\'s global-bundle.pem)']),
    );
    expect(() => readConfig(minimalEnv({ GOLIVE_DB: 'data/golive.db', GOLIVE_DB_PASSWORD: 'pw' }))).toThrow(
      new ConfigError(['GOLIVE_DB_PASSWORD is set but GOLIVE_DB is a SQLite file, which has no password: set GOLIVE_DB to a postgres:// URL, or unset GOLIVE_DB_PASSWORD']),
    );
  });

  it('adds the trailing slash to SLACK_API_URL only when it is missing', () => {
    expect(readConfig(minimalEnv({ SLACK_API_URL: 'http://localhost:3999/api' })).slack.apiUrl).toBe('http://localhost:3999/api/');
    expect(readConfig(minimalEnv({ SLACK_API_URL: 'http://localhost:3999/api/' })).slack.apiUrl).toBe('http://localhost:3999/api/');
  });

  it('trims values and treats blank ones as unset', () => {
    const config = readConfig(minimalEnv({ SLACK_BOT_TOKEN: `  ${BOT_TOKEN}\n`, PORT: ' 4000 ', GOLIVE_DB: '   ', SLACK_APP_TOKEN: '' }));
    expect(config.slack.botToken).toBe(BOT_TOKEN);
    expect(config.port).toBe(4000);
    expect(config.dbPath).toBe('data/golive.db');
    expect(config.slack.appToken).toBeUndefined();
  });

  it('falls back to AWS_DEFAULT_REGION when AWS_REGION is unset', () => {
    expect(readConfig(minimalEnv({ AWS_DEFAULT_REGION: 'us-east-2' })).aws.region).toBe('us-east-2');
    expect(readConfig(minimalEnv({ AWS_DEFAULT_REGION: 'us-east-2', AWS_REGION: 'eu-central-1' })).aws.region).toBe('eu-central-1');
  });

  it('names every missing required variable at once for an empty environment', () => {
    const err = configError({});
    expect(err.name).toBe('ConfigError');
    expect(err.problems).toEqual([NOT_SET.bot, NOT_SET.signing, NOT_SET.runbook]);
    expect(err.message).toBe(
      ['golive cannot start; fix the configuration:', `  - ${NOT_SET.bot}`, `  - ${NOT_SET.signing}`, `  - ${NOT_SET.runbook}`].join('\n'),
    );
  });

  it('does not ask for SLACK_SIGNING_SECRET in Socket Mode (SLACK_APP_TOKEN set)', () => {
    const config = readConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, GOLIVE_RUNBOOK: 'runbooks/govisax.yml' });
    expect(config.slack).toStrictEqual({ botToken: BOT_TOKEN, signingSecret: undefined, appToken: APP_TOKEN, apiUrl: 'https://slack.com/api/', limitScale: 1 });
  });

  it('still asks for SLACK_SIGNING_SECRET in HTTP mode', () => {
    expect(configError({ SLACK_BOT_TOKEN: BOT_TOKEN, GOLIVE_RUNBOOK: 'runbooks/govisax.yml' }).problems).toEqual([NOT_SET.signing]);
  });

  it('accumulates problems of different kinds in one error', () => {
    const err = configError({ SLACK_BOT_TOKEN: 'xoxp-user-token', PORT: 'eighty', SLACK_API_URL: 'slack.com/api' });
    expect(err.problems).toEqual([
      'SLACK_BOT_TOKEN does not look like a bot token (it should start with "xoxb-")',
      NOT_SET.signing,
      'SLACK_API_URL is not an http(s) URL',
      'PORT must be a number from 0 to 65535 (got "eighty")',
      NOT_SET.runbook,
    ]);
  });

  it.each(['-1', '65536', '3000.5', '1e3', '0x50', 'eighty'])('refuses PORT=%s', (port) => {
    expect(configError(minimalEnv({ PORT: port })).problems).toEqual([`PORT must be a number from 0 to 65535 (got "${port}")`]);
  });

  it.each([
    ['0', 0],
    ['65535', 65535],
    ['443', 443],
  ])('accepts PORT=%s', (port, expected) => {
    expect(readConfig(minimalEnv({ PORT: port })).port).toBe(expected);
  });

  it.each([
    ['SLACK_API_URL', 'ftp://slack.com/api/'],
    ['SLACK_API_URL', 'not a url'],
    ['AWS_ENDPOINT_URL', 'localhost:5000'],
    ['PAGERDUTY_EVENTS_URL', 'file:///etc/passwd'],
  ])('refuses %s=%s as not http(s)', (name, value) => {
    expect(configError(minimalEnv({ [name]: value })).problems).toEqual([`${name} is not an http(s) URL`]);
  });

  it('refuses an app token that is not an xapp- token and says how to get HTTP mode', () => {
    expect(configError(minimalEnv({ SLACK_APP_TOKEN: 'xoxb-looks-like-a-bot-token' })).problems).toEqual([
      'SLACK_APP_TOKEN does not look like an app-level token (it should start with "xapp-"); unset it for HTTP mode',
    ]);
  });

  it('refuses a routing key that is not 32 alphanumerics', () => {
    expect(configError(minimalEnv({ PAGERDUTY_ROUTING_KEY: 'short-key' })).problems).toEqual([
      'PAGERDUTY_ROUTING_KEY should be the 32-character integration key of an Events API v2 integration',
    ]);
  });

  it('reads GOLIVE_SLACK_LIMIT_SCALE (a local fake Slack) and refuses one outside 0 to 1', () => {
    expect(readConfig(minimalEnv({ GOLIVE_SLACK_LIMIT_SCALE: '0.01' })).slack.limitScale).toBe(0.01);
    expect(configError(minimalEnv({ GOLIVE_SLACK_LIMIT_SCALE: '2' })).problems).toEqual(['GOLIVE_SLACK_LIMIT_SCALE must be a number from 0 to 1 (got "2"); leave it unset for Slack itself']);
    expect(configError(minimalEnv({ GOLIVE_ACK_THREAD: 'yes' })).problems).toEqual(['GOLIVE_ACK_THREAD must be on or off (got "yes"); leave it unset for on']);
    expect(configError(minimalEnv({ GOLIVE_SLACK_LIMIT_SCALE: 'fast' })).problems).toEqual(['GOLIVE_SLACK_LIMIT_SCALE must be a number from 0 to 1 (got "fast"); leave it unset for Slack itself']);
  });

  it('refuses an unknown LOG_LEVEL and lists the valid ones', () => {
    expect(configError(minimalEnv({ LOG_LEVEL: 'verbose' })).problems).toEqual(['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent']);
  });

  it('never puts secret values into the error', () => {
    const secrets = {
      SLACK_BOT_TOKEN: 'not-a-token-SECRET123',
      SLACK_SIGNING_SECRET: 'SIGNINGSECRET456',
      SLACK_APP_TOKEN: 'xoxp-SECRET789-not-an-app-token',
      PAGERDUTY_ROUTING_KEY: 'ROUTINGSECRET-too-short',
      SLACK_API_URL: 'https://user:URLSECRET@slack example/api',
      AWS_ENDPOINT_URL: 'notaurl-AWSSECRET',
    };
    const err = configError(secrets); // GOLIVE_RUNBOOK missing too, so every check runs
    expect(err.problems).toHaveLength(6);
    const everything = `${err.message}\n${err.problems.join('\n')}\n${err.stack ?? ''}\n${JSON.stringify(err)}`;
    for (const secret of ['SECRET123', 'SIGNINGSECRET456', 'SECRET789', 'ROUTINGSECRET', 'URLSECRET', 'AWSSECRET']) {
      expect(everything).not.toContain(secret);
    }
    expect(err.problems.map((p) => p.split(' ')[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'SLACK_APP_TOKEN',
      'SLACK_API_URL',
      'GOLIVE_RUNBOOK',
      'AWS_ENDPOINT_URL',
      'PAGERDUTY_ROUTING_KEY',
    ]);
  });
});
