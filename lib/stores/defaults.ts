import * as rds from 'aws-cdk-lib/aws-rds';
import { REVOCATION_TABLE_PARTITION_KEY, REVOCATION_TABLE_TTL_ATTRIBUTE } from './jwt-session-keys';
import { DEFAULT_MEMCACHED_ENGINE_VERSION, DEFAULT_MEMCACHED_PORT } from './memcached-session-store';
import { DEFAULT_AURORA_POSTGRES_VERSION, RDS_PROXY_POSTGRES_PORT } from './postgres-session-store';
import { DEFAULT_REPLICATION_GROUP_PORT } from './replication-group';
import { S3_REQUEST_METRICS_ID } from './s3-session-store';
import { SESSION_TABLE_PARTITION_KEY, SESSION_TABLE_TTL_ATTRIBUTE } from './dynamodb-session-store';

/**
 * The stores' defaults and the key schema of tables you bring yourself, for every language (the
 * same values as the TypeScript constants `DEFAULT_MEMCACHED_PORT` and so on, which jsii does not
 * carry to Python, Java, .NET or Go).
 */
export class SessionStoreDefaults {
  /** Default port of a replication group: deliberately not the well-known 6379 (cdk-nag AwsSolutions-AEC5). */
  public static readonly REPLICATION_GROUP_PORT: number = DEFAULT_REPLICATION_GROUP_PORT;
  /** Default port of a node-based Memcached cluster: deliberately not the well-known 11211 (cdk-nag AwsSolutions-AEC5). */
  public static readonly MEMCACHED_PORT: number = DEFAULT_MEMCACHED_PORT;
  /** Default Memcached engine version; in-transit encryption needs 1.6.12 or later. */
  public static readonly MEMCACHED_ENGINE_VERSION: string = DEFAULT_MEMCACHED_ENGINE_VERSION;
  /** The Aurora PostgreSQL version new stores get: the newest 17.x this aws-cdk-lib knows that RDS Proxy supports. */
  public static readonly AURORA_POSTGRES_VERSION: rds.AuroraPostgresEngineVersion = DEFAULT_AURORA_POSTGRES_VERSION;
  /** RDS Proxy listens on 5432 for the PostgreSQL engine family; it cannot be changed. */
  public static readonly RDS_PROXY_POSTGRES_PORT: number = RDS_PROXY_POSTGRES_PORT;
  /** Partition key of the session table: the session id. */
  public static readonly SESSION_TABLE_PARTITION_KEY: string = SESSION_TABLE_PARTITION_KEY;
  /** TTL attribute of the session table (epoch seconds); the runtime still filters expired items on read. */
  public static readonly SESSION_TABLE_TTL_ATTRIBUTE: string = SESSION_TABLE_TTL_ATTRIBUTE;
  /** Partition key of the revocation (denylist) table: `sid#<session id>`, `user#<subject>` or `jti#<token id>`. */
  public static readonly REVOCATION_TABLE_PARTITION_KEY: string = REVOCATION_TABLE_PARTITION_KEY;
  /** TTL attribute of the revocation table: an entry may go once the token it revokes has expired. */
  public static readonly REVOCATION_TABLE_TTL_ATTRIBUTE: string = REVOCATION_TABLE_TTL_ATTRIBUTE;
  /** Id of the S3 request-metrics configuration (`requestMetrics: true`) that the S3 store's `metric*()` methods read. */
  public static readonly S3_REQUEST_METRICS_ID: string = S3_REQUEST_METRICS_ID;

  private constructor() {}
}
