/**
 * The authenticator SESSION_AUTH names, built once per process. The Cognito client is loaded on
 * demand, so an `open` process (lab, benchmarks) never loads it.
 */
import { SessionEnvError, SessionEnvVars, type AuthSettings } from '../env';
import { OpenAuthenticator } from './open';
import type { Authenticator } from './types';

export interface AuthenticatorFromEnvOptions {
  /** Gets the warning about a defaulted SESSION_AUTH, and the Cognito authenticator's refused logins. */
  readonly logger: { warn(message: string, ...extra: unknown[]): void; info?(message: string, attributes: Record<string, unknown>): void };
}

/**
 * The reference app's authenticator for SESSION_AUTH: Cognito, or open (any name, no password).
 * Throws SessionEnvError when SESSION_AUTH is missing with NODE_ENV=production; warns when it is
 * missing elsewhere.
 */
export function createAuthenticator(auth: AuthSettings, opts: AuthenticatorFromEnvOptions): Authenticator {
  if (auth.kind === 'cognito') {
    const { CognitoAuthenticator } = require('./cognito') as typeof import('./cognito');
    const info = opts.logger.info?.bind(opts.logger);
    return new CognitoAuthenticator({ ...auth.cognito!, timeoutMs: auth.timeoutMs, logger: info ? { info } : undefined });
  }
  if (auth.defaulted && auth.required) {
    const V = SessionEnvVars;
    throw new SessionEnvError([`${V.AUTH} is required when ${V.NODE_ENV}=production: set it to cognito (open lets anyone in under any name)`]);
  }
  if (auth.defaulted) {
    opts.logger.warn(
      'SESSION_AUTH is not set: using open, where anyone logs in under any user name without a password. ' +
        'Set SESSION_AUTH=open to silence this for local runs, or SESSION_AUTH=cognito for real logins (required with NODE_ENV=production).',
    );
  }
  return new OpenAuthenticator();
}
