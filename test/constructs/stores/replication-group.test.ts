import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ReplicationGroup, ReplicationGroupEngine } from '../../../lib/stores';
import { expectElastiCacheSafeGenerator, expectProblems, newConsumer, newStack, newVpc, policyStatements } from '../helpers';

function setup() {
  const stack = newStack();
  const vpc = newVpc(stack);
  return { stack, vpc };
}

describe('ReplicationGroup defaults', () => {
  const { stack, vpc } = setup();
  const group = new ReplicationGroup(stack, 'Group', { vpc });
  const template = Template.fromStack(stack);

  test('TLS in transit (required) and encryption at rest are on, Multi-AZ with automatic failover, port 6380 not 6379', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.t4g.small',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      NumCacheClusters: 2,
      Port: 6380,
      SnapshotRetentionLimit: 1,
      ClusterMode: Match.absent(),
      UserGroupIds: Match.absent(),
    });
    expect(group.port).not.toBe(6379);
  });

  test('AUTH token is a Secrets Manager dynamic reference to the generated secret, never a literal', () => {
    const secretId = stack.getLogicalId(group.authSecret!.node.defaultChild as secretsmanager.CfnSecret);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']] },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 64 }) });
  });

  test('the AUTH token generator cannot produce a character ElastiCache refuses: printable ASCII minus ExcludeCharacters is within letters, digits and ! & # $ ^ < > -, length 16-128', () => {
    const secretId = stack.getLogicalId(group.authSecret!.node.defaultChild as secretsmanager.CfnSecret);
    expectElastiCacheSafeGenerator(template.toJSON().Resources[secretId].Properties.GenerateSecretString);
  });

  test('so does a 128-character token (authTokenLength at its maximum)', () => {
    const s = setup();
    const g = new ReplicationGroup(s.stack, 'Long', { vpc: s.vpc, authTokenLength: 128 });
    const id = s.stack.getLogicalId(g.authSecret!.node.defaultChild as secretsmanager.CfnSecret);
    const gen = Template.fromStack(s.stack).toJSON().Resources[id].Properties.GenerateSecretString;
    expect(gen.PasswordLength).toBe(128);
    expectElastiCacheSafeGenerator(gen);
  });

  test('nodes sit in the private subnets and the security group has no ingress and no open egress', () => {
    const subnetIds = stack.resolve(vpc.privateSubnets.map((s) => s.subnetId));
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: subnetIds });
    const sg = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('Session store Test/Group') },
    });
    const props = Object.values(sg)[0].Properties;
    expect(props.SecurityGroupIngress).toBeUndefined();
    expect(props.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
  });

  test('connections default to the group port, and allowDefaultPortFrom opens only that port from the consumer group', () => {
    const s2 = newStack();
    const v2 = newVpc(s2);
    const g2 = new ReplicationGroup(s2, 'Group', { vpc: v2 });
    const consumer = newConsumer(s2, 'App', v2);
    g2.connections.allowDefaultPortFrom(consumer.connections!);
    const t2 = Template.fromStack(s2);
    t2.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t2.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6380,
      ToPort: 6380,
      GroupId: s2.resolve(g2.securityGroup.securityGroupId),
      SourceSecurityGroupId: s2.resolve(consumer.securityGroup!.securityGroupId),
    });
  });

  test('grantReadAuthToken grants only secretsmanager:GetSecretValue on the one secret', () => {
    const s2 = newStack();
    const g2 = new ReplicationGroup(s2, 'Group', { vpc: newVpc(s2) });
    const consumer = newConsumer(s2, 'App');
    g2.grantReadAuthToken(consumer);
    expect(policyStatements(Template.fromStack(s2))).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: s2.resolve(g2.authSecret!.secretArn) },
    ]);
  });

  test('removal policy defaults to DESTROY: sessions are transient', () => {
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
  });
});

