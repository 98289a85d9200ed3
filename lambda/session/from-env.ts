/**
 * Builds the runtime from the parsed environment: the store chosen by SESSION_STORE, the
 * cookie secrets (from the environment, Secrets Manager or a file) and the SessionManager on top.
 *
 * Cookie secrets from Secrets Manager or a file are read again while the process runs
 * (./secret-reload): every SESSION_COOKIE_SECRET_RELOAD_SECONDS, and when a cookie's signature
 * matches none of them (rate-limited), so a secret prepended during a rotation is learnt without
 * a restart and no one is logged out.
 *
 * Meant to run once per process (instance start, Lambda cold start) and be reused (the Lambda
 * handlers memoize the app built on it: lambda/handlers/runtime.ts).
 * The Redis AUTH token is fetched from Secrets Manager when an ARN is given and fetched again
 * when Redis rejects it, so a rotated token is picked up without a redeploy.
 *
 * Store modules are loaded with `require` on demand so that a memory-store process never
 * loads ioredis or the AWS SDK clients it does not use.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SessionEnv } from './env';
import { StoreUnavailableError } from './errors';
import { SessionManager } from './manager';
import { CookieSecretReloader, type CookieSecretSource } from './secret-reload';
import type { SessionStore } from './types';

/** Where the runtime's own warnings go (a Powertools Logger fits). */
export interface RuntimeLogger {
  warn(message: string, ...extra: unknown[]): void;
}

export interface SessionRuntimeOptions {
  /** Secrets Manager client. @default - one created on first use, with the SDK's region/endpoint chain */
  readonly secretsManager?: SecretsManagerClient;
  /** @default console */
  readonly logger?: RuntimeLogger;
}

export interface SessionRuntime {
  readonly env: SessionEnv;
  readonly store: SessionStore;
  readonly manager: SessionManager;
  /** Keeps the manager's cookie secrets in step with their ARN or file; undefined when they come from the environment. */
  readonly cookieSecrets?: CookieSecretReloader;
  /** SESSION_SERVED_BY, else the Lambda function name, else the host name. */
  readonly servedBy: string;
  /** Closes the store's connections (graceful shutdown, tests). */
  close(): Promise<void>;
}

/** `writtenCacheChars` in Lambda unless SESSION_WRITTEN_CACHE_CHARS says otherwise (instances: the manager's 8 Mi). */
export const LAMBDA_WRITTEN_CACHE_CHARS = 1024 * 1024;

