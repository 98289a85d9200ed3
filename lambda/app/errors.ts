/**
 * The app's own request errors. They extend the runtime's {@link SessionError}, so
 * `httpStatusOf` in lambda/session/errors.ts stays the one place that maps an error to a status.
 */
import { SessionError } from '../session/errors';

/** No valid session cookie, or the session expired. → 401 */
export class NoSessionError extends SessionError {
  readonly status = 401;
  readonly code = 'no_session';
  constructor(message = 'no valid session; POST /login first') {
    super(message);
    this.name = 'NoSessionError';
  }
}

/** No such route. → 404 */
export class NotFoundError extends SessionError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(path: string) {
    super(`no route for ${truncate(path)}`);
    this.name = 'NotFoundError';
  }
}

/** The route exists, the method does not. → 405 with an Allow header */
export class MethodNotAllowedError extends SessionError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
  constructor(readonly allow: readonly string[]) {
    super(`method not allowed; allowed: ${allow.join(', ')}`);
    this.name = 'MethodNotAllowedError';
  }
}

/** A write whose body is not `application/json`. → 415 */
export class UnsupportedMediaTypeError extends SessionError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
  constructor() {
    super('the request body must be application/json');
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** A state-changing request from another site (Origin / Sec-Fetch-Site), refused before it changes anything. → 403 */
export class CrossSiteRequestError extends SessionError {
  readonly status = 403;
  readonly code = 'cross_site_request';
  constructor(reason: string) {
    super(`cross-site request refused: ${reason}`);
    this.name = 'CrossSiteRequestError';
  }
}

/** The request body is over the app's limit; nothing was read past it. → 413 */
export class BodyTooLargeError extends SessionError {
  readonly status = 413;
  readonly code = 'body_too_large';
  constructor(readonly limit: number) {
    super(`the request body is over the limit of ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Shortens client-supplied text before it goes into a message. */
export function truncate(s: string, max = 64): string {
  if (s.length <= max && PRINTABLE.test(s)) return s; // the usual case: nothing to change
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
