import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SessionApi, SessionApiProps } from '../../../lib/compute';
import { agnosticStack, expectAllReported, expectNoServiceWideWildcards, policyActions } from '../helpers';
import { FakeStore } from './fake-store';

function synth(opts: { vpc?: boolean; props?: Partial<SessionApiProps> } = {}) {
  const stack = agnosticStack();
  const vpc = opts.vpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) : undefined;
  const store = new FakeStore(stack, 'Store', { kind: vpc ? 'redis' : 'dynamodb', vpc });
  const api = new SessionApi(stack, 'Api', { store, ...opts.props });
  return { stack, store, api, template: Template.fromStack(stack) };
}

describe('SessionApi', () => {
  test('function runs on the newest Node runtime, ARM64, with active tracing and JSON logs', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: Match.objectLike({ SESSION_STORE: 'dynamodb', SESSION_COOKIE_SECURE: 'true', NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  test('log groups have a retention (one month by default)', () => {
    const { template } = synth();
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  test('HTTP API has a $default auto-deployed stage with access logs and throttling', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  test('binds the store to the function and reads the cookie secret', () => {
    const { api, store, template } = synth();
    expect(store.consumers).toEqual([api.function]);
    expect(policyActions(template)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'secretsmanager:GetSecretValue', 'logs:PutLogEvents']));
  });

  test('IAM is scoped: no "*" resource and no service-wide action in inline policies', () => {
    expectNoServiceWideWildcards(synth({ vpc: true }).template);
  });

  test('outside a VPC: no VPC config, no endpoints', () => {
    const { template, api } = synth();
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.VpcConfig).toBeUndefined();
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(api.vpc).toBeUndefined();
  });

  test("with a VPC store: function in the VPC's private subnets, store port opened from its security group", () => {
    const { template, api } = synth({ vpc: true });
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet') }]), SecurityGroupIds: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiSecurityGroup'), 'GroupId'] },
    });
    expect(api.securityGroup).toBeDefined();
  });

  test('addVpcEndpoints: DynamoDB gateway and Secrets Manager interface endpoints, the latter open to the function only', () => {
    const { template } = synth({ vpc: true, props: { addVpcEndpoints: true } });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.secretsmanager']] },
      PrivateDnsEnabled: true,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiSecurityGroup'), 'GroupId'] },
    });
    const endpointSgs = Object.values(template.findResources('AWS::EC2::SecurityGroup')).filter((r) =>
      JSON.stringify(r).includes('SecretsManagerEndpoint'),
    );
    for (const sg of endpointSgs) expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test("the store's VPC is the user's: no endpoint unless asked (addVpcEndpoints: false or unset)", () => {
    synth({ vpc: true, props: { addVpcEndpoints: false } }).template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    synth({ vpc: true }).template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('reserved concurrency is passed through when given', () => {
    const { template } = synth({ props: { reservedConcurrentExecutions: 50 } });
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 50 });
  });

  test('rejects every bad prop at once', () => {
    const make = () =>
      synth({
        props: {
          memorySize: 64,
          timeout: Duration.seconds(60),
          reservedConcurrentExecutions: 0,
          cookieName: 'AWSALBX',
          throttleRateLimit: 0,
          idleTimeout: Duration.days(400),
        },
      });
    expectAllReported(make, [
      'memorySize must be a whole number of MiB from 128 to 10240, got 64',
      'timeout must be from 1 to 29 seconds',
      'reservedConcurrentExecutions must be a whole number >= 1, got 0',
      'cookieName must not start with AWSALB',
      'throttleRateLimit must be > 0',
      'idleTimeout must be from 1 second to 365 days',
    ]);
  });
});

describe('SessionApi environment', () => {
  test('extra variables reach the function but cannot override the store binding or the cookie secret', () => {
    const { api, stack } = synth({
      props: { environment: { SESSION_STORE_TIMEOUT_MS: '500', SESSION_STORE: 'memory', SESSION_COOKIE_SECRET_ARN: 'arn:evil' } },
    });
    expect(api.environment.SESSION_STORE_TIMEOUT_MS).toBe('500');
    expect(api.environment.SESSION_STORE).toBe('dynamodb');
    expect(JSON.stringify(stack.resolve(api.environment.SESSION_COOKIE_SECRET_ARN))).toContain('ApiCookieSecret');
  });
});
