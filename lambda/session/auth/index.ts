export { OpenAuthenticator } from './open';
export { CognitoAuthenticator, DEFAULT_MIN_FAILURE_MS, userOfAccessToken } from './cognito';
export type { CognitoAuthenticatorOptions } from './cognito';
export { createAuthenticator } from './from-env';
export type { AuthenticatorFromEnvOptions } from './from-env';
export { AuthUnavailableError, LoginChallengeError, LoginFailedError } from './types';
export type { AuthenticatedUser, Authenticator, Credentials } from './types';
