import { Duration, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { RUNTIME_DEFAULTS, SessionEnvVars } from './session-env';
import { createCookieSecret, validateRuntimeOptions } from '../compute/common';
import { loginEnvironment } from '../compute/login';
import { ISessionConsumer } from './consumer';
import { ISessionStore, SessionStoreBinding } from './session-store';
import { validateProps } from './validate';

/**
 * The session settings `connect()` gives a consumer besides the store's own variables: one
 * cookie secret, cookie name and timeouts shared by every consumer of the same sessions.
 */
export interface SessionConnectOptions {
  /**
   * Secret whose SecretString holds the cookie signing secret(s), comma-separated.
   * @default - the store's shared cookie secret (`CookieSecret`, created on first use): every consumer connected to the same store verifies the same cookies
   */
  readonly cookieSecret?: secretsmanager.ISecret;
  /**
   * Session cookie base name.
   * @default 'sid'
   */
  readonly cookieName?: string;
  /**
   * Whether the cookie is `Secure` (and named `__Host-<cookieName>`): true behind HTTPS.
   * @default true
   */
  readonly secureCookie?: boolean;
  /**
   * Idle timeout.
   * @default Duration.minutes(30)
   */
  readonly idleTimeout?: Duration;
  /**
   * Absolute timeout.
   * @default Duration.hours(12)
   */
  readonly absoluteTimeout?: Duration;
  /**
   * The user pool the runtime's `POST /login` checks passwords against (sets SESSION_AUTH=cognito).
   * @default - no login settings: your code authenticates users itself
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * The app client of `userPool` (USER_PASSWORD_AUTH, no secret). Required with `userPool`.
   * @default - none
   */
  readonly userPoolClient?: cognito.IUserPoolClient;
  /**
   * Extra variables; the session variables win over an entry of the same name.
   * @default - none
   */
  readonly environment?: { [key: string]: string };
}

/** The construct id of a store's shared cookie secret. */
export const STORE_COOKIE_SECRET_ID = 'CookieSecret';

/**
 * The store's shared cookie secret: created under the store on first use, so that every
 * consumer connected to it without an explicit `cookieSecret` signs and verifies alike.
 */
export function storeCookieSecret(store: IConstruct): secretsmanager.ISecret {
  const existing = store.node.tryFindChild(STORE_COOKIE_SECRET_ID);
  return (existing as secretsmanager.ISecret | undefined) ?? createCookieSecret(store as any, STORE_COOKIE_SECRET_ID);
}

/**
 * What every store's `connect()` does: checks that the consumer can reach the store (a VPC store
 * needs a consumer in the same VPC), binds it (grants + network + the store's variables; `bind`
 * chooses how, default `store.bind`), lets it read the cookie secret, and sets the whole
 * environment on it.
 */
export function connectSessionConsumer(
  store: ISessionStore,
  consumer: ISessionConsumer,
  options: SessionConnectOptions = {},
  bind: (consumer: ISessionConsumer) => SessionStoreBinding = (c) => store.bind(c),
): SessionStoreBinding {
  const problems = validateRuntimeOptions(options);
  if (options.userPool !== undefined && options.userPoolClient === undefined) problems.push('userPool needs userPoolClient (the app client the runtime logs in through)');
  if (store.vpc !== undefined) {
    const consumerVpcId = consumer.vpc?.vpcId ?? consumer.vpcId;
    if (consumer.connections === undefined) {
      problems.push(
        `${consumer.consumerName} runs in no VPC (or its network is unknown), but ${store.node.path} is reachable only inside its VPC: ` +
          'attach the consumer to that VPC (private subnets) and connect it again; for ECS, connect the service ' +
          '(SessionConsumer.fromFargateService), not its task definition',
      );
    } else if (consumerVpcId !== undefined && otherVpc(store, consumerVpcId, store.vpc.vpcId)) {
      problems.push(`${consumer.consumerName} runs in another VPC than ${store.node.path}: put it in the store's VPC`);
    }
  }
  validateProps(store, problems);

  const binding = bind(consumer);
  const secret = options.cookieSecret ?? storeCookieSecret(store);
  secret.grantRead(consumer);
  const V = SessionEnvVars;
  const environment: Record<string, string> = {
    ...(options.environment ?? {}),
    ...(options.userPool !== undefined && options.userPoolClient !== undefined
      ? loginEnvironment({ userPool: options.userPool, userPoolClient: options.userPoolClient })
      : {}),
    [V.COOKIE_SECRET_ARN]: secret.secretArn,
    [V.COOKIE_SECURE]: options.secureCookie === false ? 'false' : 'true',
    [V.COOKIE_NAME]: options.cookieName ?? RUNTIME_DEFAULTS.cookieName,
    // Always explicit, so that every consumer of these sessions agrees even across runtime versions.
    [V.IDLE_TIMEOUT]: String(options.idleTimeout?.toSeconds() ?? RUNTIME_DEFAULTS.idleTimeoutSeconds),
    [V.ABSOLUTE_TIMEOUT]: String(options.absoluteTimeout?.toSeconds() ?? RUNTIME_DEFAULTS.absoluteTimeoutSeconds),
    ...binding.environment,
  };
  for (const [key, value] of Object.entries(environment)) consumer.addEnvironment(key, value);
  return { environment };
}

/**
 * True only when the two VPC ids are known to differ: two literal ids (imported VPCs), or two
 * references to VPC constructs of this app (`{Ref}`), that are not the same. Anything else (a
 * literal against a reference, an import from another stack) may be one VPC, so it passes.
 */
function otherVpc(scope: IConstruct, a: string, b: string): boolean {
  if (a === b) return false;
  const stack = Stack.of(scope);
  const ra = stack.resolve(a);
  const rb = stack.resolve(b);
  if (typeof ra === 'string' && typeof rb === 'string') return ra !== rb;
  const ref = (v: unknown) => (typeof v === 'object' && v !== null && Object.keys(v).length === 1 && 'Ref' in v ? (v as { Ref: string }).Ref : undefined);
  return ref(ra) !== undefined && ref(rb) !== undefined && ref(ra) !== ref(rb);
}
