/**
 * Real store servers for the app tests, and the SESSION_* environment that points the runtime
 * (lambda/session/from-env.ts) at them: memory (nothing to start), redis (redis-server),
 * dynamodb (dynalite), s3 (s3rver — it ignores conditional writes, see test/support/s3rver.ts),
 * memcached (a memcached process), postgres (a throwaway database on the machine's PostgreSQL,
 * its schema applied explicitly, as the deploy-time schema function does).
 */
import { Pool } from 'pg';
import { DEFAULTS } from '../../lambda/session/env';
import { ensureSchema } from '../../lambda/session/stores/postgres';
import { startDynalite, waitForTableActive, type Dynalite } from './dynalite';
import { MemcachedServer } from './memcached-server';
import { ThrowawayDatabase } from './postgres';
import { RedisServer } from './redis-server';
import { S3RVER_CREDENTIALS, startS3rver } from './s3rver';

export type BackendKind = 'memory' | 'redis' | 'dynamodb' | 's3' | 'memcached' | 'postgres';
/** Every store the runtime has (JWT mode has its own suite). */
export const BACKENDS: readonly BackendKind[] = ['memory', 'redis', 'dynamodb', 's3', 'memcached', 'postgres'];

export const TEST_SECRET = 'app-test-cookie-secret-0123456789abcdef';

export interface Backend {
  readonly kind: BackendKind;
  /** Environment for parseSessionEnv / the instance server (merge over process.env). */
  readonly env: Record<string, string>;
  /** The redis-server, for the redis backend. */
  readonly redis?: RedisServer;
  stop(): Promise<void>;
}

/** AWS SDK settings for the local stand-ins (s3rver checks the access key; dynalite takes any). */
export const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
} as const;

/**
 * Common settings: plain-HTTP cookies (tests speak HTTP), a short store bound so outages show fast,
 * and SESSION_AUTH=open (any user name logs in) said explicitly; the login tests use cognito.
 */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SESSION_AUTH: 'open',
    SESSION_COOKIE_SECRET: TEST_SECRET,
    SESSION_COOKIE_SECURE: 'false',
    SESSION_STORE_TIMEOUT_MS: '1000',
    SESSION_MAX_BYTES: '8192',
    ...extra,
  };
}

/**
 * `backend.env` with the runtime's default store timeout instead of baseEnv's short one: for
 * suites that prove behaviour, not outages, where a store call cut short on a busy machine
 * (20 concurrent conflicting writes to dynalite, say) would be a false failure.
 */
export function routeEnv(backend: Backend): Record<string, string> {
  return { ...backend.env, SESSION_STORE_TIMEOUT_MS: String(DEFAULTS.storeTimeoutMs) };
}

export async function startBackend(kind: BackendKind, redisArgs: readonly string[] = []): Promise<Backend> {
  switch (kind) {
    case 'memory':
      return { kind, env: baseEnv({ SESSION_STORE: 'memory' }), stop: async () => undefined };
    case 'redis': {
      const redis = await RedisServer.start({ args: redisArgs });
      return { kind, redis, env: baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url() }), stop: () => redis.dispose() };
    }
    case 'dynamodb': {
      const dyn = await startDynalite('app-sessions');
      await waitForActiveTable(dyn);
      const env = baseEnv({ SESSION_STORE: 'dynamodb', SESSION_TABLE: dyn.table, AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint, ...LOCAL_AWS_ENV });
      return { kind, env, stop: () => dyn.close() };
    }
    case 's3': {
      const s3 = await startS3rver(['app-sessions']);
      const env = baseEnv({ SESSION_STORE: 's3', SESSION_BUCKET: 'app-sessions', AWS_ENDPOINT_URL_S3: s3.endpoint, ...LOCAL_AWS_ENV });
      return { kind, env, stop: () => s3.close() };
    }
    case 'memcached': {
      const mc = await MemcachedServer.start();
      return { kind, env: baseEnv({ SESSION_STORE: 'memcached', SESSION_MEMCACHED_SERVERS: mc.address }), stop: () => mc.stop() };
    }
    case 'postgres': {
      const db = await ThrowawayDatabase.create('app');
      const pool = new Pool({ connectionString: db.url, max: 1 });
      try {
        await ensureSchema(pool);
      } finally {
        await pool.end();
      }
      return { kind, env: baseEnv({ SESSION_STORE: 'postgres', SESSION_DATABASE_URL: db.url }), stop: () => db.drop() };
    }
  }
}

/** dynalite answers CreateTable before the table is ACTIVE; a request in between gets ResourceNotFound. */
export async function waitForActiveTable(dyn: Dynalite, timeoutMs = 10_000): Promise<void> {
  const client = dyn.client();
  try {
    await waitForTableActive(client, dyn.table, timeoutMs);
  } finally {
    client.destroy();
  }
}
