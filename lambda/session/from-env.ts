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
 *
 * This module is part of the core entry (`cdk-sessions/runtime`) and imports no store client.
 * Every store but memory comes from its own entry point as a {@link SessionStoreFactory}
 * (`cdk-sessions/runtime/redis` exports `redisStoreFactory`, and so on), passed in
 * `createSessionRuntime(env, { stores: [...] })`: a bundle then carries only the stores its
 * code imports. The reference app passes every store (lambda/session/bundled-stores.ts).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SessionEnv, StoreKind } from './env';
import { SessionManager } from './manager';
import { meteredStore } from './metrics';
import { CookieSecretReloader, type CookieSecretSource } from './secret-reload';
import { MemoryStore } from './stores/memory';
import type { SessionStore } from './types';

/** Where the runtime's own warnings go (a Powertools Logger fits). */
export interface RuntimeLogger {
  warn(message: string, ...extra: unknown[]): void;
}

/** What a {@link SessionStoreFactory} gets besides the environment. */
export interface StoreFactoryContext {
  /** The runtime's logger, for the store's warnings. */
  readonly logger: RuntimeLogger;
  /** The SecretString of a Secrets Manager secret (the runtime's client, created on first use). */
  readonly readSecret: (secretId: string) => Promise<string>;
}

/**
 * Builds one kind of store from the parsed environment. Each store entry point exports one
 * (`redisStoreFactory` from `cdk-sessions/runtime/redis`, `dynamoDbStoreFactory` from
 * `cdk-sessions/runtime/dynamodb`, ...); pass the ones your app may run on to
 * {@link createSessionRuntime} in `stores`.
 */
export interface SessionStoreFactory {
  /** The SESSION_STORE value it builds a store for. */
  readonly kind: StoreKind;
  /** A new store for `env` (once per process); its connections end with the store's close(). */
  create(env: SessionEnv, context: StoreFactoryContext): Promise<SessionStore>;
}

/** Options of {@link createSessionRuntime}. */
export interface SessionRuntimeOptions {
  /**
   * The stores this process may be configured for (SESSION_STORE), each from its entry point:
   * `import { redisStoreFactory } from 'cdk-sessions/runtime/redis'`. With SESSION_STORE naming
   * a store not given here, createSessionRuntime throws an error that names the import to add.
   * @default [] - the built-in memory store only
   */
  readonly stores?: readonly SessionStoreFactory[];
  /** Secrets Manager client. @default - one created on first use, with the SDK's region/endpoint chain */
  readonly secretsManager?: SecretsManagerClient;
  /** @default console */
  readonly logger?: RuntimeLogger;
}

/** The session runtime of one process: the store, the manager on it and how to shut them down. */
export interface SessionRuntime {
  /** The environment it was built from. */
  readonly env: SessionEnv;
  /** The store SESSION_STORE names. */
  readonly store: SessionStore;
  /** Loads, creates, modifies and ends sessions; use it in your request handlers. */
  readonly manager: SessionManager;
  /** Keeps the manager's cookie secrets in step with their ARN or file; undefined when they come from the environment. */
  readonly cookieSecrets?: CookieSecretReloader;
  /** SESSION_SERVED_BY, else the Lambda function name, else the host name. */
  readonly servedBy: string;
  /**
   * Stops the cookie-secret reloads, closes the store's connections (Redis QUIT, the pg pool,
   * memcached sockets, AWS SDK clients) and the Secrets Manager client the runtime created.
   * Afterwards nothing of the runtime keeps the event loop alive, so a script or a server that
   * has stopped listening exits by itself. Call it once, at shutdown (SIGTERM) or at the end of a
   * one-shot script; the runtime is unusable afterwards. Lambda functions need not call it.
   */
  close(): Promise<void>;
}

/** `writtenCacheChars` in Lambda unless SESSION_WRITTEN_CACHE_CHARS says otherwise (instances: the manager's 8 Mi). */
export const LAMBDA_WRITTEN_CACHE_CHARS = 1024 * 1024;

/**
 * Builds the session runtime of this process from the parsed environment: reads the cookie
 * secrets (the environment, Secrets Manager or a file, kept current while running), creates the
 * store SESSION_STORE names with its factory from `opts.stores` (memory is built in) and the
 * SessionManager on it.
 *
 * Throws when SESSION_STORE names a store whose factory is not in `opts.stores` (the message
 * names the import to add) and for SESSION_STORE=jwt, which `createJwtRuntime` from
 * `cdk-sessions/runtime/jwt` builds instead.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { redisStoreFactory } from 'cdk-sessions/runtime/redis';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
 * const session = await runtime.manager.load(request.headers.cookie);
 * // ...
 * await runtime.close(); // at shutdown
 * ```
 */
