import { Names, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SessionEnvVars, SessionStoreKind } from '../core/session-env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkExclusive, checkInt, validateProps } from '../core/validate';
import {
  allowConsumer,
  checkUnset,
  createStoreSecurityGroup,
  elastiCacheAuthTokenGenerator,
  elastiCacheMetric,
  grantSecretValue,
  memberClusterId,
  noSuchMetric,
  secretRemovalPolicy,
  selectPrivateSubnets,
  serverlessCacheMetric,
  storeSubnetSelection,
} from './common';
import { loadElastiCacheAlpha } from './elasticache-alpha';
import { ReplicationGroup, ReplicationGroupMetricOptions, ReplicationGroupOptions } from './replication-group';

/** Options for the serverless variant of {@link RedisSessionStore}. */
export interface RedisServerlessOptions {
  /**
   * Customer-managed KMS key for the cache data and the generated password secret.
   * @default - AWS-owned key for the cache, aws/secretsmanager for the secret
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * ACL access string of the session user. The runtime needs GET/GETEX/SET/DEL, EVAL(SHA),
   * WATCH/MULTI/EXEC, PING, INFO and cluster topology commands.
   * @default 'on ~* +@all'
   */
  readonly accessString?: string;
  /**
   * Days of daily snapshots to keep, 0-35 (0: none). Same reasoning as the replication group:
   * one day recovers from an accidental flush that would log every user out.
   * @default 1
   */
  readonly snapshotRetentionLimit?: number;
}

/**
 * A Redis/Valkey cache this library did not create — a replication group or a serverless cache —
 * as {@link RedisSessionStoreProps.existingCache} or {@link RedisSessionStore.fromCacheAttributes} take it.
 * It must require TLS and authenticate with the AUTH token (or the `default` user's password) in `authSecret`.
 */
export interface RedisCacheAttributes {
  /** The address clients connect to: the primary endpoint, the configuration endpoint in cluster mode, or the serverless endpoint. */
  readonly endpointAddress: string;
  /** The port of `endpointAddress`. */
  readonly port: number;
  /** The secret whose SecretString is the AUTH token or password (or JSON with a `password` field). */
  readonly authSecret: secretsmanager.ISecret;
  /** The cache's security groups: `connect()` opens `port` on them to each consumer. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * Whether clients must be cluster-aware (a cluster-mode replication group, or a serverless cache).
   * @default false
   */
  readonly cluster?: boolean;
  /**
   * Id of the replication group, for the `metric*()` methods (they read its first member node,
   * `<id>-001`, or `<id>-0001-001` with `cluster: true`).
   * @default - no node metrics
   */
  readonly replicationGroupId?: string;
  /**
   * Name of the serverless cache, for the `metric*()` methods. Not with `replicationGroupId`.
   * @default - no serverless metrics
   */
  readonly serverlessCacheName?: string;
}

/** Attributes of {@link RedisSessionStore.fromCacheAttributes}: an existing cache and its VPC. */
export interface RedisSessionStoreAttributes extends RedisCacheAttributes {
  /** The VPC the cache lives in; consumers must run in it. */
  readonly vpc: ec2.IVpc;
}

/**
 * Properties of a {@link RedisSessionStore} other than its VPC: the `storeProps` of a topology, which
 * places the store in its own VPC.
 */
