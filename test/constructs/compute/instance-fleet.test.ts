import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { InstanceFleet, InstanceFleetProps, StickinessType } from '../../../lib/compute';
import { FUNCTION_RUNTIME } from '../../../lib/compute/functions';
import { INSTANCE_BOOT_TIMEOUT_SECONDS, INSTANCE_HEALTH_CHECK, LOCAL_HEALTH_WAIT_SECONDS } from '../../../lib/compute/health-check';
import { NODE_MAJOR } from '../../../lib/compute/runtime-assets';
import { PropsValidationError } from '../../../lib/core/validate';
import {
  agnosticStack,
  ENV,
  expectAllReported,
  expectNoServiceWideWildcards,
  ingressRules,
  newApp,
  newStack,
  policyActions,
  tgAttributes,
  thrownMessage,
} from '../helpers';
import { FakeStore } from './fake-store';

function synth(props: InstanceFleetProps = {}, withStore = false): { stack: Stack; template: Template; fleet: InstanceFleet } {
  const stack = agnosticStack();
  const store = withStore ? new FakeStore(stack, 'Store') : undefined;
  const fleet = new InstanceFleet(stack, 'Fleet', { ...props, store: props.store ?? store });
  return { stack, template: Template.fromStack(stack), fleet };
}

const BOOT_TIMEOUT_ISO = Duration.seconds(INSTANCE_BOOT_TIMEOUT_SECONDS).toIsoString();

/** The launch template's ImageId. */
function imageId(template: Template): unknown {
  const lts = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  expect(lts).toHaveLength(1);
  return lts[0].Properties.LaunchTemplateData.ImageId;
}

/** CloudFormation parameters that resolve an SSM parameter to an image id on every deploy. */
function deployTimeImageParameters(template: Template): string[] {
  const params = (template.toJSON().Parameters ?? {}) as Record<string, { Type: string; Default?: string }>;
  return Object.values(params)
    .filter((p) => p.Type.startsWith('AWS::SSM::Parameter::Value') && (p.Default ?? '').includes('/ami-'))
    .map((p) => p.Default ?? '');
}

/** The user data script, with tokens rendered as JSON. */
function userDataOf(template: Template): string {
  const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
  const parts = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1] as unknown[];
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

