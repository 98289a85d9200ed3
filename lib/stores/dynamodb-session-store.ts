import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SessionEnvVars } from '../../lambda/session/env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkSessionBucketProps, createSessionBucket, grantSessionObjects } from '../core/session-bucket';
import { checkExclusive, validateProps } from '../core/validate';
import { checkReplicaRegions, checkUnset } from './common';

/** Partition key of the session table: the session id. */
export const SESSION_TABLE_PARTITION_KEY = 'id';
/** TTL attribute of the session table (epoch seconds); the runtime still filters expired items on read. */
export const SESSION_TABLE_TTL_ATTRIBUTE = 'ttl';
/**
 * Key prefix of overflow objects: the runtime DynamoDbStore's default (`lambda/session/stores/dynamodb.ts`),
 * which the environment does not carry, so it is fixed here too.
 */
export const DYNAMODB_OVERFLOW_PREFIX = 'session-overflow/';

/** What a consumer needs on a table's customer-managed key (explicit actions, no kms:ReEncrypt* / GenerateDataKey*). */
export const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

/** The only item actions a session consumer gets on the table. */
export const SESSION_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** Properties of a {@link DynamoDbSessionStore}. */
export interface DynamoDbSessionStoreProps {
  /**
   * A table you made yourself: partition key `id` (S), TTL attribute `ttl`. Not with `tableProps`,
   * `encryptionKey`, `replicaRegions` or `removalPolicy`.
   * @default - a new TableV2
   */
  readonly existingTable?: dynamodb.ITableV2;
  /**
   * Extra props of the table this construct creates. The partition key, TTL attribute, billing
   * and point-in-time recovery are fixed.
   * @default - none
   */
  readonly tableProps?: Omit<dynamodb.TablePropsV2, 'partitionKey' | 'timeToLiveAttribute' | 'billing' | 'pointInTimeRecovery' | 'pointInTimeRecoverySpecification'>;
  /**
   * Customer-managed key for the table. With `replicaRegions`, give `tableProps.encryption`
   * (TableEncryptionV2.customerManagedKey with the replica key ARNs) instead.
   * @default - AWS-owned key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Regions of global-table replicas (not the stack's own region).
   * @default - no replicas
   */
  readonly replicaRegions?: string[];
  /**
   * What happens to the table when it leaves the stack. RETAIN by default: dropping the table
   * would log every user out, and a deleted table cannot be brought back (PITR dies with it).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * An S3 bucket for sessions larger than the 400 KB DynamoDB item limit.
   * @default false
   */
  readonly overflowBucket?: boolean;
  /**
   * Extra props of the overflow bucket (it stays private, TLS-only, unversioned).
   * @default - none
   */
  readonly overflowBucketProps?: s3.BucketProps;
  /**
   * Lifecycle expiration of overflow objects, whole days.
   * @default Duration.days(2)
   */
  readonly overflowExpiration?: Duration;
  /**
   * Server access logs destination of the overflow bucket.
   * @default - no access logs (AwsSolutions-S1 acknowledged on the bucket, with the reason)
   */
  readonly overflowServerAccessLogsBucket?: s3.IBucket;
}

/**
 * A DynamoDB session store: on-demand TableV2 with partition key `id`, TTL `ttl`, PITR, optional
 * global replicas and an optional S3 overflow bucket. `bind(consumer)` grants only
 * GetItem/PutItem/UpdateItem/DeleteItem on the table (and Get/Put/DeleteObject under the
 * overflow prefix `session-overflow/`, + ListBucket on that bucket) and returns
 * `SESSION_STORE=dynamodb`, `SESSION_TABLE`, and with overflow `SESSION_OVERFLOW_BUCKET`.
 */
