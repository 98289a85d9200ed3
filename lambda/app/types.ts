/** The app's request and response, independent of where it runs (Lambda or node:http). */

export interface AppRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Header names in lower case; repeated headers joined with ", " (cookies with "; "). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * Cookie header(s). API Gateway v2 hands them over as an array; otherwise the `cookie`
   * header is used.
   */
  readonly cookies?: string | readonly string[];
  readonly body: string | Buffer | undefined;
  /** Correlates the log line (Lambda request id, or one the server makes up). */
  readonly requestId?: string;
}

export interface AppResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Set-Cookie values, one per cookie. */
  readonly cookies: string[];
  /** Empty string for 204. */
  readonly body: string;
}

/** What the app logs through; Powertools' Logger fits it. */
export interface AppLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}
