import { Annotations, Fn, RemovalPolicy, Size, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SessionEnvVars, SessionStoreKind } from '../core/session-env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkInt, validateProps } from '../core/validate';
import {
  allowConsumer,
  createElastiCacheNetwork,
  createStoreSecurityGroup,
  elastiCacheMetric,
  noSuchMetric,
  selectPrivateSubnets,
  serverlessCacheMetric,
  storeSubnetSelection,
} from './common';
import { loadElastiCacheAlpha } from './elasticache-alpha';

/** Default port of the node-based cluster: deliberately not the well-known 11211 (cdk-nag AwsSolutions-AEC5). */
export const DEFAULT_MEMCACHED_PORT = 11212;

/** Default engine version: the newest ElastiCache for Memcached; in-transit encryption needs 1.6.12 or later. */
export const DEFAULT_MEMCACHED_ENGINE_VERSION = '1.6.22';

/** Options of the serverless variant of {@link MemcachedSessionStore}. */
export interface MemcachedServerlessOptions {
  /**
   * Customer-managed KMS key for the cache data (serverless always encrypts at rest).
   * @default - AWS-owned key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Upper bound on stored data, GB (1-5000): caps the bill of a runaway writer.
   * @default - no limit
   */
  readonly maxDataStorageGb?: number;
  /**
   * Upper bound on ElastiCache Processing Units per second (1000-15000000).
   * @default - no limit
   */
  readonly maxEcpuPerSecond?: number;
}

/**
 * A Memcached cache this library did not create (node-based or serverless), as
 * {@link MemcachedSessionStoreProps.existingCache} takes it.
 */
export interface MemcachedCacheAttributes {
  /**
   * Every `host:port` the runtime talks to: each node's endpoint for a node-based cluster (every
   * client must see the same list: keys are spread over it by rendezvous hashing), or the one
   * serverless endpoint.
   */
  readonly servers: string[];
  /** The port consumers connect to (the nodes' port). */
  readonly port: number;
  /** The cache's security groups: `connect()` opens `port` on them to each consumer. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * Whether clients must use TLS (serverless: always).
   * @default true
   */
  readonly tls?: boolean;
  /**
   * `CacheClusterId` of the node-based cluster, for the `metric*()` methods.
   * @default - no node metrics
   */
  readonly cacheClusterId?: string;
  /**
   * Name of the serverless cache, for the `metric*()` methods. Not with `cacheClusterId`.
   * @default - no serverless metrics
   */
  readonly serverlessCacheName?: string;
}

/**
 * Properties of a {@link MemcachedSessionStore} other than its VPC: the `storeProps` of a topology, which
 * places the store in its own VPC.
 */
export interface MemcachedSessionStoreOptions {
  /**
   * ElastiCache Serverless for Memcached instead of a node-based cluster. Serverless always
   * encrypts in transit (TLS only) and at rest, spreads data over AZs itself, and listens on
   * 11211 (it cannot be changed).
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * Where the nodes (or the serverless endpoints) go. Must select private subnets only; for a
   * node-based cluster in at least two AZs, for the cross-AZ node placement.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Node type (node-based cluster).
   * @default 'cache.t4g.small'
   */
  readonly cacheNodeType?: string;
  /**
   * Number of nodes, 2-60 (node-based cluster). Sessions are spread over the nodes by key;
   * Memcached does not replicate, so a lost node loses its share (1/n) of the sessions.
   * @default 2
   */
  readonly numCacheNodes?: number;
  /**
   * Engine version (node-based cluster), 1.6.12 or later (in-transit encryption).
   * @default '1.6.22'
   */
  readonly engineVersion?: string;
  /**
   * TCP port the nodes listen on (node-based cluster).
   * @default 11212 - not the well-known 11211
   */
  readonly port?: number;
  /**
   * TLS between clients and nodes (node-based cluster; serverless is always TLS). The runtime
   * must then connect with TLS.
   * @default true
   */
  readonly transitEncryption?: boolean;
  /**
   * Security group for the nodes (node-based cluster).
   * @default - a new group without any ingress and without outbound rules
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * Weekly maintenance window, e.g. 'sun:03:00-sun:04:00' (UTC). A node-based Memcached node
   * that is patched restarts empty: its sessions are gone.
   * @default - chosen by ElastiCache
   */
  readonly preferredMaintenanceWindow?: string;
  /**
   * What happens to the cache (node-based cluster or serverless cache) when it leaves the stack.
   * Memcached has no snapshots, so RETAIN or DESTROY; it holds nothing worth keeping once no
   * consumer reads it.
   * @default - a node-based cluster is destroyed (`RemovalPolicy.DESTROY`); a serverless cache keeps CloudFormation's default, which deletes it
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Shape the serverless cache (only with `serverless: true`).
   * @default - AWS-owned key, no usage limits
   */
  readonly serverlessOptions?: MemcachedServerlessOptions;
  /**
   * A cache made elsewhere (in `vpc`), by its servers, port and security groups. Not with the
   * props that shape a new cache.
   * @default - a new cache
   */
  readonly existingCache?: MemcachedCacheAttributes;
}

