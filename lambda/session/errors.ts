/**
 * Typed session errors. Each carries the HTTP status and the code the app answers with;
 * {@link httpStatusOf} is the one place that maps an error to a status.
 */
export abstract class SessionError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
}

/** The store did not answer within its bound, refused the connection, or failed. → 503 */
export class StoreUnavailableError extends SessionError {
  readonly status = 503;
  readonly code = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The serialized session exceeds the store's or the app's limit; nothing was written. → 413 */
export class SessionTooLargeError extends SessionError {
  readonly status = 413;
  readonly code = 'session_too_large';
  constructor(readonly bytes: number, readonly limit: number) {
    super(`session is ${bytes} bytes, over the limit of ${limit} bytes; the stored session is unchanged`);
    this.name = 'SessionTooLargeError';
  }
}

/** Compare-and-set kept failing after the bounded retries. → 409 */
export class ConflictError extends SessionError {
  readonly status = 409;
  readonly code = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Client input is malformed. → 400 */
export class BadRequestError extends SessionError {
  readonly status = 400;
  readonly code = 'bad_request';
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** The HTTP status for any thrown value: typed errors keep theirs, anything else is a 500. */
export function httpStatusOf(err: unknown): number {
  return err instanceof SessionError ? err.status : 500;
}

/** The session was deleted or expired while a request was changing it. → 401 */
export class SessionGoneError extends SessionError {
  readonly status = 401;
  readonly code = 'no_session';
  constructor(message = 'the session no longer exists') {
    super(message);
    this.name = 'SessionGoneError';
  }
}
