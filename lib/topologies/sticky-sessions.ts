import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { InstanceFleet, InstanceFleetProps, StickinessOptions } from '../compute/instance-fleet';
import { SessionEnvVars } from '../../lambda/session/env';
import { checkInt, validateProps } from '../core/validate';
import { sharedRuntime, topologyCookieSecret, topologyLoginPool } from './common';

/** Props of {@link StickySessions}. */
export interface StickySessionsProps extends Omit<InstanceFleetProps, 'store' | 'stickiness'> {
  /**
   * Load balancer stickiness; this topology is always sticky.
   * @default { type: 'lb_cookie', duration: Duration.days(1) } (the ALB's AWSALB cookie)
   */
  readonly stickiness?: StickinessOptions;
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
}

/**
 * Seed row 1, "Sticky Sessions (LB-based)": an ALB pins each client to one instance with a
 * cookie, and each instance keeps its sessions in its own memory (`SESSION_STORE=memory`).
 *
 * Simple, and as fragile as the seed says: when an instance goes (crash, scale-in, deploy),
 * its sessions go with it, and load spreads unevenly. For small apps and for comparison.
 */
export class StickySessions extends Construct {
  public readonly fleet: InstanceFleet;
  public readonly vpc: ec2.IVpc;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the instances log users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** `http(s)://` URL of the load balancer. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: StickySessionsProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    checkInt(problems, 'memoryMaxSessions', props.memoryMaxSessions, 1, 100_000_000);
    checkInt(problems, 'memoryMaxBytes', props.memoryMaxBytes, 1024 * 1024, 64 * 1024 * 1024 * 1024);
    validateProps(this, problems);
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, 'StickySessions', props);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    const { memoryMaxSessions, memoryMaxBytes, ...fleetProps } = props;
    const runtime = sharedRuntime(props, this.cookieSecret, login);
    const memoryEnv: Record<string, string> = {};
    if (memoryMaxSessions !== undefined) memoryEnv[SessionEnvVars.MEMORY_MAX_SESSIONS] = String(memoryMaxSessions);
    if (memoryMaxBytes !== undefined) memoryEnv[SessionEnvVars.MEMORY_MAX_BYTES] = String(memoryMaxBytes);
    this.fleet = new InstanceFleet(this, 'Fleet', {
      ...fleetProps,
      ...runtime,
      environment: { ...runtime.environment, ...memoryEnv },
      stickiness: props.stickiness ?? { type: 'lb_cookie', duration: Duration.days(1) },
    });
    this.vpc = this.fleet.vpc;
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
    this.url = this.fleet.url;
  }
}
