import { AwsCallError } from './ecs-port.js';

/** The AWS call that failed, described for the person reading the error in Slack. */
export interface AwsCall {
  /** Which AWS API, as people name it: `ECS`, `CloudWatch`. */
  api: string;
  /** IAM service prefix of the API, e.g. `ecs`, `cloudwatch`. */
  iamPrefix: string;
  /** API operation name, e.g. `DescribeServices`. */
  operation: string;
  region: string;
  /** What the call was about, e.g. `service "api" in cluster "prod"`. */
  subject?: string;
  /** The message for a not-found error code, when the call names something that may not exist. */
  notFound?: (code: string) => string | undefined;
}

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnauthorizedException']);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const NOT_FOUND = new Set([
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'ServiceNotActiveException',
  'TaskSetNotFoundException',
  'ResourceNotFoundException',
  'ResourceNotFound',
  'DBInstanceNotFoundFault',
  'DBInstanceNotFound',
  'DBSnapshotNotFoundFault',
  'RepositoryNotFoundException',
  'ImageNotFoundException',
  'NoSuchHostedZone',
  'NotFoundException',
]);
const INVALID = new Set([
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameterCombinationException',
  'MissingParameter',
  'MissingRequiredParameterException',
  'ValidationException',
  'ValidationError',
  'ClientException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
  'UnsupportedFeatureException',
  'InvalidFormat',
  'InvalidNextToken',
  'InvalidRequestException',
  'InvalidInput',
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'SendingPausedException',
  'AccountSuspendedException',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
};

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turns whatever the AWS SDK threw into an AwsCallError whose message is
 * short, names the operation, and is safe to post in Slack. Already-classified
 * errors pass through unchanged.
 */
export function classifyAwsError(err: unknown, call: AwsCall): AwsCallError {
  if (err instanceof AwsCallError) return err;
  const e: ErrorLike = typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = firstString(e.Code, e.code) ?? nestedCode(e.errors) ?? '';
  const awsCode = name && name !== 'Error' ? name : code || undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const { api, operation, region } = call;
  const target = call.subject ? ` for ${call.subject}` : '';
  const make = (kind: AwsCallError['kind'], text: string) => new AwsCallError(operation, kind, text, awsCode);
  const is = (set: Set<string>) => set.has(name) || set.has(code);

  if (name === 'CredentialsProviderError') {
    return make('access_denied', `golive has no AWS credentials to call ${operation} (${region}): give it an IAM role or set AWS credentials.`);
  }
  if (is(BAD_CREDENTIALS)) {
    return make('access_denied', `AWS did not accept the bot's credentials for ${operation} (${region}): check the AWS credentials or role golive runs with.`);
  }
  if (is(ACCESS_DENIED) || /not authori[sz]ed/i.test(message)) {
    // AWS names the missing action (often iam:PassRole rather than the call itself).
    const action = /perform: ([a-z0-9-]+:[A-Za-z0-9*]+)/.exec(message)?.[1] ?? `${call.iamPrefix}:${operation}`;
    return make('access_denied', `AWS refused ${operation}${target} (${region}): the bot's IAM role lacks ${action}.`);
  }
  if (is(THROTTLED) || /rate exceeded|too many requests/i.test(message) || e.$metadata?.httpStatusCode === 429) {
    return make('throttled', `AWS ${api} is throttling ${operation} (${region}) and still refused after retries; try again in a minute.`);
  }
  const notFoundByMessage = name === 'ClientException' && /unable to describe task definition/i.test(message);
  if (is(NOT_FOUND) || notFoundByMessage) {
    const key = notFoundByMessage ? 'TaskDefinitionNotFound' : name || code;
    const text = call.notFound?.(key) ?? `AWS ${api} could not find ${call.subject ?? 'what ' + operation + ' asked for'} (${region}).`;
    return make('not_found', text);
  }
  if (is(INVALID)) {
    const detail = safeDetail(message);
    return make('invalid', `AWS rejected ${operation}${target} (${region})${detail ? `: ${detail}` : '.'}`);
  }
  if (name === 'TimeoutError' || is(TIMEOUT_CODES)) {
    return make('timeout', `AWS ${api} did not answer ${operation} in time (${region}); try again.`);
  }
  const reason = NETWORK_REASONS[code] ?? (/socket hang up/i.test(message) ? 'connection closed' : undefined);
  if (reason) {
    return make('network', `Could not reach AWS ${api} for ${operation} (${region}): ${reason}.`);
  }
  const detail = safeDetail(message) || awsCode || 'unknown error';
  return make('unknown', `AWS ${api} ${operation}${target} failed (${region}): ${detail}`);
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

// Node wraps "happy eyeballs" connection failures in an AggregateError whose parts carry the code.
function nestedCode(errors: unknown): string | undefined {
  if (!Array.isArray(errors)) return undefined;
  for (const inner of errors) {
    const code = typeof inner === 'object' && inner !== null ? (inner as ErrorLike).code : undefined;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** AWS's own message, one line, bounded, with anything key- or signature-like removed. */
function safeDetail(message: string): string {
  const cleaned = message
    .replace(/\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted]')
    .replace(/(Credential|Signature|X-Amz-Security-Token|SignedHeaders)=[^\s,]+/gi, '$1=[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  if (!cleaned) return '';
  const bounded = cleaned.length > 200 ? `${cleaned.slice(0, 199)}…` : cleaned;
  return /[.!?…]$/.test(bounded) ? bounded : `${bounded}.`;
}
