import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseSessionEnv } from '../../../lambda/session/env';
import { MemcachedSessionStore } from '../../../lib/stores';
import { acknowledgedRules, boundVpcStore, expectProblems, nagFindings, nagFindingsOf, newApp, newConsumer, newStack, newVpc, policyStatements } from '../helpers';

/** Evaluates Fn::Join / Fn::Select / Fn::Split / Fn::GetAtt as CloudFormation does, with the given attribute values. */
function evaluate(node: any, attributes: Record<string, string>): any {
  if (typeof node === 'string' || typeof node === 'number') return node;
  if (Array.isArray(node)) return node.map((n) => evaluate(n, attributes));
  if (node['Fn::Join']) return (evaluate(node['Fn::Join'][1], attributes) as string[]).join(node['Fn::Join'][0]);
  if (node['Fn::Select']) return evaluate(node['Fn::Select'][1], attributes)[node['Fn::Select'][0]];
  if (node['Fn::Split']) return (evaluate(node['Fn::Split'][1], attributes) as string).split(node['Fn::Split'][0]);
  if (node['Fn::GetAtt']) {
    const value = attributes[node['Fn::GetAtt'].join('.')];
    if (value === undefined) throw new Error(`no value for ${node['Fn::GetAtt'].join('.')}`);
    return value;
  }
  throw new Error(`cannot evaluate ${JSON.stringify(node)}`);
}

describe('MemcachedSessionStore (node-based cluster)', () => {
  const { stack, vpc, store, consumer, binding, template } = boundVpcStore((s, v) => new MemcachedSessionStore(s, 'Store', { vpc: v }));

  test('a memcached cluster of 2 nodes across AZs, TLS, on a non-default port, in its own subnet group and security group', () => {
    template.resourceCountIs('AWS::ElastiCache::CacheCluster', 1);
    template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      Engine: 'memcached',
      EngineVersion: '1.6.22',
      CacheNodeType: 'cache.t4g.small',
      NumCacheNodes: 2,
      AZMode: 'cross-az',
      PreferredAvailabilityZones: stack.resolve(vpc.privateSubnets.map((s) => s.availabilityZone)),
      Port: 11212,
      TransitEncryptionEnabled: true,
      CacheSubnetGroupName: stack.resolve(store.subnetGroup!.ref),
      VpcSecurityGroupIds: [stack.resolve(store.securityGroup.securityGroupId)],
    });
    const props = Object.values(template.findResources('AWS::ElastiCache::CacheCluster'))[0].Properties;
    expect(props.NumCacheNodes).toBeGreaterThanOrEqual(2);
    expect(props.Port).not.toBe(11211);
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)) });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ingress only from bound consumers'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })], // allowAllOutbound: false
    });
    template.hasResource('AWS::ElastiCache::CacheCluster', { DeletionPolicy: 'Delete' });
  });

  test('bind returns SESSION_STORE=memcached and every node endpoint (derived from the configuration endpoint) with the port', () => {
    expect(store.kind).toBe('memcached');
    const env = stack.resolve(binding.environment);
    expect(env.SESSION_STORE).toBe('memcached');
    // Evaluate the intrinsics the way CloudFormation will, for a real configuration endpoint.
    const logicalId = stack.getLogicalId(store.cacheCluster!);
    const servers = evaluate(env.SESSION_MEMCACHED_SERVERS, { [`${logicalId}.ConfigurationEndpoint.Address`]: 'sess-abc.x1y2z3.cfg.euw1.cache.amazonaws.com' });
    expect(servers).toBe('sess-abc.x1y2z3.0001.euw1.cache.amazonaws.com:11212,sess-abc.x1y2z3.0002.euw1.cache.amazonaws.com:11212');
    expect(store.servers).toHaveLength(2);
    expect(store.tls).toBe(true);
    expect(env.SESSION_MEMCACHED_TLS).toBe('true'); // the runtime connects with TLS, as the cluster requires
  });

  test('the environment passes the runtime parser (names and host:port format agree with the seam)', () => {
    const env = parseSessionEnv({
      ...binding.environment,
      SESSION_MEMCACHED_SERVERS: 'a.x.0001.euw1.cache.amazonaws.com:11212,a.x.0002.euw1.cache.amazonaws.com:11212',
      SESSION_COOKIE_SECRET: 'x'.repeat(32),
    });
    expect(env.memcached!.servers).toHaveLength(2);
    expect(env.memcached!.tls).toBe(true);
  });

  test('bind opens the port to the consumer security group only, and grants no IAM (Memcached has no auth)', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 11212,
      ToPort: 11212,
      GroupId: stack.resolve(store.securityGroup.securityGroupId),
      SourceSecurityGroupId: stack.resolve(consumer.securityGroup!.securityGroupId),
    });
    expect(policyStatements(template)).toEqual([]);
  });

  test('bind throws a clear error for a consumer without connections', () => {
    expect(() => store.bind(newConsumer(stack, 'Outside'))).toThrow(/bind\(\) needs a consumer with connections/);
  });

  test('metrics: CPUUtilization, Evictions and CurrConnections per node of this cluster', () => {
    const cpu = store.metricCPUUtilization();
    expect(cpu.namespace).toBe('AWS/ElastiCache');
    expect(stack.resolve(cpu.dimensions)).toEqual({ CacheClusterId: stack.resolve(store.cacheCluster!.ref), CacheNodeId: '0001' });
    expect(store.metricEvictions().statistic).toBe('Sum');
    expect(store.metricCurrConnections({ cacheNodeId: '0002' }).dimensions!.CacheNodeId).toBe('0002');
  });
});

