import type * as elasticacheAlpha from '@aws-cdk/aws-elasticache-alpha';
import { Names, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SessionEnvVars } from '../../lambda/session/env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { checkExclusive, checkInt, validateProps } from '../core/validate';
import { allowConsumer, createStoreSecurityGroup, defaultPrivateSubnets, elastiCacheAuthTokenGenerator, grantSecretValue, selectPrivateSubnets } from './common';
import { loadElastiCacheAlpha } from './elasticache-alpha';
import { ReplicationGroup, ReplicationGroupProps } from './replication-group';

/** Options for the serverless variant of {@link RedisSessionStore}. */
export interface RedisServerlessOptions {
  /**
   * Where the cache endpoints go. Must select private subnets only.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
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

/** Properties of a {@link RedisSessionStore}. */
export interface RedisSessionStoreProps {
  /** The VPC the cache lives in; consumers must run in it (see `bind`). */
  readonly vpc: ec2.IVpc;
  /**
   * ElastiCache Serverless (Valkey 8) instead of a node-based replication group. Serverless
   * always encrypts in transit and at rest and always listens on 6379 (it cannot be changed);
   * access needs the password of an RBAC user this construct creates.
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * A replication group you made yourself (in `vpc`). Not with `serverless` or `replicationGroupProps`.
   * @default - a new ReplicationGroup from `replicationGroupProps`
   */
  readonly existingReplicationGroup?: ReplicationGroup;
  /**
   * Shape the replication group this construct creates.
   * @default - ReplicationGroup defaults: Valkey 8.0, cache.t4g.small, 1 shard with 1 replica
   *   (Multi-AZ, automatic failover), port 6380, TLS, encryption at rest, generated AUTH token
   */
  readonly replicationGroupProps?: Omit<ReplicationGroupProps, 'vpc'>;
  /**
   * Shape the serverless cache (only with `serverless: true`).
   * @default - private subnets, AWS-owned key, access string 'on ~* +@all', 1 day of snapshots
   */
  readonly serverlessOptions?: RedisServerlessOptions;
}

/**
 * A Redis/Valkey session store: a {@link ReplicationGroup}, or ElastiCache Serverless.
 * `bind(consumer)` opens the cache port to the consumer's security groups, lets it read the
 * ONE auth secret, and returns `SESSION_STORE=redis`, `SESSION_REDIS_URL=rediss://host:port`,
 * `SESSION_REDIS_CLUSTER` and `SESSION_REDIS_AUTH_SECRET_ARN`.
 */
export class RedisSessionStore extends Construct implements ISessionStore, ec2.IConnectable {
  /** Always 'redis'. */
  public readonly kind = 'redis' as const;
  /** The VPC consumers must run in. */
  public readonly vpc: ec2.IVpc;
  /** Network access to the cache. */
  public readonly connections: ec2.Connections;
  /** The replication group, when not serverless. */
  public readonly replicationGroup?: ReplicationGroup;
  /** The serverless cache, when serverless. */
  public readonly serverlessCache?: elasticacheAlpha.ServerlessCache;
  /** The RBAC user group of the serverless cache. */
  public readonly userGroup?: elasticacheAlpha.UserGroup;
  /** The secret the runtime reads the AUTH token / password from (SecretString = the token). */
  public readonly authSecret: secretsmanager.ISecret;
  /** Endpoint address clients connect to. */
  public readonly endpointAddress: string;
  /** Endpoint port, as a string token. */
  public readonly endpointPort: string;
  /** Whether clients must be cluster-aware (cluster mode replication group, or serverless). */
  public readonly cluster: boolean;

