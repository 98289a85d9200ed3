import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { PostgresSessionStore, PostgresSessionStoreProps } from '../stores/postgres-session-store';
import { ApiOptions, VpcStoreTopology, VpcStoreTopologyProps } from './common';

/** Props of {@link RdsSessions}. */
export interface RdsSessionsProps extends VpcStoreTopologyProps {
  /**
   * The PostgreSQL store (in the topology's VPC).
   * @default - the store's defaults: Aurora PostgreSQL Serverless v2, writer + reader in two AZs,
   *   encrypted, deletion-protected, RDS Proxy with TLS required, rotated generated secret
   */
  readonly storeProps?: Omit<PostgresSessionStoreProps, 'vpc'>;
  /**
   * The Lambda API, in the same VPC, on the same store (through the RDS Proxy).
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
}

/**
 * Seed row 2 with a relational database as the central store, "Centralized Session Storage —
 * RDS": Aurora PostgreSQL Serverless v2 behind an RDS Proxy, shared by an ALB + Auto Scaling
 * fleet and a Lambda HTTP API in one VPC. Durable and Multi-AZ, queryable with SQL; slower per
 * request than a cache and with a floor cost of two always-on instances.
 */
export class RdsSessions extends VpcStoreTopology<PostgresSessionStore> {
  constructor(scope: Construct, id: string, props: RdsSessionsProps = {}) {
    super(scope, id, 'RdsSessions', props, (s, storeId, vpc) => new PostgresSessionStore(s, storeId, { ...props.storeProps, vpc }));
    // Besides the instances, the RDS Proxy, the schema function and the rotation function call
    // Secrets Manager in the VPC, so they must get through the API's endpoint too.
    for (const endpoint of this.api.vpcEndpoints) {
      if (endpoint instanceof ec2.InterfaceVpcEndpoint) this.store.allowSecretsManagerEndpoint(endpoint);
    }
  }
}