describe('MemcachedSessionStore options', () => {
  test('more nodes round-robin over the AZs and all appear in SESSION_MEMCACHED_SERVERS', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const store = new MemcachedSessionStore(stack, 'Store', { vpc, numCacheNodes: 3, port: 11300, transitEncryption: false });
    const resolved = stack.resolve(store.bind(newConsumer(stack, 'App', vpc)).environment);
    expect(resolved.SESSION_MEMCACHED_TLS).toBe('false'); // the runtime connects in plain TCP, as the cluster serves
    const env = JSON.stringify(resolved);
    for (const id of ['0001', '0002', '0003']) expect(env).toContain(`.${id}.`);
    const azs = stack.resolve(vpc.privateSubnets.map((s) => s.availabilityZone));
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      NumCacheNodes: 3,
      Port: 11300,
      PreferredAvailabilityZones: [azs[0], azs[1], azs[0]],
      TransitEncryptionEnabled: false,
    });
    Annotations.fromStack(stack).hasWarning('/Test/Store', Match.stringLikeRegexp('transitEncryption is off'));
  });
});

describe('MemcachedSessionStore serverless', () => {
  let key!: kms.Key;
  const { stack, vpc, store, consumer, binding, template } = boundVpcStore((s, v) => {
    key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    return new MemcachedSessionStore(s, 'Store', { vpc: v, serverless: true, serverlessOptions: { encryptionKey: key, maxDataStorageGb: 10 } });
  });

  test('an ElastiCache Serverless cache with engine memcached in the private subnets, own security group, customer key, limits', () => {
    template.resourceCountIs('AWS::ElastiCache::CacheCluster', 0);
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'memcached',
      SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)),
      SecurityGroupIds: [stack.resolve(store.securityGroup.securityGroupId)],
      KmsKeyId: stack.resolve(key.keyId),
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' } },
    });
    expect(store.tls).toBe(true);
  });

  test('bind returns the one serverless endpoint and opens its port to the consumer', () => {
    const logicalId = stack.getLogicalId(store.serverlessCache!);
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 'memcached',
      SESSION_MEMCACHED_TLS: 'true',
      SESSION_MEMCACHED_SERVERS: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Endpoint.Address'] }, ':', { 'Fn::GetAtt': [logicalId, 'Endpoint.Port'] }]] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: { 'Fn::GetAtt': [logicalId, 'Endpoint.Port'] },
      SourceSecurityGroupId: stack.resolve(consumer.securityGroup!.securityGroupId),
    });
  });

  test('Evictions comes from the serverless cache; CPUUtilization does not exist there', () => {
    expect(stack.resolve(store.metricEvictions().dimensions)).toEqual({ ServerlessCacheName: stack.resolve(store.serverlessCache!.ref) });
    expect(() => store.metricCPUUtilization()).toThrow(/is serverless: ElastiCache publishes no CPUUtilization for it; use metricElastiCacheProcessingUnits/);
  });
});

