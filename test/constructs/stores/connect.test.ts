/**
 * Every store kind's connect() on a user's Lambda function: the whole environment, the grants
 * (data, secrets, KMS) and the network path; the same for stores on existing resources.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SessionConsumer } from '../../../lib/core/consumer';
import { ISessionStore } from '../../../lib/core/session-store';
import {
  DynamoDbSessionStore,
  JwtSessionKeys,
  MemcachedSessionStore,
  PostgresSessionStore,
  RedisSessionStore,
  S3SessionStore,
} from '../../../lib/stores';
import { newStack, newVpc, policyStatements } from '../helpers';

const SESSION_KEYS = ['SESSION_COOKIE_SECRET_ARN', 'SESSION_COOKIE_NAME', 'SESSION_COOKIE_SECURE', 'SESSION_IDLE_TIMEOUT', 'SESSION_ABSOLUTE_TIMEOUT'];

function userFunction(stack: Stack, vpc?: ec2.IVpc): lambda.Function {
  return new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    vpc,
  });
}

interface Wired {
  readonly stack: Stack;
  readonly template: Template;
  /** The function's environment, as synthesized. */
  readonly env: Record<string, unknown>;
  /** Statements of the function role's policy, actions sorted. */
  readonly statements: any[];
  /** Every action the function's role got. */
  readonly actions: string[];
}

/** Connects a user function (in the store's VPC when it has one) to the store `make` builds. */
function wire(make: (stack: Stack, vpc: ec2.Vpc) => ISessionStore, connect?: (store: any, fn: lambda.Function) => void): Wired {
  const stack = newStack();
  const vpc = newVpc(stack);
  const store = make(stack, vpc);
  const fn = userFunction(stack, store.vpc ? vpc : undefined);
  if (connect) connect(store, fn);
  else store.connect(SessionConsumer.fromFunction(fn), {});
  const template = Template.fromStack(stack);
  const fnResource = Object.values(template.findResources('AWS::Lambda::Function')).find((r: any) => r.Properties.Code?.ZipFile !== undefined) as any;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
    (p.Properties.Roles ?? []).some((r: any) => typeof r.Ref === 'string' && r.Ref.startsWith('FnServiceRole')),
  );
  const statements = policyStatements({ findResources: () => Object.fromEntries(policies.map((p, i) => [String(i), p])) });
  return { stack, template, env: fnResource.Properties.Environment.Variables, statements, actions: statements.flatMap((s) => s.Action) };
}

function expectKeys(env: Record<string, unknown>, storeKeys: string[]): void {
  expect(Object.keys(env).sort()).toEqual([...storeKeys, ...SESSION_KEYS].sort());
}

/** Expects an ingress rule from the function's security group to the port. */
function expectIngressFromFunction(template: Template, port: number): void {
  template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
    SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
    FromPort: port,
    ToPort: port,
  });
}

