import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeGuard } from './guard';
import { acknowledgePrefixWildcard } from './nag';

/** How a session bucket is made; shared by the S3 store and the DynamoDB overflow bucket. */
export interface SessionBucketOptions {
  /** Objects under this prefix expire through the lifecycle rule. */
  readonly prefix: string;
  /** Lifecycle expiration; whole days (S3 lifecycle has no finer unit). */
  readonly expiration: Duration;
  /** Customer key (SSE-KMS with a bucket key); otherwise SSE-S3. */
  readonly encryptionKey?: kms.IKey;
  /** Where S3 server access logs go; without it AwsSolutions-S1 is acknowledged on this bucket. */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Key prefix of the access logs. */
  readonly serverAccessLogsPrefix?: string;
  /** Extra bucket props; they cannot weaken the checks in {@link checkSessionBucketProps}. */
  readonly bucketProps?: s3.BucketProps;
  /** Removal policy; wins over `bucketProps.removalPolicy`. Default RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
  /** Id of a request-metrics configuration filtered to `prefix`, when one is asked for. */
  readonly requestMetricsId?: string;
}

/** Problems with user-given bucket props or expiration, for `validateProps`. */
export function checkSessionBucketProps(problems: string[], name: string, bucketProps: s3.BucketProps | undefined, expiration: Duration | undefined): void {
  if (bucketProps?.publicReadAccess) problems.push(`${name}.publicReadAccess must not be true: sessions are private`);
  if (bucketProps?.enforceSSL === false) problems.push(`${name}.enforceSSL must not be false: session data only travels over TLS`);
  if (bucketProps?.versioned) {
    problems.push(`${name}.versioned must not be true: old versions would keep deleted (logged-out) sessions readable until they expire`);
  }
  if (bucketProps?.blockPublicAccess && bucketProps.blockPublicAccess !== s3.BlockPublicAccess.BLOCK_ALL) {
    problems.push(`${name}.blockPublicAccess must be BLOCK_ALL`);
  }
  if (expiration && !Token.isUnresolved(expiration.toSeconds())) {
    const hours = expiration.toHours({ integral: false });
    if (hours < 24 || hours % 24 !== 0) problems.push(`expiration must be a whole number of days (at least 1): S3 lifecycle rules count in days, got ${expiration.toHumanString()}`);
  }
}

/**
 * A private, TLS-only, unversioned bucket whose session objects expire by lifecycle:
 * BLOCK_ALL public access, `aws:SecureTransport` deny + TLS 1.2 minimum, SSE-S3 or SSE-KMS,
 * bucket-owner-enforced ownership.
 */
export function createSessionBucket(scope: Construct, id: string, opts: SessionBucketOptions): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    removalPolicy: RemovalPolicy.RETAIN,
    ...opts.bucketProps,
    ...(opts.removalPolicy !== undefined ? { removalPolicy: opts.removalPolicy } : {}),
    metrics:
      opts.requestMetricsId !== undefined ? [...(opts.bucketProps?.metrics ?? []), { id: opts.requestMetricsId, prefix: opts.prefix }] : opts.bucketProps?.metrics,
    encryption: opts.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: opts.encryptionKey,
    bucketKeyEnabled: opts.encryptionKey ? true : undefined,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: false,
    serverAccessLogsBucket: opts.serverAccessLogsBucket,
    serverAccessLogsPrefix: opts.serverAccessLogsBucket ? (opts.serverAccessLogsPrefix ?? `${id}/`) : undefined,
    lifecycleRules: [
      ...(opts.bucketProps?.lifecycleRules ?? []),
      {
        id: 'ExpireSessions',
        prefix: opts.prefix,
        expiration: opts.expiration,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  if (!opts.serverAccessLogsBucket) {
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No serverAccessLogsBucket was given: every object is a short-lived session read and written on each ' +
        'request, so access logs would double the request volume; use CloudTrail S3 data events for audits, or ' +
        'pass serverAccessLogsBucket to turn logging on.',
    });
    acknowledgeGuard(
      bucket,
      's3_bucket_logging_enabled_check',
      'No serverAccessLogsBucket was given: each request reads and writes a short-lived session object, so access logs ' +
        'would double the request volume; use CloudTrail S3 data events for audits, or pass serverAccessLogsBucket.',
    );
  }
  if (!opts.encryptionKey) {
    acknowledgeGuard(
      bucket,
      's3_bucket_default_encryption_kms_check',
      'No encryptionKey was given: sessions are encrypted at rest with SSE-S3; pass encryptionKey for SSE-KMS (with a ' +
        'bucket key) where key-policy control or per-key audit of session reads is required.',
    );
  }
  acknowledgeGuard(
    bucket,
    's3_bucket_versioning_enabled_check',
    'Versioning is refused on purpose: old versions would keep deleted (logged-out) sessions readable until they expire.',
  );
  acknowledgeGuard(
    bucket,
    's3_bucket_object_lock_enabled_check',
    'Object Lock needs versioning and forbids deletes, but logout must delete the session object at once.',
  );
  acknowledgeGuard(
    bucket,
    's3_event_notifications_enabled_check',
    'Session objects are read and written on every request; nothing reacts to those writes, and events per write would be a second traffic stream.',
  );
  return bucket;
}

/** The only object actions a session consumer gets in a session bucket. */
export const SESSION_OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];

/**
 * Grants Get/Put/DeleteObject on `<bucket>/<prefix>*` only, plus `s3:ListBucket` on that one
 * bucket: without ListBucket, S3 answers a GetObject for a missing key (a logged-out or expired
 * session) with 403 AccessDenied instead of 404 NoSuchKey, which the runtime could not tell from
 * a real permission failure. Adds kms:Decrypt + kms:GenerateDataKey on the bucket's customer key, if any.
 */
export function grantSessionObjects(bucket: s3.IBucket, prefix: string, grantee: iam.IGrantable): iam.Grant {
  const objects = bucket.arnForObjects(`${prefix}*`);
  const grant = iam.Grant.addToPrincipal({ grantee, actions: SESSION_OBJECT_ACTIONS, resourceArns: [objects] });
  acknowledgePrefixWildcard(
    grantee,
    objects,
    `Session objects are named by random session id under the "${prefix}" prefix of this one bucket; ` +
      'the wildcard is that key prefix, not other buckets or other prefixes, and the actions are only Get/Put/DeleteObject.',
  );
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
  // SSE-KMS: GetObject needs Decrypt, PutObject GenerateDataKey; no wildcard actions (kms:ReEncrypt*, ...).
  bucket.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  return grant;
}