describe('MemcachedSessionStore validation', () => {
  test('every bad prop is reported in one error', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const make = () =>
      new MemcachedSessionStore(stack, 'Store', {
        vpc,
        numCacheNodes: 1,
        port: 80,
        engineVersion: '1.6.6',
        cacheNodeType: 'm5.large',
        preferredMaintenanceWindow: 'sunday 3am',
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        serverlessOptions: { maxDataStorageGb: 0, maxEcpuPerSecond: 10 },
      });
    expectProblems(make, [
      /^serverlessOptions needs serverless: true/,
      /^numCacheNodes must be a whole number from 2 to 60, got 1/,
      /^port must be a whole number from 1024 to 65535, got 80/,
      /^cacheNodeType must look like 'cache.t4g.small'/,
      /^engineVersion 1.6.6 has no in-transit encryption/,
      /^preferredMaintenanceWindow must look like/,
      /^serverlessOptions.maxDataStorageGb must be a whole number from 1 to 5000/,
      /^serverlessOptions.maxEcpuPerSecond must be a whole number from 1000/,
      /^vpcSubnets must select private subnets only/,
    ]);
  });

  test('node-based props with serverless: true are rejected by name', () => {
    const stack = newStack();
    expect(() => new MemcachedSessionStore(stack, 'Store', { vpc: newVpc(stack), serverless: true, numCacheNodes: 3, port: 11300 })).toThrow(
      /numCacheNodes, port only apply to a node-based cluster/,
    );
  });

  test('subnets in one AZ cannot hold a cross-AZ cluster', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    expect(() => new MemcachedSessionStore(stack, 'Store', { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0]] } })).toThrow(/at least two availability zones/);
  });
});

describe('MemcachedSessionStore cdk-nag', () => {
  test('node-based and serverless stores bound to a consumer: no unacknowledged finding, and no acknowledgment needed', () => {
    const app = newApp({ nag: true });
    const stack = newStack(app);
    const vpc = newVpc(stack);
    new MemcachedSessionStore(stack, 'Nodes', { vpc }).bind(newConsumer(stack, 'App', vpc));
    new MemcachedSessionStore(stack, 'Serverless', { vpc, serverless: true }).bind(newConsumer(stack, 'Api', vpc));
    expect(nagFindings(app)).toEqual([]);
    const acknowledged = stack.node
      .findAll()
      .filter((c) => c.node.path.includes('/Nodes') || c.node.path.includes('/Serverless'))
      .flatMap(acknowledgedRules);
    expect(acknowledged).toEqual([]);
    // The same query sees an acknowledgment when there is one (it can fail).
    const store = new MemcachedSessionStore(stack, 'Probe', { vpc });
    Validations.of(store.cacheCluster!).acknowledge({ id: 'AwsSolutions-AEC5', reason: 'probe' });
    expect(acknowledgedRules(store.cacheCluster!)).toEqual([expect.stringContaining('AwsSolutions-AEC5')]);
  });

  test('the default port 11211 fails AEC5 (the check is live)', () => {
    expect(nagFindingsOf((stack) => new MemcachedSessionStore(stack, 'Store', { vpc: newVpc(stack), port: 11211 }))).toEqual([
      { rule: 'AwsSolutions-AEC5', path: 'Test/Store/Resource', severity: 'error' },
    ]);
  });
});
