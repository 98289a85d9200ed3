import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RUNTIME_DEFAULTS, SessionEnvVars } from '../core/session-env';
import { LoginPool, loginEnvironment, validateLoginOptions } from './login';

/** Session timing and cookie settings shared by every compute construct. */
export interface SessionRuntimeOptions {
  /**
   * Session cookie base name; the runtime adds `__Host-` when the cookie is Secure.
   * Must not start with AWSALB (the load balancer reserves those names).
   * @default 'sid'
   */
  readonly cookieName?: string;
  /**
   * Idle timeout: a session unused this long is gone.
   * @default Duration.minutes(30)
   */
  readonly idleTimeout?: Duration;
  /**
   * Absolute timeout from creation, however active the session is.
   * @default Duration.hours(12)
   */
  readonly absoluteTimeout?: Duration;
  /**
   * Secret whose SecretString holds the cookie signing secret(s), comma-separated
   * (the first signs, all verify: rotate by prepending a new value).
   * @default - a new generated secret (64 alphanumeric characters)
   */
  readonly cookieSecret?: secretsmanager.ISecret;
  /**
   * The Cognito user pool whose users log in (`POST /login` checks the password with InitiateAuth).
   * @default - a new pool: no self sign-up (administrators create users), case-insensitive user
   * names, passwords of at least 12 characters with upper and lower case, digits and symbols
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * The app client of `userPool` the runtime logs users in through. It must allow the
   * USER_PASSWORD_AUTH flow and have no client secret.
   * @default - a new client of the pool: USER_PASSWORD_AUTH only, no secret, no OAuth, user existence errors prevented
   */
  readonly userPoolClient?: cognito.IUserPoolClient;
  /**
   * Extra environment variables for the runtime, e.g. `SESSION_STORE_TIMEOUT_MS` or
   * `SESSION_MAX_BYTES`. The store's variables and the cookie/timeout/login settings above win
   * over an entry of the same name.
   * @default - none
   */
  readonly environment?: { [key: string]: string };
}

const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Collects the problems of {@link SessionRuntimeOptions}; returns messages, never throws. */
export function validateRuntimeOptions(o: SessionRuntimeOptions): string[] {
  const problems: string[] = validateLoginOptions(o);
  if (o.cookieName !== undefined) {
    if (!COOKIE_NAME.test(o.cookieName)) problems.push(`cookieName must be 1-64 letters, digits, "_" or "-", got "${o.cookieName}"`);
    if (/^awsalb/i.test(o.cookieName)) problems.push(`cookieName must not start with AWSALB (reserved by the load balancer), got "${o.cookieName}"`);
  }
  const idle = seconds(o.idleTimeout);
  const absolute = seconds(o.absoluteTimeout);
  if (idle !== undefined && (idle < 1 || idle > 365 * 86400)) problems.push(`idleTimeout must be from 1 second to 365 days, got ${idle} s`);
  if (absolute !== undefined && (absolute < 1 || absolute > 365 * 86400)) problems.push(`absoluteTimeout must be from 1 second to 365 days, got ${absolute} s`);
  const effIdle = idle ?? RUNTIME_DEFAULTS.idleTimeoutSeconds;
  const effAbs = absolute ?? RUNTIME_DEFAULTS.absoluteTimeoutSeconds;
  if (effAbs < effIdle) problems.push(`absoluteTimeout (${effAbs} s) must not be shorter than idleTimeout (${effIdle} s)`);
  for (const key of Object.keys(o.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problems.push(`environment variable name "${key}" is not a valid name`);
  }
  return problems;
}

/** Throws one error naming every problem, or does nothing. */
export function throwIfProblems(construct: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new Error(`Invalid ${construct} props:\n  - ${problems.join('\n  - ')}`);
}

function seconds(d: Duration | undefined): number | undefined {
  if (d === undefined) return undefined;
  // Tokens cannot be validated at synth time; let them through.
  return d.isUnresolved() ? undefined : d.toSeconds();
}

/**
 * The runtime's environment apart from the store's: cookie, timeouts, login (SESSION_AUTH=cognito,
 * NODE_ENV=production), and its own metrics: on, as EMF lines in namespace CdkSessions with the
 * dimension `service` = `serviceName` (see {@link runtimeServiceName}), unless `o.environment` sets
 * SESSION_METRICS, SESSION_METRICS_NAMESPACE or POWERTOOLS_SERVICE_NAME itself.
 */
export function runtimeEnvironment(o: SessionRuntimeOptions, secret: secretsmanager.ISecret, secure: boolean, login: LoginPool, serviceName: string): Record<string, string> {
  const V = SessionEnvVars;
  const given = o.environment ?? {};
  const env: Record<string, string> = {
    [V.METRICS]: given[V.METRICS] ?? 'on',
    [V.METRICS_NAMESPACE]: given[V.METRICS_NAMESPACE] ?? RUNTIME_DEFAULTS.metricsNamespace,
    [V.SERVICE_NAME]: given[V.SERVICE_NAME] ?? serviceName,
    ...loginEnvironment(login),
    [V.COOKIE_SECRET_ARN]: secret.secretArn,
    [V.COOKIE_SECURE]: secure ? 'true' : 'false',
    [V.COOKIE_NAME]: o.cookieName ?? RUNTIME_DEFAULTS.cookieName,
  };
  if (o.idleTimeout) env[V.IDLE_TIMEOUT] = String(o.idleTimeout.toSeconds());
  if (o.absoluteTimeout) env[V.ABSOLUTE_TIMEOUT] = String(o.absoluteTimeout.toSeconds());
  return env;
}

/**
 * The service name of a compute construct's runtime (POWERTOOLS_SERVICE_NAME): the `service` field
 * of its log lines and the dimension of its metrics. Its construct path, unique in the app and
 * stable across deploys, e.g. `CdkSessionsRedis-Sessions-Fleet-C3251FA0`; ≤ 250 characters (CloudWatch
 * dimension values take 1024).
 */
export function runtimeServiceName(scope: Construct): string {
  return Names.uniqueResourceName(scope, { maxLength: 250, separator: '-' });
}

/** The cookie name as the browser sees it (what an ALB app_cookie must watch). */
export function wireCookieName(o: SessionRuntimeOptions, secure: boolean): string {
  const base = o.cookieName ?? RUNTIME_DEFAULTS.cookieName;
  return secure ? `__Host-${base}` : base;
}

/**
 * A generated cookie-signing secret. Alphanumeric only: the runtime splits the value on commas
 * for rotation, and 64 characters give well over the 32 bytes it requires.
 */
export function createCookieSecret(scope: Construct, id: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: `Session cookie signing secret(s) for ${Stack.of(scope).stackName} (comma-separated; first signs, all verify)`,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'HMAC cookie key, not a credential of another service: rotation is a key roll done by prepending a new value ' +
      '(the runtime signs with the first and verifies with all, so live sessions survive), then dropping the old one. ' +
      'A rotation Lambda that replaced the value outright would log every user out.',
  });
  return secret;
}
