import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SharedSessionTopology, TopologyParts } from './base';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { RedisSessionStore, RedisSessionStoreOptions } from '../stores/redis-session-store';
import { ConnectTarget, buildVpcStoreTopology, TopologyRuntimeProps, VpcStoreTopologyProps } from './common';

/** Props of {@link RedisSessions}. */
export interface RedisSessionsProps extends VpcStoreTopologyProps {
  /**
   * The Redis/Valkey store (in the topology's VPC).
   * @default - the store's defaults: a Multi-AZ, TLS + AUTH replication group on a non-default port
   */
  readonly storeProps?: RedisSessionStoreOptions;
}

/**
 * Seed row 2 with its recommended backend, "Centralized Session Storage — Redis": one Redis
 * (Valkey) store in a VPC shared by an ALB + Auto Scaling fleet and a Lambda HTTP API. Any
 * instance or function serves any session; losing an instance loses no session.
 */
export class RedisSessions extends SharedSessionTopology {
  /** The Redis/Valkey store. */
  public readonly store: RedisSessionStore;
  /** The VPC the store, the instances and the function run in. */
  public readonly vpc: ec2.IVpc;
  /** The ALB + Auto Scaling fleet on the store. */
  public readonly fleet: InstanceFleet;
  /** The Lambda HTTP API on the store, in the same VPC. */
  public readonly api: SessionApi;
  /** The fleet's internet-facing load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards to the instances (HTTPS with a certificate, else HTTP). */
  public readonly listener: elbv2.ApplicationListener;
  /** The target group of the instances. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The instances' Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The one cookie-signing secret of the fleet, the API and every consumer given to `connect()`. */
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in, on the fleet, the API and connected consumers alike. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the runtime logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * The security groups of the instances and of the function: `sessions.connections.allowTo(db, port)`
   * lets both reach your database; `allowFrom` opens both to a peer.
   */
  public readonly connections: ec2.Connections;
  /** The fleet's URL (`https://` with a certificate, on `domainName` when given); the API's is `api.url`. */
  public readonly url: string;
  private readonly settings: TopologyRuntimeProps;

  constructor(scope: Construct, id: string, props: RedisSessionsProps = {}) {
    super(scope, id);
    const storeProps = props.storeProps ?? {};
    const parts = buildVpcStoreTopology(this, props, (storeId, vpc) => {
      // The removal policy reaches the cache this store creates (a given one keeps its own: the store refuses one then).
      const given = storeProps.existingReplicationGroup !== undefined || storeProps.existingCache !== undefined;
      return new RedisSessionStore(this, storeId, {
        ...storeProps,
        vpc,
        removalPolicy: given ? storeProps.removalPolicy : (storeProps.removalPolicy ?? props.removalPolicy),
      });
    });
    this.vpc = parts.vpc;
    this.store = parts.store;
    this.fleet = parts.fleet;
    this.api = parts.api;
    this.cookieSecret = parts.cookieSecret;
    this.userPool = parts.login.userPool;
    this.userPoolClient = parts.login.userPoolClient;
    this.connections = parts.connections;
    this.settings = parts.settings;
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
    this.url = this.fleet.url;
  }

  /** ALB requests routed to the instances (Sum over 5 minutes). */
  public metricRequestCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricRequestCount(props);
  }

  /** Seconds from the request leaving the load balancer until the instance's response (Average over 5 minutes). */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricTargetResponseTime(props);
  }

  /** Responses of the instances with the given class of HTTP status (Sum over 5 minutes). */
  public metricHttpCodeTarget(code: elbv2.HttpCodeTarget, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricHttpCodeTarget(code, props);
  }

  /** Instances failing the health check (Average over 5 minutes). */
  public metricUnhealthyHostCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricUnhealthyHostCount(props);
  }

  /** @internal */
  protected _topologyParts(): TopologyParts {
    return { fleet: this.fleet, api: this.api, store: this.store };
  }

  /** @internal */
  protected _connectTarget(): ConnectTarget {
    return { scope: this, store: this.store, settings: this.settings, cookieSecret: this.cookieSecret, userPool: this.userPool, userPoolClient: this.userPoolClient, api: this.api };
  }
}