/** Build the runtime: fetch secrets, create the store and the manager. */
export async function createSessionRuntime(env: SessionEnv, opts: SessionRuntimeOptions = {}): Promise<SessionRuntime> {
  const logger = opts.logger ?? console;
  let sm = opts.secretsManager;
  const secretsManager = () => (sm ??= new SecretsManagerClient({ maxAttempts: 3 }));

  const source = cookieSecretSource(env, secretsManager);
  const secrets = source !== undefined ? [...(await source.read())] : [...env.cookie.secrets];
  const store = await createStore(env, secretsManager, logger);
  try {
    let reloader: CookieSecretReloader | undefined;
    const manager = new SessionManager({
      store,
      secrets,
      idleTimeoutSeconds: env.idleTimeoutSeconds,
      absoluteTimeoutSeconds: env.absoluteTimeoutSeconds,
      cookieName: env.cookie.name,
      secure: env.cookie.secure,
      maxSessionBytes: env.maxSessionBytes,
      // A Lambda container is not sticky and has little memory: a smaller budget there.
      writtenCacheChars: env.writtenCacheChars ?? (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined ? LAMBDA_WRITTEN_CACHE_CHARS : undefined),
      onUnknownSignature: source !== undefined ? () => reloader!.onUnknownSignature() : undefined,
    });
    if (source !== undefined) {
      reloader = new CookieSecretReloader({
        source: source.read,
        sourceName: source.name,
        initial: secrets,
        apply: (s) => manager.setSecrets(s),
        intervalMs: env.cookie.reloadSeconds * 1000,
        // A request with an unknown signature waits for the reload no longer than for the store.
        waitMs: env.storeTimeoutMs,
        logger,
      }).start();
    }
    return {
      env,
      store,
      manager,
      cookieSecrets: reloader,
      servedBy: env.servedBy ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? hostname(),
      close: async () => {
        reloader?.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

async function createStore(env: SessionEnv, secretsManager: () => SecretsManagerClient, logger: RuntimeLogger): Promise<SessionStore> {
  const timeoutMs = env.storeTimeoutMs;
  // Each branch is guarded twice: by the configured store, and by SESSION_BUNDLE_STORE, which
  // SessionApi sets at bundle time (esbuild `define`) so that a function's bundle keeps only
  // its own store: the other conditions fold to false and esbuild drops their `require`s.
  if (env.store === 'memory' && (process.env.SESSION_BUNDLE_STORE ?? 'memory') === 'memory') {
    const { MemoryStore } = require('./stores/memory') as typeof import('./stores/memory');
    return new MemoryStore({ maxSessionBytes: env.maxSessionBytes, maxSessions: env.memory?.maxSessions, maxBytes: env.memory?.maxBytes });
  }
  if (env.store === 'redis' && (process.env.SESSION_BUNDLE_STORE ?? 'redis') === 'redis') {
    const { RedisStore } = require('./stores/redis') as typeof import('./stores/redis');
    const redis = env.redis!;
    const arn = redis.authSecretArn;
    const fetchCredentials = async () => parseRedisCredentials(await getSecretString(secretsManager(), arn!));
    return new RedisStore({
      url: redis.url,
      cluster: redis.cluster,
      commandTimeoutMs: timeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      credentials: arn !== undefined ? await fetchCredentials() : undefined,
      refreshCredentials: arn !== undefined ? fetchCredentials : undefined,
      logger: { warn: (m: string) => logger.warn(m) },
    });
  }
  if (env.store === 'dynamodb' && (process.env.SESSION_BUNDLE_STORE ?? 'dynamodb') === 'dynamodb') {
    const { DynamoDbStore } = require('./stores/dynamodb') as typeof import('./stores/dynamodb');
    const d = env.dynamodb!;
    return new DynamoDbStore({
      table: d.table,
      timeoutMs,
      overflow: d.overflowBucket !== undefined ? { bucket: d.overflowBucket, maxSessionBytes: env.maxSessionBytes } : undefined,
      logger,
    });
  }
  if (env.store === 's3' && (process.env.SESSION_BUNDLE_STORE ?? 's3') === 's3') {
    const { S3Store } = require('./stores/s3') as typeof import('./stores/s3');
    const s = env.s3!;
    return new S3Store({
      bucket: s.bucket,
      prefix: s.prefix,
      timeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      // A custom endpoint is a local S3 stand-in, which wants path-style URLs.
      forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined,
    });
  }
  if (env.store === 'memcached' && (process.env.SESSION_BUNDLE_STORE ?? 'memcached') === 'memcached') {
    const { MemcachedStore } = require('./stores/memcached') as typeof import('./stores/memcached');
    return new MemcachedStore({ servers: env.memcached!.servers, tls: env.memcached!.tls ? {} : undefined, timeoutMs, maxSessionBytes: env.maxSessionBytes });
  }
  if (env.store === 'postgres' && (process.env.SESSION_BUNDLE_STORE ?? 'postgres') === 'postgres') {
    const { PostgresStore } = require('./stores/postgres') as typeof import('./stores/postgres');
    const pg = env.postgres!;
    const arn = pg.secretArn;
    // The RDS secret's username and password. The password is asked for on every new
    // connection and fetched again when a minute old, so a rotated secret is picked up
    // without a restart.
    let fetched: { at: number; creds: Promise<{ username: string; password: string }> } | undefined;
    const credentials = () => {
      if (fetched === undefined || Date.now() - fetched.at > 60_000) {
        const creds = getSecretString(secretsManager(), arn!).then(parseDatabaseCredentials);
        fetched = { at: Date.now(), creds };
        creds.catch(() => {
          if (fetched?.creds === creds) fetched = undefined;
        });
      }
      return fetched.creds;
    };
    const store = new PostgresStore({
      connectionString: pg.url,
      user: arn !== undefined ? (await credentials()).username : undefined,
      password: arn !== undefined ? async () => (await credentials()).password : undefined,
      timeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      logger: { warn: (m: string) => logger.warn(m) },
    });
    // No DDL at start (the runtime's role needs no CREATE): the table is made by the schema
    // function on deploy or by `npm run db:schema`. A missing table or column stops the start
    // with an error that says how to create it; an unreachable database does not (requests get
    // 503 until it is back, as in any outage).
    try {
      await store.checkSchema();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) {
        await store.close().catch(() => undefined);
        throw err;
      }
      logger.warn(`postgres session store: could not check the session table at start, the database is unavailable: ${err.message}`);
    }
    return store;
  }
  throw new Error(`SESSION_STORE=${env.store} is not available in this runtime build (bundled for ${process.env.SESSION_BUNDLE_STORE ?? 'every store'})`);
}

/**
 * Where the cookie secrets are read again from: the Secrets Manager secret, or the file
 * (SESSION_COOKIE_SECRET_FILE: a local stand-in for the secret, or one an agent keeps current);
 * undefined when they are given in the environment, which cannot change while the process runs.
 */
export function cookieSecretSource(env: SessionEnv, secretsManager: () => SecretsManagerClient): { read: CookieSecretSource; name: string } | undefined {
  const { secretArn, secretFile } = env.cookie;
  if (secretArn !== undefined) return { name: secretArn, read: async () => parseCookieSecrets(await getSecretString(secretsManager(), secretArn)) };
  if (secretFile !== undefined) return { name: secretFile, read: async () => parseCookieSecrets(await readFile(secretFile, 'utf8')) };
  return undefined;
}

/** SecretString of a secret (binary secrets are not supported). */
export async function getSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (typeof out.SecretString !== 'string' || out.SecretString === '') {
    throw new Error(`secret ${secretId} has no SecretString`);
  }
  return out.SecretString;
}

/**
 * Cookie secrets out of a SecretString: a JSON array of strings, a JSON object whose string
 * values are taken in order (e.g. `{"current": "...", "previous": "..."}` or the generated
 * `{"secret": "..."}`), or a comma-separated list. The first signs, all verify.
 */
export function parseCookieSecrets(secretString: string): string[] {
  const text = secretString.trim();
  let list: string[];
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('the cookie secret looks like JSON but does not parse');
    }
    const values = Array.isArray(parsed) ? parsed : Object.values(parsed as Record<string, unknown>);
    list = values.filter((v): v is string => typeof v === 'string').map((s) => s.trim());
  } else {
    list = text.split(',').map((s) => s.trim());
  }
  list = list.filter((s) => s !== '');
  if (list.length === 0) throw new Error('the cookie secret holds no secrets');
  if (list.some((s) => Buffer.byteLength(s) < 32)) throw new Error('each cookie secret must be at least 32 bytes');
  return list;
}

