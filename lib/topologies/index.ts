/** The ready-made topologies: a store plus the fleet and/or API that serve it, one construct each. */
export type { IamStoreTopologyProps, TopologyRuntimeProps, VpcStoreTopologyProps } from './common';
export { SessionTopology, SharedSessionTopology } from './base';
export { DynamoDbSessions } from './dynamodb-sessions';
export type { DynamoDbSessionsProps } from './dynamodb-sessions';
export { JwtSessions } from './jwt-sessions';
export type { JwtSessionsProps } from './jwt-sessions';
export { MemcachedSessions } from './memcached-sessions';
export type { MemcachedSessionsProps } from './memcached-sessions';
export { RdsSessions } from './rds-sessions';
export type { RdsSessionsProps } from './rds-sessions';
export { RedisSessions } from './redis-sessions';
export type { RedisSessionsProps } from './redis-sessions';
export { S3Sessions } from './s3-sessions';
export type { S3SessionsProps } from './s3-sessions';
export { StickySessions } from './sticky-sessions';
export type { StickySessionsProps } from './sticky-sessions';
