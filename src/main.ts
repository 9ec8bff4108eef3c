import pino from 'pino';
import { ConfigError, LOG_LEVELS, readConfig, SECRET_VARIABLES, StartupError } from './config.js';
import { createApp } from './create-app.js';
import { createLogger } from './platform/logger.js';
import { RunbookError } from './platform/runbook/load-runbook.js';
import { DatabaseError } from './platform/store/check-database.js';
import { readSandboxConfig, wantsSandbox } from './sandbox/sandbox-config.js';
import { sandboxBanner, startSandbox } from './sandbox/start-sandbox.js';

const stopOnSignal = (stop: () => Promise<void>) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(0)));
};

try {
  if (wantsSandbox(process.env, process.argv.slice(2))) {
    // No Slack credentials (or --sandbox): the same app, against a simulated workspace and AWS, in the browser.
    const config = readSandboxConfig();
    const sandbox = await startSandbox(config);
    process.stdout.write(sandboxBanner(sandbox, config));
    stopOnSignal(() => sandbox.stop());
  } else {
    const app = createApp({ config: readConfig() });
    await app.start();
    stopOnSignal(() => app.stop());
  }
} catch (err) {
  // Start-up problems are for the operator: one plain message, no stack trace, never a secret.
  const known = err instanceof ConfigError || err instanceof RunbookError || err instanceof DatabaseError || err instanceof StartupError || (err instanceof Error && err.message.startsWith('The sandbox cannot'));
  const text = known ? (err as Error).message : `golive failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(`${text}\n`);
  // The same, as one JSON line among the others, for whatever collects the logs.
  const [headline, ...details] = text.split('\n');
  const logLevel = process.env.LOG_LEVEL?.trim();
  createLogger({ level: logLevel && LOG_LEVELS.includes(logLevel as never) ? logLevel : 'info', secrets: SECRET_VARIABLES.map((name) => process.env[name]), destination: pino.destination({ dest: 1, sync: true }) }).fatal(
    known ? { problems: details.map((line) => line.replace(/^\s*- /, '')) } : { err },
    known ? headline! : 'golive failed to start',
  );
  process.exit(1);
}