/** The template's one Auto Scaling group resource (with its CreationPolicy, UpdatePolicy, DependsOn). */
function asgResource(template: Template): any {
  const asgs = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'));
  expect(asgs).toHaveLength(1);
  return asgs[0];
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

  test('defaults to t4g.small, no key pair; env-agnostic: ARM64 AL2023 resolved by EC2 at launch, never an image parameter resolved at each deploy', () => {
    const { template } = synth();
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(lt.Properties.LaunchTemplateData.InstanceType).toBe('t4g.small');
    expect(lt.Properties.LaunchTemplateData.KeyName).toBeUndefined();
    // A constant string: the launch template does not change when AWS publishes a new image.
    expect(imageId(template)).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64');
    expect(deployTimeImageParameters(template)).toEqual([]);
  });

  test('an x86 instance type picks the x86_64 image', () => {
    const { template } = synth({ instanceType: new ec2.InstanceType('m7i.large') });
    expect(imageId(template)).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
  });

  test('with a concrete account and region the image is looked up once at synth and pinned from cdk.context.json', () => {
    // First synth: no cached value yet, so the assembly asks the CLI for the lookup. With cdk.json's
    // flags (template validation on), that first run must not fail on the stand-in value, or the
    // CLI never gets to the lookup.
    const first = newApp({ flags: true });
    const firstStack = newStack(first);
    new InstanceFleet(firstStack, 'Fleet');
    const missing = first.synth().manifest.missing ?? [];
    const lookup = missing.find((m) => m.provider === 'ssm');
    expect(lookup?.key).toBe(
      `ssm:account=${ENV.account}:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64:region=${ENV.region}`,
    );
    expect(deployTimeImageParameters(Template.fromStack(firstStack))).toEqual([]);
    // With the value cdk.context.json holds, the launch template names exactly that image.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [lookup!.key]: 'ami-0123456789abcdef0' } });
    const stack = newStack(app);
    new InstanceFleet(stack, 'Fleet');
    const template = Template.fromStack(stack);
    expect(imageId(template)).toBe('ami-0123456789abcdef0');
    expect(app.synth().manifest.missing ?? []).toEqual(expect.not.arrayContaining([expect.objectContaining({ provider: 'ssm' })]));
  });

  test('machineImage replaces the default image', () => {
    const stack = newStack();
    new InstanceFleet(stack, 'Fleet', { machineImage: ec2.MachineImage.genericLinux({ [ENV.region]: 'ami-0fedcba9876543210' }) });
    expect(imageId(Template.fromStack(stack))).toBe('ami-0fedcba9876543210');
  });

  test('target group health check is exactly INSTANCE_HEALTH_CHECK (the liveness route the lab uses too); drains for 30 s', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: INSTANCE_HEALTH_CHECK.path,
      HealthCheckIntervalSeconds: INSTANCE_HEALTH_CHECK.intervalSeconds,
      HealthCheckTimeoutSeconds: INSTANCE_HEALTH_CHECK.timeoutSeconds,
      HealthyThresholdCount: INSTANCE_HEALTH_CHECK.healthyThresholdCount,
      UnhealthyThresholdCount: INSTANCE_HEALTH_CHECK.unhealthyThresholdCount,
      Port: 8080,
      Matcher: { HttpCode: '200' },
    });
    expect(tgAttributes(template)['deregistration_delay.timeout_seconds']).toBe('30');
  });

  test('ELB health checks on the group, with a grace period that covers first boot (the signal timeout)', () => {
    const { template } = synth();
    const asg = asgResource(template);
    expect(asg.Properties.HealthCheckType).toBe('ELB');
    expect(asg.Properties.HealthCheckGracePeriod).toBe(INSTANCE_BOOT_TIMEOUT_SECONDS);
    // A grace period shorter than boot would let ELB checks kill instances that have not signalled yet.
    expect(asg.CreationPolicy.ResourceSignal.Timeout).toBe(BOOT_TIMEOUT_ISO);
    expect(asg.Properties.HealthCheckGracePeriod).toBeGreaterThan(LOCAL_HEALTH_WAIT_SECONDS);
  });

  test('CloudFormation waits for a signal from each new instance on create and on every rolling update', () => {
    const { template } = synth({ minCapacity: 3, maxCapacity: 6 });
    const asg = asgResource(template);
    expect(asg.CreationPolicy).toEqual({ ResourceSignal: { Count: 3, Timeout: BOOT_TIMEOUT_ISO } });
    expect(asg.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({
      WaitOnResourceSignals: true,
      PauseTime: BOOT_TIMEOUT_ISO,
      MinInstancesInService: 2,
    });
  });

  test('CloudFormation waits for every instance launched on create (desiredCapacity); a group created empty waits on updates only', () => {
    expect(asgResource(synth({ minCapacity: 2, desiredCapacity: 3 }).template).CreationPolicy.ResourceSignal.Count).toBe(3);
    const empty = asgResource(synth({ minCapacity: 0 }).template);
    expect(empty.CreationPolicy).toBeUndefined();
    expect(empty.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({ WaitOnResourceSignals: true, PauseTime: BOOT_TIMEOUT_ISO });
  });

  test('a one-instance group rolls with MinInstancesInService 0 (CloudFormation needs it below MaxSize)', () => {
    const { template } = synth({ minCapacity: 1, maxCapacity: 1 });
    expect(asgResource(template).UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService).toBe(0);
  });

  test('user data signals CloudFormation with the exit code of a script that ends with a bounded local health check', () => {
    const { template } = synth();
    const script = userDataOf(template);
    const logicalId = Object.keys(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    const lines = script.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // The EXIT trap sends cfn-signal with the script's exit code to this group, before anything can fail.
    const trap = at(/^trap exitTrap EXIT$/);
    const signal = at(new RegExp(`/opt/aws/bin/cfn-signal .*--resource ${logicalId} .*-e \\$exitCode`));
    const strict = at(/^set -euo pipefail$/);
    expect(signal).toBeGreaterThan(0);
    expect(trap).toBeGreaterThan(signal);
    expect(strict).toBeGreaterThan(trap);
    // cfn-signal is installed first, on its own, so later failures reach CloudFormation at once.
    const bootstrap = at(/^dnf install -y -q aws-cfn-bootstrap/);
    const start = at(/^systemctl enable --now cdk-sessions\.service$/);
    const probe = at(new RegExp(`^until curl -fsS .*--max-time ${INSTANCE_HEALTH_CHECK.timeoutSeconds} 'http://127\\.0\\.0\\.1:8080${INSTANCE_HEALTH_CHECK.path}'; do$`));
    expect(bootstrap).toBeGreaterThan(strict);
    expect(start).toBeGreaterThan(bootstrap);
    expect(probe).toBeGreaterThan(start);
    // Bounded: past the deadline the script exits 1, which the trap signals as a failure.
    expect(script).toContain(`deadline=$((SECONDS + ${LOCAL_HEALTH_WAIT_SECONDS}))`);
    const loop = lines.slice(probe, lines.indexOf('done', probe) + 1).join('\n');
    expect(loop).toMatch(/if \[ "\$SECONDS" -ge "\$deadline" \]; then[\s\S]*exit 1/);
    // Nothing after the loop but a log line: success is signalled only once the server answered.
    expect(lines.slice(lines.indexOf('done', probe) + 1).every((l) => l.startsWith('echo '))).toBe(true);
  });

  test(`user data installs Node.js ${NODE_MAJOR} (AL2023 nodejs${NODE_MAJOR}) and runs its namespaced binary, with no fallback to an older Node`, () => {
    const { template } = synth();
    const script = userDataOf(template);
    expect(script).toMatch(new RegExp(`^dnf install -y -q nodejs${NODE_MAJOR}$`, 'm'));
    // The server's `node` is the namespaced binary; the reference server starts with source maps.
    expect(script).toContain(`ln -sfn /usr/bin/node-${NODE_MAJOR} /opt/cdk-sessions/bin/node`);
    expect(script).toContain('Environment=PATH=/opt/cdk-sessions/bin:');
    expect(script).toMatch(/^exec node --enable-source-maps server\.js$/m);
    expect(script).not.toMatch(/nodejs(1\d|2[0-3])\b|install -y -q nodejs\b|\|\| dnf|command -v node/);
    expect(NODE_MAJOR).toBeGreaterThanOrEqual(22);
    // The Lambda functions run the same major version.
    expect(FUNCTION_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
  });

  test('the group waits for the NAT default routes of its private subnets (first boot installs packages)', () => {
    const { template } = synth();
    const asg = asgResource(template);
    const routes = Object.entries(template.findResources('AWS::EC2::Route'))
      .filter(([, r]) => r.Properties.DestinationCidrBlock === '0.0.0.0/0' && r.Properties.NatGatewayId)
      .map(([id]) => id);
    expect(routes).toHaveLength(2);
    expect(asg.DependsOn).toEqual(expect.arrayContaining(routes));
  });

  test('in an existing VPC the group waits for that VPC\'s NAT default routes too', () => {
    const stack = agnosticStack();
    const vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 2, natGateways: 2 });
    new InstanceFleet(stack, 'Fleet', { vpc: vpc });
    const template = Template.fromStack(stack);
    const natRoutes = Object.entries(template.findResources('AWS::EC2::Route'))
      .filter(([, r]) => r.Properties.NatGatewayId)
      .map(([id]) => id);
    expect(natRoutes).toHaveLength(2);
    expect(asgResource(template).DependsOn).toEqual(expect.arrayContaining(natRoutes));
  });

  test('no stickiness by default', () => {
    const { template } = synth();
    const a = tgAttributes(template);
    expect(a['stickiness.enabled']).toBe('false');
    expect(a['stickiness.type']).toBeUndefined();
  });

  test('lb_cookie stickiness sets AWSALB stickiness with its duration', () => {
    const { template } = synth({ stickiness: { cookieType: StickinessType.LOAD_BALANCER_COOKIE, duration: Duration.hours(2) } });
    const a = tgAttributes(template);
    expect(a['stickiness.enabled']).toBe('true');
    expect(a['stickiness.type']).toBe('lb_cookie');
    expect(a['stickiness.lb_cookie.duration_seconds']).toBe('7200');
  });

  test('app_cookie stickiness follows __Host-sid over HTTPS', () => {
    const stack = agnosticStack();
    new InstanceFleet(stack, 'Fleet', { certificate: cert(stack), stickiness: { cookieType: StickinessType.APPLICATION_COOKIE, duration: Duration.minutes(30) } });
    const a = tgAttributes(Template.fromStack(stack));
    expect(a['stickiness.type']).toBe('app_cookie');
    expect(a['stickiness.app_cookie.cookie_name']).toBe('__Host-sid');
    expect(a['stickiness.app_cookie.duration_seconds']).toBe('1800');
  });

  test('app_cookie stickiness follows the bare cookie name over plain HTTP', () => {
    const { template } = synth({ cookieName: 'app_sid', stickiness: { cookieType: StickinessType.APPLICATION_COOKIE } });
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

  test.each([
    ['an environment-agnostic stack', undefined],
    ['us-east-1 (has a legacy ELB account)', 'us-east-1'],
    ['ca-west-1 (never had one)', 'ca-west-1'],
  ])('in %s, the access-log bucket admits only the ELB log-delivery service, under alb/AWSLogs/<account>/, with no region lookup', (_, region) => {
    const stack = new Stack(newApp(), 'Test', region ? { env: { account: ENV.account, region } } : {});
    new InstanceFleet(stack, 'Fleet');
    const template = Template.fromStack(stack);
    expect(template.toJSON().Mappings).toBeUndefined();
    expect(template.toJSON().Conditions).toBeUndefined();
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0];
    const allows = (policy.Properties.PolicyDocument.Statement as { Effect: string; Action: string; Principal: unknown; Resource: unknown }[]).filter(
      (s) => s.Effect === 'Allow',
    );
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^FleetAccessLogs/), 'Arn'] }, '/alb/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*']] },
      },
    ]);
    // The load balancer tests its write access when logging is turned on: the policy must exist first.
    const lb = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0];
    expect(lb.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^FleetAccessLogsPolicy/)]));
  });

  test('new VPC has 2 AZs, public + private subnets and flow logs', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });

  test('a given vpc is used and no VPC is created', () => {
    const stack = agnosticStack();
    const vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 2 });
    const fleet = new InstanceFleet(stack, 'Fleet', { vpc: vpc });
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
    const make = () => {
      const stack = agnosticStack();
      const vpc = new ec2.Vpc(stack, 'V');
      return new InstanceFleet(stack, 'Fleet', {
        vpc: vpc,
        vpcProps: { maxAzs: 3 },
        minCapacity: 5,
        maxCapacity: 2,
        cookieName: 'AWSALBsid',
        stickiness: { cookieType: StickinessType.APPLICATION_COOKIE, duration: Duration.days(8) },
        deregistrationDelay: Duration.hours(2),
        healthCheckPath: 'healthz',
        port: 80,
        idleTimeout: Duration.hours(2),
        absoluteTimeout: Duration.hours(1),
      });
    };
    expect(make).toThrow(PropsValidationError);
    expectAllReported(make, [
      'Test/Fleet',
      'vpc and vpcProps are mutually exclusive',
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

  test('rejects an access-log bucket encrypted with KMS (the load balancer cannot write to it), naming the construct and the prop', () => {
    const stack = agnosticStack();
    const bucket = new s3.Bucket(stack, 'Logs', { encryptionKey: new kms.Key(stack, 'Key') });
    const message = thrownMessage(() => new InstanceFleet(stack, 'Fleet', { accessLogsBucket: bucket }));
    expect(message).toContain('Test/Fleet');
    expect(message).toContain('accessLogsBucket must use SSE-S3');
  });

  test('rejects a health check path that user data could not quote', () => {
    const message = thrownMessage(() => synth({ healthCheckPath: "/healthz';reboot;'" }));
    expect(message).toContain('healthCheckPath must start with "/"');
  });

  test('rejects an app_cookie name starting with AWSALB and a sub-second stickiness duration', () => {
    const attempt = () => synth({ stickiness: { cookieType: StickinessType.APPLICATION_COOKIE, cookieName: 'AWSALBAPP-1', duration: Duration.millis(500) } });
    expect(attempt).toThrow(/stickiness cookie name must not start with AWSALB/);
    expect(attempt).toThrow(/stickiness.duration must be a whole number of seconds from 1 second to 7 days, got 0.5 s/);
  });
});
