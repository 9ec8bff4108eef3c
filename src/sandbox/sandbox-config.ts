import path from 'node:path';
import { ConfigError, LOG_LEVELS, type Config } from '../config.js';

/** How the sandbox runs; read from the environment by {@link readSandboxConfig}. */
export interface SandboxConfig {
  runbookPath: string;
  /** The sandbox's own SQLite file; never the real bot's database. */
  dbPath: string;
  /** Port of the page (and of the simulated Slack Web API). */
  port: number;
  /** Interface the page listens on; loopback unless asked otherwise. */
  host: string;
  logLevel: Config['logLevel'];
  /** How long a simulated ECS rollout takes. */
  rolloutMs: number;
}

const YES = new Set(['1', 'true', 'yes', 'on']);
const NO = new Set(['0', 'false', 'no', 'off']);

/**
 * Whether `npm start` should start the sandbox instead of the real bot:
 * `--sandbox` or `GOLIVE_SANDBOX=1` ask for it, `GOLIVE_SANDBOX=0` refuses it,
 * and otherwise it starts when no Slack credentials are configured at all —
 * except with `NODE_ENV=production` (the Docker image), where missing
 * credentials stay an error rather than quietly becoming a sandbox.
 */
export function wantsSandbox(env: NodeJS.ProcessEnv, argv: readonly string[]): boolean {
  if (argv.includes('--sandbox')) return true;
  const flag = env.GOLIVE_SANDBOX?.trim().toLowerCase();
  if (flag && YES.has(flag)) return true;
  if (flag && NO.has(flag)) return false;
  const noSlack = !env.SLACK_BOT_TOKEN?.trim() && !env.SLACK_SIGNING_SECRET?.trim();
  return noSlack && env.NODE_ENV !== 'production';
}

/** Reads the sandbox's settings; every problem is reported at once, like {@link readConfig}. */
export function readSandboxConfig(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;

  const runbookPath = get('GOLIVE_RUNBOOK') ?? path.join('runbooks', 'govisax.yml');
  const dbPath = get('GOLIVE_SANDBOX_DB') ?? 'golive-sandbox.db';
  const realDb = get('GOLIVE_DB') ?? path.join('data', 'golive.db');
  if (path.resolve(dbPath) === path.resolve(realDb)) problems.push(`GOLIVE_SANDBOX_DB is the real bot's database (${realDb}); the sandbox keeps its state in a file of its own`);

  const portText = get('PORT') ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`PORT must be a number from 0 to 65535 (got "${portText}")`);

  const host = get('GOLIVE_SANDBOX_HOST') ?? '127.0.0.1';

  const logLevel = (get('LOG_LEVEL') ?? 'warn') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const rolloutText = get('GOLIVE_SANDBOX_ROLLOUT_SECONDS') ?? '6';
  const rolloutSeconds = Number(rolloutText);
  if (!Number.isFinite(rolloutSeconds) || rolloutSeconds < 0 || rolloutSeconds > 600) problems.push(`GOLIVE_SANDBOX_ROLLOUT_SECONDS must be a number of seconds from 0 to 600 (got "${rolloutText}")`);

  if (problems.length > 0) throw new ConfigError(problems);
  return { runbookPath, dbPath, port, host, logLevel, rolloutMs: rolloutSeconds * 1000 };
}
