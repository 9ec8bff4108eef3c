import { hostname } from 'node:os';
import path from 'node:path';
import { isHttpUrl } from './platform/is-http-url.js';
import { isPostgresUrl } from './platform/store/database-url.js';
import { DEFAULT_API_URL, DEFAULT_EVENTS_URL } from './platform/pager/pagerduty-urls.js';

/** Everything golive reads from the environment, read once at start-up. */
export interface Config {
  slack: {
    botToken: string;
    /** Verifies HTTP-mode requests; optional in Socket Mode, where Slack's requests arrive over the app token's socket. */
    signingSecret?: string;
    /** Set: Socket Mode. Unset: HTTP mode (`POST /slack/events`). */
    appToken?: string;
    /** Base URL of the Web API, ending in `/api/`. */
    apiUrl: string;
    /** How much faster than Slack's its rate-limit windows run for golive's call scheduler (GOLIVE_SLACK_LIMIT_SCALE, for a local fake Slack); 1 for Slack itself. */
    limitScale: number;
  };
  port: number;
  /** HTTP mode: Slack's requests are accepted and acknowledged on a thread of their own (GOLIVE_ACK_THREAD, default on; `off` to accept them on the main thread). */
  ackThread: boolean;
  runbookPath: string;
  /** GOLIVE_DB: a SQLite file, or a postgres:// URL (which may hold a password: never log it; see `databaseSecrets`). */
  dbPath: string;
  /** GOLIVE_DB_PASSWORD: the PostgreSQL password, overriding the URL's (from a secret store). */
  dbPassword?: string;
  /** This replica's name in /healthz, logs and the rows it claims (GOLIVE_REPLICA; default host name and process id). */
  replica: string;
  aws: { region?: string; endpointUrl?: string };
  pagerduty: { routingKey?: string; eventsUrl: string; apiToken?: string; apiUrl: string };
  /** Shared secret EventBridge API destinations send to `POST /hooks/eventbridge`; unset disables that endpoint. */
  eventBridgeSecret?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** golive's own address as people's browsers reach it (GOLIVE_PUBLIC_URL), for the launch report's link; unset: no link is given. */
  publicUrl?: string;
}

/** Raised when the environment cannot start golive; `problems` names each one. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`golive cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Raised when golive cannot start for a reason outside the configuration's own checks (Slack cannot be reached, or refuses the token); the message says what to check. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Socket Mode never sees a signed HTTP request from Slack (the push endpoints keep their own secrets), so only HTTP mode needs it. */
export const SIGNING_SECRET_MISSING = 'SLACK_SIGNING_SECRET is not set (from the Slack app\'s "Basic Information" page; HTTP mode needs it, Socket Mode with SLACK_APP_TOKEN does not)';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The variables whose values must never appear in a log line or a message. */
export const SECRET_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'PAGERDUTY_ROUTING_KEY', 'PAGERDUTY_API_TOKEN', 'GOLIVE_EVENTBRIDGE_SECRET', 'GOLIVE_DB_PASSWORD'] as const;

/** The database password, wherever it was given (GOLIVE_DB_PASSWORD or inside the URL): for the logger to mask. */
export function databaseSecrets(config: Pick<Config, 'dbPath' | 'dbPassword'>): string[] {
  const secrets = config.dbPassword ? [config.dbPassword] : [];
  if (isPostgresUrl(config.dbPath)) {
    try {
      const password = decodeURIComponent(new URL(config.dbPath).password);
      if (password) secrets.push(password);
    } catch {
      // An unreadable URL is reported by readConfig.
    }
  }
  return secrets;
}


