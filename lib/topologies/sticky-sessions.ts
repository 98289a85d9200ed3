import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SessionTopology, TopologyParts } from './base';
import { FleetCommonProps, FleetOptions, InstanceFleet, StickinessOptions, StickinessType } from '../compute/instance-fleet';
import { SessionVpcProps } from '../compute/vpc';
import { SessionEnvVars } from '../core/session-env';
import { checkInt, validateProps } from '../core/validate';
import { fleetCommonProps, fleetOptionProblems, sharedRuntime, topologyCookieSecret, topologyLoginPool, TopologyRuntimeProps } from './common';

/** Props of {@link StickySessions}. */
export interface StickySessionsProps extends TopologyRuntimeProps, SessionVpcProps, FleetCommonProps {
  /**
   * Load balancer stickiness; this topology is always sticky.
   * @default { cookieType: StickinessType.LOAD_BALANCER_COOKIE, duration: Duration.days(1) } (the ALB's AWSALB cookie)
   */
  readonly stickiness?: StickinessOptions;
  /**
   * The fleet's rarer knobs.
   * @default - the fleet's defaults
   */
  readonly fleet?: FleetOptions;
  /**
   * Most sessions one instance keeps in memory; past it the least recently used session is
   * dropped (its user must log in again). Bounds the heap under login spam.
   * @default 100000
   */
  readonly memoryMaxSessions?: number;
  /**
   * Most bytes of session data (JSON) one instance keeps in memory; past it the least recently
   * used sessions are dropped. The heap holds about this plus some 200 bytes per session.
   * @default 67108864 (64 MiB), sized for a t4g.small (2 GiB, a V8 heap limit near 512 MiB)
   */
  readonly memoryMaxBytes?: number;
  /**
   * What happens to the access-log bucket, the new VPC's flow logs and the user pool when they
   * leave the stack. SNAPSHOT means RETAIN.
   * @default - each resource's own default (RETAIN for the bucket and the user pool)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Seed row 1, "Sticky Sessions (LB-based)": an ALB pins each client to one instance with a
 * cookie, and each instance keeps its sessions in its own memory (`SESSION_STORE=memory`).
 *
 * Simple, and as fragile as the seed says: when an instance goes (crash, scale-in, deploy),
 * its sessions go with it, and load spreads unevenly. For small apps and for comparison. It has
 * no `connect()`: no other compute can share sessions that live in one instance's memory.
 */
export class StickySessions extends SessionTopology {
  /** The ALB + Auto Scaling fleet. */
  public readonly fleet: InstanceFleet;
  /** The VPC the fleet runs in. */
  public readonly vpc: ec2.IVpc;
  /** The fleet's internet-facing load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards to the instances (HTTPS with a certificate, else HTTP). */
  public readonly listener: elbv2.ApplicationListener;
  /** The target group of the instances, with stickiness on. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The instances' Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The cookie-signing secret of the instances. */
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the instances log users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The instances' security group: `sessions.connections.allowTo(db, port)` lets them reach your database. */
  public readonly connections: ec2.Connections;
  /** `http(s)://` URL of the fleet (its `domainName` when given). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: StickySessionsProps = {}) {
    super(scope, id);
    const problems: string[] = fleetOptionProblems(props.fleet);
    checkInt(problems, 'memoryMaxSessions', props.memoryMaxSessions, 1, 100_000_000);
    checkInt(problems, 'memoryMaxBytes', props.memoryMaxBytes, 1024 * 1024, 64 * 1024 * 1024 * 1024);
    validateProps(this, problems);
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, props, props.removalPolicy);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    const runtime = sharedRuntime(props, this.cookieSecret, login);
    const memoryEnv: Record<string, string> = {};
    if (props.memoryMaxSessions !== undefined) memoryEnv[SessionEnvVars.MEMORY_MAX_SESSIONS] = String(props.memoryMaxSessions);
    if (props.memoryMaxBytes !== undefined) memoryEnv[SessionEnvVars.MEMORY_MAX_BYTES] = String(props.memoryMaxBytes);
    this.fleet = new InstanceFleet(this, 'Fleet', {
      ...props.fleet,
      ...fleetCommonProps(props),
      ...runtime,
      vpc: props.vpc,
      vpcProps: props.vpcProps,
      vpcSubnets: props.vpcSubnets,
      removalPolicy: props.removalPolicy,
      environment: { ...runtime.environment, ...memoryEnv },
      stickiness: props.stickiness ?? { cookieType: StickinessType.LOAD_BALANCER_COOKIE, duration: Duration.days(1) },
    });
    this.vpc = this.fleet.vpc;
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
    this.connections = this.fleet.connections;
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
    return { fleet: this.fleet };
  }
}
