/** Every SessionConsumer adapter, wired with connect(): where the environment lands, who gets the grants, what the network check sees. */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SessionConsumer } from '../../../lib/core/consumer';
import { PropsValidationError } from '../../../lib/core/validate';
import { DynamoDbSessionStore } from '../../../lib/stores/dynamodb-session-store';
import { RedisSessionStore } from '../../../lib/stores/redis-session-store';
import { newStack, newVpc, policyStatements, thrownMessage, userFunction } from '../helpers';

function taskDefinition(stack: Stack, id = 'Task'): ecs.FargateTaskDefinition {
  const td = new ecs.FargateTaskDefinition(stack, id);
  td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24') });
  return td;
}

/** Statements of the inline policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(template: Template, rolePrefix: string): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
    (p.Properties.Roles ?? []).some((r: any) => typeof r.Ref === 'string' && r.Ref.startsWith(rolePrefix)),
  );
  return policyStatements({ findResources: () => Object.fromEntries(policies.map((p, i) => [String(i), p])) });
}

/** The user data of the template's one launch template, its Fn::Join flattened, tokens as JSON. */
function userDataLines(stack: Stack, asg: autoscaling.AutoScalingGroup): string[] {
  const rendered = stack.resolve(asg.userData.render());
  const text = typeof rendered === 'string' ? rendered : (rendered['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  return text.split('\n');
}

function newAsg(stack: Stack, vpc: ec2.IVpc): autoscaling.AutoScalingGroup {
  return new autoscaling.AutoScalingGroup(stack, 'Asg', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceType: new ec2.InstanceType('t4g.small'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
  });
}

describe('SessionConsumer.fromFunction', () => {
  test('out of a VPC: environment on the function, grants on its role, no network', () => {
    const stack = newStack();
    const store = new DynamoDbSessionStore(stack, 'Store');
    const consumer = SessionConsumer.fromFunction(userFunction(stack, 'Fn'));
    expect(consumer.connections).toBeUndefined();
    expect(consumer.vpcId).toBeUndefined();
    store.connect(consumer);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SESSION_STORE: 'dynamodb' }) } });
    expect(statementsOf(t, 'FnServiceRole').flatMap((s) => s.Action)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'secretsmanager:GetSecretValue']));
  });

  test('in the store VPC: its security group is let in on the cache port, and its VPC id is read from that group', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const store = new RedisSessionStore(stack, 'Store', { vpc });
    const consumer = SessionConsumer.fromFunction(userFunction(stack, 'Fn', vpc));
    expect(stack.resolve(consumer.vpcId)).toEqual(stack.resolve(vpc.vpcId));
    store.connect(consumer);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 6380,
      ToPort: 6380,
    });
  });

  test('in another VPC: refused, naming both constructs (aws-cdk-lib has no Function.vpc; the id comes from its security group)', () => {
    const stack = newStack();
    const store = new RedisSessionStore(stack, 'Store', { vpc: newVpc(stack) });
    const other = new ec2.Vpc(stack, 'Other', { maxAzs: 2, natGateways: 1 });
    const error = thrownMessage(() => store.connect(SessionConsumer.fromFunction(userFunction(stack, 'Fn', other))));
    expect(error).toContain('Test/Fn runs in another VPC than Test/Store');
  });

  test('with imported security groups only, the VPC is unknown and not checked', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Imported', 'sg-12345678');
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      vpc,
      securityGroups: [sg],
    });
    expect(SessionConsumer.fromFunction(fn).vpcId).toBeUndefined();
  });
});

describe('SessionConsumer.fromFargateService / fromTaskDefinition', () => {
  test('a task definition without its service connects to an IAM store: container environment, task-role grants', () => {
    const stack = newStack();
    const store = new DynamoDbSessionStore(stack, 'Store');
    const td = taskDefinition(stack);
    store.connect(SessionConsumer.fromTaskDefinition(td));
    const t = Template.fromStack(stack);
    const env = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0].Environment as { Name: string }[];
    expect(env.map((e) => e.Name)).toEqual(expect.arrayContaining(['SESSION_STORE', 'SESSION_TABLE', 'SESSION_COOKIE_SECRET_ARN']));
    expect(statementsOf(t, 'TaskTaskRole').flatMap((s) => s.Action)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'secretsmanager:GetSecretValue']));
  });

  test('a task definition without its service is refused by a store in a VPC, pointing at fromFargateService', () => {
    const stack = newStack();
    const store = new RedisSessionStore(stack, 'Store', { vpc: newVpc(stack) });
    const error = thrownMessage(() => store.connect(SessionConsumer.fromTaskDefinition(taskDefinition(stack))));
    expect(error).toContain('Test/Task runs in no VPC (or its network is unknown), but Test/Store');
    expect(error).toContain('SessionConsumer.fromFargateService');
  });

  test('containerName picks the container; an unknown name is an error naming the task definition', () => {
    const stack = newStack();
    const store = new DynamoDbSessionStore(stack, 'Store');
    const td = taskDefinition(stack);
    td.addContainer('sidecar', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1') });
    store.connect(SessionConsumer.fromTaskDefinition(td, { containerName: 'sidecar' }));
    const defs = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions as any[];
    expect(defs.find((d) => d.Name === 'web').Environment).toBeUndefined();
    expect(defs.find((d) => d.Name === 'sidecar').Environment.map((e: any) => e.Name)).toContain('SESSION_TABLE');
    expect(() => SessionConsumer.fromTaskDefinition(td, { containerName: 'nope' })).toThrow(/no container named "nope" in Test\/Task/);
  });
});

