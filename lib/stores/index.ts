/**
 * The session stores: one construct per backend, each an `ISessionStore` with `connect()`,
 * `grantReadWrite()` and `connections`. Only the public API; helpers stay in their modules.
 */
export { SessionStoreDefaults } from './defaults';
export { DynamoDbSessionStore, SESSION_TABLE_PARTITION_KEY, SESSION_TABLE_TTL_ATTRIBUTE } from './dynamodb-session-store';
export type { DynamoDbSessionStoreProps, SessionTableOptions } from './dynamodb-session-store';
export { JwtSessionKeys, RevocationCheck, REVOCATION_TABLE_PARTITION_KEY, REVOCATION_TABLE_TTL_ATTRIBUTE } from './jwt-session-keys';
export type { JwtSessionKeysProps } from './jwt-session-keys';
export { DEFAULT_MEMCACHED_ENGINE_VERSION, DEFAULT_MEMCACHED_PORT, MemcachedSessionStore } from './memcached-session-store';
export type { MemcachedCacheAttributes, MemcachedMetricOptions, MemcachedServerlessOptions, MemcachedSessionStoreOptions, MemcachedSessionStoreProps } from './memcached-session-store';
export { DEFAULT_AURORA_POSTGRES_VERSION, PostgresSessionStore, RDS_PROXY_POSTGRES_PORT } from './postgres-session-store';
export type { PostgresSessionStoreOptions, PostgresSessionStoreProps } from './postgres-session-store';
export { RedisSessionStore } from './redis-session-store';
export type { RedisCacheAttributes, RedisServerlessOptions, RedisSessionStoreAttributes, RedisSessionStoreOptions, RedisSessionStoreProps } from './redis-session-store';
export { DEFAULT_REPLICATION_GROUP_PORT, ReplicationGroup, ReplicationGroupEngine } from './replication-group';
export type { ReplicationGroupMetricOptions, ReplicationGroupOptions, ReplicationGroupProps } from './replication-group';
export { S3_REQUEST_METRICS_ID, S3SessionStore } from './s3-session-store';
export type { S3SessionStoreProps } from './s3-session-store';
