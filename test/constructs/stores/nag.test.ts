/**
 * cdk-nag AwsSolutions on a small stack per store, each bound to a consumer so that the grants
 * are checked too. cdk-nag 3 runs as a policy-validation plugin at synth; findings come from
 * the validation report (see helpers.nagFindings).
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SessionConsumer } from '../../../lib/core/consumer';
import {
  DynamoDbSessionStore,
  JwtSessionKeys,
  MemcachedSessionStore,
  RedisSessionStore,
  ReplicationGroup,
  ReplicationGroupEngine,
  S3SessionStore,
} from '../../../lib/stores';
import { nagFindingsOf, nagFindingsOfVpcStore, newConsumer, newVpc } from '../helpers';

describe('cdk-nag AwsSolutions: zero unacknowledged findings with default props', () => {
  test('RedisSessionStore (replication group) bound to a consumer in the VPC', () => {
    expect(nagFindingsOfVpcStore((stack, vpc) => new RedisSessionStore(stack, 'Store', { vpc }))).toEqual([]);
  });

  test('RedisSessionStore (cluster mode, customer key)', () => {
    const findings = nagFindingsOfVpcStore((stack, vpc) => {
      const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      return new RedisSessionStore(stack, 'Store', { vpc, replicationGroupProps: { numNodeGroups: 2, encryptionKey } });
    });
    expect(findings).toEqual([]);
  });

  test('RedisSessionStore (serverless)', () => {
    expect(nagFindingsOfVpcStore((stack, vpc) => new RedisSessionStore(stack, 'Store', { vpc, serverless: true }))).toEqual([]);
  });

  test('DynamoDbSessionStore with overflow bucket', () => {
    const findings = nagFindingsOf((stack) => {
      new DynamoDbSessionStore(stack, 'Store', { overflowBucket: true }).bind(newConsumer(stack, 'App'));
    });
    expect(findings).toEqual([]);
  });

  test('S3SessionStore with a customer key and a custom prefix', () => {
    const findings = nagFindingsOf((stack) => {
      const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      new S3SessionStore(stack, 'Store', { encryptionKey, prefix: 'app/', expiration: Duration.days(1) }).bind(newConsumer(stack, 'App'));
    });
    expect(findings).toEqual([]);
  });

  test('JwtSessionKeys with an issuer and a verifier', () => {
    const findings = nagFindingsOf((stack) => {
      const keys = new JwtSessionKeys(stack, 'Jwt', { alias: 'sessions-jwt' });
      keys.bindIssuer(newConsumer(stack, 'Issuer'));
      keys.bindVerifier(newConsumer(stack, 'Verifier'));
    });
    expect(findings).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions: connect() and stores on existing resources add no finding', () => {
  test('every store kind but PostgreSQL connected to one role consumer in the VPC, existing table, bucket and cache included', () => {
    const findings = nagFindingsOf((stack) => {
      const vpc = newVpc(stack);
      const consumer = newConsumer(stack, 'App', vpc);
      const app = SessionConsumer.fromRole(consumer.role, { connections: consumer.connections, vpc });
      new DynamoDbSessionStore(stack, 'Ddb', { encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) }).connect(app);
      new DynamoDbSessionStore(stack, 'DdbExisting', { existingTable: dynamodb.Table.fromTableName(stack, 'Table', 'team-sessions') }).connect(app);
      new S3SessionStore(stack, 'S3Existing', { existingBucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'team-bucket'), prefix: 'web/' }).connect(app);
      new RedisSessionStore(stack, 'Redis', { vpc }).connect(app);
      RedisSessionStore.fromCacheAttributes(stack, 'RedisExisting', {
        vpc,
        endpointAddress: 'team.abc.euw1.cache.amazonaws.com',
        port: 6380,
        authSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Auth', 'team/redis'),
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'CacheSg', 'sg-12345678')],
      }).connect(app);
      new MemcachedSessionStore(stack, 'Memcached', { vpc }).connect(app);
      new JwtSessionKeys(stack, 'Jwt').connect(app);
    });
    expect(findings).toEqual([]);
  });
});

describe('cdk-nag acknowledgments are exact', () => {
  test('the store acknowledges only its own prefix wildcard: another wildcard on the same consumer policy is still reported', () => {
    const findings = nagFindingsOf((stack) => {
      const consumer = newConsumer(stack, 'App');
      new S3SessionStore(stack, 'Store').bind(consumer);
      consumer.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other-bucket/*'] }));
    });
    expect(findings).toEqual([
      { rule: 'AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]', path: 'Test/AppRole/DefaultPolicy/Resource', severity: 'error' },
    ]);
  });

  test('user choices that weaken a default are reported, not hidden: a replication group without replicas fails AEC4 (Multi-AZ)', () => {
    const findings = nagFindingsOf((stack) => new ReplicationGroup(stack, 'Group', { vpc: newVpc(stack), replicasPerNodeGroup: 0 }));
    expect(findings).toEqual([{ rule: 'AwsSolutions-AEC4', path: 'Test/Group/Resource', severity: 'error' }]);
  });

  test('a redis replication group on port 6379 fails AEC5 (default port)', () => {
    const findings = nagFindingsOf((stack) => new ReplicationGroup(stack, 'Group', { vpc: newVpc(stack), engine: ReplicationGroupEngine.REDIS, port: 6379 }));
    expect(findings).toEqual([{ rule: 'AwsSolutions-AEC5', path: 'Test/Group/Resource', severity: 'error' }]);
  });

  test('RBAC user groups pass: AEC6 (which only knows AuthToken) is acknowledged on the replication group resource alone', () => {
    expect(nagFindingsOf((stack) => new ReplicationGroup(stack, 'Group', { vpc: newVpc(stack), userGroupIds: ['sessions-rbac'] }))).toEqual([]);
  });

  test('without the RBAC acknowledgment the same group would fail AEC6 (the check is live)', () => {
    const findings = nagFindingsOf((stack) => {
      const group = new ReplicationGroup(stack, 'Group', { vpc: newVpc(stack) });
      group.resource.authToken = undefined;
    });
    expect(findings).toEqual([{ rule: 'AwsSolutions-AEC6', path: 'Test/Group/Resource', severity: 'error' }]);
  });

  test('the KMS grants of a customer key use explicit actions (no kms:ReEncrypt* / GenerateDataKey* findings) for S3 and DynamoDB', () => {
    const findings = nagFindingsOf((stack) => {
      const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const consumer = newConsumer(stack, 'App');
      new DynamoDbSessionStore(stack, 'Table', { encryptionKey, overflowBucket: true }).bind(consumer);
      new S3SessionStore(stack, 'Bucket', { encryptionKey }).bind(consumer);
    });
    expect(findings).toEqual([]);
  });
});
