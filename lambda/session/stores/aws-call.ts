/**
 * Bounded AWS SDK v3 calls for the DynamoDB and S3 stores: client settings that give up early,
 * one time bound per store operation, and the one place that decides which SDK failures mean
 * "the store is unavailable" (→ StoreUnavailableError, 503) and which are bugs (rethrown as they are).
 */
import { StoreUnavailableError } from '../errors';

/** SDK attempts per call: the first try plus one retry, so a dead endpoint fails fast. */
export const SDK_MAX_ATTEMPTS = 2;

/** Settings shared by the stores' own DynamoDB and S3 clients. */
export interface AwsClientSettings {
  /** @default - the SDK's region chain (AWS_REGION, profile) */
  readonly region?: string;
  /** @default - the SDK's endpoint chain (e.g. AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3) */
  readonly endpoint?: string;
  /** Bound on one store operation, ms. */
  readonly timeoutMs: number;
}

/**
 * Client configuration for a store-owned SDK client: small retry budget, and socket timeouts
 * inside the operation bound so a hung connection is dropped rather than left behind.
 */
export function sdkClientConfig(s: AwsClientSettings) {
  return {
    region: s.region,
    endpoint: s.endpoint,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: Math.max(1, Math.floor(s.timeoutMs / 2)),
      requestTimeout: s.timeoutMs,
    },
  };
}

/** Node socket errors that mean the endpoint cannot be reached right now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const NETWORK_CODE_IN_TEXT = new RegExp(`\\b(${[...NETWORK_CODES].join('|')})\\b`);

/** Error names the SDK uses for throttling, timeouts and aborted requests. */
const UNAVAILABLE_NAMES = new Set([
  'AbortError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalServerError',
]);

/** The HTTP status of an SDK service error, if the service answered at all. */
export function httpStatusOfSdkError(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True when the failure is the store's availability (network, timeout, throttling, 5xx),
 * false when it is a bug or a misconfiguration (validation, access denied, …).
 */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; $retryable?: { throttling?: boolean } };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  // The SDK's retry layer replaces a thrown value that is not an `Error` of its own realm (e.g. a
  // socket error crossing a VM context, as under jest) with "AWS SDK error wrapper for <text>",
  // dropping `code`; the socket error code survives only in the message.
  if (err instanceof Error && httpStatusOfSdkError(err) === undefined && NETWORK_CODE_IN_TEXT.test(err.message)) return true;
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (e.$retryable?.throttling) return true;
  const status = httpStatusOfSdkError(err);
  return status !== undefined && (status >= 500 || status === 429);
}

/**
 * Run one store operation within `timeoutMs`. The signal aborts the SDK request when the bound
 * passes, and the caller gets StoreUnavailableError at the bound even if the SDK is still
 * sleeping between retries. Unavailability becomes StoreUnavailableError; anything else is
 * rethrown unchanged.
 */
export async function bounded<T>(what: string, timeoutMs: number, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StoreUnavailableError(`${what} did not finish within ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  try {
    // Promise.race subscribes to both promises, so the loser's later rejection is handled.
    return await Promise.race([call(abort.signal), expired]);
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    if (isUnavailable(err)) throw new StoreUnavailableError(`${what} failed: ${describe(err)}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
}
