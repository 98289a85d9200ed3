import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DynamoDbSessions } from '../../../lib';
import { expectAllReported, expectNoServiceWideWildcards, policyActions, synthTopology, tgAttributes, topologyStack } from '../helpers';

describe('DynamoDbSessions', () => {
  const { topology: sessions, template } = synthTopology((s) => new DynamoDbSessions(s, 'Sessions'));

  test('a Lambda HTTP API on the table: Node 24, ARM64, outside any VPC', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ SESSION_STORE: 'dynamodb', SESSION_TABLE: { Ref: Match.anyValue() } }) },
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.VpcConfig).toBeUndefined();
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
  });

  test('the function may read and conditionally write items, nothing table-wide', () => {
    const actions = policyActions(template).filter((a) => a.startsWith('dynamodb:'));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    for (const a of actions) expect(a).not.toMatch(/dynamodb:(\*|DeleteTable|Scan|CreateTable)/);
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('no fleet unless asked; with `fleet` an instance fleet shares the table', () => {
    expect(sessions.fleet).toBeUndefined();
    const s = topologyStack();
    const d = new DynamoDbSessions(s, 'Sessions', { fleet: {} });
    expect(d.fleet).toBeDefined();
    expect(d.fleet!.environment.SESSION_STORE).toBe('dynamodb');
    expect(JSON.stringify(s.resolve(d.fleet!.environment.SESSION_TABLE))).toBe(JSON.stringify(s.resolve(d.api.environment.SESSION_TABLE)));
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ MetadataOptions: Match.objectLike({ HttpTokens: 'required' }) }),
    });
    expect(tgAttributes(t)['stickiness.enabled']).toBe('false');
  });

  test('rejects a VPC choice without a fleet and both VPC props at once', () => {
    const s = topologyStack();
    expectAllReported(
      () => new DynamoDbSessions(s, 'Sessions', { vpc: new ec2.Vpc(s, 'V'), vpcProps: {} }),
      ['vpc and vpcProps are mutually exclusive', 'vpc, vpcProps apply to the fleet only'],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
