import { Annotations, ArnFormat, RemovalPolicy, Resource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { checkExclusive, checkInt, validateProps } from '../core/validate';
import {
  createElastiCacheNetwork,
  elastiCacheAuthTokenGenerator,
  elastiCacheMetric,
  grantSecretValue,
  memberClusterId,
  secretRemovalPolicy,
  selectPrivateSubnets,
  storeSubnetSelection,
} from './common';

/** The in-memory engines a replication group runs. */
export enum ReplicationGroupEngine {
  /** Valkey (7.2 or later). */
  VALKEY = 'valkey',
  /** Redis OSS (6 or later). */
  REDIS = 'redis',
}

/** Default port: deliberately not the well-known 6379 (cdk-nag AwsSolutions-AEC5). */
export const DEFAULT_REPLICATION_GROUP_PORT = 6380;

/** How a {@link ReplicationGroup} is shaped, besides its VPC. */
export interface ReplicationGroupOptions {
  /**
   * Where the nodes go. Must select private subnets only.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The engine.
   * @default ReplicationGroupEngine.VALKEY
   */
  readonly engine?: ReplicationGroupEngine;
  /**
   * Engine version, `major.minor`.
   * @default - '8.0' for valkey, '7.1' for redis
   */
  readonly engineVersion?: string;
  /**
   * Node type. Graviton burstable nodes are enough for session data (small keys, short TTLs).
   * @default 'cache.t4g.small'
   */
  readonly cacheNodeType?: string;
  /**
   * Number of shards (node groups). More than one implies cluster mode.
   * @default 1
   */
  readonly numNodeGroups?: number;
  /**
   * Cluster mode (sharded keyspace, configuration endpoint). Clients must be cluster-aware.
   * @default - true when numNodeGroups > 1, else false
   */
  readonly clusterMode?: boolean;
  /**
   * Read replicas per shard, 0-5. With at least one, Multi-AZ and automatic failover are on
   * (both need two or more nodes per shard).
   * @default 1
   */
  readonly replicasPerNodeGroup?: number;
  /**
   * TCP port the nodes listen on.
   * @default 6380 - not the well-known 6379
   */
  readonly port?: number;
  /**
   * Customer-managed KMS key for encryption at rest (and for the generated AUTH secret).
   * Encryption at rest and TLS in transit are always on; this only chooses the key.
   * @default - AWS-owned key for the nodes, the account's aws/secretsmanager key for the secret
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * An existing Secrets Manager secret whose SecretString is the AUTH token: 16-128 characters,
   * only letters, digits and `! & # $ ^ < > -` (ElastiCache refuses any other). Mutually
   * exclusive with `userGroupIds`.
   * @default - a token is generated into a new secret (unless `userGroupIds` is set)
   */
  readonly existingAuthSecret?: secretsmanager.ISecret;
  /**
   * Length of the generated AUTH token, 32-128. The token holds only the characters ElastiCache
   * accepts: letters, digits and `! & # $ ^ < > -`.
   * @default 64
   */
  readonly authTokenLength?: number;
  /**
   * RBAC user group ids (ElastiCache users and access strings) instead of an AUTH token.
   * Mutually exclusive with `existingAuthSecret`.
   * @default - AUTH token authentication
   */
  readonly userGroupIds?: string[];
  /**
   * Days of automatic daily snapshots to keep, 0-35 (0 turns them off).
   * One day lets you recover from an accidental FLUSHALL or the loss of every node, which would
   * otherwise log every user out; sessions older than that are expired anyway.
   * @default 1
   */
  readonly snapshotRetentionLimit?: number;
  /**
   * Description of the replication group.
   * @default - 'Session store (<construct path>)'
   */
  readonly description?: string;
  /**
   * An existing security group for the nodes; ingress is still opened only through `connections`.
   * @default - a new security group without any ingress and without outbound rules
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * What happens to the nodes when the resource leaves the stack. Sessions are transient, so
   * the default deletes them; use `RemovalPolicy.SNAPSHOT` to keep a final snapshot. When given,
   * it also applies to the AUTH token secret this construct generates (SNAPSHOT retains it).
   * @default - the nodes are destroyed (`RemovalPolicy.DESTROY`), a generated secret retained
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Properties of a {@link ReplicationGroup}. */
export interface ReplicationGroupProps extends ReplicationGroupOptions {
  /** The VPC the nodes live in. */
  readonly vpc: ec2.IVpc;
}


/** Options of the metric helpers. */
export interface ReplicationGroupMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Which member cluster (node) to read: ElastiCache publishes node-based metrics per
   * `CacheClusterId` (`<replicationGroupId>-001`, or `<id>-0001-001` in cluster mode), not per
   * replication group.
   * @default - the first member (for ReplicationLag, the first replica)
   */
  readonly cacheClusterId?: string;
}

/**
 * A Valkey/Redis OSS replication group in private subnets: TLS in transit always, encryption at
 * rest always, AUTH token from Secrets Manager (or RBAC), non-default port, Multi-AZ with
 * automatic failover when there are replicas. A thin L2 over CfnReplicationGroup.
 */
export class ReplicationGroup extends Resource implements ec2.IConnectable {
  /** The VPC the nodes live in. */
  public readonly vpc: ec2.IVpc;
  /** Network access: open it with `group.connections.allowDefaultPortFrom(other)`. */
  public readonly connections: ec2.Connections;
  /** The nodes' security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The subnet group in the selected private subnets. */
  public readonly subnetGroup: elasticache.CfnSubnetGroup;
  /** The underlying CloudFormation resource. */
  public readonly resource: elasticache.CfnReplicationGroup;
  /** Replication group id (lower case, as ElastiCache reports it). */
  public readonly replicationGroupId: string;
  /** Replication group ARN. */
  public readonly replicationGroupArn: string;
  /** The engine. */
  public readonly engine: ReplicationGroupEngine;
  /** Whether the keyspace is sharded (clients must be cluster-aware). */
  public readonly clusterMode: boolean;
  /** The port, as a number. */
  public readonly port: number;
  /**
   * The address clients connect to: the configuration endpoint in cluster mode, else the primary
   * endpoint.
   */
  public readonly endpointAddress: string;
  /** The port of {@link endpointAddress}, as a string token. */
  public readonly endpointPort: string;
  /** Reader endpoint address (cluster mode disabled only). */
  public readonly readerEndpointAddress?: string;
  /** The secret holding the AUTH token; undefined with RBAC user groups. */
  public readonly authSecret?: secretsmanager.ISecret;
  /** The customer-managed key for encryption at rest, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** `CacheClusterId`s of every member node, in order (shard by shard). */
  public readonly memberClusterIds: string[];
  private readonly replicasPerNodeGroup: number;

  constructor(scope: Construct, id: string, props: ReplicationGroupProps) {
    super(scope, id);

    const engine = props.engine ?? ReplicationGroupEngine.VALKEY;
    const numNodeGroups = props.numNodeGroups ?? 1;
    const clusterMode = props.clusterMode ?? numNodeGroups > 1;
    const replicas = props.replicasPerNodeGroup ?? 1;
    const port = props.port ?? DEFAULT_REPLICATION_GROUP_PORT;
    const engineVersion = props.engineVersion ?? (engine === ReplicationGroupEngine.VALKEY ? '8.0' : '7.1');
    const cacheNodeType = props.cacheNodeType ?? 'cache.t4g.small';

    const problems: string[] = [];
    if (!Object.values(ReplicationGroupEngine).includes(engine)) problems.push(`engine must be 'valkey' or 'redis', got '${engine}'`);
    if (!Token.isUnresolved(engineVersion) && !/^\d+\.\d+(\.\d+)?$/.test(engineVersion)) {
      problems.push(`engineVersion must look like '8.0', got '${engineVersion}'`);
    } else if (!Token.isUnresolved(engineVersion)) {
      const major = Number(engineVersion.split('.')[0]);
      if (engine === ReplicationGroupEngine.VALKEY && major < 7) problems.push(`engineVersion ${engineVersion} is not a Valkey version (7.2 or later)`);
      if (engine === ReplicationGroupEngine.REDIS && major < 6) problems.push(`engineVersion ${engineVersion} is too old: Redis OSS 6 or later is needed for TLS with AUTH/RBAC`);
    }
    if (!Token.isUnresolved(cacheNodeType) && !/^cache\.[a-z0-9-]+\.[a-z0-9]+$/.test(cacheNodeType)) {
      problems.push(`cacheNodeType must look like 'cache.t4g.small', got '${cacheNodeType}'`);
    }
    checkInt(problems, 'numNodeGroups', numNodeGroups, 1, 500);
    checkInt(problems, 'replicasPerNodeGroup', replicas, 0, 5);
    checkInt(problems, 'port', port, 1024, 65535);
    checkInt(problems, 'authTokenLength', props.authTokenLength, 32, 128);
    checkInt(problems, 'snapshotRetentionLimit', props.snapshotRetentionLimit, 0, 35);
    if (props.clusterMode === false && numNodeGroups > 1) {
      problems.push(`numNodeGroups ${numNodeGroups} needs cluster mode; clusterMode is false`);
    }
    checkExclusive(problems, { existingAuthSecret: props.existingAuthSecret, userGroupIds: props.userGroupIds });
    if (props.userGroupIds !== undefined && props.userGroupIds.length === 0) {
      problems.push('userGroupIds must name at least one user group when given');
    }
    if (props.authTokenLength !== undefined && (props.existingAuthSecret || props.userGroupIds)) {
      problems.push('authTokenLength only applies to a generated AUTH token; remove it or existingAuthSecret/userGroupIds');
    }
    const selection = storeSubnetSelection(problems, props.vpc, props.vpcSubnets);
    const subnets = !selection ? [] : selectPrivateSubnets(problems, props.vpc, selection, {
      name: 'vpcSubnets',
      nonEmpty: true,
      twoAzsProblem: replicas > 0 ? 'Multi-AZ (replicasPerNodeGroup > 0) needs subnets in at least two availability zones' : undefined,
    });
    validateProps(this, problems);

    this.vpc = props.vpc;
    this.engine = engine;
    this.clusterMode = clusterMode;
    this.port = port;
    this.encryptionKey = props.encryptionKey;
    this.replicasPerNodeGroup = replicas;

    const network = createElastiCacheNetwork(this, props.vpc, subnets, port, props.securityGroup);
    this.securityGroup = network.securityGroup;
    this.connections = network.connections;
    this.subnetGroup = network.subnetGroup;

    let authToken: string | undefined;
    if (!props.userGroupIds) {
      this.authSecret =
        props.existingAuthSecret ??
        new secretsmanager.Secret(this, 'AuthToken', {
          description: `AUTH token of session store ${this.node.path}`,
          encryptionKey: props.encryptionKey,
          generateSecretString: elastiCacheAuthTokenGenerator(props.authTokenLength ?? 64),
        });
      if (this.authSecret instanceof secretsmanager.Secret) {
        if (props.removalPolicy !== undefined) this.authSecret.applyRemovalPolicy(secretRemovalPolicy(props.removalPolicy));
        Validations.of(this.authSecret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'ElastiCache has no managed rotation for AUTH tokens; rotating needs ModifyReplicationGroup with ' +
            'AuthTokenUpdateStrategy ROTATE then SET. The token never leaves the VPC-only, TLS-only group.',
        });
      }
      // A dynamic reference ({{resolve:secretsmanager:...}}): the token never appears in the template.
      authToken = this.authSecret.secretValue.unsafeUnwrap();
    }

    const multiAz = replicas > 0;
    // Default parameter group families: default.valkey8, default.valkey7, default.redis7, default.redis6.x.
    const major = engineVersion.split('.')[0];
    const family = engine === ReplicationGroupEngine.REDIS && major === '6' ? 'redis6.x' : `${engine}${major}`;
    this.resource = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: props.description ?? `Session store (${this.node.path})`,
      engine,
      engineVersion,
      cacheNodeType,
      port,
      cacheSubnetGroupName: this.subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey?.keyArn,
      authToken,
      userGroupIds: props.userGroupIds,
      multiAzEnabled: multiAz,
      // Cluster mode always fails over on its own; without replicas there is nothing to fail over to.
      automaticFailoverEnabled: clusterMode || multiAz,
      ...(clusterMode
        ? {
            clusterMode: 'enabled',
            numNodeGroups,
            replicasPerNodeGroup: replicas,
            cacheParameterGroupName: `default.${family}.cluster.on`,
          }
        : { numCacheClusters: 1 + replicas }),
      snapshotRetentionLimit: props.snapshotRetentionLimit ?? 1,
      autoMinorVersionUpgrade: true,
    });
    this.resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    if (props.userGroupIds) {
      Validations.of(this.resource).acknowledge({
        id: 'AwsSolutions-AEC6',
        reason: 'Clients authenticate through the RBAC user groups in UserGroupIds (users with passwords and access strings), which replace the AUTH token the rule looks for.',
      });
    }
    if (port === 6379) {
      // cdk-nag AEC5 only checks engine 'redis'; say it for valkey too.
      Annotations.of(this).addWarningV2('cdk-sessions:defaultCachePort', 'port 6379 is the well-known Redis/Valkey port; a non-default port (default 6380) avoids untargeted scans');
    }

    this.replicationGroupId = this.resource.ref;
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: this.replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    if (clusterMode) {
      this.endpointAddress = this.resource.attrConfigurationEndPointAddress;
      this.endpointPort = this.resource.attrConfigurationEndPointPort;
    } else {
      this.endpointAddress = this.resource.attrPrimaryEndPointAddress;
      this.endpointPort = this.resource.attrPrimaryEndPointPort;
      this.readerEndpointAddress = this.resource.attrReaderEndPointAddress;
    }
    this.memberClusterIds = [];
    for (let shard = 1; shard <= (clusterMode ? numNodeGroups : 1); shard++) {
      for (let node = 1; node <= 1 + replicas; node++) {
        this.memberClusterIds.push(memberClusterId(this.replicationGroupId, clusterMode, shard, node));
      }
    }
  }

  /**
   * Grant `secretsmanager:GetSecretValue` on the AUTH secret (and `kms:Decrypt` on its key when
   * it is customer-managed). Throws when the group uses RBAC user groups instead.
   */
  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    if (!this.authSecret) {
      throw new Error(`${this.node.path} uses RBAC user groups; there is no AUTH token secret to grant`);
    }
    return grantSecretValue(this, grantee, this.authSecret);
  }

  /** Grant arbitrary `elasticache:` actions on this replication group (e.g. `elasticache:Connect` for IAM-auth users). */
  public grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.replicationGroupArn] });
  }

  /** A metric of one member node, namespace AWS/ElastiCache, dimension CacheClusterId. Average over 5 minutes. */
  public metric(metricName: string, props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    const { cacheClusterId, ...rest } = props ?? {};
    return elastiCacheMetric(metricName, { CacheClusterId: cacheClusterId ?? this.memberClusterIds[0] }, rest);
  }

  /** Percent CPU of the engine thread (EngineCPUUtilization). Average over 5 minutes. */
  public metricEngineCPUUtilization(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('EngineCPUUtilization', props);
  }

  /** Percent of maxmemory in use (DatabaseMemoryUsagePercentage). Maximum over 5 minutes. */
  public metricDatabaseMemoryUsagePercentage(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...props });
  }

  /** Keys evicted for lack of memory (Evictions): for a session store every one is a lost login. Sum over 5 minutes. */
  public metricEvictions(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...props });
  }

  /** Seconds a replica lags its primary (ReplicationLag), read on the first replica. Maximum over 5 minutes. */
  public metricReplicationLag(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    if (this.replicasPerNodeGroup === 0 && props?.cacheClusterId === undefined) {
      throw new Error(`${this.node.path} has no replicas, so there is no ReplicationLag to read`);
    }
    return this.metric('ReplicationLag', { statistic: 'Maximum', cacheClusterId: this.memberClusterIds[1], ...props });
  }

  /** Open client connections (CurrConnections). Maximum over 5 minutes. */
  public metricCurrConnections(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...props });
  }
}
