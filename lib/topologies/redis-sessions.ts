import { Construct } from 'constructs';
import { RedisSessionStore, RedisSessionStoreProps } from '../stores/redis-session-store';
import { VpcStoreTopology, VpcStoreTopologyProps } from './common';

/** Props of {@link RedisSessions}. */
export interface RedisSessionsProps extends VpcStoreTopologyProps {
  /**
   * The Redis/Valkey store (in the topology's VPC).
   * @default - the store's defaults: a Multi-AZ, TLS + AUTH replication group on a non-default port
   */
  readonly storeProps?: Omit<RedisSessionStoreProps, 'vpc'>;
}

/**
 * Seed row 2 with its recommended backend, "Centralized Session Storage — Redis": one Redis
 * (Valkey) store in a VPC shared by an ALB + Auto Scaling fleet and a Lambda HTTP API. Any
 * instance or function serves any session; losing an instance loses no session.
 */
export class RedisSessions extends VpcStoreTopology<RedisSessionStore> {
  constructor(scope: Construct, id: string, props: RedisSessionsProps = {}) {
    super(scope, id, 'RedisSessions', props, (s, storeId, vpc) => new RedisSessionStore(s, storeId, { ...props.storeProps, vpc }));
  }
}
