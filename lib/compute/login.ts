/*
 * Who may log in to the session runtime: a Cognito user pool and the app client the runtime calls
 * InitiateAuth (USER_PASSWORD_AUTH) through. Not exported from the package.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { SessionEnvVars } from '../core/session-env';

/** The user pool and app client a compute construct logs users in through. */
export interface LoginPool {
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
}

/** The props that choose the login pool (part of `SessionRuntimeOptions`). */
export interface LoginPoolOptions {
  readonly userPool?: cognito.IUserPool;
  readonly userPoolClient?: cognito.IUserPoolClient;
}

/** Collects the problems of {@link LoginPoolOptions}; returns messages, never throws. */
export function validateLoginOptions(o: LoginPoolOptions): string[] {
  return o.userPoolClient !== undefined && o.userPool === undefined ? ['userPoolClient needs userPool (the pool the client belongs to)'] : [];
}

/**
 * The given pool and client; a new client on a given pool; or a new pool and client, as
 * constructs `UserPool` and `UserPoolClient` of `scope`.
 */
export function resolveLoginPool(scope: Construct, o: LoginPoolOptions, removalPolicy?: RemovalPolicy): LoginPool {
  const userPool = o.userPool ?? createUserPool(scope, 'UserPool', removalPolicy);
  const userPoolClient = o.userPoolClient ?? createLoginClient(scope, 'UserPoolClient', userPool);
  return { userPool, userPoolClient };
}

/** SESSION_AUTH=cognito and the ids the runtime needs, plus NODE_ENV=production (which refuses SESSION_AUTH=open). */
export function loginEnvironment(login: LoginPool): Record<string, string> {
  const V = SessionEnvVars;
  return {
    [V.AUTH]: 'cognito',
    [V.COGNITO_USER_POOL_ID]: login.userPool.userPoolId,
    [V.COGNITO_CLIENT_ID]: login.userPoolClient.userPoolClientId,
    [V.NODE_ENV]: 'production',
  };
}

/**
 * A user pool for the session app's users: administrators create the users (no self sign-up),
 * users sign in with a case-insensitive user name and a strong password.
 */
function createUserPool(scope: Construct, id: string, removalPolicy: RemovalPolicy | undefined): cognito.UserPool {
  const destroy = removalPolicy === RemovalPolicy.DESTROY;
  const pool = new cognito.UserPool(scope, id, {
    selfSignUpEnabled: false,
    signInAliases: { username: true },
    signInCaseSensitive: false,
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
      passwordHistorySize: 5,
    },
    // No email or phone on the accounts: an administrator resets a password (admin-set-user-password).
    accountRecovery: cognito.AccountRecovery.NONE,
    featurePlan: cognito.FeaturePlan.ESSENTIALS,
    mfa: cognito.Mfa.OFF,
    // The pool holds the users: protected, and kept, unless the owner asked for DESTROY.
    deletionProtection: !destroy,
    removalPolicy: removalPolicy === undefined ? undefined : nonSnapshot(removalPolicy),
  });
  Validations.of(pool).acknowledge({
    id: 'AwsSolutions-COG2',
    reason:
      'The session app logs users in with one InitiateAuth USER_PASSWORD_AUTH call and has no second step: with MFA ' +
      'required every login would end in a challenge it answers 403. Bring a pool with MFA (and an app that answers ' +
      'the challenge) through `userPool` where a second factor is needed.',
  });
  Validations.of(pool).acknowledge({
    id: 'AwsSolutions-COG8',
    reason:
      "Plus-plan threat protection rates a sign-in by the user's IP address and device data. Here the server calls " +
      'InitiateAuth through an app client without a secret, which cannot pass the user\'s IP (Cognito accepts ' +
      'UserContextData IpAddress only from clients with a secret), so every login would be rated from the server\'s ' +
      'own addresses. Failed logins are still locked out by Cognito on every plan. Pass a Plus-plan `userPool` for ' +
      'compromised-credential checks.',
  });
  return pool;
}

/**
 * The runtime's app client: USER_PASSWORD_AUTH only, no secret (InitiateAuth is then an
 * unauthenticated call: no IAM grant, no secret to deliver), no OAuth, user existence errors
 * prevented, and short token lifetimes: the runtime only reads the user name from the tokens
 * and drops them, so they should expire soon.
 */
function createLoginClient(scope: Construct, id: string, userPool: cognito.IUserPool): cognito.UserPoolClient {
  return new cognito.UserPoolClient(scope, id, {
    userPool,
    generateSecret: false,
    authFlows: { userPassword: true },
    disableOAuth: true,
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.minutes(5),
    idTokenValidity: Duration.minutes(5),
    refreshTokenValidity: Duration.minutes(60),
  });
}

/** `policy` for a resource CloudFormation cannot snapshot: SNAPSHOT becomes RETAIN. */
export function nonSnapshot(policy: RemovalPolicy): RemovalPolicy {
  return policy === RemovalPolicy.SNAPSHOT ? RemovalPolicy.RETAIN : policy;
}
