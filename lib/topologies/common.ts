import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createCookieSecret, SessionRuntimeOptions, throwIfProblems } from '../compute/common';
import { InstanceFleet, InstanceFleetProps } from '../compute/instance-fleet';
import { LoginPool, resolveLoginPool, validateLoginOptions } from '../compute/login';
import { SessionApi, SessionApiProps } from '../compute/session-api';
import { resolveVpc, validateVpcChoice, VpcChoice } from '../compute/vpc';
import { ISessionStore } from '../core/session-store';

type RuntimeKeys = keyof SessionRuntimeOptions;

/**
 * The instance fleet of a topology: everything of {@link InstanceFleetProps} except what the
 * topology decides (VPC, store) and the session settings it shares with its other compute.
 */
export interface FleetOptions extends Omit<InstanceFleetProps, 'existingVpc' | 'vpcProps' | 'store' | RuntimeKeys> {}

/** The Lambda API of a topology: {@link SessionApiProps} without the store and shared session settings. */
export interface ApiOptions extends Omit<SessionApiProps, 'store' | RuntimeKeys> {}

/** Session settings every compute construct of one topology shares (one cookie secret, one cookie). */
export interface TopologyRuntimeProps extends SessionRuntimeOptions {}

/** Props every topology whose store lives in a VPC (Redis, Memcached, RDS) shares. */
export interface VpcStoreTopologyProps extends TopologyRuntimeProps, VpcChoice {
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

/** Props every topology whose store is reached through its AWS API, without a VPC (DynamoDB, S3), shares. */
export interface IamStoreTopologyProps extends TopologyRuntimeProps, VpcChoice {
  /**
   * The Lambda API.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * An instance fleet on the same store, when given (`{}` for its defaults). `existingVpc` /
   * `vpcProps` apply to it.
   * @default - no fleet: only the Lambda API
   */
  readonly fleet?: FleetOptions;
}

/** The runtime options for a compute construct, with the topology's one cookie secret and one login pool. */
export function sharedRuntime(props: SessionRuntimeOptions, cookieSecret: secretsmanager.ISecret, login: LoginPool): SessionRuntimeOptions {
  return {
    cookieName: props.cookieName,
    idleTimeout: props.idleTimeout,
    absoluteTimeout: props.absoluteTimeout,
    environment: props.environment,
    cookieSecret,
    userPool: login.userPool,
    userPoolClient: login.userPoolClient,
  };
}

/**
 * The topology's login pool, shared by its fleet and its API (one user, one password, either
 * way in): the given pool and client, or new ones. Throws when the props are contradictory.
 */
export function topologyLoginPool(scope: Construct, name: string, props: SessionRuntimeOptions): LoginPool {
  throwIfProblems(name, validateLoginOptions(props));
  return resolveLoginPool(scope, props);
}

/** The topology's cookie secret: the given one or a new generated one. */
export function topologyCookieSecret(scope: Construct, props: SessionRuntimeOptions): secretsmanager.ISecret {
  return props.cookieSecret ?? createCookieSecret(scope, 'CookieSecret');
}

/**
 * Lets the given constructs through the API's interface endpoints. The Secrets Manager endpoint
 * has private DNS, so inside the VPC every Secrets Manager call goes to it, and its security
 * group admits only whom it is opened to.
 */
export function openInterfaceEndpoints(api: SessionApi, peers: ec2.IConnectable[]): void {
  for (const endpoint of api.vpcEndpoints) {
    if (!(endpoint instanceof ec2.InterfaceVpcEndpoint)) continue;
    for (const peer of peers) endpoint.connections.allowDefaultPortFrom(peer, `Session topology to ${endpoint.node.id}`);
  }
}

/**
 * Seed row 2 with a store inside a VPC, the base of `RedisSessions`, `MemcachedSessions` and
 * `RdsSessions`: one VPC (given or new), one store in it, and an ALB + Auto Scaling
 * fleet and a Lambda HTTP API on that store with one cookie secret. A subclass makes only its
 * store (and wires what only its store needs).
 */
export abstract class VpcStoreTopology<S extends ISessionStore> extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly store: S;
  public readonly fleet: InstanceFleet;
  public readonly api: SessionApi;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in, on the fleet and the API alike. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the runtime logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;

  /**
   * @param name the topology, as a props error names it
   * @param createStore makes the store as construct `id` of `scope`, in `vpc`
   */
  protected constructor(
    scope: Construct,
    id: string,
    name: string,
    props: VpcStoreTopologyProps,
    createStore: (scope: Construct, id: string, vpc: ec2.IVpc) => S,
  ) {
    super(scope, id);
    throwIfProblems(name, [...validateVpcChoice(props), ...validateLoginOptions(props)]);
    this.vpc = resolveVpc(this, 'Vpc', props);
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, name, props);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    const runtime = sharedRuntime(props, this.cookieSecret, login);
    this.store = createStore(this, 'Store', this.vpc);
    this.fleet = new InstanceFleet(this, 'Fleet', { ...props.fleet, ...runtime, existingVpc: this.vpc, store: this.store });
    this.api = new SessionApi(this, 'Api', { ...props.api, ...runtime, store: this.store });
    // The API's Secrets Manager endpoint (private DNS) answers for the whole VPC: the instances
    // read the cookie secret (and the store's secret, if it has one) through it too.
    openInterfaceEndpoints(this.api, [this.fleet]);
    this.loadBalancer = this.fleet.loadBalancer;
    this.listener = this.fleet.listener;
    this.targetGroup = this.fleet.targetGroup;
    this.autoScalingGroup = this.fleet.autoScalingGroup;
  }
}

/**
 * Seed row 2 with a store reached through its AWS API with IAM credentials, the base of
 * `DynamoDbSessions` and `S3Sessions`: the store, a Lambda HTTP API on it (in no
 * VPC) and, when `fleet` is given, an instance fleet on the same store, with one cookie secret.
 */
export abstract class IamStoreTopology<S extends ISessionStore> extends Construct {
  public readonly store: S;
  public readonly api: SessionApi;
  public readonly fleet?: InstanceFleet;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in, on the API and the fleet alike. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the runtime logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;

  /**
   * @param name the topology, as a props error names it
   * @param createStore makes the store as construct `id` of `scope`
   */
  protected constructor(scope: Construct, id: string, name: string, props: IamStoreTopologyProps, createStore: (scope: Construct, id: string) => S) {
    super(scope, id);
    const problems = [...validateVpcChoice(props), ...validateLoginOptions(props)];
    if (!props.fleet && (props.existingVpc || props.vpcProps)) problems.push('existingVpc / vpcProps apply to the fleet only: give `fleet` too');
    throwIfProblems(name, problems);
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, name, props);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    const runtime = sharedRuntime(props, this.cookieSecret, login);
    this.store = createStore(this, 'Store');
    this.api = new SessionApi(this, 'Api', { ...props.api, ...runtime, store: this.store });
    if (props.fleet) {
      this.fleet = new InstanceFleet(this, 'Fleet', {
        ...props.fleet,
        ...runtime,
        existingVpc: props.existingVpc,
        vpcProps: props.vpcProps,
        store: this.store,
      });
    }
  }
}
