import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { parseSessionEnv } from '../../../lambda/session/env';
import { S3SessionStore } from '../../../lib/stores';
import { actionsOf, boundStore, expectNoServiceWideWildcards, expectProblems, newConsumer, newStack, policyStatements } from '../helpers';

describe('S3SessionStore defaults', () => {
  const { stack, store, binding, template } = boundStore((s) => new S3SessionStore(s, 'Store'));

  test('bucket: BLOCK_ALL public access, SSE-S3, bucket-owner-enforced, not versioned, sessions/ expire after 2 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: Match.absent(),
      LoggingConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: [{ Id: 'ExpireSessions', Prefix: 'sessions/', ExpirationInDays: 2, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }],
      },
    });
  });

  test('bucket policy denies any request without TLS (aws:SecureTransport false) and below TLS 1.2', () => {
    const bucketArn = stack.resolve(store.bucket.bucketArn);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [bucketArn, stack.resolve(store.bucket.arnForObjects('*'))],
          },
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('bind grants Get/Put/DeleteObject on <bucket>/sessions/* and ListBucket on the bucket, nothing else, no service-wide wildcard', () => {
    const statements = policyStatements(template);
    expect(statements).toEqual([
      { Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'], Effect: 'Allow', Resource: stack.resolve(store.bucket.arnForObjects('sessions/*')) },
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: stack.resolve(store.bucket.bucketArn) },
    ]);
    expectNoServiceWideWildcards(template);
  });

  test('bind returns SESSION_STORE=s3, the bucket and the prefix; the runtime parser accepts it', () => {
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 's3',
      SESSION_BUCKET: stack.resolve(store.bucket.bucketName),
      SESSION_BUCKET_PREFIX: 'sessions/',
    });
    const env = parseSessionEnv({ ...binding.environment, SESSION_BUCKET: 'b', SESSION_COOKIE_SECRET: 'x'.repeat(32) });
    expect(env.s3).toEqual({ bucket: 'b', prefix: 'sessions/' });
  });

  test('the bucket is retained by default', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });
});

describe('S3SessionStore options', () => {
  test('a customer key turns on SSE-KMS with a bucket key, and bind adds encrypt/decrypt on that key only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const store = new S3SessionStore(stack, 'Store', { encryptionKey: key, prefix: 'app1/', expiration: Duration.days(1) });
    store.bind(newConsumer(stack, 'App'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: stack.resolve(key.keyArn) } },
        ],
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: 'app1/', ExpirationInDays: 1 })] },
    });
    const statements = policyStatements(template);
    expect(statements.find((s) => actionsOf(s).includes('s3:GetObject')).Resource).toEqual(stack.resolve(store.bucket.arnForObjects('app1/*')));
    const keyStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(keyStatements.map((s) => s.Resource)).toEqual([stack.resolve(key.keyArn)]);
  });

  test('a server access logs bucket is wired in', () => {
    const stack = newStack();
    const logs = new s3.Bucket(stack, 'Logs');
    new S3SessionStore(stack, 'Store', { serverAccessLogsBucket: logs });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: stack.resolve(logs.bucketName), LogFilePrefix: 'Bucket/' },
    });
  });

  test('an existing bucket is used as is and the grant is scoped to its prefix', () => {
    const stack = newStack();
    const store = new S3SessionStore(stack, 'Store', { existingBucket: s3.Bucket.fromBucketName(stack, 'B', 'my-sessions') });
    store.bind(newConsumer(stack, 'App'));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const statements = policyStatements(template);
    expect(JSON.stringify(statements[0].Resource)).toContain(':s3:::my-sessions/sessions/*');
  });
});

describe('S3SessionStore validation', () => {
  test('bad props are all reported in one error', () => {
    const stack = newStack();
    const make = () =>
      new S3SessionStore(stack, 'Store', {
        existingBucket: s3.Bucket.fromBucketName(stack, 'B', 'some-bucket'),
        bucketProps: { versioned: true, enforceSSL: false, publicReadAccess: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS },
        encryptionKey: new kms.Key(stack, 'Key'),
        expiration: Duration.hours(12),
        prefix: '/abs*',
      });
    expectProblems(make, [
      /^existingBucket and bucketProps are mutually exclusive/,
      /^encryptionKey only applies to a bucket this construct creates/,
      /^expiration only applies to a bucket this construct creates/,
      /^prefix must be a non-empty key prefix/,
      /^bucketProps.publicReadAccess must not be true/,
      /^bucketProps.enforceSSL must not be false/,
      /^bucketProps.versioned must not be true/,
      /^bucketProps.blockPublicAccess must be BLOCK_ALL/,
      /^expiration must be a whole number of days/,
    ]);
  });
});
