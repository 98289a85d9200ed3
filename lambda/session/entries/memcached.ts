/**
 * `cdk-sessions/runtime/memcached`: the memcached session store (ElastiCache Memcached, node-based
 * or serverless), and {@link memcachedStoreFactory} that lets createSessionRuntime build it from
 * SESSION_MEMCACHED_SERVERS and SESSION_MEMCACHED_TLS.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { memcachedStoreFactory } from 'cdk-sessions/runtime/memcached';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [memcachedStoreFactory] });
 * ```
 */
import type { SessionStoreFactory } from '../from-env';
import { MemcachedStore } from '../stores/memcached';

export { MemcachedStore, memcachedExptime, MEMCACHED_DEFAULT_MAX_BYTES, MEMCACHED_RELATIVE_EXPTIME_MAX } from '../stores/memcached';
export type { MemcachedStoreOptions } from '../stores/memcached';

/**
 * Builds a {@link MemcachedStore} for SESSION_STORE=memcached: the SESSION_MEMCACHED_SERVERS list,
 * TLS when SESSION_MEMCACHED_TLS=true (verified against the system's CAs), every call bounded by
 * SESSION_STORE_TIMEOUT_MS.
 */
export const memcachedStoreFactory: SessionStoreFactory = {
  kind: 'memcached',
  async create(env) {
    const m = env.memcached!;
    return new MemcachedStore({ servers: m.servers, tls: m.tls ? {} : undefined, timeoutMs: env.storeTimeoutMs, maxSessionBytes: env.maxSessionBytes });
  },
};
