import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

// No leading \b: tokens also appear glued to other text (URL-encoded "token%3Dxoxb-…", "\nxoxb-…").
const TOKEN_PATTERN = /(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)/g;
const MAX_DEPTH = 12;

function scrub(value: unknown, secrets: string[], depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') {
    let out = value.replace(TOKEN_PATTERN, '[redacted]');
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }
  if (value === null || typeof value !== 'object') return value;
  // Never hand back an unscrubbed object: too deep or circular becomes a marker.
  if (depth > MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; data?: unknown; slackError?: unknown };
    const out: Record<string, unknown> = { type: e.name, message: scrub(e.message, secrets, depth + 1, seen), stack: scrub(e.stack, secrets, depth + 1, seen) };
    for (const key of ['code', 'slackError', 'data', 'cause'] as const) if (e[key] !== undefined) out[key] = scrub(e[key], secrets, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1, seen));
  if (value instanceof Map) return scrub(Object.fromEntries(value), secrets, depth + 1, seen);
  if (value instanceof URL) return scrub(value.href, secrets, depth + 1, seen);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, secrets, depth + 1, seen);
  return out;
}

/**
 * The process logger. Every line passes through a scrubber that removes the
 * configured secret values and anything shaped like a Slack token, because
 * SDK errors sometimes echo request bodies.
 */
export function createLogger(options: { level?: string; secrets?: (string | undefined)[]; destination?: DestinationStream } = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 6);
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { app: 'golive' },
      redact: { paths: ['token', '*.token', 'headers.authorization', '*.headers.authorization', 'signingSecret', '*.signingSecret'], censor: '[redacted]' },
      formatters: {
        log: (obj) => scrub(obj, secrets) as Record<string, unknown>,
      },
      // Errors are already turned into plain, scrubbed objects that keep their class name.
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrub(a, secrets)) as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
  return scrubChildBindings(logger, secrets);
}

/** logger.child({...}) bindings bypass both the log formatter and the logMethod hook, so they are scrubbed here. */
function scrubChildBindings(logger: Logger, secrets: string[]): Logger {
  const child = logger.child.bind(logger);
  logger.child = ((bindings: Record<string, unknown>, opts?: object) => scrubChildBindings(child(scrub(bindings, secrets) as Record<string, unknown>, opts), secrets)) as unknown as Logger['child'];
  return logger;
}
