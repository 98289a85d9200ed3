/**
 * `cdk-sessions/runtime/redis`: the Redis / Valkey session store (ElastiCache, cluster mode
 * included), and {@link redisStoreFactory} that lets createSessionRuntime build it from
 * SESSION_REDIS_URL, SESSION_REDIS_AUTH_SECRET_ARN and SESSION_REDIS_CLUSTER.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { redisStoreFactory } from 'cdk-sessions/runtime/redis';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
 * ```
 */
import type { SessionStoreFactory } from '../from-env';
import { parseRedisCredentials } from '../from-env';
import { RedisStore } from '../stores/redis';

export { RedisStore, isAuthError, parseRedisUrl } from '../stores/redis';
export type { RedisClient, RedisConnectionOptions, RedisCredentials, RedisStoreClientOptions, RedisStoreLogger, RedisStoreOptions } from '../stores/redis';
export { formatRedisUrl } from '../stores/redis-client';
export type { RedisUrlParts } from '../stores/redis-client';
export { parseRedisCredentials } from '../from-env';

/**
 * Builds a {@link RedisStore} for SESSION_STORE=redis: SESSION_REDIS_URL, cluster mode from
 * SESSION_REDIS_CLUSTER, commands bounded by SESSION_STORE_TIMEOUT_MS. With
 * SESSION_REDIS_AUTH_SECRET_ARN the AUTH token is read from Secrets Manager at start and read again
 * when Redis refuses it, so a rotated token is picked up without a redeploy.
 */
export const redisStoreFactory: SessionStoreFactory = {
  kind: 'redis',
  async create(env, { logger, readSecret }) {
    const redis = env.redis!;
    const arn = redis.authSecretArn;
    const fetchCredentials = async () => parseRedisCredentials(await readSecret(arn!));
    return new RedisStore({
      url: redis.url,
      cluster: redis.cluster,
      commandTimeoutMs: env.storeTimeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      credentials: arn !== undefined ? await fetchCredentials() : undefined,
      refreshCredentials: arn !== undefined ? fetchCredentials : undefined,
      logger: { warn: (m: string) => logger.warn(m) },
    });
  },
};
