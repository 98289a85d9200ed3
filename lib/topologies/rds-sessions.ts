import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { throwIfProblems } from '../compute/common';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { resolveVpc, validateVpcChoice, VpcChoice } from '../compute/vpc';
import { PostgresSessionStore, PostgresSessionStoreProps } from '../stores/postgres-session-store';
import { ApiOptions, FleetOptions, openInterfaceEndpoints, sharedRuntime, topologyCookieSecret, TopologyRuntimeProps } from './common';

/** Props of {@link RdsSessions}. */
export interface RdsSessionsProps extends TopologyRuntimeProps, VpcChoice {
  /**
   * The PostgreSQL store (in the topology's VPC).
   * @default - the store's defaults: Aurora PostgreSQL Serverless v2, writer + reader in two AZs,
   *   encrypted, deletion-protected, RDS Proxy with TLS required, rotated generated secret
   */
  readonly storeProps?: Omit<PostgresSessionStoreProps, 'vpc'>;
  /**
   * The instance fleet. Stickiness is optional here: any instance can serve any session.
   * @default - the fleet's defaults, no stickiness
   */
  readonly fleet?: FleetOptions;
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
export class RdsSessions extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly store: PostgresSessionStore;
  public readonly fleet: InstanceFleet;
  public readonly api: SessionApi;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly cookieSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: RdsSessionsProps = {}) {
    super(scope, id);
    throwIfProblems('RdsSessions', validateVpcChoice(props));
    this.vpc = resolveVpc(this, 'Vpc', props);
    this.cookieSecret = topologyCookieSecret(this, props);
    const runtime = sharedRuntime(props, this.cookieSecret);
    this.store = new PostgresSessionStore(this, 'Store', { ...props.storeProps, vpc: this.vpc });
    this.fleet = new InstanceFleet(this, 'Fleet', { ...props.fleet, ...runtime, existingVpc: this.vpc, store: this.store });
    this.api = new SessionApi(this, 'Api', { ...props.api, ...runtime, store: this.store });
    // Everything in the VPC that calls Secrets Manager must get through the API's endpoint: the
    // instances, the schema function and the rotation function. The schema runs once the
    // endpoint exists, so its first call does not race the endpoint's private DNS.
    const peers: ec2.IConnectable[] = [this.fleet, this.store.schemaFunction];
    if (this.store.rotationSecurityGroup) peers.push(this.store.rotationSecurityGroup);
    openInterfaceEndpoints(this.api, peers);
    for (const endpoint of this.api.vpcEndpoints) this.store.schema.node.addDependency(endpoint);
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
  }
}
