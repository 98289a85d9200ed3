/**
 * The aws-cdk-lib conventions every store follows: vpc + vpcSubnets with a private default,
 * top-level removalPolicy, ec2.IConnectable, grantReadWrite, metric*().
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { PropsValidationError } from '../../../lib/core/validate';
import {
  DynamoDbSessionStore,
  JwtSessionKeys,
  MemcachedSessionStore,
  PostgresSessionStore,
  RedisSessionStore,
  S3_REQUEST_METRICS_ID,
  S3SessionStore,
} from '../../../lib/stores';
import { expectProblems, newStack, policyStatements } from '../helpers';

/** A two-AZ VPC with isolated subnets only (no NAT, no internet gateway). */
function isolatedVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Isolated', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
}

/** A two-AZ VPC with public subnets only. */
function publicVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Public', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'web', subnetType: ec2.SubnetType.PUBLIC }] });
}

const VPC_STORES: [string, (s: Stack, id: string, vpc: ec2.IVpc) => unknown][] = [
  ['Redis replication group', (s, id, vpc) => new RedisSessionStore(s, id, { vpc })],
  ['Redis serverless', (s, id, vpc) => new RedisSessionStore(s, id, { vpc, serverless: true })],
  ['Memcached', (s, id, vpc) => new MemcachedSessionStore(s, id, { vpc })],
  ['Memcached serverless', (s, id, vpc) => new MemcachedSessionStore(s, id, { vpc, serverless: true })],
  ['PostgreSQL', (s, id, vpc) => new PostgresSessionStore(s, id, { vpc })],
];

/** Subnet ids (resolved) of every subnet group and of the serverless caches in the template. */
function placedSubnets(template: Template): string[] {
  const groups = [
    ...Object.values(template.findResources('AWS::ElastiCache::SubnetGroup')).flatMap((r: any) => r.Properties.SubnetIds),
    ...Object.values(template.findResources('AWS::ElastiCache::ServerlessCache')).flatMap((r: any) => r.Properties.SubnetIds),
    ...Object.values(template.findResources('AWS::RDS::DBSubnetGroup')).flatMap((r: any) => r.Properties.SubnetIds),
  ];
  return groups.map((g) => JSON.stringify(g));
}

describe('vpc and vpcSubnets', () => {
  test.each(VPC_STORES)('%s goes in the isolated subnets of a VPC that has no others', (_, make) => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    make(stack, 'Store', vpc);
    const placed = placedSubnets(Template.fromStack(stack));
    expect(placed.length).toBeGreaterThan(0);
    for (const p of placed) expect(p).toMatch(/Isolateddata/);
  });

  test.each(VPC_STORES)('%s in a VPC with public subnets only: our error naming the store and the VPC, not a bare CDK error', (_, make) => {
    const stack = newStack();
    const error = expectProblems(() => make(stack, 'Store', publicVpc(stack)), [/^vpc Test\/Public has no private subnets .* select subnets with vpcSubnets/]);
    expect(error.constructPath).toBe('Test/Store');
  });

  test('vpcSubnets at the top level places a serverless Redis cache; public subnets are refused', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new RedisSessionStore(stack, 'Store', { vpc, serverless: true, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    for (const p of placedSubnets(Template.fromStack(stack))) expect(p).toMatch(/PrivateSubnet/);
    expectProblems(() => new RedisSessionStore(stack, 'Bad', { vpc, serverless: true, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }), [/^vpcSubnets must select private subnets only/]);
  });

  test('replicationGroupProps.vpcSubnets and .removalPolicy point at the top-level props', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    expectProblems(
      () => new RedisSessionStore(stack, 'Store', { vpc, replicationGroupProps: { vpcSubnets: {}, removalPolicy: RemovalPolicy.SNAPSHOT } }),
      [/^replicationGroupProps.vpcSubnets is set at the top level .* use vpcSubnets/, /^replicationGroupProps.removalPolicy is set at the top level .* use removalPolicy/],
    );
  });
});

/** DeletionPolicy of every resource of `type`. */
function deletionPolicies(template: Template, type: string): string[] {
  return Object.values(template.findResources(type)).map((r: any) => r.DeletionPolicy);
}

