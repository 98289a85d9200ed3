import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RdsSessions } from '../../../lib';
import { expectAllReported, expectNoServiceWideWildcards, expectOneSharedVpc, expectSourcesFrom, ingressRules, ingressSources, secretsEndpointSources, synthTopology, tgAttributes, topologyStack } from '../helpers';

describe('RdsSessions', () => {
  const { stack, topology: rds, template } = synthTopology((s) => new RdsSessions(s, 'Sessions'));

  test('one VPC shared by the database, the fleet and the function', () => {
    expectOneSharedVpc(template, rds);
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
    const ingress = ingressRules(template);
    const toProxy = ingress.filter((p) => JSON.stringify(p.GroupId).includes('ProxySecurityGroup'));
    expect(toProxy.every((p) => p.FromPort === 5432)).toBe(true);
    expectSourcesFrom(ingressSources(toProxy), ['InstanceSecurityGroup', 'ApiSecurityGroup']);
    for (const p of ingress) expect(p.CidrIp).toBeUndefined();
  });

  test('the Secrets Manager endpoint admits the instances, the RDS Proxy, the schema and rotation functions; the schema waits for it', () => {
    expectSourcesFrom(secretsEndpointSources(template), ['InstanceSecurityGroup', 'ApiSecurityGroup', 'ProxySecurityGroup', 'SchemaSecurityGroup', 'RotationSecurityGroup']);
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
    const s = topologyStack();
    expect(() => new RdsSessions(s, 'Sessions', { vpc: new ec2.Vpc(s, 'V'), vpcProps: {} })).toThrow(/vpc and vpcProps are mutually exclusive/);
    expectAllReported(
      () => new RdsSessions(topologyStack(), 'Sessions', { storeProps: { minCapacity: 0.3, readers: 20 } }),
      ['minCapacity must be from 0.5 to 256 ACUs in steps of 0.5, got 0.3', 'readers must be a whole number from 0 to 15, got 20'],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