/** Properties of a {@link MemcachedSessionStore}. */
export interface MemcachedSessionStoreProps extends MemcachedSessionStoreOptions {
  /** The VPC the cache lives in; consumers must run in it (see `bind`). */
  readonly vpc: ec2.IVpc;
}

/** Options of the node-based metric helpers. */
export interface MemcachedMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Which node to read (`0001`, `0002`, …): ElastiCache publishes node-based metrics per
   * `CacheClusterId` and `CacheNodeId`. Ignored for serverless.
   * @default '0001'
   */
  readonly cacheNodeId?: string;
}

/**
 * A Memcached session store: a node-based ElastiCache for Memcached cluster (default: 2 nodes
 * across AZs, TLS, non-default port, private subnets) or ElastiCache Serverless for Memcached.
 * Memcached has no authentication on ElastiCache: the security group is the only gate, so
 * `bind()` opens the port to exactly the consumer's security groups.
 *
 * `bind()` returns `SESSION_STORE=memcached` and `SESSION_MEMCACHED_SERVERS` (plus `SESSION_MEMCACHED_TLS`): for a node-based
 * cluster the comma-separated `host:port` of every node (the runtime spreads keys over that
 * list by rendezvous hashing, so every client must see the same list — the configuration
 * endpoint alone would resolve to one arbitrary node per client); for serverless its one
 * endpoint (the service spreads the keys itself).
 */
export class MemcachedSessionStore extends Construct implements ISessionStore, ec2.IConnectable {
  /** Always 'memcached'. */
  public readonly kind: SessionStoreKind = SessionStoreKind.MEMCACHED;
  /**
   * The VPC consumers must run in: always set on this store (optional only in type, as on
   * `ISessionStore`, since jsii keeps an implemented property's optionality).
   */
  public readonly vpc?: ec2.IVpc;
  /** Network access to the cache. */
  public readonly connections: ec2.Connections;
  /** The cache's security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The node-based cluster, when not serverless. */
  public readonly cacheCluster?: elasticache.CfnCacheCluster;
  /** The subnet group of the node-based cluster. */
  public readonly subnetGroup?: elasticache.CfnSubnetGroup;
  /**
   * The serverless cache, when serverless: the CloudFormation resource under the
   * `@aws-cdk/aws-elasticache-alpha` `ServerlessCache` this store makes (its `ref` is the cache's
   * name). Typed by aws-cdk-lib, so that the alpha stays an optional install in every language.
   */
  public readonly serverlessCache?: elasticache.CfnServerlessCache;
  /** Every `host:port` the runtime talks to (tokens; resolve at deploy time). */
  public readonly servers: string[];
  /** Whether clients must use TLS. */
  public readonly tls: boolean;
  /** The port, as a number (a token for serverless). */
  public readonly port: number;
  /**
   * The cache's address: the configuration endpoint of a node-based cluster (the runtime gets every
   * node's address in {@link servers} instead), or the serverless endpoint.
   */
  public readonly endpointAddress: string;

  private readonly existing?: MemcachedCacheAttributes;