export interface RedisSessionStoreOptions {
  /**
   * Where the nodes (or the serverless endpoints) go. Must select private subnets only, in two
   * AZs when there are replicas.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * ElastiCache Serverless (Valkey 8) instead of a node-based replication group. Serverless
   * always encrypts in transit and at rest and always listens on 6379 (it cannot be changed);
   * access needs the password of an RBAC user this construct creates.
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * What happens to the cache (and the AUTH token or password secret this construct creates)
   * when it leaves the stack. Sessions are transient, so the cache is deleted by default; a
   * secret has no snapshot, so SNAPSHOT retains it. Serverless caches take RETAIN or DESTROY.
   * @default - the cache is destroyed (`RemovalPolicy.DESTROY`), the secret retained (aws-cdk-lib's default for secrets)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A replication group you made with this library (in `vpc`). Not with `serverless`,
   * `replicationGroupProps`, `existingCache`, `vpcSubnets` or `removalPolicy`.
   * @default - a new ReplicationGroup from `replicationGroupProps`
   */
  readonly existingReplicationGroup?: ReplicationGroup;
  /**
   * A replication group or serverless cache made elsewhere (in `vpc`), by endpoint, port, auth
   * secret and security groups. Not with `serverless`, `replicationGroupProps`,
   * `existingReplicationGroup`, `vpcSubnets` or `removalPolicy`.
   * @default - a new cache
   */
  readonly existingCache?: RedisCacheAttributes;
  /**
   * Shape the replication group this construct creates. Its `vpcSubnets` and `removalPolicy` are
   * this construct's own props.
   * @default - ReplicationGroup defaults: Valkey 8.0, cache.t4g.small, 1 shard with 1 replica
   *   (Multi-AZ, automatic failover), port 6380, TLS, encryption at rest, generated AUTH token
   */
  readonly replicationGroupProps?: ReplicationGroupOptions;
  /**
   * Shape the serverless cache (only with `serverless: true`).
   * @default - AWS-owned key, access string 'on ~* +@all', 1 day of snapshots
   */
  readonly serverlessOptions?: RedisServerlessOptions;
}

/** Properties of a {@link RedisSessionStore}. */
export interface RedisSessionStoreProps extends RedisSessionStoreOptions {
  /** The VPC the cache lives in; consumers must run in it (see `bind`). */
  readonly vpc: ec2.IVpc;
}

/**
 * A Redis/Valkey session store: a {@link ReplicationGroup}, ElastiCache Serverless, or an existing
 * cache (`existingCache`, {@link RedisSessionStore.fromCacheAttributes}).
 * `bind(consumer)` opens the cache port to the consumer's security groups, lets it read the
 * ONE auth secret, and returns `SESSION_STORE=redis`, `SESSION_REDIS_URL` (= {@link url}),
 * `SESSION_REDIS_CLUSTER` and `SESSION_REDIS_AUTH_SECRET_ARN`.
 */
export class RedisSessionStore extends Construct implements ISessionStore, ec2.IConnectable {
  /**
   * A store on a cache made elsewhere: a replication group or a serverless cache, by endpoint,
   * port, auth secret, security groups and VPC. `connect()`/`bind()` open its port to each
   * consumer and grant the auth secret, as for a cache this library creates.
   */
  public static fromCacheAttributes(scope: Construct, id: string, attrs: RedisSessionStoreAttributes): RedisSessionStore {
    const { vpc, ...cache } = attrs;
    return new RedisSessionStore(scope, id, { vpc, existingCache: cache });
  }

  /** Always 'redis'. */
  public readonly kind: SessionStoreKind = SessionStoreKind.REDIS;
  /**
   * The VPC consumers must run in: always set on this store (optional only in type, as on
   * `ISessionStore`, since jsii keeps an implemented property's optionality).
   */
  public readonly vpc?: ec2.IVpc;
  /** Network access to the cache, default port {@link port}. */
  public readonly connections: ec2.Connections;
  /** The replication group, when this construct made it or was given it. */
  public readonly replicationGroup?: ReplicationGroup;
  /**
   * The serverless cache, when serverless: the CloudFormation resource under the
   * `@aws-cdk/aws-elasticache-alpha` `ServerlessCache` this store makes (its `ref` is the cache's
   * name). Typed by aws-cdk-lib, so that the alpha stays an optional install in every language.
   */
  public readonly serverlessCache?: elasticache.CfnServerlessCache;
  /** The RBAC user group of the serverless cache (the resource under the alpha's `UserGroup`). */
  public readonly userGroup?: elasticache.CfnUserGroup;
  /** The secret the runtime reads the AUTH token / password from (SecretString = the token). */
  public readonly authSecret: secretsmanager.ISecret;
  /** Endpoint address clients connect to (a token until deploy time, for a cache this construct makes). */
  public readonly endpointAddress: string;
  /** Endpoint port, as a string (a token until deploy time). */
  public readonly endpointPort: string;
  /** Endpoint port, as a number (a token for serverless, whose port CloudFormation reports). */
  public readonly port: number;
  /** Whether clients must be cluster-aware (cluster mode replication group, or serverless). */
  public readonly cluster: boolean;
  /**
   * The connection URL the runtime gets as `SESSION_REDIS_URL`: `rediss://<endpointAddress>:<endpointPort>`
   * (always TLS, never a password: the runtime reads it from {@link authSecret}).
   */
  public readonly url: string;
  private readonly existing?: RedisCacheAttributes;