  constructor(scope: Construct, id: string, props: RedisSessionStoreProps) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, {
      existingReplicationGroup: props.existingReplicationGroup,
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
    if (props.replicationGroupProps?.userGroupIds) {
      problems.push('replicationGroupProps.userGroupIds is not supported: the runtime authenticates with the AUTH token secret (SESSION_REDIS_AUTH_SECRET_ARN)');
    }
    const subnets = props.serverlessOptions?.vpcSubnets;
    if (props.serverless && subnets) selectPrivateSubnets(problems, props.vpc, subnets, { name: 'serverlessOptions.vpcSubnets' });
    checkInt(problems, 'serverlessOptions.snapshotRetentionLimit', props.serverlessOptions?.snapshotRetentionLimit, 0, 35);
    validateProps(this, problems);
    this.vpc = props.vpc;

    if (props.serverless) {
      const elasticacheAlpha = loadElastiCacheAlpha('RedisSessionStore with serverless: true'); // an optional peer, loaded only here
      const opts = props.serverlessOptions ?? {};
      const secret = new secretsmanager.Secret(this, 'Password', {
        description: `Password of the session user of ${this.node.path}`,
        encryptionKey: opts.encryptionKey,
        generateSecretString: elastiCacheAuthTokenGenerator(64),
      });
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
      this.userGroup = new elasticacheAlpha.UserGroup(this, 'UserGroup', {
        engine: elasticacheAlpha.UserEngine.VALKEY,
        users: [user],
      });
      const securityGroup = createStoreSecurityGroup(this, props.vpc);
      this.serverlessCache = new elasticacheAlpha.ServerlessCache(this, 'Cache', {
        engine: elasticacheAlpha.CacheEngine.VALKEY_8,
        description: 'Session store',
        vpc: props.vpc,
        vpcSubnets: subnets ?? defaultPrivateSubnets(props.vpc),
        securityGroups: [securityGroup],
        kmsKey: opts.encryptionKey,
        userGroup: this.userGroup,
        backup: (opts.snapshotRetentionLimit ?? 1) > 0 ? { backupRetentionLimit: opts.snapshotRetentionLimit ?? 1 } : undefined,
      });
      this.connections = this.serverlessCache.connections;
      this.authSecret = secret;
      this.endpointAddress = this.serverlessCache.serverlessCacheEndpointAddress;
      this.endpointPort = this.serverlessCache.serverlessCacheEndpointPort;
      this.cluster = true;
    } else {
      const group =
        props.existingReplicationGroup ??
        new ReplicationGroup(this, 'ReplicationGroup', { ...props.replicationGroupProps, vpc: props.vpc });
      this.replicationGroup = group;
      this.connections = group.connections;
      this.authSecret = group.authSecret!;
      this.endpointAddress = group.endpointAddress;
      this.endpointPort = group.endpointPort;
      this.cluster = group.clusterMode;
    }
  }

  /** `rediss://<endpoint>:<port>` (always TLS). */
  public get url(): string {
    return `rediss://${this.endpointAddress}:${this.endpointPort}`;
  }

  /**
   * Opens the cache port to the consumer's security groups, grants
   * `secretsmanager:GetSecretValue` on the auth secret only (and `kms:Decrypt` through Secrets
   * Manager when that secret uses a customer key), and returns the runtime environment.
   * Throws when the consumer has no `connections` (it must run in the store's VPC).
   */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    allowConsumer(this, consumer, 'Redis');
    this.grantReadAuthSecret(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 'redis',
        [SessionEnvVars.REDIS_URL]: this.url,
        [SessionEnvVars.REDIS_CLUSTER]: String(this.cluster),
        [SessionEnvVars.REDIS_AUTH_SECRET_ARN]: this.authSecret.secretArn,
      },
    };
  }

  /** `secretsmanager:GetSecretValue` on the auth secret (plus `kms:Decrypt` via Secrets Manager on a customer key). */
  public grantReadAuthSecret(grantee: iam.IGrantable): iam.Grant {
    if (this.replicationGroup) return this.replicationGroup.grantReadAuthToken(grantee);
    return grantSecretValue(this, grantee, this.authSecret);
  }
}
