import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseSessionEnv } from '../../../lambda/session/env';
import { DynamoDbSessionStore } from '../../../lib/stores';
import { DynamoDbSessions } from '../../../lib/topologies';
import { actionsOf, agnosticStack, boundStore, ENV, expectNoServiceWideWildcards, expectProblems, newConsumer, newStack, policyStatements } from '../helpers';

describe('DynamoDbSessionStore defaults', () => {
  const { stack, store, binding, template } = boundStore((s) => new DynamoDbSessionStore(s, 'Store'));

  test('table: pk id (S), TTL ttl, PITR on, on-demand billing, no replicas', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [Match.objectLike({ Region: 'eu-west-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  test('the table is retained when removed from the stack', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('bind grants only Get/Put/Update/DeleteItem, on the one table ARN, with no service-wide wildcard', () => {
    const statements = policyStatements(template);
    expect(statements).toEqual([
      {
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: stack.resolve(store.table.tableArn),
      },
    ]);
    expectNoServiceWideWildcards(template);
  });

  test('bind returns SESSION_STORE=dynamodb and the table name, no overflow bucket; the runtime parser accepts it', () => {
    expect(stack.resolve(binding.environment)).toEqual({ SESSION_STORE: 'dynamodb', SESSION_TABLE: stack.resolve(store.table.tableName) });
    const env = parseSessionEnv({ ...binding.environment, SESSION_TABLE: 'sessions', SESSION_COOKIE_SECRET: 'x'.repeat(32) });
    expect(env.dynamodb).toEqual({ table: 'sessions', overflowBucket: undefined });
  });
});

describe('DynamoDbSessionStore options', () => {
  test('replicaRegions make a global table with PITR in every replica', () => {
    const stack = newStack();
    new DynamoDbSessionStore(stack, 'Store', { replicaRegions: ['us-east-1', 'eu-central-1'] });
    const table = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable'))[0];
    const replicas = table.Properties.Replicas;
    expect(replicas.map((r: any) => r.Region).sort()).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
    for (const r of replicas) expect(r.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  test('a customer key encrypts the table, and bind adds encrypt/decrypt on that key only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const store = new DynamoDbSessionStore(stack, 'Store', { encryptionKey: key });
    store.bind(newConsumer(stack, 'App'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: stack.resolve(key.keyArn) } })],
    });
    const keyStatements = policyStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(keyStatements).toHaveLength(1);
    expect(keyStatements[0].Resource).toEqual(stack.resolve(key.keyArn));
  });

  test('an existing table is used as is and the grant is scoped to it', () => {
    const stack = newStack();
    const table = dynamodb.TableV2.fromTableName(stack, 'Existing', 'my-sessions');
    const store = new DynamoDbSessionStore(stack, 'Store', { existingTable: table });
    store.bind(newConsumer(stack, 'App'));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const [statement] = policyStatements(template);
    expect(JSON.stringify(statement.Resource)).toContain(':table/my-sessions');
  });

  test('removalPolicy DESTROY is passed through', () => {
    const stack = newStack();
    new DynamoDbSessionStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });
});

describe('DynamoDbSessionStore overflow bucket', () => {
  const { stack, store, binding, template } = boundStore((s) => new DynamoDbSessionStore(s, 'Store', { overflowBucket: true, overflowExpiration: Duration.days(3) }));

  test('the overflow bucket is private, TLS-only, unversioned and expires objects under session-overflow/', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Prefix: 'session-overflow/', ExpirationInDays: 3, Status: 'Enabled' })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('bind adds Get/Put/DeleteObject under the prefix and ListBucket on that bucket only, and returns SESSION_OVERFLOW_BUCKET', () => {
    const bucket = store.overflowBucket!;
    const statements = policyStatements(template);
    expect(statements).toContainEqual({
      Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      Effect: 'Allow',
      Resource: stack.resolve(bucket.arnForObjects('session-overflow/*')),
    });
    expect(statements).toContainEqual({ Action: 's3:ListBucket', Effect: 'Allow', Resource: stack.resolve(bucket.bucketArn) });
    expect(statements).toHaveLength(3);
    expectNoServiceWideWildcards(template);
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 'dynamodb',
      SESSION_TABLE: stack.resolve(store.table.tableName),
      SESSION_OVERFLOW_BUCKET: stack.resolve(bucket.bucketName),
    });
  });
});

describe('DynamoDbSessionStore validation', () => {
  test('conflicting props are all reported in one error', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const make = () =>
      new DynamoDbSessionStore(stack, 'Store', {
        existingTable: dynamodb.TableV2.fromTableName(stack, 'T', 't'),
        tableProps: {},
        encryptionKey: key,
        replicaRegions: ['mars-north-1x', 'us-east-1', 'us-east-1'],
        removalPolicy: RemovalPolicy.DESTROY,
        overflowExpiration: Duration.hours(36),
      });
    expectProblems(make, [
      /^existingTable and tableProps are mutually exclusive/,
      /^encryptionKey only applies to a table this construct creates/,
      /^replicaRegions only applies to a table this construct creates/,
      /^removalPolicy only applies to a table this construct creates/,
      /^encryptionKey with replicaRegions needs a key per region/,
      /^replicaRegions entry 'mars-north-1x' is not a region name/,
      /^replicaRegions has duplicates/,
      /^overflowExpiration needs overflowBucket: true/,
      /^expiration must be a whole number of days/,
    ]);
  });

  test('replicas in an environment-agnostic stack: our error names the construct path and the prop and says to set the stack region, beside the other problems', () => {
    const stack = agnosticStack();
    const err = expectProblems(
      () =>
        new DynamoDbSessionStore(stack, 'Store', {
          replicaRegions: ['us-east-1'],
          tableProps: { replicas: [{ region: 'eu-central-1' }] },
          overflowExpiration: Duration.days(3),
        }),
      [
        /^replicaRegions needs a stack in a known region, but stack Test is environment-agnostic: set its env region \(new Stack\(app, 'Test', \{ env: \{ region: /,
        /^tableProps.replicas needs a stack in a known region/,
        /^overflowExpiration needs overflowBucket: true/,
      ],
    );
    expect(err.message).toMatch(/^Invalid props for Test\/Store:/);
    expect(err.message).not.toMatch(/region agnostic/); // not CDK's own internal message
  });

  test("through the DynamoDbSessions topology (the reference stacks are environment-agnostic) the error names the store's path", () => {
    const stack = agnosticStack();
    expect(() => new DynamoDbSessions(stack, 'Sessions', { storeProps: { replicaRegions: ['us-east-1'] } })).toThrow(
      /Invalid props for Test\/Sessions\/Store:\n {2}- replicaRegions needs a stack in a known region.*set its env region/,
    );
  });

  test("a replica in the stack's own region is refused with the prop named", () => {
    expectProblems(() => new DynamoDbSessionStore(newStack(), 'Store', { replicaRegions: [ENV.region] }), [
      /^replicaRegions must not include the stack's own region eu-west-1/,
    ]);
  });

  test('in a stack with a region, replicas elsewhere pass', () => {
    expect(() => new DynamoDbSessionStore(newStack(), 'Store', { replicaRegions: ['us-east-1'] })).not.toThrow();
  });

  test('overflow bucket props that would weaken it are rejected', () => {
    const stack = newStack();
    expect(
      () => new DynamoDbSessionStore(stack, 'Store', { overflowBucket: true, overflowBucketProps: { versioned: true, enforceSSL: false, publicReadAccess: true } }),
    ).toThrow(/versioned must not be true[\s\S]*enforceSSL must not be false|publicReadAccess/);
  });
});
