import type { Logger } from '../logger.js';
import { assertNotInTransaction } from '../store/store.js';
import { classifyAwsError, type AwsCall } from './classify-aws-error.js';

/** Options shared by the ECS and CloudWatch client builders. */
export interface AwsClientOptions {
  /** Overrides the endpoint (otherwise the SDK honours AWS_ENDPOINT_URL and its per-service forms). */
  endpoint?: string;
  /** Attempts per call including retries of throttling and transient errors (default 5). */
  maxAttempts?: number;
  /** Milliseconds a single attempt may take before it fails as a timeout (default 10 000). */
  requestTimeout?: number;
}

/** Client settings golive uses for every AWS API: bounded retries and timeouts. */
export function awsClientConfig(region: string, options: AwsClientOptions = {}) {
  return {
    region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: 3_000,
      requestTimeout: options.requestTimeout ?? 10_000,
      // Without this the handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
  } as const;
}

/** Memoises one client per region, made on first use. */
export function perRegion<C>(make: (region: string) => C): (region: string) => C {
  const clients = new Map<string, C>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}

/** Runs one AWS call, turning whatever it throws into an AwsCallError that says what failed and why. */
export async function sendAws<T>(call: AwsCall, run: () => Promise<T>): Promise<T> {
  assertNotInTransaction(`AWS ${call.operation}`);
  try {
    return await run();
  } catch (err) {
    throw classifyAwsError(err, call);
  }
}

/** The oldest Node major golive supports, and the oldest the AWS SDK's releases after January 2027 run on. */
export const OLDEST_SUPPORTED_NODE = 22;

/** What to say about the Node golive runs on: undefined on a supported one. */
export function nodeSupportWarning(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= OLDEST_SUPPORTED_NODE) return undefined;
  return `Node ${version} is not supported (it works, but is past its end of life): use Node 22 or 24 LTS. AWS SDK for JavaScript releases after the first week of January 2027 need Node >= ${OLDEST_SUPPORTED_NODE}.`;
}

let nodeWarningLogged = false;

/**
 * The AWS SDK prints its own Node version warning as several plain-text
 * lines on stderr, in the middle of the JSON logs. Its switch turns that off
 * before any client exists, and the same fact is logged once, as a JSON line.
 */
export function logNodeSupport(logger: Logger): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const warning = nodeSupportWarning();
  if (!warning || nodeWarningLogged) return;
  nodeWarningLogged = true;
  logger.warn({ node: process.version }, warning);
}
