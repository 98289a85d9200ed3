import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { InstanceFleet, InstanceFleetProps, StickinessOptions } from '../compute/instance-fleet';
import { sharedRuntime, topologyCookieSecret, topologyLoginPool } from './common';

/** Props of {@link StickySessions}. */
export interface StickySessionsProps extends Omit<InstanceFleetProps, 'store' | 'stickiness'> {
  /**
   * Load balancer stickiness; this topology is always sticky.
   * @default { type: 'lb_cookie', duration: Duration.days(1) } (the ALB's AWSALB cookie)
   */
  readonly stickiness?: StickinessOptions;
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
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, 'StickySessions', props);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    this.fleet = new InstanceFleet(this, 'Fleet', {
      ...props,
      ...sharedRuntime(props, this.cookieSecret, login),
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
