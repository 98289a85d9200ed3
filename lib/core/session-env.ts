/**
 * The seam between the constructs and the session runtime, for every language: the environment
 * variable names a store's `connect()`/`bind()` sets and the runtime (`cdk-sessions/runtime`)
 * reads, and the store kinds. The runtime keeps its own copy in `lambda/session/env.ts` (it must
 * not load aws-cdk-lib, and the construct half must not compile the runtime into its jsii
 * assembly); test/constructs/core/session-env.test.ts holds the two equal.
 */

/** The store a runtime uses (`SESSION_STORE`), and `ISessionStore.kind` of each store construct. */
export enum SessionStoreKind {
  /** Sessions in the memory of one process (local runs, or a sticky fleet). */
  MEMORY = 'memory',
  /** Redis or Valkey (ElastiCache). */
  REDIS = 'redis',
  /** A DynamoDB table. */
  DYNAMODB = 'dynamodb',
  /** An S3 bucket. */
  S3 = 's3',
  /** Memcached (ElastiCache). */
  MEMCACHED = 'memcached',
  /** PostgreSQL (Aurora behind RDS Proxy). */
  POSTGRES = 'postgres',
  /** Stateless JWT signed by KMS, with an optional DynamoDB denylist. */
  JWT = 'jwt',
}

/**
 * Every environment variable that crosses the seam between the constructs and the runtime, by
 * role. Use these names when you set or read the runtime's environment yourself, e.g.
 * `SessionEnvVars.REDIS_URL` is `SESSION_REDIS_URL`.
 */