describe('connect() of every store kind: environment, grants, network', () => {
  test('DynamoDB with a customer-managed key and overflow: table items, key, overflow prefix, cookie secret', () => {
    const w = wire((s) => new DynamoDbSessionStore(s, 'Store', { encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }), overflowBucket: true }));
    expectKeys(w.env, ['SESSION_STORE', 'SESSION_TABLE', 'SESSION_OVERFLOW_BUCKET']);
    expect(w.env).toMatchObject({ SESSION_STORE: 'dynamodb', SESSION_COOKIE_NAME: 'sid', SESSION_COOKIE_SECURE: 'true', SESSION_IDLE_TIMEOUT: '1800', SESSION_ABSOLUTE_TIMEOUT: '43200' });
    expect(w.actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'kms:Decrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:ListBucket', 'secretsmanager:GetSecretValue']),
    );
    expect(w.actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    w.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('S3: objects under the prefix only, ListBucket, cookie secret; timeouts from the options', () => {
    const w = wire(
      (s) => new S3SessionStore(s, 'Store', { prefix: 'app/' }),
      (store, fn) => store.connect(SessionConsumer.fromFunction(fn), { idleTimeout: Duration.minutes(10), cookieName: 'app', secureCookie: false }),
    );
    expectKeys(w.env, ['SESSION_STORE', 'SESSION_BUCKET', 'SESSION_BUCKET_PREFIX']);
    expect(w.env).toMatchObject({ SESSION_BUCKET_PREFIX: 'app/', SESSION_IDLE_TIMEOUT: '600', SESSION_COOKIE_NAME: 'app', SESSION_COOKIE_SECURE: 'false' });
    const objects = w.statements.find((s) => s.Action.includes('s3:GetObject'));
    expect(JSON.stringify(objects.Resource)).toContain('/app/*');
  });

  test('Redis: auth secret only (with its customer key via Secrets Manager), ingress from the function on the cache port', () => {
    const w = wire((s, vpc) => new RedisSessionStore(s, 'Store', { vpc, replicationGroupProps: { encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) } }));
    expectKeys(w.env, ['SESSION_STORE', 'SESSION_REDIS_URL', 'SESSION_REDIS_CLUSTER', 'SESSION_REDIS_AUTH_SECRET_ARN']);
    expect(w.actions.sort()).toEqual(['kms:Decrypt', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue']);
    const decrypt = w.statements.find((s) => s.Action === 'kms:Decrypt');
    expect(decrypt.Condition.StringEquals['kms:ViaService']).toBeDefined();
    expectIngressFromFunction(w.template, 6380);
  });

  test('Memcached: no IAM data grant (there is none), ingress from the function on the node port', () => {
    const w = wire((s, vpc) => new MemcachedSessionStore(s, 'Store', { vpc }));
    expectKeys(w.env, ['SESSION_STORE', 'SESSION_MEMCACHED_SERVERS', 'SESSION_MEMCACHED_TLS']);
    expect(w.actions.filter((a) => !a.startsWith('secretsmanager:'))).toEqual([]);
    expectIngressFromFunction(w.template, 11212);
  });

  test('PostgreSQL with proxy IAM auth: the credentials secret, rds-db:connect on the proxy, ingress on 5432 to the proxy', () => {
    const w = wire((s, vpc) => new PostgresSessionStore(s, 'Store', { vpc, proxyIamAuth: true }));
    expectKeys(w.env, ['SESSION_STORE', 'SESSION_DATABASE_URL', 'SESSION_DATABASE_SECRET_ARN']);
    expect(w.actions).toEqual(expect.arrayContaining(['rds-db:connect', 'secretsmanager:GetSecretValue']));
    const connect = w.statements.find((s) => s.Action === 'rds-db:connect');
    expect(JSON.stringify(connect.Resource)).toContain('/sessions_owner');
    w.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreProxySecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 5432,
    });
  });

  test('PostgreSQL without proxy IAM auth: no rds-db:connect', () => {
    const w = wire((s, vpc) => new PostgresSessionStore(s, 'Store', { vpc }));
    expect(w.actions).not.toContain('rds-db:connect');
  });

  test('JWT: kms:Sign + GetPublicKey on the key, revocation read + write, no network', () => {
    const w = wire((s) => new JwtSessionKeys(s, 'Keys'));
    expectKeys(w.env, [
      'SESSION_STORE',
      'SESSION_JWT_KMS_KEY_ID',
      'SESSION_JWT_ISSUER',
      'SESSION_JWT_AUDIENCE',
      'SESSION_JWT_TTL',
      'SESSION_REVOCATION_TABLE',
      'SESSION_REVOCATION_CHECK',
    ]);
    expect(w.actions).toEqual(expect.arrayContaining(['kms:Sign', 'kms:GetPublicKey', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem']));
  });

  test('JWT connectVerifier: GetPublicKey and revocation read only', () => {
    const w = wire(
      (s) => new JwtSessionKeys(s, 'Keys'),
      (keys, fn) => keys.connectVerifier(SessionConsumer.fromFunction(fn)),
    );
    expect(w.env).toMatchObject({ SESSION_STORE: 'jwt' });
    expect(w.actions).toEqual(expect.arrayContaining(['kms:GetPublicKey', 'dynamodb:GetItem']));
    expect(w.actions).not.toContain('kms:Sign');
    expect(w.actions).not.toContain('dynamodb:PutItem');
  });

  test('JWT with a customer-managed revocation table key: the key grants follow the table', () => {
    const w = wire((s) => {
      const key = new kms.Key(s, 'TableKey', { enableKeyRotation: true });
      return new JwtSessionKeys(s, 'Keys', { existingRevocationTable: new dynamodb.Table(s, 'Revocations', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        removalPolicy: RemovalPolicy.DESTROY,
      }) });
    });
    const onKey = w.statements.filter((s) => JSON.stringify(s.Resource).includes('TableKey')).flatMap((s) => s.Action);
    expect(onKey).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt']));
  });
});

