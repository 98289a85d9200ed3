/**
 * SESSION_AUTH=open: any user name logs in, without a password. For the local lab and the
 * benchmarks only; parseSessionEnv refuses it when NODE_ENV=production.
 */
import type { AuthenticatedUser, Authenticator, Credentials } from './types';

export class OpenAuthenticator implements Authenticator {
  readonly kind = 'open';

  /** The name as typed; a password, if one is sent, is ignored. */
  async authenticate(credentials: Credentials): Promise<AuthenticatedUser> {
    return { user: credentials.user };
  }

  close(): void {}
}