  constructor(scope: Construct, id: string, props: MemcachedSessionStoreProps) {
    super(scope, id);
    if (props.existingCache) {
      const problems: string[] = [];
      const { existingCache: existing, vpc, ...rest } = props;
      const set = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (set.length > 0) problems.push(`${set.join(', ')} only apply to a cache this construct creates, not to existingCache`);
      if (existing.servers.length === 0) problems.push('existingCache.servers must list at least one host:port');
      if (existing.securityGroups.length === 0) problems.push('existingCache.securityGroups must name at least one security group: connect() opens the port on them');
      checkInt(problems, 'existingCache.port', existing.port, 1, 65535);
      validateProps(this, problems);
      this.vpc = vpc;
      this.existing = existing;
      this.securityGroup = existing.securityGroups[0];
      this.connections = new ec2.Connections({ securityGroups: existing.securityGroups, defaultPort: ec2.Port.tcp(existing.port) });
      this.servers = [...existing.servers];
      this.tls = existing.tls ?? true;
      this.port = existing.port;
      this.endpointAddress = existing.servers[0].replace(/:[^:]*$/, '');
      return;
    }
    const serverless = props.serverless ?? false;
    const numCacheNodes = props.numCacheNodes ?? 2;
    const port = props.port ?? DEFAULT_MEMCACHED_PORT;
    const engineVersion = props.engineVersion ?? DEFAULT_MEMCACHED_ENGINE_VERSION;
    const cacheNodeType = props.cacheNodeType ?? 'cache.t4g.small';

    const problems: string[] = [];
    const nodeProps: Record<string, unknown> = {
      cacheNodeType: props.cacheNodeType,
      numCacheNodes: props.numCacheNodes,
      engineVersion: props.engineVersion,
      port: props.port,
      transitEncryption: props.transitEncryption,
      securityGroup: props.securityGroup,
      preferredMaintenanceWindow: props.preferredMaintenanceWindow,
    };
    if (serverless) {
      const set = Object.entries(nodeProps).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (set.length > 0) problems.push(`${set.join(', ')} only apply to a node-based cluster; remove them or serverless: true`);
    }
    if (props.serverlessOptions && !serverless) problems.push('serverlessOptions needs serverless: true');
    checkInt(problems, 'numCacheNodes', numCacheNodes, 2, 60);
    checkInt(problems, 'port', port, 1024, 65535);
    if (!Token.isUnresolved(cacheNodeType) && !/^cache\.[a-z0-9-]+\.[a-z0-9]+$/.test(cacheNodeType)) {
      problems.push(`cacheNodeType must look like 'cache.t4g.small', got '${cacheNodeType}'`);
    }
    if (!Token.isUnresolved(engineVersion)) {
      const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(engineVersion);
      if (!m) problems.push(`engineVersion must look like '1.6.22', got '${engineVersion}'`);
      else if ((props.transitEncryption ?? true) && compareVersions([+m[1], +m[2], +m[3]], [1, 6, 12]) < 0) {
        problems.push(`engineVersion ${engineVersion} has no in-transit encryption (1.6.12 or later); upgrade it or set transitEncryption: false`);
      }
    }
    if (props.preferredMaintenanceWindow !== undefined && !/^(mon|tue|wed|thu|fri|sat|sun):\d\d:\d\d-(mon|tue|wed|thu|fri|sat|sun):\d\d:\d\d$/.test(props.preferredMaintenanceWindow)) {
      problems.push(`preferredMaintenanceWindow must look like 'sun:03:00-sun:04:00', got '${props.preferredMaintenanceWindow}'`);
    }
    const limits = props.serverlessOptions;
    checkInt(problems, 'serverlessOptions.maxDataStorageGb', limits?.maxDataStorageGb, 1, 5000);
    checkInt(problems, 'serverlessOptions.maxEcpuPerSecond', limits?.maxEcpuPerSecond, 1000, 15_000_000);

    if (props.removalPolicy === RemovalPolicy.SNAPSHOT) problems.push('removalPolicy SNAPSHOT is not available: Memcached has no snapshots; use RETAIN or DESTROY');
    const selection = storeSubnetSelection(problems, props.vpc, props.vpcSubnets);
    const subnets = !selection ? [] : selectPrivateSubnets(problems, props.vpc, selection, {
      name: 'vpcSubnets',
      nonEmpty: true,
      twoAzsProblem: serverless ? undefined : 'vpcSubnets must span at least two availability zones: the nodes are placed across AZs',
    });
    validateProps(this, problems);
    this.vpc = props.vpc;

    if (serverless) {
      const elasticacheAlpha = loadElastiCacheAlpha('MemcachedSessionStore with serverless: true'); // an optional package, loaded only here
      const securityGroup = createStoreSecurityGroup(this, props.vpc);
      // The alpha ServerlessCache supports engine memcached (CacheEngine.MEMCACHED_LATEST); Memcached
      // has no snapshots and no user groups, so neither is set.
      const cache = new elasticacheAlpha.ServerlessCache(this, 'Cache', {
        engine: elasticacheAlpha.CacheEngine.MEMCACHED_LATEST,
        description: 'Session store',
        vpc: props.vpc,
        vpcSubnets: selection,
        securityGroups: [securityGroup],
        kmsKey: limits?.encryptionKey,
        cacheUsageLimits:
          limits?.maxDataStorageGb !== undefined || limits?.maxEcpuPerSecond !== undefined
            ? {
                dataStorageMaximumSize: limits.maxDataStorageGb !== undefined ? Size.gibibytes(limits.maxDataStorageGb) : undefined,
                requestRateLimitMaximum: limits.maxEcpuPerSecond,
              }
            : undefined,
      });
      if (props.removalPolicy !== undefined) cache.applyRemovalPolicy(props.removalPolicy);
      this.serverlessCache = cache.node.defaultChild as elasticache.CfnServerlessCache;
      this.securityGroup = securityGroup;
      this.connections = cache.connections;
      this.endpointAddress = cache.serverlessCacheEndpointAddress;
      this.servers = [`${cache.serverlessCacheEndpointAddress}:${cache.serverlessCacheEndpointPort}`];
      this.tls = true;
      this.port = Token.asNumber(cache.serverlessCacheEndpointPort);
      return;
    }

    this.tls = props.transitEncryption ?? true;
    this.port = port;
    const network = createElastiCacheNetwork(this, props.vpc, subnets, port, props.securityGroup);
    this.securityGroup = network.securityGroup;
    this.connections = network.connections;
    this.subnetGroup = network.subnetGroup;
    // Nodes round-robin over the AZs of the selected subnets (one AZ per distinct subnet AZ).
    const azs = [...new Set(subnets.map((s) => s.availabilityZone))];
    const preferredAvailabilityZones = Array.from({ length: numCacheNodes }, (_, i) => azs[i % azs.length]);
    this.cacheCluster = new elasticache.CfnCacheCluster(this, 'Resource', {
      engine: 'memcached',
      engineVersion,
      cacheNodeType,
      numCacheNodes,
      azMode: 'cross-az',
      preferredAvailabilityZones,
      port,
      cacheSubnetGroupName: this.subnetGroup.ref,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: this.tls,
      networkType: 'ipv4',
      ipDiscovery: 'ipv4',
      preferredMaintenanceWindow: props.preferredMaintenanceWindow,
      autoMinorVersionUpgrade: true,
    });
    this.cacheCluster.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    this.endpointAddress = this.cacheCluster.attrConfigurationEndpointAddress;
    if (port === 11211) {
      Annotations.of(this).addWarningV2('cdk-sessions:defaultCachePort', 'port 11211 is the well-known Memcached port; a non-default port (default 11212) avoids untargeted scans');
    }
    if (!this.tls) {
      Annotations.of(this).addWarningV2('cdk-sessions:memcachedPlaintext', 'transitEncryption is off: session ids and session data cross the VPC in plain text');
    }
    // ElastiCache names node endpoints after the configuration endpoint:
    //   <cluster>.<hash>.cfg.<region-code>.cache.amazonaws.com → <cluster>.<hash>.0001.<region-code>.cache.amazonaws.com
    // CloudFormation exposes only the configuration endpoint, so the node list is derived from it.
    const parts = Fn.split('.cfg.', this.cacheCluster.attrConfigurationEndpointAddress);
    this.servers = Array.from(
      { length: numCacheNodes },
      (_, i) => `${Fn.join('', [Fn.select(0, parts), `.${nodeId(i + 1)}.`, Fn.select(1, parts)])}:${port}`,
    );
  }

