/*
 * What the topologies share: their props (written out, aws-cdk-lib style: VPC, certificate,
 * capacity, domain and removal policy at the top level) and the internal helpers that build
 * their parts. The helpers are not exported from the package.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createCookieSecret, SessionRuntimeOptions } from '../compute/common';
import { FleetCommonProps, FleetOptions, InstanceFleet, StickinessOptions } from '../compute/instance-fleet';
import { LoginPool, resolveLoginPool, validateLoginOptions } from '../compute/login';
import { ApiOptions, SessionApi } from '../compute/session-api';
import { resolveVpc, SessionVpcProps, validateVpcChoice } from '../compute/vpc';
import { SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { ISessionStore, SessionStoreBinding } from '../core/session-store';
import { validateProps } from '../core/validate';

/** Session settings every compute construct of one topology shares (one cookie secret, one cookie), and its consumers too. */
export interface TopologyRuntimeProps extends SessionRuntimeOptions {}

/** Props of the topologies whose store lives in a VPC, shared by the store, a fleet and an API (Redis, Memcached, RDS). */
export interface VpcStoreTopologyProps extends TopologyRuntimeProps, SessionVpcProps, FleetCommonProps {
  /**
   * Load balancer stickiness. Optional here: any instance can serve any session.
   * @default - none
   */
  readonly stickiness?: StickinessOptions;
  /**
   * The fleet's rarer knobs.
   * @default - the fleet's defaults
   */
  readonly fleet?: FleetOptions;
  /**
   * The Lambda API, in the same VPC (in `vpcSubnets`), on the same store.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * Add a Secrets Manager interface endpoint (private DNS) and a DynamoDB gateway endpoint to
   * the VPC. The interface endpoint answers every Secrets Manager call in the VPC; it admits the
   * fleet, the API and every consumer given to `connect()`, nobody else.
   * @default - true when the topology creates the VPC, false in a `vpc` you pass in
   */
  readonly addVpcEndpoints?: boolean;
  /**
   * What happens to the store and to what else the topology creates that holds data (log groups,
   * the access-log bucket, the user pool) when they leave the stack. SNAPSHOT applies where
   * CloudFormation can snapshot (the store's database or cache) and means RETAIN elsewhere.
   * @default - each resource's own default (the store's, see its props)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Props of the topologies whose store is reached through its AWS API (DynamoDB, S3): a Lambda API
 * in no VPC and, when `fleet` is given, an instance fleet. The VPC and fleet props apply to the fleet.
 */
export interface IamStoreTopologyProps extends TopologyRuntimeProps, SessionVpcProps, FleetCommonProps {
  /**
   * An instance fleet on the same store, when given (`{}` for its defaults): the VPC, certificate,
   * capacity, server and domain props apply to it.
   * @default - no fleet: only the Lambda API
   */
  readonly fleet?: FleetOptions;
  /**
   * Load balancer stickiness of the fleet.
   * @default - none
   */
  readonly stickiness?: StickinessOptions;
  /**
   * The Lambda API.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * What happens to the store and to what else the topology creates that holds data (log groups,
   * the access-log bucket, the user pool) when they leave the stack. SNAPSHOT means RETAIN.
   * @default - each resource's own default (the store's, see its props)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The keys of {@link FleetOptions}: what may stay under `fleet`. */
const FLEET_OPTION_KEYS = ['targetRequestsPerMinute', 'deregistrationDelay', 'rootVolumeSize', 'accessLogsBucket', 'logRetention'];

/** The keys of {@link FleetCommonProps} and the VPC props: what applies to a fleet only. */
const FLEET_TOP_LEVEL_KEYS = [
  'vpc', 'vpcProps', 'vpcSubnets', 'certificate', 'sslPolicy', 'domainName', 'domainZone', 'server', 'userDataCommands',
  'instanceType', 'machineImage', 'minCapacity', 'maxCapacity', 'desiredCapacity', 'healthCheckPath', 'port', 'stickiness',
];

/** Problems with a topology's `fleet` options: props moved to the top level (JavaScript callers get no type error). */
export function fleetOptionProblems(fleet: FleetOptions | undefined): string[] {
  return Object.keys(fleet ?? {})
    .filter((k) => !FLEET_OPTION_KEYS.includes(k))
    .map((k) => (FLEET_TOP_LEVEL_KEYS.includes(k) ? `fleet.${k} is a top-level prop now: move it out of \`fleet\`` : `fleet.${k} is not a fleet option`));
}

/** The {@link FleetCommonProps} of `p`, copied one by one (so nothing else of a topology's props reaches the fleet). */
export function fleetCommonProps(p: FleetCommonProps): FleetCommonProps {
  return {
    certificate: p.certificate,
    sslPolicy: p.sslPolicy,
    domainName: p.domainName,
    domainZone: p.domainZone,
    server: p.server,
    userDataCommands: p.userDataCommands,
    instanceType: p.instanceType,
    machineImage: p.machineImage,
    minCapacity: p.minCapacity,
    maxCapacity: p.maxCapacity,
    desiredCapacity: p.desiredCapacity,
    healthCheckPath: p.healthCheckPath,
    port: p.port,
  };
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
 * The topology's login pool, shared by its fleet, its API and its consumers (one user, one
 * password, either way in): the given pool and client, or new ones.
 */
export function topologyLoginPool(scope: Construct, props: SessionRuntimeOptions, removalPolicy?: RemovalPolicy): LoginPool {
  return resolveLoginPool(scope, props, removalPolicy);
}

/** The topology's cookie secret: the given one or a new generated one. */
export function topologyCookieSecret(scope: Construct, props: SessionRuntimeOptions): secretsmanager.ISecret {
  return props.cookieSecret ?? createCookieSecret(scope, 'CookieSecret');
}

/** What a topology's `connect()` needs of it. */
export interface ConnectTarget {
  readonly scope: Construct;
  readonly store: ISessionStore;
  readonly settings: SessionRuntimeOptions;
  readonly cookieSecret: secretsmanager.ISecret;
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The API whose interface endpoints admit the consumer, when it added any. */
  readonly api?: SessionApi;
}

/**
 * A topology's `connect()`: the store's `connect()` with the topology's settings (its one cookie
 * secret, cookie name, timeouts, login pool, extra environment), `options` winning except for the
 * cookie secret, which must stay the topology's. Then lets the consumer through the interface
 * endpoints the topology added to the VPC.
 */
export function connectToTopology(t: ConnectTarget, consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
  const problems: string[] = [];
  if (options.cookieSecret !== undefined && options.cookieSecret !== t.cookieSecret) {
    problems.push(
      `connect(${consumer.consumerName}): cookieSecret must be the topology's own (or unset): a consumer that signs with another secret ` +
        "refuses the topology's sessions, and the topology refuses its",
    );
  }
  validateProps(t.scope, problems);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SessionConnectOptions;
  const binding = t.store.connect(consumer, {
    cookieName: t.settings.cookieName,
    idleTimeout: t.settings.idleTimeout,
    absoluteTimeout: t.settings.absoluteTimeout,
    environment: t.settings.environment,
    userPool: t.userPool,
    userPoolClient: t.userPoolClient,
    ...given,
    cookieSecret: t.cookieSecret,
  });
  if (consumer.connections && t.api) t.api.allowEndpointAccessFrom(consumer.connections);
  return binding;
}

/** The parts of a topology with its store in a VPC. */
export interface VpcTopologyParts<S extends ISessionStore> {
  readonly vpc: ec2.IVpc;
  readonly store: S;
  readonly fleet: InstanceFleet;
  readonly api: SessionApi;
  readonly cookieSecret: secretsmanager.ISecret;
  readonly login: LoginPool;
  readonly connections: ec2.Connections;
  readonly settings: SessionRuntimeOptions;
}

/**
 * Seed row 2 with a store inside a VPC (Redis, Memcached, RDS): one VPC (given or new), one store
 * in it, and an ALB + Auto Scaling fleet and a Lambda HTTP API on that store with one cookie
 * secret and one login pool. `createStore` makes the store as construct `Store` of `scope`.
 */
export function buildVpcStoreTopology<S extends ISessionStore>(
  scope: Construct,
  props: VpcStoreTopologyProps,
  createStore: (id: string, vpc: ec2.IVpc) => S,
): VpcTopologyParts<S> {
  validateProps(scope, [...validateVpcChoice(props), ...validateLoginOptions(props), ...fleetOptionProblems(props.fleet)]);
  const vpc = resolveVpc(scope, 'Vpc', props, props.removalPolicy);
  const cookieSecret = topologyCookieSecret(scope, props);
  const login = topologyLoginPool(scope, props, props.removalPolicy);
  const runtime = sharedRuntime(props, cookieSecret, login);
  const store = createStore('Store', vpc);
  const fleet = new InstanceFleet(scope, 'Fleet', {
    ...props.fleet,
    ...fleetCommonProps(props),
    ...runtime,
    vpc,
    vpcSubnets: props.vpcSubnets,
    store,
    stickiness: props.stickiness,
    removalPolicy: props.removalPolicy,
  });
  const api = new SessionApi(scope, 'Api', {
    ...props.api,
    ...runtime,
    store,
    vpcSubnets: props.vpcSubnets,
    // The user's VPC is theirs: a private-DNS endpoint there would take over every Secrets Manager call in it.
    addVpcEndpoints: props.addVpcEndpoints ?? props.vpc === undefined,
    removalPolicy: props.removalPolicy,
  });
  // The API's Secrets Manager endpoint (private DNS) answers for the whole VPC: the instances
  // read the cookie secret (and the store's secret, if it has one) through it too.
  api.allowEndpointAccessFrom(fleet);
  const connections = new ec2.Connections({ securityGroups: [...fleet.connections.securityGroups, ...api.connections.securityGroups] });
  return { vpc, store, fleet, api, cookieSecret, login, connections, settings: props };
}

/** The parts of a topology with its store reached through its AWS API. */
export interface IamTopologyParts<S extends ISessionStore> {
  readonly store: S;
  readonly api: SessionApi;
  readonly fleet?: InstanceFleet;
  readonly cookieSecret: secretsmanager.ISecret;
  readonly login: LoginPool;
  readonly connections: ec2.Connections;
  readonly settings: SessionRuntimeOptions;
}

/**
 * Seed row 2 with a store reached through its AWS API (DynamoDB, S3): the store, a Lambda HTTP
 * API on it (in no VPC) and, when `fleet` is given, an instance fleet on the same store, with one
 * cookie secret and one login pool.
 */
export function buildIamStoreTopology<S extends ISessionStore>(scope: Construct, props: IamStoreTopologyProps, createStore: (id: string) => S): IamTopologyParts<S> {
  const problems = [...validateVpcChoice(props), ...validateLoginOptions(props), ...fleetOptionProblems(props.fleet)];
  if (!props.fleet) {
    const fleetOnly = FLEET_TOP_LEVEL_KEYS.filter((k) => (props as Record<string, unknown>)[k] !== undefined);
    if (fleetOnly.length > 0) problems.push(`${fleetOnly.join(', ')} apply to the fleet only: give \`fleet\` too (\`{}\` for its defaults)`);
  }
  validateProps(scope, problems);
  const cookieSecret = topologyCookieSecret(scope, props);
  const login = topologyLoginPool(scope, props, props.removalPolicy);
  const runtime = sharedRuntime(props, cookieSecret, login);
  const store = createStore('Store');
  const api = new SessionApi(scope, 'Api', { ...props.api, ...runtime, store, removalPolicy: props.removalPolicy });
  const fleet = props.fleet
    ? new InstanceFleet(scope, 'Fleet', {
        ...props.fleet,
        ...fleetCommonProps(props),
        ...runtime,
        vpc: props.vpc,
        vpcProps: props.vpcProps,
        vpcSubnets: props.vpcSubnets,
        store,
        stickiness: props.stickiness,
        removalPolicy: props.removalPolicy,
      })
    : undefined;
  const connections = new ec2.Connections({ securityGroups: fleet ? [...fleet.connections.securityGroups] : [] });
  return { store, api, fleet, cookieSecret, login, connections, settings: props };
}

/**
 * A runtime metric (see `InstanceFleet.metricRuntime`) of a topology's computes together: the
 * metric itself with one compute, their sum (missing data as 0) with both.
 */
export function topologyRuntimeMetric(computes: ReadonlyArray<InstanceFleet | SessionApi | undefined>, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
  const present = computes.filter((c): c is InstanceFleet | SessionApi => c !== undefined);
  if (present.length === 1) return present[0].metricRuntime(metricName, props);
  const usingMetrics: { [id: string]: cloudwatch.IMetric } = {};
  const base = metricName.replace(/[^A-Za-z0-9]/g, '').toLowerCase(); // ids unique per metric, so several fit in one graph
  present.forEach((c, i) => (usingMetrics[`${base}${i}`] = c.metricRuntime(metricName, props)));
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics,
    label: props?.label ?? metricName,
    period: props?.period ?? Duration.minutes(5),
  });
}
