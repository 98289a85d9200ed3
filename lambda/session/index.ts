/**
 * `cdk-sessions/runtime`: the session runtime core for your own Lambda, container and server code.
 *
 * - {@link SessionManager}: load, create, modify (optimistic concurrency) and end sessions;
 * - cookies (signed session ids), typed errors with HTTP statuses;
 * - the environment the constructs set ({@link SessionEnvVars}, {@link parseSessionEnv});
 * - the memory store, and {@link createSessionRuntime}, which builds all of it from the environment.
 *
 * Every other store has its own entry point, so a bundle carries only the store it uses:
 * `cdk-sessions/runtime/redis`, `/dynamodb`, `/s3`, `/memcached`, `/postgres`, each exporting its
 * store class and a factory for createSessionRuntime's `stores`; `cdk-sessions/runtime/jwt` holds
 * stateless JWT sessions (createJwtRuntime). `cdk-sessions/runtime/app` is the reference app.
 *
 * This entry imports no store client and never aws-cdk-lib (test/runtime/entry-points.test.ts
 * checks its whole import graph).
 */
export { SessionManager } from './manager';
export type { Session, SessionManagerOptions, SessionUpdate } from './manager';
export type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from './types';
export { newWriteToken } from './write-token';
export * from './errors';
export * from './env';
export { cookieKeys, cookieName, newSessionId, readCookie, serializeCookie, signSessionId, verifySignedSessionId, SESSION_ID_BYTES } from './cookies';
export type { CookieAttributes, CookieSecret } from './cookies';
export {
  cookieSecretSource,
  createSessionRuntime,
  getSecretString,
  LAMBDA_WRITTEN_CACHE_CHARS,
  memoryStoreFactory,
  missingStoreMessage,
  parseCookieSecrets,
  parseDatabaseCredentials,
  parseRedisCredentials,
} from './from-env';
export type { RuntimeLogger, SessionRuntime, SessionRuntimeOptions, SessionStoreFactory, StoreFactoryContext } from './from-env';
// The runtime's own metrics (EMF): call startRuntimeMetrics() before createSessionRuntime; on Lambda
// with { intervalSeconds: 0 } and flush() at the end of each invocation.
export { metricsEnabledIn, runtimeMetrics, startRuntimeMetrics } from './metrics';
export type { RuntimeMetricsHandle, RuntimeMetricsOptions } from './metrics';
export { CookieSecretReloader, DEFAULT_RELOAD_INTERVAL_MS, DEFAULT_RELOAD_MIN_GAP_MS } from './secret-reload';
export type { CookieSecretReloaderOptions, CookieSecretSource, ReloadLogger } from './secret-reload';

export { MemoryStore, MEMORY_DEFAULT_MAX_BYTES, MEMORY_DEFAULT_MAX_SESSIONS } from './stores/memory';
export type { MemoryStoreOptions } from './stores/memory';
