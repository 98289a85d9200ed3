/**
 * The seam between the construct library (lib/) and the session runtime (lambda/).
 *
 * A store construct's `bind()` returns an environment made of these names; the runtime reads
 * the same names back with {@link parseSessionEnv}. This file must stay dependency-free: both
 * halves import it, and the runtime entry point must never pull in aws-cdk-lib.
 */

/** Every environment variable that crosses the seam. */
export const SessionEnvVars = {
  /** Port the instance server listens on. */
  PORT: 'PORT',
  /** Which runtime store to use: one of {@link STORE_KINDS}. Unset: memory, except with NODE_ENV=production, where it is required. */
  STORE: 'SESSION_STORE',
  /** Cookie signing secret(s), comma-separated; the first signs, all verify (rotation). */
  COOKIE_SECRET: 'SESSION_COOKIE_SECRET',
  /** Secrets Manager ARN whose SecretString holds the comma-separated cookie secret(s); read again while running (rotation). */
  COOKIE_SECRET_ARN: 'SESSION_COOKIE_SECRET_ARN',
  /** A file holding the cookie secret(s) in the same formats as the ARN's SecretString; read again while running (rotation). */
  COOKIE_SECRET_FILE: 'SESSION_COOKIE_SECRET_FILE',
  /** Seconds between reloads of the cookie secrets from their ARN or file; 0: only when a cookie's signature is unknown. */
  COOKIE_SECRET_RELOAD_SECONDS: 'SESSION_COOKIE_SECRET_RELOAD_SECONDS',
  /** `false` only for plain-HTTP local runs; anything else means Secure + `__Host-` cookie. */
  COOKIE_SECURE: 'SESSION_COOKIE_SECURE',
  /** Cookie name without the `__Host-` prefix. Must not start with AWSALB (ALB reserves it). */
  COOKIE_NAME: 'SESSION_COOKIE_NAME',
  /** `redis://` or `rediss://` URL; AUTH may be inside it locally. */
  REDIS_URL: 'SESSION_REDIS_URL',
  /** Secrets Manager ARN of the Redis AUTH token (SecretString = token, or JSON {"password"}). */
  REDIS_AUTH_SECRET_ARN: 'SESSION_REDIS_AUTH_SECRET_ARN',
  /** `true` when the Redis endpoint is a cluster-mode configuration endpoint. */
  REDIS_CLUSTER: 'SESSION_REDIS_CLUSTER',
  /** DynamoDB session table name. */
  TABLE: 'SESSION_TABLE',
  /** S3 bucket for sessions that exceed the DynamoDB item limit (optional). */
  OVERFLOW_BUCKET: 'SESSION_OVERFLOW_BUCKET',
  /** S3 session bucket. */
  BUCKET: 'SESSION_BUCKET',
  /** Key prefix inside the S3 session bucket. */
  BUCKET_PREFIX: 'SESSION_BUCKET_PREFIX',
  /** Comma-separated memcached `host:port` list. */
  MEMCACHED_SERVERS: 'SESSION_MEMCACHED_SERVERS',
  /** `true` to connect to memcached with TLS (ElastiCache Serverless always; node-based with in-transit encryption). */
  MEMCACHED_TLS: 'SESSION_MEMCACHED_TLS',
  /** PostgreSQL URL (without a password in AWS; the secret below supplies it). */
  DATABASE_URL: 'SESSION_DATABASE_URL',
  /** Secrets Manager ARN of the database credentials (RDS JSON secret). */
  DATABASE_SECRET_ARN: 'SESSION_DATABASE_SECRET_ARN',
  /** Memory store: most sessions one process holds; past it the least recently used is evicted. */
  MEMORY_MAX_SESSIONS: 'SESSION_MEMORY_MAX_SESSIONS',
  /** Memory store: most bytes of session JSON one process holds; past it the least recently used are evicted. */
  MEMORY_MAX_BYTES: 'SESSION_MEMORY_MAX_BYTES',
  /** Idle timeout, seconds: a session unused this long is gone. */
  IDLE_TIMEOUT: 'SESSION_IDLE_TIMEOUT',
  /** Absolute timeout, seconds from creation, however active the session is. */
  ABSOLUTE_TIMEOUT: 'SESSION_ABSOLUTE_TIMEOUT',
  /** Bound on one store operation, milliseconds; past it the request gets a 503. */
  STORE_TIMEOUT_MS: 'SESSION_STORE_TIMEOUT_MS',
  /** Largest serialized session accepted, bytes; larger gets a 413 and the old data stays. */
  MAX_SESSION_BYTES: 'SESSION_MAX_BYTES',
  /** Name reported as `servedBy` (instance id or function name). */
  SERVED_BY: 'SESSION_SERVED_BY',
  /** Comma-separated origins (`https://host[:port]`) besides the app's own that may send state-changing requests. */
  ALLOWED_ORIGINS: 'SESSION_ALLOWED_ORIGINS',
  /** Budget of the sessions a manager remembers having written (one-round-trip modify on Redis); 0 turns it off. */
  WRITTEN_CACHE_CHARS: 'SESSION_WRITTEN_CACHE_CHARS',
  /** JWT: KMS key id/ARN/alias that signs (issuer only). */
  JWT_KMS_KEY_ID: 'SESSION_JWT_KMS_KEY_ID',
  /** JWT: KMS key ids/ARNs whose public keys still verify (comma-separated; rotation). */
  JWT_PREVIOUS_KMS_KEY_IDS: 'SESSION_JWT_PREVIOUS_KMS_KEY_IDS',
  /** JWT: local signing key as a PKCS#8 PEM (development and tests only). */
  JWT_PRIVATE_KEY: 'SESSION_JWT_PRIVATE_KEY',
  /** JWT: public (or private) PEMs of previous local signing keys that still verify (rotation without KMS). */
  JWT_PREVIOUS_PUBLIC_KEYS: 'SESSION_JWT_PREVIOUS_PUBLIC_KEYS',
  /** JWT: `iss` claim. */
  JWT_ISSUER: 'SESSION_JWT_ISSUER',
  /** JWT: `aud` claim. */
  JWT_AUDIENCE: 'SESSION_JWT_AUDIENCE',
  /** JWT: access-token lifetime, seconds. */
  JWT_TTL: 'SESSION_JWT_TTL',
  /** JWT: DynamoDB revocation (denylist) table. */
  REVOCATION_TABLE: 'SESSION_REVOCATION_TABLE',
  /** JWT: `always` (consult the denylist on every request) or `never`. */
  REVOCATION_CHECK: 'SESSION_REVOCATION_CHECK',
  /**
   * JWT: milliseconds an instance reuses a "not revoked" answer of the denylist for the same token
   * (0-60000; 0 asks DynamoDB on every request). A revocation made through another instance is
   * refused here at most this much later; one made through this instance at once.
   */
  REVOCATION_CACHE_MS: 'SESSION_REVOCATION_CACHE_MS',
  /** Who may log in to the reference app: one of {@link AUTH_KINDS}. The reference app requires it when NODE_ENV=production; your own app need not set it. */
  AUTH: 'SESSION_AUTH',
  /** Cognito user pool id (`<region>_<id>`) whose users log in (SESSION_AUTH=cognito). */
  COGNITO_USER_POOL_ID: 'SESSION_COGNITO_USER_POOL_ID',
  /** Cognito app client id: USER_PASSWORD_AUTH enabled, no client secret (SESSION_AUTH=cognito). */
  COGNITO_CLIENT_ID: 'SESSION_COGNITO_CLIENT_ID',
  /** Bound on one call to the authenticator (Cognito InitiateAuth), milliseconds; past it the login gets a 503. */
  AUTH_TIMEOUT_MS: 'SESSION_AUTH_TIMEOUT_MS',
  /** The runtime's own metrics as CloudWatch EMF lines (lambda/session/metrics.ts): `on` or `off`. Unset: off; the constructs set `on`. */
  METRICS: 'SESSION_METRICS',
  /** CloudWatch namespace of the runtime's metrics. Unset: {@link DEFAULTS}.metricsNamespace. */
  METRICS_NAMESPACE: 'SESSION_METRICS_NAMESPACE',
  /** Seconds between two writes of the runtime's metrics on an instance (Lambda writes per invocation). Unset: 60. */
  METRICS_INTERVAL: 'SESSION_METRICS_INTERVAL_SECONDS',
  /** Powertools' service name: the `service` field of log lines and the one dimension of the runtime's metrics. */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
  /** `production` in deployed environments: refuses SESSION_AUTH=open and a missing SESSION_STORE; the reference app also refuses a missing SESSION_AUTH. */
  NODE_ENV: 'NODE_ENV',
} as const;