export class SessionEnvVars {
  /** Port the instance server listens on. */
  public static readonly PORT: string = 'PORT';
  /** Which runtime store to use: one of {@link SessionStoreKind}. Unset: memory, except with NODE_ENV=production, where it is required. */
  public static readonly STORE: string = 'SESSION_STORE';
  /** Cookie signing secret(s), comma-separated; the first signs, all verify (rotation). */
  public static readonly COOKIE_SECRET: string = 'SESSION_COOKIE_SECRET';
  /** Secrets Manager ARN whose SecretString holds the comma-separated cookie secret(s); read again while running (rotation). */
  public static readonly COOKIE_SECRET_ARN: string = 'SESSION_COOKIE_SECRET_ARN';
  /** A file holding the cookie secret(s) in the same formats as the ARN's SecretString; read again while running (rotation). */
  public static readonly COOKIE_SECRET_FILE: string = 'SESSION_COOKIE_SECRET_FILE';
  /** Seconds between reloads of the cookie secrets from their ARN or file; 0: only when a cookie's signature is unknown. */
  public static readonly COOKIE_SECRET_RELOAD_SECONDS: string = 'SESSION_COOKIE_SECRET_RELOAD_SECONDS';
  /** `false` only for plain-HTTP local runs; anything else means Secure + `__Host-` cookie. */
  public static readonly COOKIE_SECURE: string = 'SESSION_COOKIE_SECURE';
  /** Cookie name without the `__Host-` prefix. Must not start with AWSALB (ALB reserves it). */
  public static readonly COOKIE_NAME: string = 'SESSION_COOKIE_NAME';
  /** `redis://` or `rediss://` URL; AUTH may be inside it locally. */
  public static readonly REDIS_URL: string = 'SESSION_REDIS_URL';
  /** Secrets Manager ARN of the Redis AUTH token (SecretString = token, or JSON {"password"}). */
  public static readonly REDIS_AUTH_SECRET_ARN: string = 'SESSION_REDIS_AUTH_SECRET_ARN';
  /** `true` when the Redis endpoint is a cluster-mode configuration endpoint. */
  public static readonly REDIS_CLUSTER: string = 'SESSION_REDIS_CLUSTER';
  /** DynamoDB session table name. */
  public static readonly TABLE: string = 'SESSION_TABLE';
  /** S3 bucket for sessions that exceed the DynamoDB item limit (optional). */
  public static readonly OVERFLOW_BUCKET: string = 'SESSION_OVERFLOW_BUCKET';
  /** S3 session bucket. */
  public static readonly BUCKET: string = 'SESSION_BUCKET';
  /** Key prefix inside the S3 session bucket. */
  public static readonly BUCKET_PREFIX: string = 'SESSION_BUCKET_PREFIX';
  /** Comma-separated memcached `host:port` list. */
  public static readonly MEMCACHED_SERVERS: string = 'SESSION_MEMCACHED_SERVERS';
  /** `true` to connect to memcached with TLS (ElastiCache Serverless always; node-based with in-transit encryption). */
  public static readonly MEMCACHED_TLS: string = 'SESSION_MEMCACHED_TLS';
  /** PostgreSQL URL (without a password in AWS; the secret below supplies it). */
  public static readonly DATABASE_URL: string = 'SESSION_DATABASE_URL';
  /** Secrets Manager ARN of the database credentials (RDS JSON secret). */
  public static readonly DATABASE_SECRET_ARN: string = 'SESSION_DATABASE_SECRET_ARN';
  /** Memory store: most sessions one process holds; past it the least recently used is evicted. */
  public static readonly MEMORY_MAX_SESSIONS: string = 'SESSION_MEMORY_MAX_SESSIONS';
  /** Memory store: most bytes of session JSON one process holds; past it the least recently used are evicted. */
  public static readonly MEMORY_MAX_BYTES: string = 'SESSION_MEMORY_MAX_BYTES';
  /** Idle timeout, seconds: a session unused this long is gone. */
  public static readonly IDLE_TIMEOUT: string = 'SESSION_IDLE_TIMEOUT';
  /** Absolute timeout, seconds from creation, however active the session is. */
  public static readonly ABSOLUTE_TIMEOUT: string = 'SESSION_ABSOLUTE_TIMEOUT';
  /** Bound on one store operation, milliseconds; past it the request gets a 503. */
  public static readonly STORE_TIMEOUT_MS: string = 'SESSION_STORE_TIMEOUT_MS';
  /** Largest serialized session accepted, bytes; larger gets a 413 and the old data stays. */
  public static readonly MAX_SESSION_BYTES: string = 'SESSION_MAX_BYTES';
  /** Name reported as `servedBy` (instance id or function name). */
  public static readonly SERVED_BY: string = 'SESSION_SERVED_BY';
  /** Comma-separated origins (`https://host[:port]`) besides the app's own that may send state-changing requests. */
  public static readonly ALLOWED_ORIGINS: string = 'SESSION_ALLOWED_ORIGINS';
  /** Budget of the sessions a manager remembers having written (one-round-trip modify on Redis); 0 turns it off. */
  public static readonly WRITTEN_CACHE_CHARS: string = 'SESSION_WRITTEN_CACHE_CHARS';
  /** JWT: KMS key id/ARN/alias that signs (issuer only). */
  public static readonly JWT_KMS_KEY_ID: string = 'SESSION_JWT_KMS_KEY_ID';
  /** JWT: KMS key ids/ARNs whose public keys still verify (comma-separated; rotation). */
  public static readonly JWT_PREVIOUS_KMS_KEY_IDS: string = 'SESSION_JWT_PREVIOUS_KMS_KEY_IDS';
  /** JWT: local signing key as a PKCS#8 PEM (development and tests only). */
  public static readonly JWT_PRIVATE_KEY: string = 'SESSION_JWT_PRIVATE_KEY';
  /** JWT: public (or private) PEMs of previous local signing keys that still verify (rotation without KMS). */
  public static readonly JWT_PREVIOUS_PUBLIC_KEYS: string = 'SESSION_JWT_PREVIOUS_PUBLIC_KEYS';
  /** JWT: `iss` claim. */
  public static readonly JWT_ISSUER: string = 'SESSION_JWT_ISSUER';
  /** JWT: `aud` claim. */
  public static readonly JWT_AUDIENCE: string = 'SESSION_JWT_AUDIENCE';
  /** JWT: access-token lifetime, seconds. */
  public static readonly JWT_TTL: string = 'SESSION_JWT_TTL';
  /** JWT: DynamoDB revocation (denylist) table. */
  public static readonly REVOCATION_TABLE: string = 'SESSION_REVOCATION_TABLE';
  /** JWT: `always` (consult the denylist on every request) or `never`. */
  public static readonly REVOCATION_CHECK: string = 'SESSION_REVOCATION_CHECK';
  /**
   * JWT: milliseconds an instance reuses a "not revoked" answer of the denylist for the same token
   * (0-60000; 0 asks DynamoDB on every request). A revocation made through another instance is
   * refused here at most this much later; one made through this instance at once.
   */
  public static readonly REVOCATION_CACHE_MS: string = 'SESSION_REVOCATION_CACHE_MS';
  /** Who may log in to the reference app: one of `cognito` or `open`. The reference app requires it when NODE_ENV=production; your own app need not set it. */
  public static readonly AUTH: string = 'SESSION_AUTH';
  /** Cognito user pool id (`<region>_<id>`) whose users log in (SESSION_AUTH=cognito). */
  public static readonly COGNITO_USER_POOL_ID: string = 'SESSION_COGNITO_USER_POOL_ID';
  /** Cognito app client id: USER_PASSWORD_AUTH enabled, no client secret (SESSION_AUTH=cognito). */
  public static readonly COGNITO_CLIENT_ID: string = 'SESSION_COGNITO_CLIENT_ID';
  /** Bound on one call to the authenticator (Cognito InitiateAuth), milliseconds; past it the login gets a 503. */
  public static readonly AUTH_TIMEOUT_MS: string = 'SESSION_AUTH_TIMEOUT_MS';
  /** The runtime's own metrics as CloudWatch EMF lines: `on` or `off`. Unset: off; the constructs set `on`. */
  public static readonly METRICS: string = 'SESSION_METRICS';
  /** CloudWatch namespace of the runtime's metrics. Unset: `CdkSessions`. */
  public static readonly METRICS_NAMESPACE: string = 'SESSION_METRICS_NAMESPACE';
  /** Seconds between two writes of the runtime's metrics on an instance (Lambda writes per invocation). Unset: 60. */
  public static readonly METRICS_INTERVAL: string = 'SESSION_METRICS_INTERVAL_SECONDS';
  /** Powertools' service name: the `service` field of log lines and the one dimension of the runtime's metrics. */
  public static readonly SERVICE_NAME: string = 'POWERTOOLS_SERVICE_NAME';
  /** `production` in deployed environments: refuses SESSION_AUTH=open and a missing SESSION_STORE; the reference app also refuses a missing SESSION_AUTH. */
  public static readonly NODE_ENV: string = 'NODE_ENV';

  private constructor() {}
}

/**
 * The runtime's defaults that the constructs also apply (the runtime's `DEFAULTS`, for the
 * settings a construct writes into the environment or documents). Internal: not exported.
 */
export const RUNTIME_DEFAULTS = {
  port: 8080,
  cookieName: 'sid',
  idleTimeoutSeconds: 30 * 60,
  absoluteTimeoutSeconds: 12 * 60 * 60,
  bucketPrefix: 'sessions/',
  jwtTtlSeconds: 15 * 60,
  metricsNamespace: 'CdkSessions',
} as const;

/** Every store kind, in the order the prebuilt bundles are made. Internal: not exported. */
export const STORE_KINDS: readonly SessionStoreKind[] = [
  SessionStoreKind.MEMORY,
  SessionStoreKind.REDIS,
  SessionStoreKind.DYNAMODB,
  SessionStoreKind.S3,
  SessionStoreKind.MEMCACHED,
  SessionStoreKind.POSTGRES,
  SessionStoreKind.JWT,
];
