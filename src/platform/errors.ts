import { randomBytes } from 'node:crypto';
import type { Logger } from './logger.js';
import { SlackCallError } from './slack/slack-port.js';
import { DatabaseUnavailableError } from './store/database-unavailable.js';

/** The answer to a request golive could not even record: nothing ran, so nothing changed. */
export const DATABASE_UNREACHABLE_TEXT = 'golive cannot reach its database; nothing was changed.';
export const DATABASE_UNREACHABLE_HINT = 'Try again in a minute. Whoever runs golive: `/healthz` names the database and what failed.';

/** Every kind of failure a user can be told about. */
export type ErrorCode =
  | 'usage'
  | 'unknown_command'
  | 'unknown_item'
  | 'unknown_gate'
  | 'not_permitted'
  | 'blockers_open'
  | 'not_configured'
  | 'slack_unavailable'
  | 'unknown_service'
  | 'unknown_request'
  | 'unknown_revision'
  | 'deploy_blocked'
  | 'deploy_in_progress'
  | 'aws_failed'
  | 'deploy_locked'
  | 'already_locked'
  | 'not_locked'
  | 'canary_state'
  | 'check_failed'
  | 'database_unavailable';

/**
 * An error whose message is written for the person who ran the command: what
 * went wrong and what to do instead. Handlers throw these; `describeError`
 * turns them (and anything unexpected) into the private reply.
 */
export class GoliveError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra guidance shown under the message, e.g. the usage line. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'GoliveError';
  }
}

/** What the user is told about an error, and the id under which an unexpected one was logged. */
export interface ErrorReport {
  code: ErrorCode | 'internal';
  message: string;
  hint?: string;
  errorId?: string;
}

/** The one place errors become user-facing text; unknown errors get a short id that is also in the log. */
export function describeError(err: unknown, logger: Logger, context: Record<string, unknown> = {}): ErrorReport {
  if (err instanceof GoliveError) {
    logger.info({ ...context, code: err.code }, 'refused: %s', err.message);
    return { code: err.code, message: err.message, hint: err.hint };
  }
  const errorId = randomBytes(4).toString('hex');
  if (err instanceof DatabaseUnavailableError) {
    logger.error({ ...context, err, errorId }, 'the database could not be reached while handling a request');
    return {
      code: 'database_unavailable',
      message: `golive lost its database while doing this, so it could not finish (error id \`${errorId}\`).`,
      hint: 'What it had recorded before stays as it was. Once the database is back (`/healthz` says so), check `/golive history` before trying again.',
      errorId,
    };
  }
  if (err instanceof SlackCallError) {
    // Slack trouble is not golive's bug: say what Slack said, and whether waiting helps.
    logger.warn({ ...context, err, errorId }, 'Slack refused a call made for a user');
    const hint = 'Check `/golive history` to see whether your change was recorded before trying again.';
    if (err.slackError === 'ratelimited') {
      return { code: 'slack_unavailable', message: `Slack is rate-limiting golive right now (\`${err.method}\`); try again in ${err.retryAfterSeconds ?? 30} seconds.`, hint, errorId };
    }
    const transient = /^(http_error|request_error|internal_error|fatal_error|service_unavailable|request_timeout)/.test(err.slackError);
    return {
      code: 'slack_unavailable',
      message: transient ? `Slack did not answer golive's \`${err.method}\` (${err.slackError.split(':')[0]}); try again in a moment.` : `Slack refused golive's \`${err.method}\`: \`${err.slackError}\` (error id \`${errorId}\`).`,
      hint,
      errorId,
    };
  }
  logger.error({ ...context, err, errorId }, 'unexpected error');
  return {
    code: 'internal',
    message: `Something went wrong on golive's side (error id \`${errorId}\`).`,
    hint: 'Check `/golive history` to see whether your change was recorded before trying again, and give the error id to whoever runs golive.',
    errorId,
  };
}
