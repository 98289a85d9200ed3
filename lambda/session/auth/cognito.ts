/**
 * SESSION_AUTH=cognito: a user name and password checked by Amazon Cognito `InitiateAuth` with
 * the USER_PASSWORD_AUTH flow, on an app client without a secret. InitiateAuth is one of the
 * user pool API's unauthenticated operations (Cognito evaluates no IAM policy for it), so the
 * caller needs no AWS credentials and no IAM grant; AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
 * (the SDK's own) points the client at a local stand-in such as cognito-local.
 *
 * - The session's user is the `username` claim of the access token Cognito returns: the pool's
 *   own name for the user, whatever alias (email, `sub`) or spelling (case-insensitive pools) the
 *   caller typed. The token comes straight from Cognito over TLS in answer to this call, so its
 *   claims are read without verifying its signature (as OpenID Connect Core 3.1.3.7 allows for
 *   tokens received directly from the token endpoint); it is used for nothing else and dropped.
 * - A wrong password and an unknown user give one {@link LoginFailedError}, after the same
 *   minimum time ({@link DEFAULT_MIN_FAILURE_MS}), so neither the answer nor its timing tells
 *   whether the user exists. (Cognito itself says NotAuthorizedException for both when the app
 *   client prevents user existence errors; cognito-local says InvalidPasswordException for a
 *   wrong password and NotAuthorizedException for an unknown user.)
 * - A challenge (NEW_PASSWORD_REQUIRED, MFA) is a {@link LoginChallengeError}: no session.
 * - Cognito not answering within the bound, throttling or a 5xx: {@link AuthUnavailableError} (503).
 * - Anything else (unknown client, flow not enabled, client with a secret) is a configuration
 *   error: rethrown with a hint, so the app answers 500 and logs it.
 */
import { CognitoIdentityProviderClient, InitiateAuthCommand, type InitiateAuthCommandOutput } from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { SessionEnvVars, type CognitoSettings } from '../env';
import { BadRequestError, StoreUnavailableError } from '../errors';
import { bounded, sdkClientConfig } from '../stores/aws-call';
import { AuthUnavailableError, LoginChallengeError, LoginFailedError, type AuthenticatedUser, type Authenticator, type Credentials } from './types';

/**
 * Least time a refused login takes, ms: above Cognito's usual answer time, so a wrong password
 * and an unknown user are answered after the same delay whichever Cognito answered faster.
 */
export const DEFAULT_MIN_FAILURE_MS = 500;

/** Cognito's answers that mean "these credentials do not log in", all one 401 to the caller. */
const REFUSALS = new Set([
  'NotAuthorizedException',
  'UserNotFoundException',
  // cognito-local's answer to a wrong password (Cognito uses it for a new password that breaks the policy).
  'InvalidPasswordException',
  // Before or without a password check, in some pools: telling them apart would reveal that the user exists.
  'PasswordResetRequiredException',
  'UserNotConfirmedException',
]);

export interface CognitoAuthenticatorOptions extends CognitoSettings {
  /** Bound on one InitiateAuth call, ms; past it the login gets AuthUnavailableError. */
  readonly timeoutMs: number;
  /** @default DEFAULT_MIN_FAILURE_MS */
  readonly minFailureMs?: number;
  /** @default - one client for the pool's region, with the SDK's endpoint chain and bounded timeouts */
  readonly client?: CognitoIdentityProviderClient;
  /** Where refused logins are noted (Cognito's reason, never the user name or password). @default - nowhere */
  readonly logger?: { info(message: string, attributes: Record<string, unknown>): void };
}

/**
 * @example
 * const auth = new CognitoAuthenticator({ userPoolId: 'eu-west-1_AbC', clientId: '1example23456789', region: 'eu-west-1', timeoutMs: 3000 });
 * const { user } = await auth.authenticate({ user: 'alice', password: '…' });
 */
export class CognitoAuthenticator implements Authenticator {
  readonly kind = 'cognito';
  private readonly client: CognitoIdentityProviderClient;
  private readonly minFailureMs: number;

  constructor(private readonly opts: CognitoAuthenticatorOptions) {
    if (!(opts.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${opts.timeoutMs}`);
    this.minFailureMs = opts.minFailureMs ?? DEFAULT_MIN_FAILURE_MS;
    if (!(this.minFailureMs >= 0)) throw new RangeError(`minFailureMs must be >= 0, got ${this.minFailureMs}`);
    this.client = opts.client ?? new CognitoIdentityProviderClient(sdkClientConfig({ region: opts.region, timeoutMs: opts.timeoutMs }));
  }

  async authenticate(credentials: Credentials): Promise<AuthenticatedUser> {
    if (credentials.password === undefined) throw new BadRequestError('"password" is required');
    const started = Date.now();
    let out: InitiateAuthCommandOutput;
    try {
      out = await bounded('Cognito InitiateAuth', this.opts.timeoutMs, (abortSignal) =>
        this.client.send(
          new InitiateAuthCommand({
            ClientId: this.opts.clientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: credentials.user, PASSWORD: credentials.password! },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw new AuthUnavailableError(err.message, { cause: err.cause ?? err });
      const name = (err as { name?: unknown } | null)?.name;
      const message = err instanceof Error ? err.message : String(err);
      if (typeof name === 'string' && REFUSALS.has(name) && !/secret.?hash/i.test(message)) {
        this.opts.logger?.info('login refused', { reason: name });
        const wait = started + this.minFailureMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        throw new LoginFailedError();
      }
      throw new Error(
        `Cognito refused the login request itself (${String(name)}: ${message}); check ${SessionEnvVars.COGNITO_CLIENT_ID} and that the app client ` +
          'allows USER_PASSWORD_AUTH and has no client secret',
        { cause: err },
      );
    }
    if (out.ChallengeName !== undefined) throw new LoginChallengeError(out.ChallengeName);
    const token = out.AuthenticationResult?.AccessToken;
    if (token === undefined) throw new Error('Cognito InitiateAuth answered with neither a challenge nor tokens');
    return userOfAccessToken(token, this.opts);
  }

  close(): void {
    if (this.opts.client === undefined) this.client.destroy();
  }
}

/**
 * The user an access token from InitiateAuth names: its `username` (and `sub`), after checking
 * that it is an access token of this app client and this pool.
 */
export function userOfAccessToken(token: string, expected: Pick<CognitoSettings, 'userPoolId' | 'clientId'>): AuthenticatedUser {
  const claims = decodeJwt(token);
  const problems: string[] = [];
  if (claims.token_use !== 'access') problems.push(`token_use is ${JSON.stringify(claims.token_use)}, not "access"`);
  if (claims.client_id !== expected.clientId) problems.push(`client_id is not ${SessionEnvVars.COGNITO_CLIENT_ID}`);
  if (typeof claims.iss !== 'string' || !claims.iss.endsWith(`/${expected.userPoolId}`)) problems.push(`iss is not ${SessionEnvVars.COGNITO_USER_POOL_ID}`);
  if (typeof claims.username !== 'string' || claims.username === '') problems.push('username is missing');
  if (problems.length > 0) throw new Error(`Cognito answered with an access token this app cannot use: ${problems.join('; ')}`);
  return { user: claims.username as string, subject: typeof claims.sub === 'string' ? claims.sub : undefined };
}