describe('stores on existing resources still bind, connect and grant', () => {
  test('DynamoDB on an existing Table (not V2) with its customer key', () => {
    const w = wire((s) => {
      const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
      const table = dynamodb.Table.fromTableAttributes(s, 'Imported', { tableName: 'team-sessions', encryptionKey: key });
      return new DynamoDbSessionStore(s, 'Store', { existingTable: table });
    });
    expect(w.env.SESSION_TABLE).toBe('team-sessions');
    expect(w.actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'kms:Decrypt', 'kms:GenerateDataKey']));
    w.template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    w.template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  test('S3 on an existing bucket and prefix', () => {
    const w = wire((s) => new S3SessionStore(s, 'Store', { existingBucket: s3.Bucket.fromBucketName(s, 'B', 'team-bucket'), prefix: 'web/sessions/' }));
    expect(w.env).toMatchObject({ SESSION_BUCKET: 'team-bucket', SESSION_BUCKET_PREFIX: 'web/sessions/' });
    const objects = w.statements.find((s) => s.Action.includes('s3:GetObject'));
    expect(JSON.stringify(objects.Resource)).toContain('team-bucket/web/sessions/*');
    w.template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('Redis from cache attributes: URL from the endpoint, the secret granted, the port opened on its security groups', () => {
    const w = wire((s, vpc) => {
      const sg = new ec2.SecurityGroup(s, 'CacheSg', { vpc, allowAllOutbound: false });
      return RedisSessionStore.fromCacheAttributes(s, 'Store', {
        vpc,
        endpointAddress: 'master.team.abc123.euw1.cache.amazonaws.com',
        port: 6379,
        authSecret: secretsmanager.Secret.fromSecretNameV2(s, 'Auth', 'team/redis-auth'),
        securityGroups: [sg],
        cluster: true,
        replicationGroupId: 'team',
      });
    });
    expect(w.env).toMatchObject({ SESSION_REDIS_URL: 'rediss://master.team.abc123.euw1.cache.amazonaws.com:6379', SESSION_REDIS_CLUSTER: 'true' });
    expect(w.actions).toContain('secretsmanager:GetSecretValue');
    w.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 6379,
    });
    w.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
  });

  test('Memcached on an existing cluster: the servers as given, the port opened on its security groups, its metrics by cluster id', () => {
    let store!: MemcachedSessionStore;
    const w = wire((s, vpc) => {
      const sg = new ec2.SecurityGroup(s, 'CacheSg', { vpc, allowAllOutbound: false });
      store = new MemcachedSessionStore(s, 'Store', {
        vpc,
        existingCache: { servers: ['n1.team.cache:11211', 'n2.team.cache:11211'], port: 11211, securityGroups: [sg], cacheClusterId: 'team' },
      });
      return store;
    });
    expect(w.env).toMatchObject({ SESSION_MEMCACHED_SERVERS: 'n1.team.cache:11211,n2.team.cache:11211', SESSION_MEMCACHED_TLS: 'true' });
    w.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 11211,
    });
    w.template.resourceCountIs('AWS::ElastiCache::CacheCluster', 0);
    expect(store.metricCPUUtilization().dimensions).toEqual({ CacheClusterId: 'team', CacheNodeId: '0001' });
    expect(store.endpointAddress).toBe('n1.team.cache');
  });

  test('Memcached existingCache with props that shape a new cache is refused', () => {
    const stack = newStack();
    const vpc = newVpc(stack);
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    expect(() => new MemcachedSessionStore(stack, 'Store', { vpc, numCacheNodes: 3, existingCache: { servers: [], port: 11211, securityGroups: [sg] } })).toThrow(
      /numCacheNodes only apply to a cache this construct creates[\s\S]*existingCache.servers must list at least one/,
    );
  });

  test('PostgreSQL on an existing proxy and secret: URL through the proxy, secret granted, port 5432 on its security groups, schema still applied', () => {
    const w = wire((s, vpc) => {
      const proxySg = new ec2.SecurityGroup(s, 'ProxySg', { vpc, allowAllOutbound: false });
      const proxy = rds.DatabaseProxy.fromDatabaseProxyAttributes(s, 'Proxy', {
        dbProxyName: 'team-proxy',
        dbProxyArn: 'arn:aws:rds:eu-west-1:111111111111:db-proxy:prx-123',
        endpoint: 'team-proxy.proxy-abc.eu-west-1.rds.amazonaws.com',
        securityGroups: [proxySg],
      });
      const secret = secretsmanager.Secret.fromSecretCompleteArn(s, 'Creds', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:team/db-AbCdEf');
      return new PostgresSessionStore(s, 'Store', { vpc, existingProxy: proxy, existingProxySecurityGroups: [proxySg], existingSecret: secret, databaseName: 'app' });
    });
    expect(w.env).toMatchObject({
      SESSION_DATABASE_URL: 'postgres://sessions_owner@team-proxy.proxy-abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=require',
      SESSION_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:team/db-AbCdEf',
    });
    expect(w.actions).toContain('secretsmanager:GetSecretValue');
    w.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ProxySg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 5432,
    });
    w.template.resourceCountIs('AWS::RDS::DBCluster', 0);
    w.template.resourceCountIs('AWS::RDS::DBProxy', 0);
    w.template.hasResourceProperties('Custom::SessionSchema', { Host: 'team-proxy.proxy-abc.eu-west-1.rds.amazonaws.com', Port: '5432', Database: 'app' });
  });

  test('PostgreSQL on an existing Aurora cluster without a proxy: URL to the cluster endpoint, ingress on its port', () => {
    const w = wire((s, vpc) => {
      const clusterSg = new ec2.SecurityGroup(s, 'ClusterSg', { vpc, allowAllOutbound: false });
      const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(s, 'Cluster', {
        clusterIdentifier: 'team-db',
        clusterEndpointAddress: 'team-db.cluster-abc.eu-west-1.rds.amazonaws.com',
        port: 5433,
        securityGroups: [clusterSg],
      });
      const secret = secretsmanager.Secret.fromSecretNameV2(s, 'Creds', 'team/db');
      return new PostgresSessionStore(s, 'Store', { vpc, existingCluster: cluster, existingSecret: secret });
    });
    expect(w.env.SESSION_DATABASE_URL).toBe('postgres://sessions_owner@team-db.cluster-abc.eu-west-1.rds.amazonaws.com:5433/sessions?sslmode=require');
    w.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClusterSg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
      FromPort: 5433,
    });
  });
});