  constructor(scope: Construct, id: string, props: RedisSessionStoreProps) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, {
      existingReplicationGroup: props.existingReplicationGroup,
      existingCache: props.existingCache,
      replicationGroupProps: props.replicationGroupProps,
      'serverless: true': props.serverless ? true : undefined,
    });
    if (props.serverlessOptions && !props.serverless) problems.push('serverlessOptions needs serverless: true');
    if (props.existingReplicationGroup && props.existingReplicationGroup.vpc !== props.vpc) {
      problems.push('existingReplicationGroup must live in the given vpc');
    }
    if (props.existingReplicationGroup && !props.existingReplicationGroup.authSecret) {
      problems.push('existingReplicationGroup uses RBAC user groups; the runtime authenticates with an AUTH token secret, so give it one');
    }
    if (props.existingReplicationGroup || props.existingCache) {
      checkUnset(problems, props, ['vpcSubnets', 'removalPolicy'], 'only applies to a cache this construct creates, not to existingReplicationGroup or existingCache');
    }
    const existing = props.existingCache;
    if (existing) {
      checkInt(problems, 'existingCache.port', existing.port, 1, 65535);
      if (existing.securityGroups.length === 0) problems.push('existingCache.securityGroups must name at least one security group: connect() opens the port on them');
      checkExclusive(problems, { 'existingCache.replicationGroupId': existing.replicationGroupId, 'existingCache.serverlessCacheName': existing.serverlessCacheName });
    }
    if (props.replicationGroupProps?.userGroupIds) {
      problems.push('replicationGroupProps.userGroupIds is not supported: the runtime authenticates with the AUTH token secret (SESSION_REDIS_AUTH_SECRET_ARN)');
    }
    for (const k of ['vpcSubnets', 'removalPolicy'] as const) {
      if (props.replicationGroupProps?.[k] !== undefined) problems.push(`replicationGroupProps.${k} is set at the top level of the store's props: use ${k}`);
    }
    if (props.serverless && props.removalPolicy === RemovalPolicy.SNAPSHOT) {
      problems.push('removalPolicy SNAPSHOT is not available for a serverless cache; use RETAIN or DESTROY (snapshots: serverlessOptions.snapshotRetentionLimit)');
    }
    const creates = !props.existingReplicationGroup && !existing;
    const selection = creates ? storeSubnetSelection(problems, props.vpc, props.vpcSubnets) : undefined;
    if (props.serverless && selection) selectPrivateSubnets(problems, props.vpc, selection, { name: 'vpcSubnets', nonEmpty: true });
    checkInt(problems, 'serverlessOptions.snapshotRetentionLimit', props.serverlessOptions?.snapshotRetentionLimit, 0, 35);
    validateProps(this, problems);
    this.vpc = props.vpc;

    if (existing) {
      this.existing = existing;
      this.connections = new ec2.Connections({ securityGroups: existing.securityGroups, defaultPort: ec2.Port.tcp(existing.port) });
      this.authSecret = existing.authSecret;
      this.endpointAddress = existing.endpointAddress;
      this.endpointPort = Token.isUnresolved(existing.port) ? Token.asString(existing.port) : String(existing.port);
      this.port = existing.port;
      this.cluster = existing.cluster ?? false;
    } else if (props.serverless) {
      const elasticacheAlpha = loadElastiCacheAlpha('RedisSessionStore with serverless: true'); // an optional package, loaded only here
      const opts = props.serverlessOptions ?? {};
      const secret = new secretsmanager.Secret(this, 'Password', {
        description: `Password of the session user of ${this.node.path}`,
        encryptionKey: opts.encryptionKey,
        generateSecretString: elastiCacheAuthTokenGenerator(64),
      });
      if (props.removalPolicy !== undefined) secret.applyRemovalPolicy(secretRemovalPolicy(props.removalPolicy));
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'ElastiCache RBAC passwords have no managed rotation; a user holds two passwords so rotation is a ' +
          'ModifyUser with the new one added, then the old one removed. The cache is VPC-only and TLS-only.',
      });
      // Named 'default' so that a plain AUTH <password> (what the runtime sends) authenticates as it;
      // the user id stays unique per account and region.
      const user = new elasticacheAlpha.PasswordUser(this, 'User', {
        userId: `sess-${Names.uniqueResourceName(this, { maxLength: 34, separator: '-' })}`.toLowerCase(),
        userName: 'default',
        engine: elasticacheAlpha.UserEngine.VALKEY,
        accessControl: elasticacheAlpha.AccessControl.fromAccessString(opts.accessString ?? 'on ~* +@all'),
        passwords: [secret.secretValue],
      });
      const userGroup = new elasticacheAlpha.UserGroup(this, 'UserGroup', {
        engine: elasticacheAlpha.UserEngine.VALKEY,
        users: [user],
      });
      const securityGroup = createStoreSecurityGroup(this, props.vpc);
      const cache = new elasticacheAlpha.ServerlessCache(this, 'Cache', {
        engine: elasticacheAlpha.CacheEngine.VALKEY_8,
        description: 'Session store',
        vpc: props.vpc,
        vpcSubnets: selection,
        securityGroups: [securityGroup],
        kmsKey: opts.encryptionKey,
        userGroup,
        backup: (opts.snapshotRetentionLimit ?? 1) > 0 ? { backupRetentionLimit: opts.snapshotRetentionLimit ?? 1 } : undefined,
      });
      if (props.removalPolicy !== undefined) cache.applyRemovalPolicy(props.removalPolicy);
      this.serverlessCache = cache.node.defaultChild as elasticache.CfnServerlessCache;
      this.userGroup = userGroup.node.defaultChild as elasticache.CfnUserGroup;
      this.connections = cache.connections;
      this.authSecret = secret;
      this.endpointAddress = cache.serverlessCacheEndpointAddress;
      this.endpointPort = cache.serverlessCacheEndpointPort;
      this.port = Token.asNumber(this.endpointPort);
      this.cluster = true;
    } else {
      const group =
        props.existingReplicationGroup ??
        new ReplicationGroup(this, 'ReplicationGroup', { ...props.replicationGroupProps, vpc: props.vpc, vpcSubnets: selection, removalPolicy: props.removalPolicy });
      this.replicationGroup = group;
      this.connections = group.connections;
      this.authSecret = group.authSecret!;
      this.endpointAddress = group.endpointAddress;
      this.endpointPort = group.endpointPort;
      this.port = group.port;
      this.cluster = group.clusterMode;
    }
    this.url = `rediss://${this.endpointAddress}:${this.endpointPort}`;
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
   * Opens the cache port to the consumer's security groups, grants {@link grantReadWrite}, and
   * returns the runtime environment. Throws when the consumer has no `connections` (it must run
   * in the store's VPC).
   */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    allowConsumer(this, consumer, 'Redis');
    this.grantReadWrite(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 'redis',
        [SessionEnvVars.REDIS_URL]: this.url,
        [SessionEnvVars.REDIS_CLUSTER]: String(this.cluster),
        [SessionEnvVars.REDIS_AUTH_SECRET_ARN]: this.authSecret.secretArn,
      },
    };
  }

  /**
   * Everything a consumer needs for session data besides the network path: Redis has no IAM data
   * actions, so this is `secretsmanager:GetSecretValue` on the auth secret only (plus `kms:Decrypt`
   * through Secrets Manager when that secret uses a customer key).
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return grantSecretValue(this, grantee, this.authSecret);
  }

  /**
   * A metric of the cache, namespace AWS/ElastiCache. Node-based: one member node (dimension
   * `CacheClusterId`, the first unless `props.cacheClusterId` names another); serverless:
   * the cache (dimension `ServerlessCacheName`). Average over 5 minutes.
   */
  public metric(metricName: string, props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    const { cacheClusterId, ...rest } = props ?? {};
    if (this.replicationGroup) return this.replicationGroup.metric(metricName, props);
    if (this.serverlessCache) return serverlessCacheMetric(metricName, this.serverlessCache.ref, rest);
    if (this.existing?.serverlessCacheName !== undefined) return serverlessCacheMetric(metricName, this.existing.serverlessCacheName, rest);
    if (this.existing?.replicationGroupId !== undefined) {
      return elastiCacheMetric(metricName, { CacheClusterId: cacheClusterId ?? memberClusterId(this.existing.replicationGroupId, this.cluster, 1, 1) }, rest);
    }
    throw new Error(`${this.node.path} was imported without replicationGroupId or serverlessCacheName: give one in existingCache to read its metrics`);
  }

  /** Percent CPU of the engine thread (EngineCPUUtilization) of a node. Node-based only. Average over 5 minutes. */
  public metricEngineCPUUtilization(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    this.nodeBasedOnly('EngineCPUUtilization', 'metricElastiCacheProcessingUnits()');
    return this.metric('EngineCPUUtilization', props);
  }

  /** Percent of maxmemory in use (DatabaseMemoryUsagePercentage) on a node. Node-based only. Maximum over 5 minutes. */
  public metricDatabaseMemoryUsagePercentage(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    this.nodeBasedOnly('DatabaseMemoryUsagePercentage', 'metricBytesUsedForCache()');
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...props });
  }

  /** Seconds a replica lags its primary (ReplicationLag), on the first replica. Node-based with replicas only. Maximum over 5 minutes. */
  public metricReplicationLag(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    this.nodeBasedOnly('ReplicationLag', 'metricThrottledCmds()');
    if (this.replicationGroup) return this.replicationGroup.metricReplicationLag(props);
    return this.metric('ReplicationLag', { statistic: 'Maximum', cacheClusterId: memberClusterId(this.existing!.replicationGroupId!, this.cluster, 1, 2), ...props });
  }

  /** Bytes of data in the cache (BytesUsedForCache): a node's for node-based, the whole cache's for serverless. Maximum over 5 minutes. */
  public metricBytesUsedForCache(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('BytesUsedForCache', { statistic: 'Maximum', ...props });
  }

  /** Keys evicted for lack of memory (Evictions): for a session store every one is a lost login. Sum over 5 minutes. */
  public metricEvictions(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...props });
  }

  /** Open client connections (CurrConnections). Maximum over 5 minutes. */
  public metricCurrConnections(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...props });
  }

  /** ElastiCache Processing Units consumed (ElastiCacheProcessingUnits): what a serverless cache bills. Serverless only. Sum over 5 minutes. */
  public metricElastiCacheProcessingUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.serverlessOnly('ElastiCacheProcessingUnits', 'metricEngineCPUUtilization()');
    return this.metric('ElastiCacheProcessingUnits', { statistic: 'Sum', ...props });
  }

  /** Commands throttled while the cache scaled (ThrottledCmds): each is a session request answered 503. Serverless only. Sum over 5 minutes. */
  public metricThrottledCmds(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.serverlessOnly('ThrottledCmds', 'metricEngineCPUUtilization()');
    return this.metric('ThrottledCmds', { statistic: 'Sum', ...props });
  }

  private get isServerless(): boolean {
    return this.serverlessCache !== undefined || this.existing?.serverlessCacheName !== undefined;
  }

  private nodeBasedOnly(metricName: string, instead: string): void {
    if (this.isServerless) throw noSuchMetric(this, metricName, 'serverless', instead);
  }

  private serverlessOnly(metricName: string, instead: string): void {
    if (!this.isServerless) throw noSuchMetric(this, metricName, 'node-based', instead);
  }
}
