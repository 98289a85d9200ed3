import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { throwIfProblems } from '../compute/common';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { resolveVpc, validateVpcChoice, VpcChoice } from '../compute/vpc';
import { RedisSessionStore, RedisSessionStoreProps } from '../stores/redis-session-store';
import { ApiOptions, FleetOptions, openInterfaceEndpoints, sharedRuntime, topologyCookieSecret, TopologyRuntimeProps } from './common';

/** Props of {@link RedisSessions}. */
export interface RedisSessionsProps extends TopologyRuntimeProps, VpcChoice {
  /**
   * The Redis/Valkey store (in the topology's VPC).
   * @default - the store's defaults: a Multi-AZ, TLS + AUTH replication group on a non-default port
   */
  readonly storeProps?: Omit<RedisSessionStoreProps, 'vpc'>;
  /**
   * The instance fleet. Stickiness is optional here: any instance can serve any session.
   * @default - the fleet's defaults, no stickiness
   */
  readonly fleet?: FleetOptions;
  /**
   * The Lambda API, in the same VPC, on the same store.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
}

/**
 * Seed row 2 with its recommended backend, "Centralized Session Storage — Redis": one Redis
 * (Valkey) store in a VPC shared by an ALB + Auto Scaling fleet and a Lambda HTTP API. Any
 * instance or function serves any session; losing an instance loses no session.
 */
export class RedisSessions extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly store: RedisSessionStore;
  public readonly fleet: InstanceFleet;
  public readonly api: SessionApi;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly cookieSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: RedisSessionsProps = {}) {
    super(scope, id);
    throwIfProblems('RedisSessions', validateVpcChoice(props));
    this.vpc = resolveVpc(this, 'Vpc', props);
    this.cookieSecret = topologyCookieSecret(this, props);
    const runtime = sharedRuntime(props, this.cookieSecret);
    this.store = new RedisSessionStore(this, 'Store', { ...props.storeProps, vpc: this.vpc });
    this.fleet = new InstanceFleet(this, 'Fleet', { ...props.fleet, ...runtime, existingVpc: this.vpc, store: this.store });
    this.api = new SessionApi(this, 'Api', { ...props.api, ...runtime, store: this.store });
    // The API's Secrets Manager endpoint (private DNS) answers for the whole VPC: the instances
    // read the cookie secret and the AUTH token through it too.
    openInterfaceEndpoints(this.api, [this.fleet]);
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
  }
}