export async function createSessionRuntime(env: SessionEnv, opts: SessionRuntimeOptions = {}): Promise<SessionRuntime> {
  const logger = opts.logger ?? console;
  let sm = opts.secretsManager;
  let ownClient: SecretsManagerClient | undefined;
  // Loaded on first use: a process whose secrets are all in the environment never loads the SDK client.
  const secretsManager = () => (sm ??= ownClient = new (secretsManagerSdk().SecretsManagerClient)({ maxAttempts: 3 }));
  const destroyOwnClient = () => ownClient?.destroy();

  if (env.store === 'jwt' || (env.store !== 'memory' && !(opts.stores ?? []).some((f) => f.kind === env.store))) {
    throw new Error(missingStoreMessage(env.store));
  }
  try {
    const source = cookieSecretSource(env, secretsManager);
    const secrets = source !== undefined ? [...(await source.read())] : [...env.cookie.secrets];
    const store = await createStore(env, { logger, readSecret: (id) => getSecretString(secretsManager(), id) }, opts.stores ?? []);
    return await start(env, store, source, secrets, logger, destroyOwnClient);
  } catch (err) {
    destroyOwnClient();
    throw err;
  }
}

async function start(
  env: SessionEnv,
  store: SessionStore,
  source: { read: CookieSecretSource; name: string } | undefined,
  secrets: string[],
  logger: RuntimeLogger,
  destroyOwnClient: () => void,
): Promise<SessionRuntime> {
  try {
    let reloader: CookieSecretReloader | undefined;
    const manager = new SessionManager({
      // Its calls timed into the runtime's metrics when startRuntimeMetrics turned them on (./metrics); `store` stays the store itself.
      store: meteredStore(store),
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
    let closed: Promise<void> | undefined;
    return {
      env,
      store,
      manager,
      cookieSecrets: reloader,
      servedBy: env.servedBy ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? hostname(),
      close: () =>
        (closed ??= (async () => {
          reloader?.stop();
          try {
            await store.close();
          } finally {
            destroyOwnClient();
          }
        })()),
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

async function createStore(env: SessionEnv, context: StoreFactoryContext, stores: readonly SessionStoreFactory[]): Promise<SessionStore> {
  const given = stores.find((f) => f.kind === env.store);
  if (given !== undefined) return given.create(env, context);
  if (env.store === 'memory') return memoryStoreFactory.create(env, context);
  throw new Error(missingStoreMessage(env.store));
}

/** Where each store's factory is imported from, for the error that says which import is missing. */
const STORE_FACTORY_IMPORTS: Readonly<Record<Exclude<StoreKind, 'memory' | 'jwt'>, string>> = {
  redis: "import { redisStoreFactory } from 'cdk-sessions/runtime/redis'",
  dynamodb: "import { dynamoDbStoreFactory } from 'cdk-sessions/runtime/dynamodb'",
  s3: "import { s3StoreFactory } from 'cdk-sessions/runtime/s3'",
  memcached: "import { memcachedStoreFactory } from 'cdk-sessions/runtime/memcached'",
  postgres: "import { postgresStoreFactory } from 'cdk-sessions/runtime/postgres'",
};

/** The message for a SESSION_STORE that createSessionRuntime was given no factory for. */
export function missingStoreMessage(store: StoreKind): string {
  if (store === 'jwt') {
    return (
      'SESSION_STORE=jwt means stateless JWT sessions, which have no session store: build them with createJwtRuntime(env) ' +
      "(import { createJwtRuntime } from 'cdk-sessions/runtime/jwt'), not createSessionRuntime"
    );
  }
  if (store === 'memory') return 'the memory store is built in';
  const factory = STORE_FACTORY_IMPORTS[store].replace(/^import \{ (\w+) \}.*$/, '$1');
  return `SESSION_STORE=${store} needs the ${store} store, which was not passed to createSessionRuntime: add \`${STORE_FACTORY_IMPORTS[store]};\` and call createSessionRuntime(env, { stores: [${factory}] })`;
}

/** The memory store (built in): one process's sessions, bounded by SESSION_MEMORY_MAX_SESSIONS / SESSION_MEMORY_MAX_BYTES. */
export const memoryStoreFactory: SessionStoreFactory = {
  kind: 'memory',
  create: async (env) => new MemoryStore({ maxSessionBytes: env.maxSessionBytes, maxSessions: env.memory?.maxSessions, maxBytes: env.memory?.maxBytes }),
};

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

function secretsManagerSdk(): typeof import('@aws-sdk/client-secrets-manager') {
  return require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
}

/** SecretString of a secret (binary secrets are not supported). */
export async function getSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const out = await client.send(new (secretsManagerSdk().GetSecretValueCommand)({ SecretId: secretId }));
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
