import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RUNTIME_DEFAULTS, SessionEnvVars, SessionStoreKind } from '../core/session-env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkSessionBucketProps, createSessionBucket, grantSessionObjects } from '../core/session-bucket';
import { checkExclusive, validateProps } from '../core/validate';
import { checkUnset } from './common';

/**
 * Id of the request-metrics configuration (`requestMetrics: true`) that the `metric*()` methods
 * read: CloudWatch publishes S3 request metrics only for such a configuration, per `FilterId`.
 */
export const S3_REQUEST_METRICS_ID = 'SessionRequests';

/** Properties of an {@link S3SessionStore}. */
export interface S3SessionStoreProps {
  /**
   * A bucket you made yourself (or imported with `Bucket.fromBucketAttributes`, with its
   * `encryptionKey` when it uses SSE-KMS, so that consumers get the key grants); sessions go under
   * `prefix`. Not with `bucketProps`, `encryptionKey`, `expiration`, `serverAccessLogsBucket`,
   * `removalPolicy` or `requestMetrics` (its own settings apply; make sure it is private and
   * TLS-only, and expires objects under `prefix`).
   * @default - a new bucket
   */
  readonly existingBucket?: s3.IBucket;
  /**
   * Extra props of the bucket this construct creates. It stays BLOCK_ALL, TLS-only (and TLS 1.2+)
   * and unversioned: versioning would keep every old version of a session, including the ones
   * logout deleted, readable until they expire, and conditional writes (If-Match) need no versions.
   * @default - none
   */
  readonly bucketProps?: s3.BucketProps;
  /**
   * Customer-managed key (SSE-KMS with a bucket key).
   * @default - SSE-S3 (S3-managed keys)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Key prefix of session objects; consumers may touch only keys under it.
   * @default 'sessions/'
   */
  readonly prefix?: string;
  /**
   * Lifecycle expiration of session objects, whole days. S3 deletes lazily (up to a day late);
   * the runtime filters expired sessions on read, so this only bounds storage.
   * @default Duration.days(2)
   */
  readonly expiration?: Duration;
  /**
   * Server access logs destination.
   * @default - no access logs (AwsSolutions-S1 acknowledged on the bucket, with the reason)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * What happens to the bucket when it leaves the stack. DESTROY fails while the bucket still
   * holds session objects (they expire within `expiration`).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Add a CloudWatch request-metrics configuration (id `SessionRequests`) filtered to `prefix`, so
   * that `metric4xxErrors()`, `metric5xxErrors()` and the other request metrics have data. S3 bills
   * request metrics like custom CloudWatch metrics.
   * @default false
   */
  readonly requestMetrics?: boolean;
}

/** The request metrics of an S3 session store (namespace AWS/S3, dimensions BucketName and FilterId). */
const S3_REQUEST_METRIC_STATISTICS: { [metricName: string]: string } = {
  '4xxErrors': 'Sum',
  '5xxErrors': 'Sum',
  AllRequests: 'Sum',
  TotalRequestLatency: 'Average',
  FirstByteLatency: 'Average',
};

/**
 * An S3 session store: a private, TLS-only, unversioned bucket whose session objects expire by
 * lifecycle. `bind(consumer)` grants only Get/Put/DeleteObject on `<bucket>/<prefix>*` (+ ListBucket
 * on the bucket, for honest 404s) and
 * returns `SESSION_STORE=s3`, `SESSION_BUCKET`, `SESSION_BUCKET_PREFIX`.
 */
export class S3SessionStore extends Construct implements ISessionStore, ec2.IConnectable {
  /** Always 's3'. */
  public readonly kind: SessionStoreKind = SessionStoreKind.S3;
  /** No VPC: S3 is reached through its API with IAM credentials. */
  public readonly vpc?: ec2.IVpc;
  /**
   * Empty: S3 is reached through its API, so there is no security group to open. Present so
   * that every store is `ec2.IConnectable`; `connect()` adds no network rule.
   */
  public readonly connections: ec2.Connections = new ec2.Connections();
  /** The session bucket. */
  public readonly bucket: s3.IBucket;
  /** Key prefix of session objects. */
  public readonly prefix: string;
  /** True when this store added the request-metrics configuration (`requestMetrics`) that `metric*()` read. */
  public readonly requestMetrics: boolean;

