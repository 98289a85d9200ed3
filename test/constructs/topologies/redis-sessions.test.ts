import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RedisSessions, StickinessType } from '../../../lib';
import { expectAllReported, expectHardenedInstances, expectOneSharedVpc, expectSourcesFrom, expectNoServiceWideWildcards, ingressRules, ingressSources, secretsEndpointSources, synthTopology, tgAttributes, topologyStack } from '../helpers';

describe('RedisSessions', () => {
  const { stack, topology: redis, template } = synthTopology((s) => new RedisSessions(s, 'Sessions'));

  test('one VPC shared by the store, the fleet and the function', () => {
    expectOneSharedVpc(template, redis);
  });

  test('fleet and function both get the one store: same Redis environment, one cookie secret', () => {
    expect(redis.fleet.environment.SESSION_STORE).toBe('redis');
    expect(redis.api.environment.SESSION_STORE).toBe('redis');
    const resolve = (v: string) => JSON.stringify(stack.resolve(v));
    expect(resolve(redis.fleet.environment.SESSION_REDIS_URL)).toBe(resolve(redis.api.environment.SESSION_REDIS_URL));
    expect(resolve(redis.fleet.environment.SESSION_COOKIE_SECRET_ARN)).toBe(resolve(redis.api.environment.SESSION_COOKIE_SECRET_ARN));
    expect(redis.fleet.cookieSecret).toBe(redis.cookieSecret);
    expect(redis.api.cookieSecret).toBe(redis.cookieSecret);
  });

  test("the store's port is opened from the instances and from the function, not from a CIDR", () => {
    const storePort = ingressRules(template).filter((p) => p.FromPort !== 8080 && p.FromPort !== 443 && p.FromPort !== 80);
    expectSourcesFrom(ingressSources(storePort), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
    for (const p of storePort) expect(p.CidrIp).toBeUndefined();
  });

  test('the Secrets Manager endpoint (private DNS) admits the instances too: they read the cookie secret and the AUTH token', () => {
    expectSourcesFrom(secretsEndpointSources(template), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
  });

  test('no stickiness by default: any instance serves any session', () => {
    expect(tgAttributes(template)['stickiness.enabled']).toBe('false');
  });

  test('stickiness is optional', () => {
    const s = topologyStack();
    new RedisSessions(s, 'Sessions', { stickiness: { cookieType: StickinessType.LOAD_BALANCER_COOKIE, duration: Duration.minutes(10) } });
    const a = tgAttributes(Template.fromStack(s));
    expect(a['stickiness.type']).toBe('lb_cookie');
    expect(a['stickiness.lb_cookie.duration_seconds']).toBe('600');
  });

  test('function: Node 24 on ARM64 in the private subnets; endpoints for DynamoDB and Secrets Manager', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet') }]) }),
    });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
  });

  test('instances: IMDSv2, encrypted EBS, /healthz; listener HTTP without certificate', () => {
    expectHardenedInstances(template);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP' });
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('a given vpc is used', () => {
    const s = topologyStack();
    const vpc = new ec2.Vpc(s, 'Mine', { maxAzs: 2 });
    const r = new RedisSessions(s, 'Sessions', { vpc: vpc });
    expect(r.vpc).toBe(vpc);
    Template.fromStack(s).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test('rejects bad props all at once', () => {
    const s = topologyStack();
    expect(() => new RedisSessions(s, 'Sessions', { vpc: new ec2.Vpc(s, 'V'), vpcProps: {} })).toThrow(
      /vpc and vpcProps are mutually exclusive/,
    );
    expectAllReported(
      () => new RedisSessions(topologyStack(), 'Sessions', { minCapacity: 4, maxCapacity: 2, stickiness: { cookieType: StickinessType.APPLICATION_COOKIE, cookieName: 'AWSALBTG' } }),
      ['minCapacity (4) must not exceed maxCapacity (2)', 'stickiness cookie name must not start with AWSALB'],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