  /** The configuration endpoint (`host:port`) of the node-based cluster, for auto-discovery clients. */
  public get configurationEndpoint(): string {
    if (!this.cacheCluster) throw new Error(`${this.node.path} is serverless or imported: see servers for its endpoints`);
    return `${this.cacheCluster.attrConfigurationEndpointAddress}:${this.cacheCluster.attrConfigurationEndpointPort}`;
  }

  /**
   * Wires a team's own code to these sessions in one call: grants, network path, and the whole
   * runtime environment (store variables, cookie secret ARN, cookie name, timeouts) set on the
   * consumer. Consumers connected without `cookieSecret` share this store's cookie secret.
   *
   * @example store.connect(SessionConsumer.fromFunction(fn))
   */
  public connect(consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
    return connectSessionConsumer(this, consumer, options);
  }

  /**
   * Opens the cache port to the consumer's security groups and returns the runtime environment.
   * No IAM grant: ElastiCache for Memcached has no authentication, the security group is the gate.
   * Throws when the consumer has no `connections` (it must run in the store's VPC).
   */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    allowConsumer(this, consumer, 'Memcached');
    this.grantReadWrite(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 'memcached',
        [SessionEnvVars.MEMCACHED_SERVERS]: this.servers.join(','),
        [SessionEnvVars.MEMCACHED_TLS]: String(this.tls),
      },
    };
  }

  /**
   * Nothing to grant: ElastiCache for Memcached has no authentication and no IAM data actions; the
   * security group is the only gate (opened by `bind()`/`connect()`). Returns a dropped grant
   * (`iam.Grant.drop`: no statement, `success` false), so that every store has `grantReadWrite`.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.drop(grantee, `read and write the sessions of ${this.node.path} (network access only)`);
  }

  /**
   * A metric of the cache, namespace AWS/ElastiCache: per node (`CacheClusterId` + `CacheNodeId`)
   * for a node-based cluster, per cache (`ServerlessCacheName`) for serverless. Average over 5 minutes.
   */
  public metric(metricName: string, props?: MemcachedMetricOptions): cloudwatch.Metric {
    const { cacheNodeId, ...rest } = props ?? {};
    const serverlessName = this.serverlessCache?.ref ?? this.existing?.serverlessCacheName;
    if (serverlessName !== undefined) return serverlessCacheMetric(metricName, serverlessName, rest);
    const clusterId = this.cacheCluster?.ref ?? this.existing?.cacheClusterId;
    if (clusterId === undefined) {
      throw new Error(`${this.node.path} was imported without cacheClusterId or serverlessCacheName: give one in existingCache to read its metrics`);
    }
    return elastiCacheMetric(metricName, { CacheClusterId: clusterId, CacheNodeId: cacheNodeId ?? nodeId(1) }, rest);
  }

  private get isServerless(): boolean {
    return this.serverlessCache !== undefined || this.existing?.serverlessCacheName !== undefined;
  }

  /** Percent CPU of a node (CPUUtilization). Node-based only; serverless bills ECPUs instead. Average over 5 minutes. */
  public metricCPUUtilization(props?: MemcachedMetricOptions): cloudwatch.Metric {
    if (this.isServerless) throw noSuchMetric(this, 'CPUUtilization', 'serverless', 'metricElastiCacheProcessingUnits()');
    return this.metric('CPUUtilization', props);
  }

  /**
   * Bytes of stored items: BytesUsedForCacheItems of a node for a node-based cluster,
   * BytesUsedForCache of the whole cache for serverless. Maximum over 5 minutes.
   */
  public metricBytesUsedForCache(props?: MemcachedMetricOptions): cloudwatch.Metric {
    return this.metric(this.isServerless ? 'BytesUsedForCache' : 'BytesUsedForCacheItems', { statistic: 'Maximum', ...props });
  }

  /** ElastiCache Processing Units consumed (ElastiCacheProcessingUnits): what a serverless cache bills. Serverless only. Sum over 5 minutes. */
  public metricElastiCacheProcessingUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.isServerless) throw noSuchMetric(this, 'ElastiCacheProcessingUnits', 'node-based', 'metricCPUUtilization()');
    return this.metric('ElastiCacheProcessingUnits', { statistic: 'Sum', ...props });
  }

  /** Commands throttled while the cache scaled (ThrottledCmds): each is a session request answered 503. Serverless only. Sum over 5 minutes. */
  public metricThrottledCmds(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.isServerless) throw noSuchMetric(this, 'ThrottledCmds', 'node-based', 'metricCPUUtilization()');
    return this.metric('ThrottledCmds', { statistic: 'Sum', ...props });
  }

  /** Items evicted for lack of memory (Evictions): for a session store every one is a lost login. Sum over 5 minutes. */
  public metricEvictions(props?: MemcachedMetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...props });
  }

  /** Open client connections (CurrConnections). Maximum over 5 minutes. */
  public metricCurrConnections(props?: MemcachedMetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...props });
  }
}

function nodeId(n: number): string {
  return String(n).padStart(4, '0');
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