export class DynamoDbSessionStore extends Construct implements ISessionStore {
  /** Always 'dynamodb'. */
  public readonly kind = 'dynamodb' as const;
  /** No VPC: DynamoDB is reached through its API with IAM credentials. */
  public readonly vpc = undefined;
  /** The session table. */
  public readonly table: dynamodb.ITableV2;
  /** The overflow bucket, when asked for. */
  public readonly overflowBucket?: s3.IBucket;
  /** Prefix of overflow objects (`session-overflow/`). */
  public readonly overflowPrefix: string;

  constructor(scope: Construct, id: string, props: DynamoDbSessionStoreProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, { existingTable: props.existingTable, tableProps: props.tableProps });
    if (props.existingTable) {
      checkUnset(problems, props, ['encryptionKey', 'replicaRegions', 'removalPolicy'], 'only applies to a table this construct creates, not to existingTable');
    }
    if (props.encryptionKey && props.tableProps?.encryption) problems.push('encryptionKey and tableProps.encryption are mutually exclusive; set only one');
    if (props.encryptionKey && props.replicaRegions?.length) {
      problems.push('encryptionKey with replicaRegions needs a key per region: use tableProps.encryption = TableEncryptionV2.customerManagedKey(key, replicaKeyArns)');
    }
    for (const r of props.replicaRegions ?? []) {
      if (!Token.isUnresolved(r) && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) problems.push(`replicaRegions entry '${r}' is not a region name`);
    }
    if (props.replicaRegions && new Set(props.replicaRegions).size !== props.replicaRegions.length) problems.push('replicaRegions has duplicates');
    if (!props.existingTable) checkReplicaRegions(problems, Stack.of(this), {
      replicaRegions: props.replicaRegions ?? [],
      'tableProps.replicas': (props.tableProps?.replicas ?? []).map((r) => r.region),
    });
    if (!props.overflowBucket) {
      checkUnset(problems, props, ['overflowBucketProps', 'overflowExpiration', 'overflowServerAccessLogsBucket'], 'needs overflowBucket: true');
    }
    const prefix = DYNAMODB_OVERFLOW_PREFIX;
    checkSessionBucketProps(problems, 'overflowBucketProps', props.overflowBucketProps, props.overflowExpiration);
    validateProps(this, problems);

    this.overflowPrefix = prefix;
    this.table =
      props.existingTable ??
      new dynamodb.TableV2(this, 'Table', {
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        encryption: props.encryptionKey ? dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey) : undefined,
        replicas: props.replicaRegions?.map((region) => ({ region })),
        ...props.tableProps,
        partitionKey: { name: SESSION_TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: SESSION_TABLE_TTL_ATTRIBUTE,
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      });

    if (props.overflowBucket) {
      this.overflowBucket = createSessionBucket(this, 'OverflowBucket', {
        prefix,
        expiration: props.overflowExpiration ?? Duration.days(2),
        serverAccessLogsBucket: props.overflowServerAccessLogsBucket,
        bucketProps: props.overflowBucketProps,
        encryptionKey: props.encryptionKey,
      });
    }
  }

  /**
   * Grants the item actions on the table only (plus encrypt/decrypt on a customer key) and, with
   * overflow, Get/Put/DeleteObject under the prefix + ListBucket on that bucket (see grantSessionObjects).
   */
  public grantSessionAccess(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, ...SESSION_TABLE_ACTIONS);
    this.table.encryptionKey?.grant(grantee, ...TABLE_KEY_ACTIONS);
    if (this.overflowBucket) grantSessionObjects(this.overflowBucket, this.overflowPrefix, grantee);
    return grant;
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

  /** Grants {@link grantSessionAccess} to the consumer and returns the runtime environment. */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.grantSessionAccess(consumer);
    const environment: Record<string, string> = {
      [SessionEnvVars.STORE]: 'dynamodb',
      [SessionEnvVars.TABLE]: this.table.tableName,
    };
    if (this.overflowBucket) environment[SessionEnvVars.OVERFLOW_BUCKET] = this.overflowBucket.bucketName;
    return { environment };
  }
}
