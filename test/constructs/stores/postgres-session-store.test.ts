import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { parseSessionEnv } from '../../../lambda/session/env';
import { PostgresSessionStore } from '../../../lib/stores';
import { acknowledgedRules, actionsOf, boundVpcStore, expectProblems, nagFindingsOf, nagFindingsOfVpcStore, newApp, newConsumer, newStack, newVpc, policyStatements } from '../helpers';

describe('PostgresSessionStore (defaults)', () => {
  const { stack, vpc, store, consumer, binding, template } = boundVpcStore((s, v) => new PostgresSessionStore(s, 'Store', { vpc: v }));
  const clusterId = stack.getLogicalId(store.cluster!.node.defaultChild as any);

  test('Aurora PostgreSQL 17 Serverless v2: encrypted, IAM auth, deletion-protected, 7 days of backups, its own security group', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^17\\.'),
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 7,
      DatabaseName: 'sessions',
      MasterUsername: 'sessions_owner',
      DBSubnetGroupName: Match.anyValue(),
      VpcSecurityGroupIds: [stack.resolve(store.clusterSecurityGroup!.securityGroupId)],
    });
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot' });
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)) });
  });

  test('two serverless instances in the cluster, writer and reader in different AZs (Multi-AZ)', () => {
    const instances = Object.values(template.findResources('AWS::RDS::DBInstance')).map((r) => r.Properties);
    expect(instances).toHaveLength(2);
    for (const i of instances) {
      expect(i.DBClusterIdentifier).toEqual({ Ref: clusterId });
      expect(i.DBInstanceClass).toBe('db.serverless');
      expect(i.PubliclyAccessible).toBe(false);
    }
    expect(new Set(instances.map((i) => JSON.stringify(i.AvailabilityZone))).size).toBe(2);
    expect(instances.map((i) => i.PromotionTier).sort()).toEqual([0, 1]);
  });

  test('credentials are generated into Secrets Manager (never in the template) and rotated every 30 days', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"sessions_owner"}' }),
    });
    const cluster = Object.values(template.findResources('AWS::RDS::DBCluster'))[0].Properties;
    expect(JSON.stringify(cluster.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  test('an RDS Proxy that requires TLS, authenticates with the one cluster secret (SCRAM), in the private subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [{ AuthScheme: 'SECRETS', ClientPasswordAuthType: 'POSTGRES_SCRAM_SHA_256', IAMAuth: 'DISABLED', SecretArn: stack.resolve(store.secret.secretArn) }],
      VpcSubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)),
      VpcSecurityGroupIds: [stack.resolve(store.proxySecurityGroup!.securityGroupId)],
      DBProxyName: Match.stringLikeRegexp('^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$'),
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: [{ Ref: clusterId }] });
  });

  test('the schema is applied on deploy: a custom resource after the cluster, run by a function in the VPC that may reach the cluster', () => {
    const crs = template.findResources('Custom::SessionSchema');
    expect(Object.keys(crs)).toHaveLength(1);
    const [cr] = Object.values(crs);
    expect(cr.Properties).toEqual(
      expect.objectContaining({
        SecretArn: stack.resolve(store.secret.secretArn),
        Host: { 'Fn::GetAtt': [clusterId, 'Endpoint.Address'] },
        Database: 'sessions',
        Table: 'sessions',
      }),
    );
    expect(cr.DependsOn).toEqual(expect.arrayContaining([clusterId]));
    const fnId = stack.getLogicalId(store.schemaFunction.node.defaultChild as any);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      VpcConfig: Match.objectLike({ SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)) }),
      Environment: { Variables: Match.objectLike({ NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' }) },
    });
    expect(template.toJSON().Resources[fnId]).toBeDefined();
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: stack.resolve(store.clusterSecurityGroup!.securityGroupId),
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('StoreSchemaSecurityGroup'), 'GroupId'] },
    });
  });

  test('expired sessions are swept every 15 minutes: an EventBridge rule sends the schema function a sweep event for the one table, after the schema exists', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const [rule] = rules;
    expect(rule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    const fnId = stack.getLogicalId(store.schemaFunction.node.defaultChild as any);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    // The input is a Fn::Join of JSON text and references: join it with each reference as text.
    const [, parts] = rule.Properties.Targets[0].Input['Fn::Join'] as [string, unknown[]];
    const input = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).replace(/"/g, "'"))).join(''));
    expect(input).toEqual({
      sweep: {
        SecretArn: expect.stringContaining('ClusterSecretAttachment'),
        Host: `{'Fn::GetAtt':['${clusterId}','Endpoint.Address']}`,
        Port: `{'Fn::GetAtt':['${clusterId}','Endpoint.Port']}`,
        Database: 'sessions',
        Table: 'sessions',
      },
    });
    expect(rule.DependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(store.schema.node.defaultChild as any)]));
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] } });
  });

  test('bind returns SESSION_STORE=postgres, a password-less sslmode=require URL of the proxy on 5432, and the secret ARN', () => {
    expect(store.kind).toBe('postgres');
    const proxyId = stack.getLogicalId(store.proxy!.node.defaultChild as any);
    expect(stack.resolve(binding.environment)).toEqual({
      SESSION_STORE: 'postgres',
      SESSION_DATABASE_URL: { 'Fn::Join': ['', ['postgres://sessions_owner@', { 'Fn::GetAtt': [proxyId, 'Endpoint'] }, ':5432/sessions?sslmode=require']] },
      SESSION_DATABASE_SECRET_ARN: stack.resolve(store.secret.secretArn),
    });
    const env = parseSessionEnv({
      ...binding.environment,
      SESSION_DATABASE_URL: 'postgres://sessions_owner@p.proxy-x.eu-west-1.rds.amazonaws.com:5432/sessions?sslmode=require',
      SESSION_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf',
      SESSION_COOKIE_SECRET: 'x'.repeat(32),
    });
    expect(env.postgres!.url).not.toMatch(/:[^@/]*@/); // no password in the URL
  });

  test('bind opens the proxy port 5432 to the consumer only; the cluster admits only the proxy, schema and rotation functions', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      ToPort: 5432,
      GroupId: stack.resolve(store.proxySecurityGroup!.securityGroupId),
      SourceSecurityGroupId: stack.resolve(consumer.securityGroup!.securityGroupId),
    });
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const intoCluster = ingress.filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(stack.resolve(store.clusterSecurityGroup!.securityGroupId)));
    expect(intoCluster.map((p) => p.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^StoreProxySecurityGroup/),
      expect.stringMatching(/^StoreRotationSecurityGroup/),
      expect.stringMatching(/^StoreSchemaSecurityGroup/),
    ]);
    for (const p of ingress) expect(p.CidrIp).toBeUndefined();
  });

  test('Aurora exports its PostgreSQL log to CloudWatch Logs, into a log group made first with a one-month retention (no log-retention function)', () => {
    const cluster = template.findResources('AWS::RDS::DBCluster')[clusterId];
    expect(cluster.Properties.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    const identifier: string = cluster.Properties.DBClusterIdentifier;
    expect(identifier).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
    expect(identifier).not.toMatch(/--|-$/);
    const logId = stack.getLogicalId(store.postgresLogGroup!.node.defaultChild as any);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/rds/cluster/${identifier}/postgresql`, RetentionInDays: 30 });
    expect(cluster.DependsOn).toEqual(expect.arrayContaining([logId]));
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  test('the RDS Proxy may reach Secrets Manager: HTTPS egress through the NAT route, and nothing else but the cluster', () => {
    const sg = template.findResources('AWS::EC2::SecurityGroup')[stack.getLogicalId(store.proxySecurityGroup!.node.defaultChild as any)];
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
  });

  test("IAM: the consumer may read the one secret and nothing else; no policy anywhere has a '*' resource", () => {
    const consumerPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('AppRole'))![1];
    expect(consumerPolicy.Properties.PolicyDocument.Statement).toEqual([
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: stack.resolve(store.secret.secretArn) },
    ]);
    for (const s of policyStatements(template)) {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const r of resources) expect(r).not.toEqual('*');
      for (const a of actionsOf(s)) expect(a).not.toMatch(/^\*$|:\*$/);
    }
  });

  test('bind throws a clear error for a consumer without connections', () => {
    expect(() => store.bind(newConsumer(stack, 'Outside'))).toThrow(/bind\(\) needs a consumer with connections/);
  });
});

describe('PostgresSessionStore and a Secrets Manager interface endpoint', () => {
  const stack = newStack();
  const vpc = newVpc(stack);
  const store = new PostgresSessionStore(stack, 'Store', { vpc });
  const endpoint = new ec2.InterfaceVpcEndpoint(stack, 'SecretsManagerEndpoint', {
    vpc,
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    privateDnsEnabled: true,
    open: false,
  });
  store.allowSecretsManagerEndpoint(endpoint);
  const template = Template.fromStack(stack);
  const endpointSg = stack.resolve(endpoint.connections.securityGroups[0].securityGroupId);

  test('allowSecretsManagerEndpoint admits the proxy, the schema and the rotation function on 443, security group to security group', () => {
    const into = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(endpointSg));
    expect(into.every((p) => p.FromPort === 443 && p.ToPort === 443 && p.CidrIp === undefined)).toBe(true);
    expect(into.map((p) => p.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^StoreProxySecurityGroup/),
      expect.stringMatching(/^StoreRotationSecurityGroup/),
      expect.stringMatching(/^StoreSchemaSecurityGroup/),
    ]);
    // The proxy's group allows no outbound by default, so the matching egress rule is there too.
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: stack.resolve(store.proxySecurityGroup!.securityGroupId),
      DestinationSecurityGroupId: endpointSg,
      FromPort: 443,
    });
  });

  test('the schema custom resource waits for the endpoint', () => {
    const [schema] = Object.values(template.findResources('Custom::SessionSchema'));
    expect(schema.DependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(endpoint.node.defaultChild as any)]));
  });

  test('in isolated subnets (no NAT) the proxy gets no internet egress: only the endpoint leads to Secrets Manager', () => {
    const s = newStack();
    const v = newVpc(s);
    const isolated = new PostgresSessionStore(s, 'Store', { vpc: v, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    const sg = Template.fromStack(s).findResources('AWS::EC2::SecurityGroup')[s.getLogicalId(isolated.proxySecurityGroup!.node.defaultChild as any)];
    expect(JSON.stringify(sg.Properties.SecurityGroupEgress ?? [])).not.toContain('0.0.0.0/0');
  });
});

describe('PostgresSessionStore options', () => {
  test('customer key, no readers, proxy IAM auth, no rotation, no deletion protection: each shows in the template', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const store = new PostgresSessionStore(stack, 'Store', {
      vpc,
      encryptionKey: key,
      readers: 0,
      proxyIamAuth: true,
      disableRotation: true,
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
      minCapacity: 1,
      maxCapacity: 8,
      tableName: 'app.sessions',
    });
    store.bind(newConsumer(stack, 'App', vpc));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      KmsKeyId: stack.resolve(key.keyArn),
      DeletionProtection: false,
      ServerlessV2ScalingConfiguration: { MinCapacity: 1, MaxCapacity: 8 },
    });
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.hasResourceProperties('AWS::RDS::DBProxy', { Auth: [Match.objectLike({ IAMAuth: 'REQUIRED' })] });
    template.hasResourceProperties('Custom::SessionSchema', { Table: 'app.sessions' });
    const actions = policyStatements(template).flatMap(actionsOf);
    expect(actions).toContain('rds-db:connect');
    Annotations.fromStack(stack).hasWarning('/Test/Store', Match.stringLikeRegexp('readers: 0'));
  });

  test('a custom sweep schedule', () => {
    const stack = newStack();
    new PostgresSessionStore(stack, 'Store', { vpc: newVpc(stack), sweepSchedule: Duration.hours(1) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  test('a custom rotation schedule', () => {
    const stack = newStack();
    new PostgresSessionStore(stack, 'Store', { vpc: newVpc(stack), rotationSchedule: Duration.days(7) });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
  });
});

describe('PostgresSessionStore validation', () => {
  test('every bad prop is reported in one error', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const make = () =>
      new PostgresSessionStore(stack, 'Store', {
        vpc,
        minCapacity: 0,
        maxCapacity: 300,
        readers: 16,
        backupRetentionDays: 0,
        databaseName: 'Sessions-DB',
        username: 'rdsadmin',
        tableName: 'drop table;',
        rotationSchedule: Duration.hours(12),
        disableRotation: true,
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        sweepSchedule: Duration.seconds(30),
      });
    expectProblems(make, [
      /^minCapacity must be from 0.5 to 256 ACUs/,
      /^maxCapacity must be from 1 to 256 ACUs/,
      /^readers must be a whole number from 0 to 15/,
      /^backupRetentionDays must be a whole number from 1 to 35/,
      /^databaseName must be a lower-case identifier/,
      /^username must be a lower-case identifier/,
      /^tableName must be an identifier/,
      /^rotationSchedule must be a whole number of days/,
      /^rotationSchedule and disableRotation: true are mutually exclusive/,
      /^vpcSubnets must select private subnets only/,
      /^sweepSchedule must be a whole number of minutes from 1 to 1440, got 0.5/,
    ]);
  });

  test('minCapacity above maxCapacity is rejected', () => {
    const stack = newStack();
    expect(() => new PostgresSessionStore(stack, 'Store', { vpc: newVpc(stack), minCapacity: 8, maxCapacity: 4 })).toThrow(/minCapacity \(8\) must not exceed maxCapacity \(4\)/);
  });
});

describe('PostgresSessionStore cdk-nag', () => {
  test('defaults bound to a consumer: no unacknowledged finding', () => {
    expect(nagFindingsOfVpcStore((stack, vpc) => new PostgresSessionStore(stack, 'Store', { vpc }))).toEqual([]);
  });

  test('the one acknowledgment of the defaults sits on the provider role policy, for the schema function versions only', () => {
    const app = newApp({ nag: true });
    const stack = newStack(app);
    const vpc = newVpc(stack);
    const store = new PostgresSessionStore(stack, 'Store', { vpc });
    const acks = store.node
      .findAll()
      .map((c) => ({ path: c.node.path, ids: acknowledgedRules(c) }))
      .filter((a) => a.ids.some((id) => id.includes('AwsSolutions-')));
    expect(acks).toEqual([
      { path: 'Test/Store/SchemaRole', ids: ['Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]'] },
      { path: 'Test/Store/SchemaProviderRole/DefaultPolicy', ids: [expect.stringMatching(/^Annotation::AwsSolutions-IAM5\[Resource::<StoreSchemaFunction[0-9A-F]+\.Arn>:\*\]$/)] },
    ]);
  });

  test('choices that weaken a default are acknowledged with their reason, on the cluster or secret alone', () => {
    const findings = nagFindingsOf((stack) => {
      new PostgresSessionStore(stack, 'Store', { vpc: newVpc(stack), iamAuthentication: false, deletionProtection: false, disableRotation: true });
    });
    expect(findings).toEqual([]);
  });
});

describe('schema custom-resource handler (no database needed for these paths)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../../lambda/handlers/postgres-schema') as typeof import('../../../lambda/handlers/postgres-schema');
  const props = { ServiceToken: 'x', SecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf', Host: 'h', Port: '5432', Database: 'sessions', Table: 'sessions' };

  test('Delete keeps the table and answers with the same physical id, without connecting', async () => {
    const event = { RequestType: 'Delete', PhysicalResourceId: 'h/sessions/sessions', ResourceProperties: props } as any;
    await expect(handler(event)).resolves.toEqual({ PhysicalResourceId: 'h/sessions/sessions' });
  });

  test('a bad table name fails the deploy before any connection or secret read', async () => {
    const event = { RequestType: 'Create', ResourceProperties: { ...props, Table: 'x; drop table y' } } as any;
    await expect(handler(event)).rejects.toThrow(/table must be a plain identifier/);
  });
});
