/**
 * `cdk-sessions/runtime`: the session runtime for your own Lambda and server code.
 * Never imports aws-cdk-lib (a test checks the whole import graph).
 */
export { SessionManager } from './manager';
export type { Session, SessionManagerOptions, SessionUpdate } from './manager';
export type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from './types';
export { newWriteToken } from './write-token';
export * from './errors';
export * from './env';
export { cookieKeys, cookieName, newSessionId, readCookie, serializeCookie, signSessionId, verifySignedSessionId, SESSION_ID_BYTES } from './cookies';
export type { CookieAttributes, CookieSecret } from './cookies';
export { cookieSecretSource, createSessionRuntime, LAMBDA_WRITTEN_CACHE_CHARS, parseCookieSecrets, parseDatabaseCredentials, parseRedisCredentials } from './from-env';
export { CookieSecretReloader, DEFAULT_RELOAD_INTERVAL_MS, DEFAULT_RELOAD_MIN_GAP_MS } from './secret-reload';
export type { CookieSecretReloaderOptions, CookieSecretSource, ReloadLogger } from './secret-reload';
export type { RuntimeLogger, SessionRuntime, SessionRuntimeOptions } from './from-env';

export { MemoryStore } from './stores/memory';
export type { MemoryStoreOptions } from './stores/memory';
export { RedisStore } from './stores/redis';
export { formatRedisUrl } from './stores/redis-client';
export type { RedisClient, RedisConnectionOptions, RedisCredentials, RedisStoreClientOptions, RedisStoreOptions } from './stores/redis';
export { DynamoDbStore } from './stores/dynamodb';
export type { DynamoDbOverflowOptions, DynamoDbStoreOptions } from './stores/dynamodb';
export { S3Store } from './stores/s3';
export type { S3StoreOptions } from './stores/s3';
export { MemcachedStore, memcachedExptime } from './stores/memcached';
export type { MemcachedStoreOptions } from './stores/memcached';
export { PostgresStore, checkPostgresSchema, createPostgresSchema, ensureSchema, isPostgresUnavailable, SESSION_TABLE_COLUMNS } from './stores/postgres';
export type { PostgresStoreLogger, PostgresStoreOptions, SweepResult } from './stores/postgres';

export { createApp, errorResponse, sessionHash, DEFAULT_MAX_BODY_BYTES, LIMITS } from '../app';
export type { App, AppLogger, AppOptions, AppRequest, AppResponse } from '../app';
export { BodyTooLargeError, MethodNotAllowedError, NoSessionError, NotFoundError, UnsupportedMediaTypeError } from '../app';
export { createInstanceServer } from '../instance/server';
export type { InstanceServer, InstanceServerOptions } from '../instance/server';

// Stateless JWT sessions (SESSION_STORE=jwt): signers (local, KMS), verifier, denylist, the service and its app.
export * from './jwt';
export { createJwtApp, JWKS_MAX_AGE_SECONDS } from '../app/jwt-app';
export type { JwtAppOptions } from '../app/jwt-app';

// Login: who may log in (SESSION_AUTH), Cognito InitiateAuth or open (local runs only).
export * from './auth';
