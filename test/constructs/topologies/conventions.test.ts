/*
 * What every topology shares since issue 15: CDK-convention props at the top level, IConnectable,
 * `url`, `connect()` with the topology's one cookie secret, metric passthroughs, and a user's VPC
 * that gets no endpoint unless asked.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DynamoDbSessions, JwtSessions, MemcachedSessions, RdsSessions, RedisSessions, S3Sessions, StickySessions } from '../../../lib';
import { SessionConsumer } from '../../../lib/core/consumer';
import { expectProblems, expectSourcesFrom, ingressRules, ingressSources, newVpc, secretsEndpointSources, topologyStack, envOf, userFunction } from '../helpers';

const cert = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc');

describe('topology connect(): one cookie secret for the topology and its consumers', () => {
  test('RedisSessions: a function in the topology VPC gets the fleet\'s cookie secret ARN, cookie name and timeouts, and a way through the endpoint', () => {
    const stack = topologyStack();
    const sessions = new RedisSessions(stack, 'Sessions', { cookieName: 'shop', idleTimeout: Duration.minutes(10) });
    const fn = userFunction(stack, 'UserFn', sessions.vpc);
    const env = sessions.connect(SessionConsumer.fromFunction(fn)).environment;
    const t = Template.fromStack(stack);
    // The same secret, not a second one: a session the fleet made is accepted by the function.
    expect(stack.resolve(env.SESSION_COOKIE_SECRET_ARN)).toEqual(stack.resolve(sessions.fleet.environment.SESSION_COOKIE_SECRET_ARN));
    expect(stack.resolve(envOf(t, 'UserFn').SESSION_COOKIE_SECRET_ARN)).toEqual(stack.resolve(sessions.api.environment.SESSION_COOKIE_SECRET_ARN));
    expect(sessions.store.node.tryFindChild('CookieSecret')).toBeUndefined(); // no store-level second secret
    expect(envOf(t, 'UserFn')).toEqual(
      expect.objectContaining({ SESSION_STORE: 'redis', SESSION_COOKIE_NAME: 'shop', SESSION_IDLE_TIMEOUT: '600', SESSION_AUTH: 'cognito', SESSION_COOKIE_SECURE: 'true' }),
    );
    expect(stack.resolve(envOf(t, 'UserFn').SESSION_COGNITO_USER_POOL_ID)).toEqual(stack.resolve(sessions.userPool.userPoolId));
    // The topology made the VPC, so it has the Secrets Manager endpoint: it admits the consumer too.
    expectSourcesFrom(secretsEndpointSources(t), ['InstanceSecurityGroup', 'ApiSecurityGroup', 'UserFnSecurityGroup']);
  });

  test('a Fargate service connects in one call: container environment with the topology secret, store port and endpoint opened to it', () => {
    const stack = topologyStack();
    const sessions = new MemcachedSessions(stack, 'Sessions');
    const td = new ecs.FargateTaskDefinition(stack, 'Task');
    td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24') });
    const service = new ecs.FargateService(stack, 'Service', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc: sessions.vpc }), taskDefinition: td });
    const env = sessions.connect(SessionConsumer.fromFargateService(service), { secureCookie: false });
    expect(stack.resolve(env.environment.SESSION_COOKIE_SECRET_ARN)).toEqual(stack.resolve(sessions.cookieSecret.secretArn));
    expect(env.environment.SESSION_COOKIE_SECURE).toBe('false');
    const t = Template.fromStack(stack);
    expectSourcesFrom(secretsEndpointSources(t), ['ServiceSecurityGroup']);
    const storePort = ingressRules(t).filter((r) => r.FromPort === 11212);
    expectSourcesFrom(ingressSources(storePort), ['ServiceSecurityGroup', 'InstanceSecurityGroup', 'ApiSecurityGroup']);
  });

  test('DynamoDbSessions and JwtSessions: a function in no VPC gets the API\'s secret', () => {
    for (const make of [(s: Stack) => new DynamoDbSessions(s, 'Sessions'), (s: Stack) => new JwtSessions(s, 'Sessions')]) {
      const stack = topologyStack();
      const sessions = make(stack);
      const env = sessions.connect(SessionConsumer.fromFunction(userFunction(stack, 'UserFn'))).environment;
      expect(stack.resolve(env.SESSION_COOKIE_SECRET_ARN)).toEqual(stack.resolve(sessions.api.environment.SESSION_COOKIE_SECRET_ARN));
      Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 1);
    }
  });

  test('another cookie secret for a consumer is refused: it would refuse the topology\'s sessions', () => {
    const stack = topologyStack();
    const sessions = new S3Sessions(stack, 'Sessions');
    const other = new secretsmanager.Secret(stack, 'Other');
    expectProblems(() => sessions.connect(SessionConsumer.fromFunction(userFunction(stack, 'UserFn')), { cookieSecret: other }), [/cookieSecret must be the topology's own/]);
    // The topology's own secret, given explicitly, is fine.
    expect(() => sessions.connect(SessionConsumer.fromFunction(userFunction(stack, 'Fn2')), { cookieSecret: sessions.cookieSecret })).not.toThrow();
  });
});

describe("the user's VPC is theirs", () => {
  test('RedisSessions in a given VPC adds no endpoint; the fleet and the API run in its private subnets', () => {
    const stack = topologyStack();
    const vpc = newVpc(stack);
    const sessions = new RedisSessions(stack, 'Sessions', { vpc });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(sessions.vpc).toBe(vpc);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      VPCZoneIdentifier: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcappSubnet') }]),
    });
  });

  test('addVpcEndpoints: true in a given VPC: the endpoint admits the fleet, the API and every connected consumer, nobody else', () => {
    const stack = topologyStack();
    const vpc = newVpc(stack);
    const sessions = new RdsSessions(stack, 'Sessions', { vpc, addVpcEndpoints: true });
    sessions.connect(SessionConsumer.fromFunction(userFunction(stack, 'UserFn', vpc)));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    const sources = secretsEndpointSources(t);
    expectSourcesFrom(sources, ['InstanceSecurityGroup', 'ApiSecurityGroup', 'UserFnSecurityGroup']);
    for (const r of ingressRules(t).filter((p) => JSON.stringify(p.GroupId).includes('SecretsManagerEndpoint'))) expect(r.CidrIp).toBeUndefined();
  });

  test('vpcSubnets places the instances, the function and the endpoints; isolated-only VPCs are the default fallback', () => {
    const stack = topologyStack();
    const vpc = newVpc(stack);
    new RedisSessions(stack, 'Sessions', { vpc, vpcSubnets: { subnetGroupName: 'data' }, addVpcEndpoints: true });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcdataSubnet') }]) });
    t.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcdataSubnet') }]) }) });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcdataSubnet') }]) });

    const s2 = topologyStack();
    const isolated = new ec2.Vpc(s2, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    new StickySessions(s2, 'Sessions', { vpc: isolated });
    Template.fromStack(s2).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      VPCZoneIdentifier: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcdataSubnet') }]),
    });
  });

  test('a VPC without private subnets, or a public vpcSubnets, is our props error, not a bare CDK one', () => {
    const stack = topologyStack();
    const publicOnly = new ec2.Vpc(stack, 'Pub', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    expectProblems(() => new StickySessions(stack, 'Sessions', { vpc: publicOnly }), [/has no private subnets/]);
    const s2 = topologyStack();
    expectProblems(() => new StickySessions(s2, 'Sessions', { vpc: newVpc(s2), vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }), [/vpcSubnets must select private subnets only/]);
  });
});

describe('CDK conventions', () => {
  test('certificate, capacity, instance type and domain at the top level; url on the domain over HTTPS', () => {
    const stack = topologyStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });
    const sessions = new RedisSessions(stack, 'Sessions', {
      certificate: cert(stack),
      sslPolicy: elbv2.SslPolicy.TLS13_13,
      minCapacity: 3,
      maxCapacity: 6,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
      domainName: 'app.example.com',
      domainZone: zone,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '3', MaxSize: '6' });
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'm7g.large' }) });
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'app.example.com.', Type: 'A', HostedZoneId: 'Z123', AliasTarget: Match.anyValue() });
    expect(sessions.url).toBe('https://app.example.com');
    expect(sessions.fleet.environment.SESSION_COOKIE_SECURE).toBe('true');
  });

  test('domainName without domainZone, and old nested fleet props, are reported', () => {
    expectProblems(() => new StickySessions(topologyStack(), 'Sessions', { domainName: 'a.example.com' }), [/domainName needs domainZone/]);
    expectProblems(() => new RedisSessions(topologyStack(), 'Sessions', { fleet: { certificate: undefined, minCapacity: 1 } as any }), [
      /fleet.certificate is a top-level prop now/,
      /fleet.minCapacity is a top-level prop now/,
    ]);
  });

  test('removalPolicy reaches the store, the log groups, the access-log bucket and the user pool', () => {
    const stack = topologyStack();
    new DynamoDbSessions(stack, 'Sessions', { removalPolicy: RemovalPolicy.DESTROY, fleet: {} });
    const t = Template.fromStack(stack);
    for (const type of ['AWS::DynamoDB::GlobalTable', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::Cognito::UserPool']) {
      const resources = Object.values(t.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect([type, r.DeletionPolicy]).toEqual([type, 'Delete']);
    }
    t.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });

    const s2 = topologyStack();
    new RedisSessions(s2, 'Sessions', { removalPolicy: RemovalPolicy.RETAIN });
    const t2 = Template.fromStack(s2);
    for (const type of ['AWS::ElastiCache::ReplicationGroup', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket']) {
      for (const r of Object.values(t2.findResources(type))) expect([type, r.DeletionPolicy]).toEqual([type, 'Retain']);
    }
  });

  test('every topology is IConnectable and has a url; fleet topologies\' connections hold the instances (and the function)', () => {
    const stack = topologyStack();
    const redis = new RedisSessions(stack, 'Redis');
    const db = new ec2.SecurityGroup(stack, 'Db', { vpc: redis.vpc, allowAllOutbound: false });
    redis.connections.allowTo(db, ec2.Port.tcp(5432), 'sessions to the team database');
    const t = Template.fromStack(stack);
    const toDb = ingressRules(t).filter((r) => r.FromPort === 5432);
    expectSourcesFrom(ingressSources(toDb), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
    expect(toDb).toHaveLength(2);
    expect(redis.url).toBe(redis.fleet.url);

    const s2 = topologyStack();
    const others = [
      new StickySessions(s2, 'Sticky'),
      new DynamoDbSessions(s2, 'Dynamo'),
      new S3Sessions(s2, 'S3'),
      new JwtSessions(s2, 'Jwt'),
      new MemcachedSessions(s2, 'Memcached'),
      new RdsSessions(s2, 'Rds'),
    ];
    for (const o of others) {
      expect(o.connections).toBeInstanceOf(ec2.Connections);
      expect(typeof o.url).toBe('string');
    }
    expect(others[0].connections.securityGroups).toHaveLength(1);
    expect(others[1].connections.securityGroups).toHaveLength(0); // the API runs in no VPC
    expect(others[1].url).toBe((others[1] as DynamoDbSessions).api.url);
  });

  test('metric passthroughs: ALB metrics on fleet topologies, function metrics on API topologies', () => {
    const stack = topologyStack();
    const redis = new RedisSessions(stack, 'Redis');
    const dims = (m: { dimensions?: Record<string, unknown> }) => stack.resolve(m.dimensions);
    const rc = redis.metricRequestCount();
    expect([rc.namespace, rc.metricName, rc.statistic]).toEqual(['AWS/ApplicationELB', 'RequestCount', 'Sum']);
    expect(dims(rc)).toEqual(dims(redis.targetGroup.metrics.requestCount()));
    expect(redis.metricHttpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT).metricName).toBe('HTTPCode_Target_5XX_Count');
    expect(redis.metricUnhealthyHostCount().metricName).toBe('UnHealthyHostCount');
    expect(redis.metricTargetResponseTime().metricName).toBe('TargetResponseTime');
    const dynamo = new DynamoDbSessions(stack, 'Dynamo');
    const errors = dynamo.metricErrors();
    expect([errors.namespace, errors.metricName]).toEqual(['AWS/Lambda', 'Errors']);
    expect(dims(errors)).toEqual(dims(dynamo.api.function.metricErrors()));
    expect(dynamo.api.metricServerError().namespace).toBe('AWS/ApiGateway');
  });
});
