import { Template, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { SessionConsumer } from '../../../lib/core/consumer';
import { DynamoDbSessionStore } from '../../../lib/stores/dynamodb-session-store';
import { RedisSessionStore } from '../../../lib/stores/redis-session-store';
import { newStack, envOf, userFunction } from '../helpers';

describe('connect(): one call wires a consumer', () => {
  test('two Lambda functions on one DynamoDB store share one cookie secret and get the whole environment', () => {
    const stack = newStack();
    const store = new DynamoDbSessionStore(stack, 'Store');
    const a = store.connect(SessionConsumer.fromFunction(userFunction(stack, 'A')));
    const b = store.connect(SessionConsumer.fromFunction(userFunction(stack, 'B')), { cookieName: 'app', idleTimeout: undefined });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(a.environment.SESSION_COOKIE_SECRET_ARN).toBe(b.environment.SESSION_COOKIE_SECRET_ARN);
    const envA = envOf(t, 'A');
    expect(envA).toEqual(expect.objectContaining({ SESSION_STORE: 'dynamodb', SESSION_COOKIE_NAME: 'sid', SESSION_COOKIE_SECURE: 'true' }));
    expect(envA.SESSION_COOKIE_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^StoreCookieSecret/) });
    expect(envOf(t, 'B').SESSION_COOKIE_NAME).toBe('app');
    // Grants: the table's item actions and the cookie secret's value, on each function's role.
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:GetItem']) }),
          Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']) }),
        ]),
      },
    });
  });

  test('a Fargate service on a Redis store: container environment, task-role grants, ingress from the service', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const store = new RedisSessionStore(stack, 'Store', { vpc });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const td = new ecs.FargateTaskDefinition(stack, 'Task');
    td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24'), portMappings: [{ containerPort: 8080 }] });
    const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition: td });
    store.connect(SessionConsumer.fromFargateService(service));
    const t = Template.fromStack(stack);
    const container = t.findResources('AWS::ECS::TaskDefinition')[Object.keys(t.findResources('AWS::ECS::TaskDefinition'))[0]].Properties.ContainerDefinitions[0];
    const names = (container.Environment as { Name: string }[]).map((e) => e.Name);
    expect(names).toEqual(expect.arrayContaining(['SESSION_STORE', 'SESSION_REDIS_URL', 'SESSION_REDIS_AUTH_SECRET_ARN', 'SESSION_COOKIE_SECRET_ARN', 'SESSION_COOKIE_NAME']));
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceSecurityGroup'), 'GroupId'] },
      FromPort: 6380,
    });
  });

  test('a function in no VPC cannot connect to a store inside one: the error names both', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const store = new RedisSessionStore(stack, 'Store', { vpc });
    expect(() => store.connect(SessionConsumer.fromFunction(userFunction(stack, 'Fn')))).toThrow(/Test\/Fn runs in no VPC \(or its network is unknown\), but Test\/Store/);
  });

  test('a service in another VPC is refused', () => {
    const stack = newStack();
    const store = new RedisSessionStore(stack, 'Store', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) });
    const other = new ec2.Vpc(stack, 'Other', { maxAzs: 2 });
    const td = new ecs.FargateTaskDefinition(stack, 'Task');
    td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24') });
    const service = new ecs.FargateService(stack, 'Service', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc: other }), taskDefinition: td });
    expect(() => store.connect(SessionConsumer.fromFargateService(service))).toThrow(/Test\/Service runs in another VPC than Test\/Store/);
  });
});
