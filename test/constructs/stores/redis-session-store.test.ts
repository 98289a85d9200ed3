import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { parseSessionEnv } from '../../../lambda/session/env';
import { RedisSessionStore, ReplicationGroup } from '../../../lib/stores';
import { actionsOf, boundVpcStore, expectElastiCacheSafeGenerator, expectProblems, newConsumer, newStack, newVpc, policyStatements } from '../helpers';

describe('RedisSessionStore (replication group)', () => {
  const { stack, store, consumer, binding, template } = boundVpcStore((s, vpc) => new RedisSessionStore(s, 'Store', { vpc }));

  test('bind returns SESSION_STORE=redis, a rediss:// URL of the primary endpoint, cluster false and the auth secret ARN', () => {
    expect(store.kind).toBe('redis');
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 'redis',
      SESSION_REDIS_URL: {
        'Fn::Join': [
          '',
          [
            'rediss://',
            { 'Fn::GetAtt': [expect.any(String), 'PrimaryEndPoint.Address'] },
            ':',
            { 'Fn::GetAtt': [expect.any(String), 'PrimaryEndPoint.Port'] },
          ],
        ],
      },
      SESSION_REDIS_CLUSTER: 'false',
      SESSION_REDIS_AUTH_SECRET_ARN: stack.resolve(store.authSecret.secretArn),
    });
  });

  test('the environment passes the runtime parser (names and formats agree with the seam)', () => {
    const env = parseSessionEnv({
      ...binding.environment,
      SESSION_REDIS_URL: 'rediss://master.example.cache.amazonaws.com:6380',
      SESSION_COOKIE_SECRET: 'x'.repeat(32),
    });
    expect(env.redis).toEqual({ url: 'rediss://master.example.cache.amazonaws.com:6380', authSecretArn: expect.any(String), cluster: false });
  });

  test('bind opens the store port to the consumer security group only', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380,
      ToPort: 6380,
      GroupId: stack.resolve(store.replicationGroup!.securityGroup.securityGroupId),
      SourceSecurityGroupId: stack.resolve(consumer.securityGroup!.securityGroupId),
    });
  });

  test('bind grants secretsmanager:GetSecretValue on the one auth secret and nothing else', () => {
    expect(policyStatements(template)).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: stack.resolve(store.authSecret.secretArn) },
    ]);
  });

  test('bind throws a clear error for a consumer without connections', () => {
    const outside = newConsumer(stack, 'Outside');
    expect(() => store.bind(outside)).toThrow(/bind\(\) needs a consumer with connections/);
  });
});

describe('RedisSessionStore options', () => {
  test('a cluster-mode replication group yields the configuration endpoint and SESSION_REDIS_CLUSTER=true', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const store = new RedisSessionStore(stack, 'Store', { vpc, replicationGroupProps: { numNodeGroups: 2 } });
    const env = stack.resolve(store.bind(newConsumer(stack, 'App', vpc)).environment);
    expect(env.SESSION_REDIS_CLUSTER).toBe('true');
    expect(JSON.stringify(env.SESSION_REDIS_URL)).toContain('ConfigurationEndPoint.Address');
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumNodeGroups: 2, ClusterMode: 'enabled' });
  });

  test('an existing replication group is wrapped, not duplicated', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const group = new ReplicationGroup(stack, 'Group', { vpc, port: 6390 });
    const store = new RedisSessionStore(stack, 'Store', { vpc, existingReplicationGroup: group });
    store.bind(newConsumer(stack, 'App', vpc));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6390, ToPort: 6390 });
    expect(store.authSecret).toBe(group.authSecret);
  });

  test('a customer key on the group makes bind add kms:Decrypt via Secrets Manager on that key only', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const store = new RedisSessionStore(stack, 'Store', { vpc, replicationGroupProps: { encryptionKey: key } });
    store.bind(newConsumer(stack, 'App', vpc));
    const statements = policyStatements(Template.fromStack(stack));
    expect(statements.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['secretsmanager:GetSecretValue'], stack.resolve(store.authSecret.secretArn)],
      [['kms:Decrypt'], stack.resolve(key.keyArn)],
    ]);
    expect(statements[1].Condition.StringEquals['kms:ViaService']).toBeDefined();
  });
});

describe('RedisSessionStore serverless', () => {
  const { stack, vpc, store, consumer, binding, template } = boundVpcStore((s, v) => new RedisSessionStore(s, 'Store', { vpc: v, serverless: true }));

  test('creates a Valkey 8 serverless cache in the private subnets with its own security group and an RBAC user group', () => {
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      MajorEngineVersion: '8',
      SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)),
      SecurityGroupIds: [Match.anyValue()],
      UserGroupId: Match.anyValue(),
      SnapshotRetentionLimit: 1,
    });
  });

  test("the session user is named 'default' (plain AUTH works) and its password is a dynamic reference to the generated secret", () => {
    template.hasResourceProperties('AWS::ElastiCache::User', {
      Engine: 'valkey',
      UserName: 'default',
      AccessString: 'on ~* +@all',
      AuthenticationMode: {
        Type: 'password',
        Passwords: [{ 'Fn::Join': ['', ['{{resolve:secretsmanager:', stack.resolve(store.authSecret.secretArn), ':SecretString:::}}']] }],
      },
    });
  });

  test('the RBAC password generator cannot produce a character ElastiCache refuses (same set and bounds as an AUTH token)', () => {
    const secretId = stack.getLogicalId(store.authSecret.node.defaultChild as secretsmanager.CfnSecret);
    expectElastiCacheSafeGenerator(template.toJSON().Resources[secretId].Properties.GenerateSecretString);
  });

  test('bind returns the serverless endpoint as rediss:// with cluster true, opens its port, and grants only the password secret', () => {
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 'redis',
      SESSION_REDIS_URL: {
        'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': [expect.any(String), 'Endpoint.Address'] }, ':', { 'Fn::GetAtt': [expect.any(String), 'Endpoint.Port'] }]],
      },
      SESSION_REDIS_CLUSTER: 'true',
      SESSION_REDIS_AUTH_SECRET_ARN: stack.resolve(store.authSecret.secretArn),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: stack.resolve(consumer.securityGroup!.securityGroupId),
    });
    expect(policyStatements(template)).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: stack.resolve(store.authSecret.secretArn) },
    ]);
  });
});

describe('RedisSessionStore validation', () => {
  test('conflicting props are all reported in one error', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const otherVpc = new ec2.Vpc(stack, 'Other', { maxAzs: 2, natGateways: 0 });
    const group = new ReplicationGroup(stack, 'Group', { vpc: otherVpc, userGroupIds: ['g'] });
    const make = () =>
      new RedisSessionStore(stack, 'Store', {
        vpc,
        serverless: true,
        existingReplicationGroup: group,
        replicationGroupProps: { userGroupIds: ['g'] },
        serverlessOptions: { snapshotRetentionLimit: 36 },
      });
    expectProblems(make, [
      /^existingReplicationGroup and replicationGroupProps and serverless: true are mutually exclusive/,
      /^existingReplicationGroup must live in the given vpc/,
      /^existingReplicationGroup uses RBAC user groups/,
      /^replicationGroupProps.userGroupIds is not supported/,
      /^serverlessOptions.snapshotRetentionLimit must be a whole number from 0 to 35/,
    ]);
  });

  test('serverlessOptions without serverless is rejected', () => {
    const stack = newStack();
    expect(() => new RedisSessionStore(stack, 'Store', { vpc: newVpc(stack), serverlessOptions: {} })).toThrow(/serverlessOptions needs serverless: true/);
  });
});
