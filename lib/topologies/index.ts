export type { IamStoreTopologyProps, TopologyRuntimeProps, VpcStoreTopologyProps } from './common';
export * from './dynamodb-sessions';
export * from './jwt-sessions';
export * from './redis-sessions';
export * from './s3-sessions';
export * from './sticky-sessions';
export * from './memcached-sessions';
export * from './rds-sessions';