  constructor(scope: Construct, id: string, props: S3SessionStoreProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, { existingBucket: props.existingBucket, bucketProps: props.bucketProps });
    if (props.existingBucket) {
      checkUnset(
        problems,
        props,
        ['encryptionKey', 'expiration', 'serverAccessLogsBucket', 'removalPolicy', 'requestMetrics'],
        'only applies to a bucket this construct creates, not to existingBucket',
      );
    }
    if (props.removalPolicy !== undefined && props.bucketProps?.removalPolicy !== undefined) {
      problems.push('removalPolicy and bucketProps.removalPolicy are mutually exclusive; set only removalPolicy');
    }
    const prefix = props.prefix ?? RUNTIME_DEFAULTS.bucketPrefix;
    if (!Token.isUnresolved(prefix) && (prefix === '' || prefix.startsWith('/') || prefix.includes('*'))) {
      problems.push(`prefix must be a non-empty key prefix without a leading '/' or '*', got '${prefix}'`);
    }
    checkSessionBucketProps(problems, 'bucketProps', props.bucketProps, props.expiration);
    validateProps(this, problems);

    this.prefix = prefix;
    this.requestMetrics = props.requestMetrics === true;
    this.bucket =
      props.existingBucket ??
      createSessionBucket(this, 'Bucket', {
        prefix,
        expiration: props.expiration ?? Duration.days(2),
        encryptionKey: props.encryptionKey,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
        bucketProps: props.bucketProps,
        removalPolicy: props.removalPolicy,
        requestMetricsId: props.requestMetrics ? S3_REQUEST_METRICS_ID : undefined,
      });
  }

  /**
   * Everything a consumer needs for session data: Get/Put/DeleteObject on `<bucket>/<prefix>*`
   * only, `s3:ListBucket` on this bucket (so a missing session reads as 404, not 403), and
   * Decrypt/GenerateDataKey on the bucket's customer key.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return grantSessionObjects(this.bucket, this.prefix, grantee);
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

  /** Grants {@link grantReadWrite} to the consumer and returns the runtime environment. */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.grantReadWrite(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 's3',
        [SessionEnvVars.BUCKET]: this.bucket.bucketName,
        [SessionEnvVars.BUCKET_PREFIX]: this.prefix,
      },
    };
  }

  /**
   * A request metric of the session prefix (namespace AWS/S3, dimensions BucketName and FilterId
   * `SessionRequests`). It has data only with a request-metrics configuration of that id:
   * `requestMetrics: true`, or one you added to an `existingBucket`. Sum (latencies: Average) over 5 minutes.
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName,
      dimensionsMap: { BucketName: this.bucket.bucketName, FilterId: S3_REQUEST_METRICS_ID },
      period: Duration.minutes(5),
      statistic: S3_REQUEST_METRIC_STATISTICS[metricName] ?? 'Sum',
      ...props,
    });
  }

  /** Requests answered 4xx (4xxErrors): mostly denied access. Needs a request-metrics configuration (see {@link metric}). Sum over 5 minutes. */
  public metric4xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('4xxErrors', props);
  }

  /** Requests answered 5xx (5xxErrors): S3 slow-downs and internal errors, each a session request answered 503. Needs a request-metrics configuration. Sum over 5 minutes. */
  public metric5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('5xxErrors', props);
  }

  /** Every request under the prefix (AllRequests). Needs a request-metrics configuration. Sum over 5 minutes. */
  public metricAllRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AllRequests', props);
  }

  /** Milliseconds from first byte received to last byte sent (TotalRequestLatency). Needs a request-metrics configuration. Average over 5 minutes. */
  public metricTotalRequestLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('TotalRequestLatency', props);
  }
}