describe('removalPolicy at the top level', () => {
  test('defaults stay: tables and buckets retained, caches destroyed, the Aurora cluster snapshotted', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new DynamoDbSessionStore(stack, 'Ddb', { overflowBucket: true });
    new S3SessionStore(stack, 'S3');
    new RedisSessionStore(stack, 'Redis', { vpc });
    new MemcachedSessionStore(stack, 'Memcached', { vpc });
    new PostgresSessionStore(stack, 'Pg', { vpc });
    const t = Template.fromStack(stack);
    expect(deletionPolicies(t, 'AWS::DynamoDB::GlobalTable')).toEqual(['Retain']);
    expect(deletionPolicies(t, 'AWS::S3::Bucket')).toEqual(['Retain', 'Retain']);
    expect(deletionPolicies(t, 'AWS::ElastiCache::ReplicationGroup')).toEqual(['Delete']);
    expect(deletionPolicies(t, 'AWS::ElastiCache::CacheCluster')).toEqual(['Delete']);
    expect(deletionPolicies(t, 'AWS::RDS::DBCluster')).toEqual(['Snapshot']);
  });

  test('DESTROY reaches what holds data: table and overflow bucket, bucket, cache and its secret, cluster and its secret', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const d = RemovalPolicy.DESTROY;
    new DynamoDbSessionStore(stack, 'Ddb', { overflowBucket: true, removalPolicy: d });
    new S3SessionStore(stack, 'S3', { removalPolicy: d });
    new RedisSessionStore(stack, 'Redis', { vpc, removalPolicy: d });
    new RedisSessionStore(stack, 'Serverless', { vpc, serverless: true, removalPolicy: d });
    new MemcachedSessionStore(stack, 'Memcached', { vpc, serverless: true, removalPolicy: d });
    new PostgresSessionStore(stack, 'Pg', { vpc, removalPolicy: d, deletionProtection: false });
    const t = Template.fromStack(stack);
    for (const type of [
      'AWS::DynamoDB::GlobalTable',
      'AWS::S3::Bucket',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::RDS::DBCluster',
      'AWS::SecretsManager::Secret',
    ]) {
      const policies = deletionPolicies(t, type);
      expect(policies.length).toBeGreaterThan(0);
      expect({ type, policies: [...new Set(policies)] }).toEqual({ type, policies: ['Delete'] });
    }
  });

  test('SNAPSHOT keeps a secret (it has no snapshot); SNAPSHOT on Memcached or a serverless cache is refused', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new RedisSessionStore(stack, 'Redis', { vpc, removalPolicy: RemovalPolicy.SNAPSHOT });
    const t = Template.fromStack(stack);
    expect(deletionPolicies(t, 'AWS::ElastiCache::ReplicationGroup')).toEqual(['Snapshot']);
    expect(deletionPolicies(t, 'AWS::SecretsManager::Secret')).toEqual(['Retain']);
    expectProblems(() => new MemcachedSessionStore(stack, 'M', { vpc, removalPolicy: RemovalPolicy.SNAPSHOT }), [/^removalPolicy SNAPSHOT is not available: Memcached has no snapshots/]);
    expectProblems(() => new RedisSessionStore(stack, 'R', { vpc, serverless: true, removalPolicy: RemovalPolicy.SNAPSHOT }), [/^removalPolicy SNAPSHOT is not available for a serverless cache/]);
  });

  test('removalPolicy with an existing resource is refused, since it is not ours to delete', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const authSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'A', 'a');
    expectProblems(
      () => new RedisSessionStore(stack, 'R', { vpc, removalPolicy: RemovalPolicy.DESTROY, existingCache: { endpointAddress: 'h', port: 6379, authSecret, securityGroups: [sg] } }),
      [/^removalPolicy only applies to a cache this construct creates/],
    );
    expectProblems(() => new S3SessionStore(stack, 'S', { existingBucket: { bucketName: 'b' } as any, removalPolicy: RemovalPolicy.DESTROY }), [/^removalPolicy only applies to a bucket this construct creates/]);
  });
});

