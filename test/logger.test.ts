import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

const SECRETS = ['signing-secret-abcdef', 'R0UT1NGKEY0123456789abcdefABCDEF'];

describe('createLogger', () => {
  it('never writes a configured secret or a Slack token, at any level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'trace', secrets: SECRETS, destination });
    const err = new Error(`request failed with token xoxb-123-456-abc and key ${SECRETS[1]}`);
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      log[level]({ token: 'xoxb-999', headers: { authorization: 'Bearer xoxb-999' }, body: `secret=${SECRETS[0]}`, nested: { deep: [SECRETS[1]] }, err }, `message with xapp-1-A1-zzz and ${SECRETS[0]}`);
      log[level](`plain ${SECRETS[1]} xoxp-1-2-3`);
    }
    expect(lines).toHaveLength(12);
    const all = lines.join('');
    for (const s of [...SECRETS, 'xoxb-', 'xapp-', 'xoxp-']) expect(all).not.toContain(s);
    expect(all).toContain('[redacted]');
    expect(all).toContain('request failed with token [redacted]');
  });

  it('keeps ordinary content and honours the level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'warn', secrets: SECRETS, destination });
    log.info('hidden');
    log.warn({ item: 'v2f-agreement' }, 'visible');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, app: 'golive', item: 'v2f-agreement', msg: 'visible' });
  });
});
