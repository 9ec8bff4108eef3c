import { ConfigError, readConfig } from './config.js';
import { createApp } from './create-app.js';
import { RunbookError } from './runbook/load-runbook.js';

try {
  const app = createApp({ config: readConfig() });
  await app.start();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.stop().then(() => process.exit(0)));
} catch (err) {
  // Start-up problems are for the operator: one plain message, no stack trace, never a secret.
  const known = err instanceof ConfigError || err instanceof RunbookError || (err instanceof Error && err.message.startsWith('Slack refused'));
  process.stderr.write(`${known ? (err as Error).message : `golive failed to start: ${(err as Error).stack ?? String(err)}`}\n`);
  process.exit(1);
}
