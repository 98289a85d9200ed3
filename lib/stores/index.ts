export * from './replication-group';
export * from './redis-session-store';
export * from './dynamodb-session-store';
export * from './s3-session-store';
export * from './jwt-session-keys';
export * from '../core/validate';
export { SESSION_OBJECT_ACTIONS, grantSessionObjects } from '../core/session-bucket';
export * from './memcached-session-store';
export * from './postgres-session-store';