/**
 * Reads and checks the configuration, reporting every problem at once.
 * Secret values are never put in messages: only the variable names.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };

  const botToken = get('SLACK_BOT_TOKEN');
  const signingSecret = get('SLACK_SIGNING_SECRET');
  const appToken = get('SLACK_APP_TOKEN');
  if (!botToken) problems.push('SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the Slack app\'s "OAuth & Permissions" page)');
  else if (!botToken.startsWith('xoxb-')) problems.push('SLACK_BOT_TOKEN does not look like a bot token (it should start with "xoxb-")');
  if (!signingSecret && !appToken) problems.push(SIGNING_SECRET_MISSING);
  if (appToken && !appToken.startsWith('xapp-')) problems.push('SLACK_APP_TOKEN does not look like an app-level token (it should start with "xapp-"); unset it for HTTP mode');

  let apiUrl = get('SLACK_API_URL') ?? 'https://slack.com/api/';
  if (!isHttpUrl(apiUrl)) problems.push('SLACK_API_URL is not an http(s) URL');
  else if (!apiUrl.endsWith('/')) apiUrl += '/';
  const limitScaleText = get('GOLIVE_SLACK_LIMIT_SCALE') ?? '1';
  const limitScale = Number(limitScaleText);
  if (!/^\d*\.?\d+$/.test(limitScaleText) || limitScale > 1) problems.push(`GOLIVE_SLACK_LIMIT_SCALE must be a number from 0 to 1 (got "${limitScaleText}"); leave it unset for Slack itself`);

  const portText = get('PORT') ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) problems.push(`PORT must be a number from 0 to 65535 (got "${portText}")`);

  const ackThreadText = (get('GOLIVE_ACK_THREAD') ?? 'on').toLowerCase();
  if (ackThreadText !== 'on' && ackThreadText !== 'off') problems.push(`GOLIVE_ACK_THREAD must be on or off (got "${ackThreadText}"); leave it unset for on`);

  const runbookPath = get('GOLIVE_RUNBOOK');
  if (!runbookPath) problems.push('GOLIVE_RUNBOOK is not set (the path of the launch runbook YAML, e.g. runbooks/govisax.yml)');

  const dbPath = get('GOLIVE_DB') ?? path.join('data', 'golive.db');
  const dbPassword = get('GOLIVE_DB_PASSWORD');
  if (isPostgresUrl(dbPath)) {
    let url: URL | undefined;
    try {
      url = new URL(dbPath);
    } catch {
      problems.push('GOLIVE_DB is not a valid PostgreSQL URL (postgres://user@host:5432/database?sslmode=verify-full); its value is not shown, since it may hold a password');
    }
    if (url && !url.hostname && !url.searchParams.get('host')) problems.push('GOLIVE_DB names no database host (postgres://user@host:5432/database)');
    const sslmode = url?.searchParams.get('sslmode');
    if (sslmode && !['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) problems.push(`GOLIVE_DB has sslmode=${sslmode}; use disable, require, verify-ca or verify-full (with sslrootcert= the CA bundle, e.g. RDS's global-bundle.pem)`);
    if (sslmode === 'verify-ca' && !url?.searchParams.get('sslrootcert')) problems.push('GOLIVE_DB has sslmode=verify-ca without sslrootcert=: name the CA bundle file (for RDS, global-bundle.pem)');
  } else if (dbPassword) {
    problems.push('GOLIVE_DB_PASSWORD is set but GOLIVE_DB is a SQLite file, which has no password: set GOLIVE_DB to a postgres:// URL, or unset GOLIVE_DB_PASSWORD');
  }
  const replica = get('GOLIVE_REPLICA') ?? `${hostname()}-${process.pid}`;

  const endpointUrl = get('AWS_ENDPOINT_URL');
  if (endpointUrl && !isHttpUrl(endpointUrl)) problems.push('AWS_ENDPOINT_URL is not an http(s) URL');

  const eventsUrl = get('PAGERDUTY_EVENTS_URL') ?? DEFAULT_EVENTS_URL;
  if (!isHttpUrl(eventsUrl)) problems.push('PAGERDUTY_EVENTS_URL is not an http(s) URL');
  const routingKey = get('PAGERDUTY_ROUTING_KEY');
  if (routingKey && !/^[A-Za-z0-9]{32}$/.test(routingKey)) problems.push('PAGERDUTY_ROUTING_KEY should be the 32-character integration key of an Events API v2 integration');

  const pdApiToken = get('PAGERDUTY_API_TOKEN');
  const pdApiUrl = get('PAGERDUTY_API_URL') ?? DEFAULT_API_URL;
  if (!isHttpUrl(pdApiUrl)) problems.push('PAGERDUTY_API_URL is not an http(s) URL');
  const eventBridgeSecret = get('GOLIVE_EVENTBRIDGE_SECRET');
  if (eventBridgeSecret && eventBridgeSecret.length < 16) problems.push('GOLIVE_EVENTBRIDGE_SECRET must be at least 16 characters');

  const publicUrl = get('GOLIVE_PUBLIC_URL');
  if (publicUrl && !isHttpUrl(publicUrl)) problems.push('GOLIVE_PUBLIC_URL is not an http(s) URL (golive\'s address as browsers reach it, e.g. https://golive.example.com)');

  const logLevel = (get('LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    slack: { botToken: botToken!, signingSecret, appToken, apiUrl, limitScale },
    port,
    ackThread: ackThreadText !== 'off',
    runbookPath: runbookPath!,
    dbPath,
    ...(dbPassword ? { dbPassword } : {}),
    replica,
    aws: { region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'), endpointUrl },
    pagerduty: { routingKey, eventsUrl, apiToken: pdApiToken, apiUrl: pdApiUrl },
    eventBridgeSecret,
    logLevel,
    ...(publicUrl ? { publicUrl } : {}),
  };
}
