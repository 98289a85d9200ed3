import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { InstanceFleet, InstanceFleetProps } from '../../../lib/compute';
import { agnosticStack, expectAllReported, expectNoServiceWideWildcards, ingressRules, newStack, policyActions, tgAttributes } from '../helpers';
import { FakeStore } from './fake-store';

function synth(props: InstanceFleetProps = {}, withStore = false): { stack: Stack; template: Template; fleet: InstanceFleet } {
  const stack = agnosticStack();
  const store = withStore ? new FakeStore(stack, 'Store') : undefined;
  const fleet = new InstanceFleet(stack, 'Fleet', { ...props, store: props.store ?? store });
  return { stack, template: Template.fromStack(stack), fleet };
}

const cert = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc');

describe('InstanceFleet', () => {
  test('launch template requires IMDSv2 tokens and encrypts the gp3 root volume', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectLike({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 }),
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true }) },
        ],
      }),
    });
  });

  test('defaults to t4g.small on the ARM64 AL2023 image, no key pair', () => {
    const { template } = synth();
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(lt.Properties.LaunchTemplateData.InstanceType).toBe('t4g.small');
    expect(lt.Properties.LaunchTemplateData.KeyName).toBeUndefined();
    const params = template.toJSON().Parameters as Record<string, { Default: string }>;
    expect(Object.values(params).map((p) => p.Default)).toContainEqual(
      expect.stringMatching(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-.*-arm64$/),
    );
  });

  test('an x86 instance type picks the x86_64 image', () => {
    const { template } = synth({ instanceType: new ec2.InstanceType('m7i.large') });
    const params = template.toJSON().Parameters as Record<string, { Default: string }>;
    expect(Object.values(params).map((p) => p.Default)).toContainEqual(
      expect.stringMatching(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-.*-x86_64$/),
    );
  });

  test('target group health-checks /healthz and drains for 30 s by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/healthz',
      Port: 8080,
      Matcher: { HttpCode: '200' },
    });
    expect(tgAttributes(template)['deregistration_delay.timeout_seconds']).toBe('30');
  });

  test('no stickiness by default', () => {
    const { template } = synth();
    const a = tgAttributes(template);
    expect(a['stickiness.enabled']).toBe('false');
    expect(a['stickiness.type']).toBeUndefined();
  });

  test('lb_cookie stickiness sets AWSALB stickiness with its duration', () => {
    const { template } = synth({ stickiness: { type: 'lb_cookie', duration: Duration.hours(2) } });
    const a = tgAttributes(template);
    expect(a['stickiness.enabled']).toBe('true');
    expect(a['stickiness.type']).toBe('lb_cookie');
    expect(a['stickiness.lb_cookie.duration_seconds']).toBe('7200');
  });

  test('app_cookie stickiness follows __Host-sid over HTTPS', () => {
    const stack = agnosticStack();
    new InstanceFleet(stack, 'Fleet', { certificate: cert(stack), stickiness: { type: 'app_cookie', duration: Duration.minutes(30) } });
    const a = tgAttributes(Template.fromStack(stack));
    expect(a['stickiness.type']).toBe('app_cookie');
    expect(a['stickiness.app_cookie.cookie_name']).toBe('__Host-sid');
    expect(a['stickiness.app_cookie.duration_seconds']).toBe('1800');
  });

  test('app_cookie stickiness follows the bare cookie name over plain HTTP', () => {
    const { template } = synth({ cookieName: 'app_sid', stickiness: { type: 'app_cookie' } });
    const a = tgAttributes(template);
    expect(a['stickiness.app_cookie.cookie_name']).toBe('app_sid');
    expect(a['stickiness.app_cookie.duration_seconds']).toBe('86400');
  });

  test('with a certificate: HTTPS listener with a TLS 1.3 policy, HTTP only redirects', () => {
    const stack = agnosticStack();
    const fleet = new InstanceFleet(stack, 'Fleet', { certificate: cert(stack) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
    expect(fleet.environment.SESSION_COOKIE_SECURE).toBe('true');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('plain HTTP'));
  });

  test('without a certificate: plain HTTP listener, insecure cookie, and a warning saying so', () => {
    const { stack, template, fleet } = synth();
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP', Port: 80 });
    expect(fleet.environment.SESSION_COOKIE_SECURE).toBe('false');
    Annotations.fromStack(stack).hasWarning('/Test/Fleet', Match.stringLikeRegexp('plain HTTP.*clear text'));
  });

  test('load balancer drops invalid headers and logs to an encrypted TLS-only bucket', () => {
    const { template } = synth();
    const lb = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0];
    const attrs = Object.fromEntries(
      (lb.Properties.LoadBalancerAttributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]),
    );
    expect(lb.Properties.Scheme).toBe('internet-facing');
    expect(attrs['routing.http.drop_invalid_header_fields.enabled']).toBe('true');
    expect(attrs['access_logs.s3.enabled']).toBe('true');
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('env-agnostic access logs admit the regional ELB account (or, where none, this account) and the log-delivery service, only under alb/AWSLogs/<account>/', () => {
    const { template } = synth();
    const json = template.toJSON();
    expect(Object.keys(json.Conditions ?? {})).toContain('SessionsRegionHasNoElbAccount');
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0];
    const puts = (policy.Properties.PolicyDocument.Statement as { Action: string; Principal: unknown; Resource: unknown }[]).filter(
      (s) => s.Action === 's3:PutObject',
    );
    expect(puts).toHaveLength(2);
    expect(JSON.stringify(puts.map((s) => s.Principal))).toContain('logdelivery.elasticloadbalancing.amazonaws.com');
    expect(JSON.stringify(puts.map((s) => s.Principal))).toContain('"Fn::If":["SessionsRegionHasNoElbAccount"');
    for (const s of puts) expect(JSON.stringify(s.Resource)).toContain('/alb/AWSLogs/');
  });

  test('in a stack with a known region, access logs use the CDK-native regional principal', () => {
    const stack = newStack();
    new InstanceFleet(stack, 'Fleet');
    const template = Template.fromStack(stack);
    expect(template.toJSON().Conditions?.SessionsRegionHasNoElbAccount).toBeUndefined();
    // eu-west-1's ELB account
    expect(JSON.stringify(template.findResources('AWS::S3::BucketPolicy'))).toContain('156460612806');
  });

  test('new VPC has 2 AZs, public + private subnets and flow logs', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });

  test('existingVpc is used and no VPC is created', () => {
    const stack = agnosticStack();
    const vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 2 });
    const fleet = new InstanceFleet(stack, 'Fleet', { existingVpc: vpc });
    expect(fleet.vpc).toBe(vpc);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test('instances sit in private subnets; ASG scales on request count with min/max', () => {
    const { template } = synth({ minCapacity: 1, maxCapacity: 6, targetRequestsPerMinute: 600 });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '1',
      MaxSize: '6',
      HealthCheckType: 'ELB',
      VPCZoneIdentifier: Match.arrayWith([{ Ref: Match.stringLikeRegexp('FleetVpcPrivate') }]),
    });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
        TargetValue: 600,
      }),
    });
  });

  test('instances accept the app port only from the load balancer security group', () => {
    const { template } = synth();
    const toInstances = ingressRules(template).filter((p) => JSON.stringify(p.GroupId).includes('InstanceSecurityGroup'));
    expect(toInstances).toHaveLength(1);
    expect(toInstances[0]).toMatchObject({ FromPort: 8080, ToPort: 8080, IpProtocol: 'tcp' });
    expect(JSON.stringify(toInstances[0].SourceSecurityGroupId)).toContain('LoadBalancerSecurityGroup');
  });

  test('role has Session Manager core, reads the bundle and cookie secret, and no service-wide wildcard', () => {
    const { template } = synth({}, true);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
    expect(policyActions(template)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 's3:GetObject', 'dynamodb:GetItem']));
    expectNoServiceWideWildcards(template);
  });

  test('binds the store to the Auto Scaling group and writes its environment to the unit', () => {
    const stack = agnosticStack();
    const store = new FakeStore(stack, 'Store');
    const fleet = new InstanceFleet(stack, 'Fleet', { store });
    expect(store.consumers).toEqual([fleet.autoScalingGroup]);
    expect(fleet.environment).toMatchObject({ SESSION_STORE: 'dynamodb', SESSION_TABLE: 'fake', PORT: '8080' });
    const userData = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(userData).toContain('SESSION_TABLE=fake');
    expect(userData).toContain('SESSION_COOKIE_SECRET_ARN=');
    expect(userData).toContain('EnvironmentFile=/etc/cdk-sessions.env');
    expect(userData).toContain('systemctl enable --now cdk-sessions.service');
    expect(userData).toMatch(/aws s3 cp 's3:\/\//);
  });

  test('without a store the instances keep sessions in memory', () => {
    const { fleet } = synth();
    expect(fleet.environment.SESSION_STORE).toBe('memory');
  });

  test('rejects every bad prop at once', () => {
    const stack = agnosticStack();
    const vpc = new ec2.Vpc(stack, 'V');
    const make = () =>
      new InstanceFleet(stack, 'Fleet', {
        existingVpc: vpc,
        vpcProps: { maxAzs: 3 },
        minCapacity: 5,
        maxCapacity: 2,
        cookieName: 'AWSALBsid',
        stickiness: { type: 'app_cookie', duration: Duration.days(8) },
        deregistrationDelay: Duration.hours(2),
        healthCheckPath: 'healthz',
        port: 80,
        idleTimeout: Duration.hours(2),
        absoluteTimeout: Duration.hours(1),
      });
    expectAllReported(make, [
      'existingVpc and vpcProps are mutually exclusive',
      'minCapacity (5) must not exceed maxCapacity (2)',
      'cookieName must not start with AWSALB',
      'stickiness cookie name must not start with AWSALB',
      'stickiness.duration must be a whole number of seconds from 1 second to 7 days, got 691200 s',
      'deregistrationDelay must be from 0 to 3600 seconds',
      'healthCheckPath must start with "/"',
      'port must be a whole number from 1024 to 65535',
      'absoluteTimeout (3600 s) must not be shorter than idleTimeout (7200 s)',
    ]);
  });

  test('rejects an app_cookie name starting with AWSALB and a sub-second stickiness duration', () => {
    const attempt = () => synth({ stickiness: { type: 'app_cookie', cookieName: 'AWSALBAPP-1', duration: Duration.millis(500) } });
    expect(attempt).toThrow(/stickiness cookie name must not start with AWSALB/);
    expect(attempt).toThrow(/stickiness.duration must be a whole number of seconds from 1 second to 7 days, got 0.5 s/);
  });
});