export type SessionEnvVar = (typeof SessionEnvVars)[keyof typeof SessionEnvVars];

export const STORE_KINDS = ['memory', 'redis', 'dynamodb', 's3', 'memcached', 'postgres', 'jwt'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/**
 * `cognito`: a user name and password checked by Cognito InitiateAuth (USER_PASSWORD_AUTH).
 * `open`: any user name, no password: the local lab and benchmarks only, refused when NODE_ENV=production.
 */
export const AUTH_KINDS = ['cognito', 'open'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

export const DEFAULTS = {
  port: 8080,
  cookieName: 'sid',
  idleTimeoutSeconds: 30 * 60,
  absoluteTimeoutSeconds: 12 * 60 * 60,
  storeTimeoutMs: 2000,
  maxSessionBytes: 64 * 1024,
  bucketPrefix: 'sessions/',
  jwtTtlSeconds: 15 * 60,
  cookieSecretReloadSeconds: 5 * 60,
  authTimeoutMs: 3000,
  /** A browser's burst of requests with one token (a page and its API calls) costs one denylist read. */
  revocationCacheMs: 1000,
  /** CloudWatch namespace of the runtime's metrics. */
  metricsNamespace: 'CdkSessions',
  /** Seconds between two writes of the runtime's metrics on an instance. */
  metricsIntervalSeconds: 60,
} as const;

export interface CookieSettings {
  /** Secrets given in the environment; empty when only an ARN or a file is given. */
  readonly secrets: readonly string[];
  /** Secrets Manager secret holding the list (wins over `secrets`). */
  readonly secretArn?: string;
  /** File holding the list (wins over `secrets`; not together with `secretArn`). */
  readonly secretFile?: string;
  /** Seconds between reloads from `secretArn` or `secretFile`; 0: only on an unknown signature. */
  readonly reloadSeconds: number;
  readonly secure: boolean;
  /** Base name; the manager adds `__Host-` when secure. */
  readonly name: string;
}

export interface RedisSettings {
  readonly url: string;
  readonly authSecretArn?: string;
  readonly cluster: boolean;
}

export interface DynamoDbSettings {
  readonly table: string;
  readonly overflowBucket?: string;
}

export interface S3Settings {
  readonly bucket: string;
  readonly prefix: string;
}

export interface MemcachedSettings {
  readonly servers: readonly string[];
  /** Connect with TLS, verifying the server against the system's CAs. */
  readonly tls: boolean;
}

export interface MemorySettings {
  /** @default - the store's (MEMORY_DEFAULT_MAX_SESSIONS) */
  readonly maxSessions?: number;
  /** @default - the store's (MEMORY_DEFAULT_MAX_BYTES) */
  readonly maxBytes?: number;
}

export interface PostgresSettings {
  readonly url: string;
  readonly secretArn?: string;
}

export interface JwtSettings {
  readonly kmsKeyId?: string;
  readonly previousKmsKeyIds: readonly string[];
  readonly privateKeyPem?: string;
  /** PEM blocks of previous local keys (SESSION_JWT_PREVIOUS_PUBLIC_KEYS). */
  readonly previousPublicKeyPems?: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly revocationTable?: string;
  readonly revocationCheck: 'always' | 'never';
  /** How long a "not revoked" answer is reused per token, ms (SESSION_REVOCATION_CACHE_MS). */
  readonly revocationCacheMs: number;
}

export interface CognitoSettings {
  readonly userPoolId: string;
  readonly clientId: string;
  /** The pool's region: the part of the pool id before `_`. */
  readonly region: string;
}

export interface AuthSettings {
  readonly kind: AuthKind;
  /** True when SESSION_AUTH was not set and `open` was taken (the reference app logs a warning, or refuses to start when `required`). */
  readonly defaulted: boolean;
  /**
   * True with NODE_ENV=production: the reference app's login (createAuthenticator) refuses to start
   * without SESSION_AUTH. parseSessionEnv does not, so a team's own app that does its own login
   * needs no SESSION_AUTH.
   */
  readonly required: boolean;
  /** Bound on one authenticator call, ms. */
  readonly timeoutMs: number;
  /** Present when kind is `cognito`. */
  readonly cognito?: CognitoSettings;
}

/** The parsed, validated environment. Only the settings of the chosen store are present. */
export interface SessionEnv {
  readonly store: StoreKind;
  readonly port: number;
  readonly cookie: CookieSettings;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  readonly storeTimeoutMs: number;
  readonly maxSessionBytes: number;
  /** SessionManager `writtenCacheChars`; undefined: 8 Mi on an instance, 1 Mi in Lambda (createSessionRuntime). */
  readonly writtenCacheChars?: number;
  readonly servedBy?: string;
  readonly memory?: MemorySettings;
  /** Who may log in (SESSION_AUTH and the authenticator's settings). */
  readonly auth: AuthSettings;
  /** SESSION_ALLOWED_ORIGINS, each as `scheme://host[:port]` (lower case, no default port). */
  readonly allowedOrigins: readonly string[];
  readonly redis?: RedisSettings;
  readonly dynamodb?: DynamoDbSettings;
  readonly s3?: S3Settings;
  readonly memcached?: MemcachedSettings;
  readonly postgres?: PostgresSettings;
  readonly jwt?: JwtSettings;
}

/** Thrown by {@link parseSessionEnv}; lists every problem at once. */
export class SessionEnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid session environment:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SessionEnvError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the session environment (the variables in {@link SessionEnvVars}, as the
 * constructs' `bind()` sets them). Collects every problem and throws one {@link SessionEnvError}
 * naming them all. SESSION_STORE defaults to `memory`, except with NODE_ENV=production, where a
 * missing SESSION_STORE is one of the problems.
 *
 * @example
 * ```ts
 * import { parseSessionEnv } from 'cdk-sessions/runtime';
 * const env = parseSessionEnv(process.env); // throws SessionEnvError listing every bad variable
 * ```
 */
export function parseSessionEnv(env: Env = process.env): SessionEnv {
  const problems: string[] = [];
  const V = SessionEnvVars;
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const required = (name: string, why: string): string => {
    const v = get(name);
    if (v === undefined) problems.push(`${name} is required ${why}`);
    return v ?? '';
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    problems.push(`${name} must be "true" or "false", got "${raw}"`);
    return fallback;
  };
  const list = (name: string): string[] =>
    (get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  // Unset means memory (one process's sessions) for local runs; a deployed app must say which
  // store it uses, or every instance would quietly keep its own sessions.
  const storeSet = get(V.STORE);
  if (storeSet === undefined && get(V.NODE_ENV) === 'production') {
    problems.push(`${V.STORE} is required when ${V.NODE_ENV}=production: set it to one of ${STORE_KINDS.join(', ')} (memory keeps sessions in this process only)`);
  }
  const storeRaw = storeSet ?? 'memory';
  let store: StoreKind = 'memory';
  if ((STORE_KINDS as readonly string[]).includes(storeRaw)) store = storeRaw as StoreKind;
  else problems.push(`${V.STORE} must be one of ${STORE_KINDS.join(', ')}, got "${storeRaw}"`);

  const port = int(V.PORT, DEFAULTS.port, 0, 65535);
  const idleTimeoutSeconds = int(V.IDLE_TIMEOUT, DEFAULTS.idleTimeoutSeconds, 1, 365 * 24 * 3600);
  const absoluteTimeoutSeconds = int(V.ABSOLUTE_TIMEOUT, DEFAULTS.absoluteTimeoutSeconds, 1, 365 * 24 * 3600);
  if (absoluteTimeoutSeconds < idleTimeoutSeconds) {
    problems.push(`${V.ABSOLUTE_TIMEOUT} (${absoluteTimeoutSeconds}) must not be shorter than ${V.IDLE_TIMEOUT} (${idleTimeoutSeconds})`);
  }
  const storeTimeoutMs = int(V.STORE_TIMEOUT_MS, DEFAULTS.storeTimeoutMs, 1, 60_000);
  const maxSessionBytes = int(V.MAX_SESSION_BYTES, DEFAULTS.maxSessionBytes, 1, 100 * 1024 * 1024);
  const writtenCacheChars = get(V.WRITTEN_CACHE_CHARS) === undefined ? undefined : int(V.WRITTEN_CACHE_CHARS, 0, 0, 1024 * 1024 * 1024);

  const secrets = list(V.COOKIE_SECRET);
  const secretArn = get(V.COOKIE_SECRET_ARN);
  const secretFile = get(V.COOKIE_SECRET_FILE);
  if (store !== 'jwt' && secrets.length === 0 && secretArn === undefined && secretFile === undefined) {
    problems.push(`${V.COOKIE_SECRET}, ${V.COOKIE_SECRET_ARN} or ${V.COOKIE_SECRET_FILE} is required to sign session cookies`);
  }
  if (secretArn !== undefined && secretFile !== undefined) problems.push(`set ${V.COOKIE_SECRET_ARN} or ${V.COOKIE_SECRET_FILE}, not both`);
  const reloadSeconds = int(V.COOKIE_SECRET_RELOAD_SECONDS, DEFAULTS.cookieSecretReloadSeconds, 0, 24 * 3600);
  for (const s of secrets) {
    if (Buffer.byteLength(s) < 32) problems.push(`each ${V.COOKIE_SECRET} entry must be at least 32 bytes`);
  }
  const cookieName = get(V.COOKIE_NAME) ?? DEFAULTS.cookieName;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookieName)) problems.push(`${V.COOKIE_NAME} must be 1-64 letters, digits, "_" or "-", got "${cookieName}"`);
  if (/^awsalb/i.test(cookieName)) problems.push(`${V.COOKIE_NAME} must not start with AWSALB (reserved by the load balancer)`);
  const cookie: CookieSettings = { secrets, secretArn, secretFile, reloadSeconds, secure: bool(V.COOKIE_SECURE, true), name: cookieName };

  let memory: MemorySettings | undefined;
  const auth = parseAuth(get, int, problems);
  const allowedOrigins: string[] = [];
  for (const o of list(V.ALLOWED_ORIGINS)) {
    // The form browsers send in Origin: scheme and host, no path; compared after the same normalization.
    const m = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/i.exec(o);
    if (m === null) problems.push(`${V.ALLOWED_ORIGINS} entry "${o}" must be an origin such as https://www.example.com (scheme, host, optional port; no path)`);
    else allowedOrigins.push(new URL(o).origin);
  }

  let redis: RedisSettings | undefined;
  let dynamodb: DynamoDbSettings | undefined;
  let s3: S3Settings | undefined;
  let memcached: MemcachedSettings | undefined;
  let postgres: PostgresSettings | undefined;
  let jwt: JwtSettings | undefined;
  const why = `when ${V.STORE}=${store}`;
  switch (store) {
    case 'redis': {
      const url = required(V.REDIS_URL, why);
      if (url && !/^rediss?:\/\/[^/]+/.test(url)) problems.push(`${V.REDIS_URL} must start with redis:// or rediss://`);
      redis = { url, authSecretArn: get(V.REDIS_AUTH_SECRET_ARN), cluster: bool(V.REDIS_CLUSTER, false) };
      break;
    }
    case 'dynamodb':
      dynamodb = { table: required(V.TABLE, why), overflowBucket: get(V.OVERFLOW_BUCKET) };
      break;
    case 's3':
      s3 = { bucket: required(V.BUCKET, why), prefix: get(V.BUCKET_PREFIX) ?? DEFAULTS.bucketPrefix };
      break;
    case 'memcached': {
      const servers = list(V.MEMCACHED_SERVERS);
      if (servers.length === 0) problems.push(`${V.MEMCACHED_SERVERS} is required ${why}`);
      for (const s of servers) if (!/^[^:\s]+:\d{1,5}$/.test(s)) problems.push(`${V.MEMCACHED_SERVERS} entry "${s}" must be host:port`);
      memcached = { servers, tls: bool(V.MEMCACHED_TLS, false) };
      break;
    }
    case 'postgres': {
      const url = required(V.DATABASE_URL, why);
      if (url && !/^postgres(ql)?:\/\//.test(url)) problems.push(`${V.DATABASE_URL} must start with postgres:// or postgresql://`);
      postgres = { url, secretArn: get(V.DATABASE_SECRET_ARN) };
      break;
    }
    case 'jwt': {
      const kmsKeyId = get(V.JWT_KMS_KEY_ID);
      const privateKeyPem = get(V.JWT_PRIVATE_KEY);
      if (!kmsKeyId && !privateKeyPem) problems.push(`${V.JWT_KMS_KEY_ID} or ${V.JWT_PRIVATE_KEY} is required ${why}`);
      const check = get(V.REVOCATION_CHECK) ?? 'always';
      if (check !== 'always' && check !== 'never') problems.push(`${V.REVOCATION_CHECK} must be "always" or "never", got "${check}"`);
      const previousPemText = (get(V.JWT_PREVIOUS_PUBLIC_KEYS) ?? '').replace(/\\n/g, '\n');
      const previousPublicKeyPems = previousPemText.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g) ?? [];
      if (previousPemText.trim() !== '' && previousPublicKeyPems.length === 0) problems.push(`${V.JWT_PREVIOUS_PUBLIC_KEYS} must hold one or more PEM blocks`);
      jwt = {
        kmsKeyId,
        previousKmsKeyIds: list(V.JWT_PREVIOUS_KMS_KEY_IDS),
        privateKeyPem,
        previousPublicKeyPems,
        issuer: required(V.JWT_ISSUER, why),
        audience: required(V.JWT_AUDIENCE, why),
        ttlSeconds: int(V.JWT_TTL, DEFAULTS.jwtTtlSeconds, 1, 24 * 3600),
        revocationTable: get(V.REVOCATION_TABLE),
        revocationCheck: check === 'never' ? 'never' : 'always',
        revocationCacheMs: int(V.REVOCATION_CACHE_MS, DEFAULTS.revocationCacheMs, 0, 60_000),
      };
      break;
    }
    case 'memory': {
      const optionalInt = (name: string, min: number, max: number): number | undefined => (get(name) === undefined ? undefined : int(name, min, min, max));
      memory = {
        maxSessions: optionalInt(V.MEMORY_MAX_SESSIONS, 1, 100_000_000),
        maxBytes: optionalInt(V.MEMORY_MAX_BYTES, 1024, 64 * 1024 * 1024 * 1024),
      };
      if (memory.maxBytes !== undefined && memory.maxBytes < maxSessionBytes) {
        problems.push(`${V.MEMORY_MAX_BYTES} (${memory.maxBytes}) must not be smaller than ${V.MAX_SESSION_BYTES} (${maxSessionBytes})`);
      }
      break;
    }
  }

  if (problems.length > 0) throw new SessionEnvError(problems);
  return {
    store,
    port,
    cookie,
    idleTimeoutSeconds,
    absoluteTimeoutSeconds,
    storeTimeoutMs,
    maxSessionBytes,
    writtenCacheChars,
    servedBy: get(V.SERVED_BY),
    memory,
    auth,
    allowedOrigins,
    redis,
    dynamodb,
    s3,
    memcached,
    postgres,
    jwt,
  };
}

/**
 * SESSION_AUTH and the authenticator's settings. NODE_ENV=production refuses `open`; a missing
 * SESSION_AUTH means `open`, flagged `defaulted` so the reference app warns, or, flagged `required`
 * in production, refuses to start (createAuthenticator): a deployed app must never let anyone in
 * under any name by accident. It is not a problem here, because a team's own app that imports the
 * runtime does its own login and has no SESSION_AUTH.
 */
function parseAuth(
  get: (name: string) => string | undefined,
  int: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
): AuthSettings {
  const V = SessionEnvVars;
  const production = get(V.NODE_ENV) === 'production';
  const raw = get(V.AUTH);
  const timeoutMs = int(V.AUTH_TIMEOUT_MS, DEFAULTS.authTimeoutMs, 1, 60_000);
  const required = production;
  if (raw === undefined) return { kind: 'open', defaulted: true, required, timeoutMs };
  if (!(AUTH_KINDS as readonly string[]).includes(raw)) {
    problems.push(`${V.AUTH} must be one of ${AUTH_KINDS.join(', ')}, got "${raw}"`);
    return { kind: 'open', defaulted: false, required, timeoutMs };
  }
  const kind = raw as AuthKind;
  if (kind === 'open') {
    if (production) problems.push(`${V.AUTH}=open (any user name, no password) is refused when ${V.NODE_ENV}=production: use cognito`);
    return { kind, defaulted: false, required, timeoutMs };
  }
  const why = `when ${V.AUTH}=cognito`;
  const userPoolId = get(V.COGNITO_USER_POOL_ID);
  const clientId = get(V.COGNITO_CLIENT_ID);
  if (userPoolId === undefined) problems.push(`${V.COGNITO_USER_POOL_ID} is required ${why}`);
  else if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId)) problems.push(`${V.COGNITO_USER_POOL_ID} must look like <region>_<id>, got "${userPoolId}"`);
  if (clientId === undefined) problems.push(`${V.COGNITO_CLIENT_ID} is required ${why}`);
  else if (!/^[\w+]{1,128}$/.test(clientId)) problems.push(`${V.COGNITO_CLIENT_ID} must be 1-128 letters, digits, "_" or "+", got "${clientId}"`);
  const pool = userPoolId ?? '';
  return { kind, defaulted: false, required, timeoutMs, cognito: { userPoolId: pool, clientId: clientId ?? '', region: pool.slice(0, pool.indexOf('_')) } };
}
