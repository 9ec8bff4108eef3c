import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { SlackCallError, slackAnswered } from './slack-port.js';

/** What the Slack adapter calls the Web API through: {@link createWebApiClient}, or @slack/web-api's WebClient (tests). */
export interface WebApiCaller {
  apiCall(method: string, args: Record<string, unknown>): Promise<unknown>;
}

/** How hard a call is tried again when no answer came back (a reset, a timeout, a proxy's 5xx). */
export interface WebApiRetries {
  retries: number;
  /** Each wait is this many times the one before… */
  factor: number;
  /** …starting at this (ms)… */
  minTimeoutMs: number;
  /** …and never longer than this (ms). */
  maxTimeoutMs: number;
}

/** Options of {@link createWebApiClient}. */
export interface WebApiClientOptions {
  /** Where the Web API is, ending in a slash: `https://slack.com/api/` (SLACK_API_URL). */
  apiUrl: string;
  /** A call that has not answered after this long is given up (and, with retries, tried again). */
  timeoutMs: number;
  retries: WebApiRetries;
  logger: Logger;
  fetch?: typeof globalThis.fetch;
}

const USER_AGENT = `golive node/${process.version.replace('v', '')}`;

/** A value as Slack's form encoding carries it: objects and lists as their JSON. */
function formValue(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function retryAfterSeconds(header: string | null): number {
  const seconds = Number(header);
  // Slack always sends it with a 429; a proxy in front may not: a minute, Slack's own window.
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 60;
}

/**
 * golive's Web API client: form-encoded POSTs with the bot token, Slack's
 * answers turned into {@link SlackCallError}s — a 429 as `ratelimited` with
 * its Retry-After (never waited out here: the call scheduler does), `ok:
 * false` as Slack's error, no answer as `request_error` / `http_error` after
 * the retries. Written here rather than calling @slack/web-api's WebClient
 * because that client builds a debug line of every request and every answer
 * (a deep copy, then JSON, of each board and Home tab Slack echoes back)
 * whatever the log level, on the thread that runs golive's work.
 */
export function createWebApiClient(token: string, options: WebApiClientOptions): WebApiCaller {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const { retries, logger } = options;

  async function once(method: string, body: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetchFn(`${options.apiUrl}${method}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': USER_AGENT },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      // "fetch failed" alone does not say why; the cause does (ECONNREFUSED, ENOTFOUND, a certificate error).
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.cause?.code ?? e.cause?.message;
      throw new SlackCallError(method, `request_error: A request error occurred: ${e.message}${why ? ` (${why})` : ''}`);
    }
    if (response.status === 429) {
      await response.body?.cancel();
      throw new SlackCallError(method, 'ratelimited', retryAfterSeconds(response.headers.get('retry-after')));
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new SlackCallError(method, `http_error: An HTTP protocol error occurred: statusCode = ${response.status}`);
    }
    let result: Record<string, unknown>;
    try {
      result = (await response.json()) as Record<string, unknown>;
    } catch (err) {
      throw new SlackCallError(method, `http_error: the answer was not JSON (${(err as Error).message})`);
    }
    return result;
  }

  return {
    async apiCall(method, args) {
      // Encoded as @slack/web-api encodes it (a space as %20), so the bytes Slack gets are the ones it always got.
      const body = Object.entries(args)
        .filter(([, value]) => value !== undefined && value !== null)
        .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(formValue(value))}`)
        .join('&');
      let wait = retries.minTimeoutMs;
      for (let attempt = 0; ; attempt++) {
        let result: Record<string, unknown>;
        try {
          result = await once(method, body);
        } catch (err) {
          const noAnswer = err instanceof SlackCallError && !slackAnswered(err);
          if (!noAnswer || attempt >= retries.retries) throw err;
          await sleep(wait);
          wait = Math.min(wait * retries.factor, retries.maxTimeoutMs);
          continue;
        }
        // A line per call at debug level, built only then (pino checks the level first): the method and Slack's verdict, never the arguments.
        logger.debug({ method, ok: result.ok === true, ...(result.ok === true ? {} : { error: result.error }) }, 'Slack answered a call');
        const meta = result.response_metadata as { warnings?: unknown[]; messages?: unknown[] } | undefined;
        for (const warning of meta?.warnings ?? []) logger.warn({ method, warning }, 'Slack warned about a call');
        if (result.ok !== true) {
          // Slack's messages say which block or field it refused (invalid_blocks): logged, as the client did.
          if (meta?.messages?.length) logger.error({ method, messages: meta.messages }, `Slack refused ${method}`);
          throw new SlackCallError(method, typeof result.error === 'string' ? result.error : 'unknown_error');
        }
        return result;
      }
    },
  };
}
