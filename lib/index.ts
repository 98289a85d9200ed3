/**
 * `cdk-sessions`: the public API of the construct library, listed name by name (nothing else in
 * lib/ is part of it; test/package/public-api.test.ts keeps this list and the package's
 * declarations in step). The session runtime is `cdk-sessions/runtime` and its store entries.
 */

// ---- Topologies: a store plus the fleet and/or Lambda API that serve it -----------------------
export { DynamoDbSessions, JwtSessions, MemcachedSessions, RdsSessions, RedisSessions, S3Sessions, SessionTopology, SharedSessionTopology, StickySessions } from './topologies';
export type {
  DynamoDbSessionsProps,
  IamStoreTopologyProps,
  JwtSessionsProps,
  MemcachedSessionsProps,
  RdsSessionsProps,
  RedisSessionsProps,
  S3SessionsProps,
  StickySessionsProps,
  TopologyRuntimeProps,
  VpcStoreTopologyProps,
} from './topologies';

// ---- Stores -----------------------------------------------------------------------------------
export {
  DynamoDbSessionStore,
  JwtSessionKeys,
  MemcachedSessionStore,
  PostgresSessionStore,
  RedisSessionStore,
  ReplicationGroup,
  ReplicationGroupEngine,
  RevocationCheck,
  S3SessionStore,
  SessionStoreDefaults,
} from './stores';
export type {
  DynamoDbSessionStoreProps,
  JwtSessionKeysProps,
  MemcachedCacheAttributes,
  MemcachedMetricOptions,
  MemcachedServerlessOptions,
  MemcachedSessionStoreOptions,
  MemcachedSessionStoreProps,
  PostgresSessionStoreOptions,
  PostgresSessionStoreProps,
  RedisCacheAttributes,
  RedisServerlessOptions,
  RedisSessionStoreAttributes,
  RedisSessionStoreOptions,
  RedisSessionStoreProps,
  ReplicationGroupMetricOptions,
  ReplicationGroupOptions,
  ReplicationGroupProps,
  S3SessionStoreProps,
  SessionTableOptions,
} from './stores';
/** Store defaults and the key schema of tables you bring yourself (documented on the props); in every language as `SessionStoreDefaults`. */
export {
  DEFAULT_AURORA_POSTGRES_VERSION,
  DEFAULT_MEMCACHED_ENGINE_VERSION,
  DEFAULT_MEMCACHED_PORT,
  DEFAULT_REPLICATION_GROUP_PORT,
  RDS_PROXY_POSTGRES_PORT,
  REVOCATION_TABLE_PARTITION_KEY,
  REVOCATION_TABLE_TTL_ATTRIBUTE,
  S3_REQUEST_METRICS_ID,
  SESSION_TABLE_PARTITION_KEY,
  SESSION_TABLE_TTL_ATTRIBUTE,
} from './stores';

// ---- Compute: the instance fleet (your server or the reference one) and the Lambda API --------
export { FleetServer, InstanceFleet, SessionApi, StickinessType } from './compute';
export type {
  ApiOptions,
  FleetCommonProps,
  FleetOptions,
  FleetServerAssetOptions,
  FleetServerBindOptions,
  FleetServerConfig,
  FleetServerEntryOptions,
  InstanceFleetProps,
  SessionApiProps,
  SessionRuntimeOptions,
  SessionVpcProps,
  StickinessOptions,
} from './compute';

// ---- Operating it: alarms and a dashboard per topology ------------------------------------------
export { SessionMonitoring } from './monitoring';
export type { SessionAlarmThresholds, SessionMonitoringOptions, SessionMonitoringProps } from './monitoring';

// ---- Wiring your own code: connect() on any store or topology --------------------------------
export { SessionConsumer } from './core/consumer';
export type { AutoScalingGroupConsumerOptions, ContainerConsumerOptions, ISessionConsumer, RoleConsumerOptions } from './core/consumer';
export type { SessionConnectOptions } from './core/connect';
export type { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from './core/session-store';
/** The environment variable names `connect()` sets and the runtime reads, and the store kinds. */
export { SessionEnvVars, SessionStoreKind } from './core/session-env';

// ---- Errors -----------------------------------------------------------------------------------
/** Tells the error thrown for invalid props apart (jsii carries no class that extends Error). */
export { PropsValidation } from './core/validate';
