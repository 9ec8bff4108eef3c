import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../logger.js';

/** Bolt's logger interface over our pino logger, so Bolt's lines are scrubbed like ours. */
export function toBoltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  return {
    debug: (...msgs: unknown[]) => child.debug(msgs.map(String).join(' ')),
    info: (...msgs: unknown[]) => child.info(msgs.map(String).join(' ')),
    warn: (...msgs: unknown[]) => child.warn(msgs.map(String).join(' ')),
    error: (...msgs: unknown[]) => child.error(msgs.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