describe('ReplicationGroup options', () => {
  test('numNodeGroups > 1 turns on cluster mode with shards, replicas and the cluster.on parameter group; endpoint is the configuration endpoint', () => {
    const { stack, vpc } = setup();
    const group = new ReplicationGroup(stack, 'Group', { vpc, numNodeGroups: 3, replicasPerNodeGroup: 2 });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      CacheParameterGroupName: 'default.valkey8.cluster.on',
      NumCacheClusters: Match.absent(),
      AutomaticFailoverEnabled: true,
    });
    expect(group.clusterMode).toBe(true);
    expect(stack.resolve(group.endpointAddress)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'ConfigurationEndPoint.Address'] });
    expect(group.memberClusterIds).toHaveLength(9);
    expect(stack.resolve(group.memberClusterIds[8])).toEqual({ 'Fn::Join': ['', [expect.anything(), '-0003-003']] });
  });

  test('clusterMode: true with one shard still uses the configuration endpoint (redis 7 parameter group)', () => {
    const { stack, vpc } = setup();
    const group = new ReplicationGroup(stack, 'Group', { vpc, engine: ReplicationGroupEngine.REDIS, clusterMode: true });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis',
      EngineVersion: '7.1',
      ClusterMode: 'enabled',
      NumNodeGroups: 1,
      CacheParameterGroupName: 'default.redis7.cluster.on',
    });
    expect(stack.resolve(group.endpointPort)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'ConfigurationEndPoint.Port'] });
  });

  test('no replicas turns Multi-AZ and automatic failover off (both need two nodes)', () => {
    const { stack, vpc } = setup();
    new ReplicationGroup(stack, 'Group', { vpc, replicasPerNodeGroup: 0 });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      MultiAZEnabled: false,
      AutomaticFailoverEnabled: false,
      NumCacheClusters: 1,
    });
  });

  test('RBAC user groups replace the AUTH token: UserGroupIds set, no AuthToken, no secret', () => {
    const { stack, vpc } = setup();
    const group = new ReplicationGroup(stack, 'Group', { vpc, userGroupIds: ['sessions-rbac'] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { UserGroupIds: ['sessions-rbac'], AuthToken: Match.absent() });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(() => group.grantReadAuthToken(newConsumer(stack, 'App'))).toThrow(/RBAC/);
  });

  test('a customer key encrypts the nodes and the AUTH secret, and grantReadAuthToken adds kms:Decrypt via Secrets Manager on that key', () => {
    const { stack, vpc } = setup();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const group = new ReplicationGroup(stack, 'Group', { vpc, encryptionKey: key });
    group.grantReadAuthToken(newConsumer(stack, 'App'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { KmsKeyId: stack.resolve(key.keyArn) });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: stack.resolve(key.keyArn) });
    expect(policyStatements(template)).toContainEqual({
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: stack.resolve(key.keyArn),
      Condition: { StringEquals: { 'kms:ViaService': stack.resolve(`secretsmanager.eu-west-1.${stack.urlSuffix}`) } },
    });
  });

  test('an existing AUTH secret is referenced, not generated', () => {
    const { stack, vpc } = setup();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Existing', 'my-token');
    new ReplicationGroup(stack, 'Group', { vpc, existingAuthSecret: secret });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AuthToken: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('secret:my-token')])] }),
    });
  });

  test('port 6379 is allowed but warned about (cdk-nag AEC5 does not check valkey)', () => {
    const { stack, vpc } = setup();
    new ReplicationGroup(stack, 'Group', { vpc, port: 6379 });
    Annotations.fromStack(stack).hasWarning('/Test/Group', Match.stringLikeRegexp('port 6379 is the well-known'));
  });

  test('removalPolicy SNAPSHOT is passed through', () => {
    const { stack, vpc } = setup();
    new ReplicationGroup(stack, 'Group', { vpc, removalPolicy: RemovalPolicy.SNAPSHOT });
    Template.fromStack(stack).hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot' });
  });
});

