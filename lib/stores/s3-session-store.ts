import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULTS, SessionEnvVars } from '../../lambda/session/env';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkSessionBucketProps, createSessionBucket, grantSessionObjects } from '../core/session-bucket';
import { checkExclusive, validateProps } from '../core/validate';
import { checkUnset } from './common';

/** Properties of an {@link S3SessionStore}. */
export interface S3SessionStoreProps {
  /**
   * A bucket you made yourself. Not with `bucketProps`, `encryptionKey`, `expiration` or
   * `serverAccessLogsBucket` (its own settings apply; make sure it is private and TLS-only).
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
}

/**
 * An S3 session store: a private, TLS-only, unversioned bucket whose session objects expire by
 * lifecycle. `bind(consumer)` grants only Get/Put/DeleteObject on `<bucket>/<prefix>*` (+ ListBucket
 * on the bucket, for honest 404s) and
 * returns `SESSION_STORE=s3`, `SESSION_BUCKET`, `SESSION_BUCKET_PREFIX`.
 */
export class S3SessionStore extends Construct implements ISessionStore {
  /** Always 's3'. */
  public readonly kind = 's3' as const;
  /** No VPC: S3 is reached through its API with IAM credentials. */
  public readonly vpc = undefined;
  /** The session bucket. */
  public readonly bucket: s3.IBucket;
  /** Key prefix of session objects. */
  public readonly prefix: string;

  constructor(scope: Construct, id: string, props: S3SessionStoreProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, { existingBucket: props.existingBucket, bucketProps: props.bucketProps });
    if (props.existingBucket) {
      checkUnset(problems, props, ['encryptionKey', 'expiration', 'serverAccessLogsBucket'], 'only applies to a bucket this construct creates, not to existingBucket');
    }
    const prefix = props.prefix ?? DEFAULTS.bucketPrefix;
    if (!Token.isUnresolved(prefix) && (prefix === '' || prefix.startsWith('/') || prefix.includes('*'))) {
      problems.push(`prefix must be a non-empty key prefix without a leading '/' or '*', got '${prefix}'`);
    }
    checkSessionBucketProps(problems, 'bucketProps', props.bucketProps, props.expiration);
    validateProps(this, problems);

    this.prefix = prefix;
    this.bucket =
      props.existingBucket ??
      createSessionBucket(this, 'Bucket', {
        prefix,
        expiration: props.expiration ?? Duration.days(2),
        encryptionKey: props.encryptionKey,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
        bucketProps: props.bucketProps,
      });
  }

  /**
   * Get/Put/DeleteObject on `<bucket>/<prefix>*` only, `s3:ListBucket` on this bucket (so a missing
   * session reads as 404, not 403), and encrypt/decrypt on a customer key.
   */
  public grantSessionAccess(grantee: iam.IGrantable): iam.Grant {
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

  /** Grants {@link grantSessionAccess} to the consumer and returns the runtime environment. */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.grantSessionAccess(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 's3',
        [SessionEnvVars.BUCKET]: this.bucket.bucketName,
        [SessionEnvVars.BUCKET_PREFIX]: this.prefix,
      },
    };
  }
}