/**
 * Database credentials out of an RDS secret's SecretString: JSON
 * `{"username","password","host"?,"port"?,"dbname"?}` (host, port and dbname are in SESSION_DATABASE_URL).
 */
export function parseDatabaseCredentials(secretString: string): { username: string; password: string } {
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(secretString) as typeof parsed;
  } catch {
    throw new Error('the database secret is not JSON (expected the RDS secret {"username","password",...})');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('the database secret is not a JSON object');
  if (typeof parsed.username !== 'string' || parsed.username === '') throw new Error('the database secret JSON has no "username"');
  if (typeof parsed.password !== 'string' || parsed.password === '') throw new Error('the database secret JSON has no "password"');
  return { username: parsed.username, password: parsed.password };
}

/** Redis AUTH credentials out of a SecretString: the token itself, or JSON `{"password", "username"?}`. */
export function parseRedisCredentials(secretString: string): { username?: string; password: string } {
  const text = secretString.trim();
  if (text.startsWith('{')) {
    let parsed: { username?: unknown; password?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new Error('the Redis auth secret looks like JSON but does not parse');
    }
    if (typeof parsed.password !== 'string' || parsed.password === '') throw new Error('the Redis auth secret JSON has no "password"');
    return { password: parsed.password, username: typeof parsed.username === 'string' && parsed.username !== '' ? parsed.username : undefined };
  }
  if (text === '') throw new Error('the Redis auth secret is empty');
  return { password: text };
}