describe('ReplicationGroup metrics', () => {
  const { stack, vpc } = setup();
  const group = new ReplicationGroup(stack, 'Group', { vpc });

  test.each([
    ['metricEngineCPUUtilization', 'EngineCPUUtilization', 'Average'],
    ['metricDatabaseMemoryUsagePercentage', 'DatabaseMemoryUsagePercentage', 'Maximum'],
    ['metricEvictions', 'Evictions', 'Sum'],
    ['metricCurrConnections', 'CurrConnections', 'Maximum'],
  ] as const)('%s reads AWS/ElastiCache %s (%s) of the first member cluster, <id>-001', (method, name, statistic) => {
    const m = group[method]();
    expect(m.namespace).toBe('AWS/ElastiCache');
    expect(m.metricName).toBe(name);
    expect(m.statistic).toBe(statistic);
    expect(stack.resolve(m.dimensions)).toEqual({ CacheClusterId: { 'Fn::Join': ['', [stack.resolve(group.replicationGroupId), '-001']] } });
  });

  test('metricReplicationLag reads the first replica, <id>-002', () => {
    const m = group.metricReplicationLag();
    expect(m.metricName).toBe('ReplicationLag');
    expect(stack.resolve(m.dimensions)).toEqual({ CacheClusterId: { 'Fn::Join': ['', [stack.resolve(group.replicationGroupId), '-002']] } });
  });

  test('metricReplicationLag throws when there are no replicas', () => {
    const s2 = newStack();
    const g2 = new ReplicationGroup(s2, 'Group', { vpc: newVpc(s2), replicasPerNodeGroup: 0 });
    expect(() => g2.metricReplicationLag()).toThrow(/no replicas/);
  });

  test('grant() scopes custom actions to this replication group ARN', () => {
    const s2 = newStack();
    const g2 = new ReplicationGroup(s2, 'Group', { vpc: newVpc(s2) });
    g2.grant(newConsumer(s2, 'App'), 'elasticache:Connect');
    const [statement] = policyStatements(Template.fromStack(s2));
    expect(statement.Action).toBe('elasticache:Connect');
    expect(statement.Resource).toEqual(s2.resolve(g2.replicationGroupArn));
    expect(JSON.stringify(statement.Resource)).toContain(':replicationgroup:');
  });
});

describe('ReplicationGroup validation', () => {
  test('bad props are all reported in one error', () => {
    const { stack, vpc } = setup();
    const make = () =>
      new ReplicationGroup(stack, 'Group', {
        vpc,
        engine: 'memcached' as never,
        engineVersion: 'latest',
        cacheNodeType: 't4g.small',
        numNodeGroups: 2,
        clusterMode: false,
        replicasPerNodeGroup: 6,
        port: 80,
        authTokenLength: 16,
        snapshotRetentionLimit: 40,
        userGroupIds: [],
        existingAuthSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'x'),
      });
    const error = expectProblems(make, [
      /^engine must be/,
      /^engineVersion must look like/,
      /^cacheNodeType must look like/,
      /^numNodeGroups 2 needs cluster mode/,
      /^replicasPerNodeGroup must be a whole number from 0 to 5/,
      /^port must be a whole number from 1024/,
      /^authTokenLength must be a whole number from 32 to 128/,
      /^snapshotRetentionLimit must be a whole number from 0 to 35/,
      /^existingAuthSecret and userGroupIds are mutually exclusive/,
      /^userGroupIds must name at least one/,
      /^authTokenLength only applies to a generated AUTH token/,
    ]);
    expect(error.message).toContain('Invalid props for Test/Group');
  });

  test('public subnets and a single-AZ selection with replicas are rejected', () => {
    const stack = new Stack(undefined, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    expect(() => new ReplicationGroup(stack, 'Public', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).toThrow(
      /vpcSubnets must select private subnets only/,
    );
    expect(() => new ReplicationGroup(stack, 'OneAz', { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0]] } })).toThrow(
      /Multi-AZ .* needs subnets in at least two availability zones/,
    );
  });
});