describe('IConnectable and grantReadWrite on every store', () => {
  test('stores reached through an AWS API have empty connections; VPC stores have their security groups', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    for (const store of [new DynamoDbSessionStore(stack, 'D'), new S3SessionStore(stack, 'S'), new JwtSessionKeys(stack, 'J')]) {
      expect(store.connections.securityGroups).toEqual([]);
    }
    for (const store of [new RedisSessionStore(stack, 'R', { vpc }), new MemcachedSessionStore(stack, 'M', { vpc }), new PostgresSessionStore(stack, 'P', { vpc })]) {
      expect(store.connections.securityGroups.length).toBeGreaterThan(0);
      expect(store.connections.defaultPort).toBeDefined();
    }
  });

  test('grantReadWrite on a plain role gives what connect() gives, without network or environment', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const roles: Record<string, iam.Role> = {};
    const role = (id: string) => (roles[id] = new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }));
    new DynamoDbSessionStore(stack, 'D').grantReadWrite(role('DRole'));
    new S3SessionStore(stack, 'S').grantReadWrite(role('SRole'));
    new RedisSessionStore(stack, 'R', { vpc }).grantReadWrite(role('RRole'));
    new PostgresSessionStore(stack, 'P', { vpc }).grantReadWrite(role('PRole'));
    const jwt = new JwtSessionKeys(stack, 'J');
    jwt.grantReadWrite(role('JRole'));
    jwt.grantRead(role('VRole'));
    const memcached = new MemcachedSessionStore(stack, 'M', { vpc }).grantReadWrite(role('MRole'));
    // Nothing to grant: a dropped grant, so assertSuccess() on it would say so.
    expect(memcached.principalStatements).toEqual([]);
    const t = Template.fromStack(stack);
    const actionsOf = (id: string) =>
      policyStatements({
        findResources: () =>
          Object.fromEntries(Object.entries(t.findResources('AWS::IAM::Policy')).filter(([, p]: any) => JSON.stringify(p.Properties.Roles).includes(`"${id}`))),
      }).flatMap((s) => s.Action);
    expect(actionsOf('DRole').sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOf('SRole').sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(actionsOf('RRole')).toEqual(['secretsmanager:GetSecretValue']);
    expect(actionsOf('PRole').sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionsOf('JRole').sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'kms:GetPublicKey', 'kms:Sign']);
    expect(actionsOf('VRole').sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'kms:GetPublicKey']);
    expect(actionsOf('MRole')).toEqual([]);
    // The only ingress rules are PostgreSQL's own (proxy, schema and rotation functions to the cluster).
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties.GroupId['Fn::GetAtt'][0]);
    expect(ingress.length).toBeGreaterThan(0);
    for (const g of ingress) expect(g).toMatch(/^PClusterSecurityGroup/);
  });
});

