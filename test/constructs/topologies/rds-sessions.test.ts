import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RdsSessions } from '../../../lib';
import { expectNoServiceWideWildcards, stackIn, tgAttributes } from './helpers';

describe('RdsSessions', () => {
  const stack = stackIn();
  const rds = new RdsSessions(stack, 'Sessions');
  const template = Template.fromStack(stack);

  test('one VPC shared by the database, the fleet and the function', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    expect(rds.fleet.vpc).toBe(rds.vpc);
    expect(rds.store.vpc).toBe(rds.vpc);
    expect(rds.api.vpc).toBe(rds.vpc);
  });

  test('Aurora PostgreSQL Serverless v2, encrypted, two instances, behind an RDS Proxy that requires TLS', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      ServerlessV2ScalingConfiguration: Match.objectLike({ MinCapacity: 0.5 }),
    });
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    template.resourceCountIs('Custom::SessionSchema', 1);
  });

  test('fleet and function get the one store: the same proxy URL and secret, one cookie secret', () => {
    expect(rds.fleet.environment.SESSION_STORE).toBe('postgres');
    expect(rds.api.environment.SESSION_STORE).toBe('postgres');
    const resolve = (v: string) => JSON.stringify(stack.resolve(v));
    expect(resolve(rds.fleet.environment.SESSION_DATABASE_URL)).toBe(resolve(rds.api.environment.SESSION_DATABASE_URL));
    expect(resolve(rds.api.environment.SESSION_DATABASE_URL)).toContain(':5432/sessions?sslmode=require');
    expect(resolve(rds.fleet.environment.SESSION_DATABASE_SECRET_ARN)).toBe(resolve(rds.api.environment.SESSION_DATABASE_SECRET_ARN));
    expect(rds.fleet.cookieSecret).toBe(rds.cookieSecret);
  });

  test('the proxy port is opened from the instances and from the function, not from a CIDR', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const toProxy = ingress.filter((p) => JSON.stringify(p.GroupId).includes('ProxySecurityGroup'));
    const sources = toProxy.map((p) => JSON.stringify(p.SourceSecurityGroupId));
    expect(toProxy.every((p) => p.FromPort === 5432)).toBe(true);
    expect(sources.some((s) => s.includes('InstanceSecurityGroup'))).toBe(true);
    expect(sources.some((s) => s.includes('ApiSecurityGroup'))).toBe(true);
    for (const p of ingress) expect(p.CidrIp).toBeUndefined();
  });

  test('the Secrets Manager endpoint admits the instances, the schema and rotation functions; the schema waits for it', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const sources = ingress
      .filter((p) => p.FromPort === 443 && JSON.stringify(p.GroupId).includes('SecretsManagerEndpoint'))
      .map((p) => JSON.stringify(p.SourceSecurityGroupId));
    for (const who of ['InstanceSecurityGroup', 'ApiSecurityGroup', 'SchemaSecurityGroup', 'RotationSecurityGroup']) {
      expect(sources.some((s) => s.includes(who))).toBe(true);
    }
    const [schema] = Object.values(template.findResources('Custom::SessionSchema'));
    expect(schema.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/SecretsManagerEndpoint/)]));
  });

  test('no stickiness by default', () => {
    expect(tgAttributes(template)['stickiness.enabled']).toBe('false');
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('rejects bad props all at once', () => {
    const s = stackIn();
    expect(() => new RdsSessions(s, 'Sessions', { existingVpc: new ec2.Vpc(s, 'V'), vpcProps: {} })).toThrow(/existingVpc and vpcProps are mutually exclusive/);
    let message = '';
    try {
      new RdsSessions(stackIn(), 'Sessions', { storeProps: { minCapacity: 0.3, readers: 20 } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('minCapacity must be from 0.5 to 256 ACUs in steps of 0.5, got 0.3');
    expect(message).toContain('readers must be a whole number from 0 to 15, got 20');
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
