/**
 * Login credentials, the user they prove, and the errors of a login that does not succeed.
 * Each error carries its HTTP status, so `httpStatusOf` (../errors) stays the one place that
 * maps an error to a status.
 */
import { SessionError } from '../errors';

/** What `POST /login` carries. */
export interface Credentials {
  /** The name the caller typed (a user name or an alias the authenticator accepts). */
  readonly user: string;
  /** Absent only where the authenticator needs none (`open`). */
  readonly password?: string;
}

/** The user a credential proved. */
export interface AuthenticatedUser {
  /**
   * The user name the session is for, as the authenticator knows it (Cognito: the pool's own
   * user name, whatever alias or spelling the caller typed).
   */
  readonly user: string;
  /** A stable, never reused identifier of the user, where the authenticator has one (Cognito: `sub`). */
  readonly subject?: string;
}

/** Checks a credential. One instance per process, reused. */
export interface Authenticator {
  /** `cognito` or `open`, as SESSION_AUTH names it. */
  readonly kind: string;
  /**
   * The user the credential proves. Throws {@link LoginFailedError} (401) for a wrong password and
   * an unknown user alike, {@link LoginChallengeError} (403) when the right password is not
   * enough, {@link AuthUnavailableError} (503) when the authenticator does not answer in time.
   */
  authenticate(credentials: Credentials): Promise<AuthenticatedUser>;
  /** Releases the authenticator's connections. */
  close(): void;
}

/** Wrong user name or password; the same error, message and status for both. → 401 */
export class LoginFailedError extends SessionError {
  readonly status = 401;
  readonly code = 'login_failed';
  constructor() {
    super('wrong user name or password');
    this.name = 'LoginFailedError';
  }
}

/**
 * The password was right, but the user pool asks for another step this app does not offer
 * (a new password, MFA). No session is made. → 403
 */
export class LoginChallengeError extends SessionError {
  readonly status = 403;
  readonly code = 'login_challenge';
  constructor(readonly challenge: string) {
    super(
      challenge === 'NEW_PASSWORD_REQUIRED'
        ? 'this account must set a new password before it can log in here; ask an administrator to set a permanent one'
        : `this account needs a ${challenge.slice(0, 64)} step, which this app does not offer`,
    );
    this.name = 'LoginChallengeError';
  }
}

/** The authenticator did not answer within its bound, refused the connection, or failed. → 503 */
export class AuthUnavailableError extends SessionError {
  readonly status = 503;
  readonly code = 'auth_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthUnavailableError';
  }
}