describe('SessionConsumer.fromAutoScalingGroup', () => {
  test('user data writes every variable once to a root-owned 0640 file, then the lines in order', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const store = new RedisSessionStore(stack, 'Store', { vpc });
    const asg = newAsg(stack, vpc);
    const binding = store.connect(SessionConsumer.fromAutoScalingGroup(asg), { environment: { APP_GREETING: "it's" } });
    const lines = userDataLines(stack, asg);
    const file = '/etc/cdk-sessions/session.env';
    expect(lines).toContain('install -d -m 0755 -o root -g root /etc/cdk-sessions');
    expect(lines).toContain(`install -m 0640 -o root -g root /dev/null ${file}`);
    const writes = lines.filter((l) => l.startsWith("printf '%s\\n' "));
    expect(writes).toHaveLength(Object.keys(binding.environment).length);
    for (const w of writes) expect(w.endsWith(` >> ${file}`)).toBe(true);
    const keys = writes.map((w) => /^printf '%s\\n' '([A-Z_]+)=/.exec(w)?.[1]);
    expect(keys).toEqual(Object.keys(binding.environment));
    // A quote in a value is escaped for sh, not a syntax error in user data.
    expect(writes).toContain(`printf '%s\\n' 'APP_GREETING=it'\\''s' >> ${file}`);
    // Network and grants: the group's security group on the cache port, the instance role reads the auth secret.
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AsgInstanceSecurityGroup'), 'GroupId'] },
      FromPort: 6380,
    });
  });

  test('two stores on one group and file create the file once (a second install would empty it)', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const asg = newAsg(stack, vpc);
    new DynamoDbSessionStore(stack, 'A').connect(SessionConsumer.fromAutoScalingGroup(asg));
    new DynamoDbSessionStore(stack, 'B').connect(SessionConsumer.fromAutoScalingGroup(asg));
    expect(userDataLines(stack, asg).filter((l) => l.includes('/dev/null'))).toHaveLength(1);
  });

  test('environmentFileGroup lets that group read the file; bad paths and groups are reported together', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const asg = newAsg(stack, vpc);
    new DynamoDbSessionStore(stack, 'Store').connect(SessionConsumer.fromAutoScalingGroup(asg, { environmentFile: '/run/app/env', environmentFileGroup: 'app' }));
    expect(userDataLines(stack, asg)).toContain('install -m 0640 -o root -g app /dev/null /run/app/env');
    let error: unknown;
    try {
      SessionConsumer.fromAutoScalingGroup(asg, { environmentFile: '/etc/../x y', environmentFileGroup: 'Bad Group' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PropsValidationError);
    expect((error as PropsValidationError).problems).toEqual([expect.stringMatching(/^environmentFile must be/), expect.stringMatching(/^environmentFileGroup must be/)]);
  });

  test('its VPC id comes from its security group: another VPC is refused', () => {
    const stack = newStack();
    const store = new RedisSessionStore(stack, 'Store', { vpc: newVpc(stack) });
    const other = new ec2.Vpc(stack, 'Other', { maxAzs: 2, natGateways: 1 });
    expect(thrownMessage(() => store.connect(SessionConsumer.fromAutoScalingGroup(newAsg(stack, other))))).toContain('Test/Asg runs in another VPC than Test/Store');
  });
});

describe('SessionConsumer.fromRole', () => {
  test('grants on the role; the environment is only returned; with connections it is let in', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const store = new RedisSessionStore(stack, 'Store', { vpc });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const binding = store.connect(SessionConsumer.fromRole(role, { connections: new ec2.Connections({ securityGroups: [sg] }), vpc }));
    expect(Object.keys(binding.environment)).toEqual(expect.arrayContaining(['SESSION_REDIS_URL', 'SESSION_COOKIE_SECRET_ARN']));
    const t = Template.fromStack(stack);
    // The auth secret's value, and the cookie secret (read with secret.grantRead): nothing else.
    expect(new Set(statementsOf(t, 'Role').flatMap((s) => s.Action))).toEqual(new Set(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']));
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }, FromPort: 6380 });
  });

  test('a role without connections is refused by a store in a VPC', () => {
    const stack = newStack();
    const store = new RedisSessionStore(stack, 'Store', { vpc: newVpc(stack) });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    expect(thrownMessage(() => store.connect(SessionConsumer.fromRole(role)))).toContain('Test/Role runs in no VPC');
  });
});
