import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MemcachedSessions } from '../../../lib';
import { expectAllReported, expectNoServiceWideWildcards, expectOneSharedVpc, expectSourcesFrom, ingressRules, ingressSources, secretsEndpointSources, synthTopology, tgAttributes, topologyStack } from '../helpers';

describe('MemcachedSessions', () => {
  const { stack, topology: mc, template } = synthTopology((s) => new MemcachedSessions(s, 'Sessions'));

  test('one VPC shared by the store, the fleet and the function', () => {
    expectOneSharedVpc(template, mc);
  });

  test('a memcached cluster: 2+ nodes across AZs, TLS, not on 11211', () => {
    template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      Engine: 'memcached',
      NumCacheNodes: 2,
      AZMode: 'cross-az',
      Port: 11212,
      TransitEncryptionEnabled: true,
    });
  });

  test('fleet and function get the one store: the same server list, one cookie secret', () => {
    expect(mc.fleet.environment.SESSION_STORE).toBe('memcached');
    expect(mc.api.environment.SESSION_STORE).toBe('memcached');
    const resolve = (v: string) => JSON.stringify(stack.resolve(v));
    expect(resolve(mc.fleet.environment.SESSION_MEMCACHED_SERVERS)).toBe(resolve(mc.api.environment.SESSION_MEMCACHED_SERVERS));
    expect(mc.fleet.cookieSecret).toBe(mc.cookieSecret);
    expect(mc.api.cookieSecret).toBe(mc.cookieSecret);
  });

  test("the store's port is opened from the instances and from the function, not from a CIDR", () => {
    const storePort = ingressRules(template).filter((p) => p.FromPort === 11212);
    expectSourcesFrom(ingressSources(storePort), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
    for (const p of storePort) expect(p.CidrIp).toBeUndefined();
  });

  test('the Secrets Manager endpoint (private DNS) admits the instances too: they read the cookie secret', () => {
    expectSourcesFrom(secretsEndpointSources(template), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
  });

  test('no stickiness by default; function on Node 24 ARM64 in the private subnets', () => {
    expect(tgAttributes(template)['stickiness.enabled']).toBe('false');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet') }]) }),
    });
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('serverless store through storeProps', () => {
    const s = topologyStack();
    new MemcachedSessions(s, 'Sessions', { storeProps: { serverless: true } });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'memcached' });
    t.resourceCountIs('AWS::ElastiCache::CacheCluster', 0);
  });

  test('rejects bad props all at once', () => {
    const s = topologyStack();
    expect(() => new MemcachedSessions(s, 'Sessions', { vpc: new ec2.Vpc(s, 'V'), vpcProps: {} })).toThrow(/vpc and vpcProps are mutually exclusive/);
    expectAllReported(
      () => new MemcachedSessions(topologyStack(), 'Sessions', { storeProps: { numCacheNodes: 1, port: 80 } }),
      ['numCacheNodes must be a whole number from 2 to 60, got 1', 'port must be a whole number from 1024 to 65535, got 80'],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
