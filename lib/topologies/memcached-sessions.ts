import { Construct } from 'constructs';
import { MemcachedSessionStore, MemcachedSessionStoreProps } from '../stores/memcached-session-store';
import { VpcStoreTopology, VpcStoreTopologyProps } from './common';

/** Props of {@link MemcachedSessions}. */
export interface MemcachedSessionsProps extends VpcStoreTopologyProps {
  /**
   * The Memcached store (in the topology's VPC).
   * @default - the store's defaults: 2 nodes across AZs, TLS, port 11212, private subnets
   */
  readonly storeProps?: Omit<MemcachedSessionStoreProps, 'vpc'>;
}

/**
 * Seed row 2 with Memcached as the central store: one ElastiCache for Memcached cluster in a VPC
 * shared by an ALB + Auto Scaling fleet and a Lambda HTTP API. Any instance or function serves
 * any session. Memcached does not replicate: losing a node loses the sessions hashed to it
 * (those users sign in again), unlike the Redis topology.
 */
export class MemcachedSessions extends VpcStoreTopology<MemcachedSessionStore> {
  constructor(scope: Construct, id: string, props: MemcachedSessionsProps = {}) {
    super(scope, id, 'MemcachedSessions', props, (s, storeId, vpc) => new MemcachedSessionStore(s, storeId, { ...props.storeProps, vpc }));
  }
}
