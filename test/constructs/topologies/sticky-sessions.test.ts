import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StickySessions, StickinessType } from '../../../lib';
import { expectAllReported, expectHardenedInstances, expectNoServiceWideWildcards, synthTopology, tgAttributes, topologyStack } from '../helpers';

describe('StickySessions', () => {
  const { topology: sticky, template } = synthTopology((s) => new StickySessions(s, 'Sessions'));

  test('target group uses AWSALB (lb_cookie) stickiness for one day by default', () => {
    const a = tgAttributes(template);
    expect(a['stickiness.enabled']).toBe('true');
    expect(a['stickiness.type']).toBe('lb_cookie');
    expect(a['stickiness.lb_cookie.duration_seconds']).toBe('86400');
  });

  test('instances keep sessions in memory, so stickiness is what keeps a user on theirs', () => {
    expect(sticky.fleet.environment.SESSION_STORE).toBe('memory');
    expect(JSON.stringify(template.toJSON())).toContain('SESSION_STORE=memory');
  });

  test('IMDSv2 required, encrypted root volume, /healthz health check, HTTP listener without certificate', () => {
    expectHardenedInstances(template);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP', Port: 80 });
  });

  test('exposes its parts', () => {
    expect(sticky.loadBalancer).toBe(sticky.fleet.loadBalancer);
    expect(sticky.targetGroup).toBe(sticky.fleet.targetGroup);
    expect(sticky.autoScalingGroup).toBe(sticky.fleet.autoScalingGroup);
    expect(sticky.vpc).toBe(sticky.fleet.vpc);
    expect(sticky.cookieSecret).toBe(sticky.fleet.cookieSecret);
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('app_cookie stickiness can replace the default', () => {
    const s = topologyStack();
    new StickySessions(s, 'Sessions', { stickiness: { cookieType: StickinessType.APPLICATION_COOKIE, duration: Duration.hours(1) } });
    const a = tgAttributes(Template.fromStack(s));
    expect(a['stickiness.type']).toBe('app_cookie');
    expect(a['stickiness.app_cookie.cookie_name']).toBe('sid');
    expect(a['stickiness.app_cookie.duration_seconds']).toBe('3600');
  });

  test('the in-memory store bounds reach the instances through the seam; unset, the runtime defaults apply', () => {
    expect(sticky.fleet.environment.SESSION_MEMORY_MAX_SESSIONS).toBeUndefined();
    const s = topologyStack();
    const bounded = new StickySessions(s, 'Sessions', { memoryMaxSessions: 20_000, memoryMaxBytes: 32 * 1024 * 1024, environment: { SESSION_MAX_BYTES: '16384' } });
    expect(bounded.fleet.environment).toMatchObject({ SESSION_MEMORY_MAX_SESSIONS: '20000', SESSION_MEMORY_MAX_BYTES: '33554432', SESSION_MAX_BYTES: '16384' });
  });

  test('bad memory bounds are rejected together, naming the construct path and the props', () => {
    expect(() => new StickySessions(topologyStack(), 'Sessions', { memoryMaxSessions: 0, memoryMaxBytes: 1000 })).toThrow(
      /Invalid props for Test\/Sessions:\n {2}- memoryMaxSessions must be a whole number from 1 to 100000000, got 0\n {2}- memoryMaxBytes must be a whole number from 1048576 to \d+, got 1000/,
    );
  });

  test('rejects bad props all at once', () => {
    expectAllReported(
      () =>
        new StickySessions(topologyStack(), 'Sessions', {
          stickiness: { cookieType: StickinessType.LOAD_BALANCER_COOKIE, duration: Duration.days(8) },
          minCapacity: 3,
          maxCapacity: 1,
          cookieName: 'AWSALBAPP-x',
        }),
      [
        'stickiness.duration must be a whole number of seconds from 1 second to 7 days, got 691200 s',
        'minCapacity (3) must not exceed maxCapacity (1)',
        'cookieName must not start with AWSALB',
      ],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