describe('metric*()', () => {
  test('DynamoDB: throttles and system errors over the four operations, latency of GetItem, on the table', () => {
    const stack = newStack();
    const store = new DynamoDbSessionStore(stack, 'D');
    const throttles = stack.resolve((store.metricThrottledRequests() as any).usingMetrics);
    expect(Object.values(throttles).map((m: any) => m.dimensions.Operation).sort()).toEqual(['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem']);
    expect(Object.values(throttles).every((m: any) => m.metricName === 'ThrottledRequests')).toBe(true);
    expect(Object.keys(stack.resolve((store.metricSystemErrors() as any).usingMetrics))).toHaveLength(4);
    const latency = store.metricSuccessfulRequestLatency();
    expect(stack.resolve(latency.dimensions)).toEqual({ TableName: stack.resolve(store.table.tableName), Operation: 'GetItem' });
    expect(store.metric('ConsumedReadCapacityUnits').namespace).toBe('AWS/DynamoDB');
  });

  test('S3: 4xx/5xx request metrics on the bucket and the SessionRequests filter, which requestMetrics adds for the prefix', () => {
    const stack = newStack();
    const store = new S3SessionStore(stack, 'S', { requestMetrics: true, prefix: 'web/' });
    const m = store.metric5xxErrors();
    expect(m.namespace).toBe('AWS/S3');
    expect(m.metricName).toBe('5xxErrors');
    expect(stack.resolve(m.dimensions)).toEqual({ BucketName: stack.resolve(store.bucket.bucketName), FilterId: S3_REQUEST_METRICS_ID });
    expect(store.metric4xxErrors().statistic).toBe('Sum');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: S3_REQUEST_METRICS_ID, Prefix: 'web/' }] });
  });

  test('S3 without requestMetrics adds no metrics configuration (they are billed)', () => {
    const stack = newStack();
    new S3SessionStore(stack, 'S');
    expect(Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket'))[0].Properties.MetricsConfigurations).toBeUndefined();
  });

  test('Redis node-based: per member node; serverless: ECPUs, bytes and throttled commands per cache; the wrong variant says what to use', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const nodes = new RedisSessionStore(stack, 'R', { vpc });
    expect(stack.resolve(nodes.metricEngineCPUUtilization().dimensions)).toEqual({ CacheClusterId: stack.resolve(nodes.replicationGroup!.memberClusterIds[0]) });
    expect(stack.resolve(nodes.metricReplicationLag().dimensions)).toEqual({ CacheClusterId: stack.resolve(nodes.replicationGroup!.memberClusterIds[1]) });
    expect(() => nodes.metricThrottledCmds()).toThrow(/Test\/R is node-based: ElastiCache publishes no ThrottledCmds for it/);
    const serverless = new RedisSessionStore(stack, 'S', { vpc, serverless: true });
    for (const m of [serverless.metricElastiCacheProcessingUnits(), serverless.metricThrottledCmds(), serverless.metricBytesUsedForCache()]) {
      expect(stack.resolve(m.dimensions)).toEqual({ ServerlessCacheName: stack.resolve(serverless.serverlessCache!.ref) });
    }
    expect(serverless.metricThrottledCmds().statistic).toBe('Sum');
    expect(() => serverless.metricEngineCPUUtilization()).toThrow(/is serverless: ElastiCache publishes no EngineCPUUtilization/);
  });

  test('Redis imported: node metrics need replicationGroupId (cluster mode member ids), serverless ones serverlessCacheName', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const base = { vpc, endpointAddress: 'h', port: 6379, authSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'A', 'a'), securityGroups: [new ec2.SecurityGroup(stack, 'Sg', { vpc })] };
    const cluster = RedisSessionStore.fromCacheAttributes(stack, 'C', { ...base, cluster: true, replicationGroupId: 'team' });
    expect(cluster.metricEvictions().dimensions).toEqual({ CacheClusterId: 'team-0001-001' });
    expect(cluster.metricReplicationLag().dimensions).toEqual({ CacheClusterId: 'team-0001-002' });
    const serverless = RedisSessionStore.fromCacheAttributes(stack, 'S', { ...base, serverlessCacheName: 'team-cache' });
    expect(serverless.metricThrottledCmds().dimensions).toEqual({ ServerlessCacheName: 'team-cache' });
    const unknown = RedisSessionStore.fromCacheAttributes(stack, 'U', base);
    expect(() => unknown.metricEvictions()).toThrow(/imported without replicationGroupId or serverlessCacheName/);
  });

  test('Memcached: CPU per node, ECPUs and throttles per serverless cache', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const nodes = new MemcachedSessionStore(stack, 'M', { vpc });
    expect(stack.resolve(nodes.metricCPUUtilization().dimensions)).toEqual({ CacheClusterId: stack.resolve(nodes.cacheCluster!.ref), CacheNodeId: '0001' });
    expect(nodes.metricBytesUsedForCache().metricName).toBe('BytesUsedForCacheItems');
    expect(() => nodes.metricElastiCacheProcessingUnits()).toThrow(/node-based/);
    const serverless = new MemcachedSessionStore(stack, 'S', { vpc, serverless: true });
    expect(serverless.metricElastiCacheProcessingUnits().metricName).toBe('ElastiCacheProcessingUnits');
    expect(serverless.metricBytesUsedForCache().metricName).toBe('BytesUsedForCache');
  });

  test('PostgreSQL: cluster CPU/ACU/connections by DBClusterIdentifier, proxy metrics by ProxyName', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const store = new PostgresSessionStore(stack, 'P', { vpc });
    for (const m of [store.metricCPUUtilization(), store.metricServerlessDatabaseCapacity(), store.metricACUUtilization(), store.metricDatabaseConnections()]) {
      expect(m.namespace).toBe('AWS/RDS');
      expect(stack.resolve(m.dimensions)).toEqual({ DBClusterIdentifier: stack.resolve(store.cluster!.clusterIdentifier) });
    }
    const proxy = store.metricProxyClientConnections();
    expect(stack.resolve(proxy.dimensions)).toEqual({ ProxyName: stack.resolve(store.proxy!.dbProxyName) });
    expect(store.metricProxyDatabaseConnectionsBorrowLatency().metricName).toBe('DatabaseConnectionsBorrowLatency');
  });

  test('JWT: revocation table throttles over GetItem, BatchGetItem and PutItem', () => {
    const stack = newStack();
    const keys = new JwtSessionKeys(stack, 'J');
    const throttles = stack.resolve((keys.metricThrottledRequests() as any).usingMetrics);
    expect(Object.values(throttles).map((m: any) => m.dimensions.Operation).sort()).toEqual(['BatchGetItem', 'GetItem', 'PutItem']);
    expect(stack.resolve(keys.metric('ConsumedReadCapacityUnits').dimensions)).toEqual({ TableName: stack.resolve(keys.revocationTable.tableName) });
  });
});

test('PropsValidationError is what every store throws for bad props', () => {
  const stack = newStack();
  expect(() => new S3SessionStore(stack, 'S', { prefix: '' })).toThrow(PropsValidationError);
});
