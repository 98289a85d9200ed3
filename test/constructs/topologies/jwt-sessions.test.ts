import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { JwtSessions } from '../../../lib';
import { actionsOf, expectAllReported, expectNoServiceWideWildcards, policyStatements, synthTopology, topologyStack } from '../helpers';

describe('JwtSessions', () => {
  const { topology: jwt, template } = synthTopology((s) => new JwtSessions(s, 'Sessions', { keys: { issuer: 'https://issuer.example', audience: 'shop' } }));

  test('function environment selects the jwt store with key, issuer, audience and revocation table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          SESSION_STORE: 'jwt',
          SESSION_JWT_KMS_KEY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('KeysSigningKey'), 'Arn'] },
          SESSION_JWT_ISSUER: 'https://issuer.example',
          SESSION_JWT_AUDIENCE: 'shop',
          SESSION_REVOCATION_TABLE: { Ref: Match.stringLikeRegexp('RevocationTable') },
          SESSION_JWT_TTL: '900',
          SESSION_REVOCATION_CHECK: 'always',
        }),
      },
    });
  });

  test('the function may sign with exactly the one KMS key', () => {
    const sign = policyStatements(template).filter((s) => actionsOf(s).includes('kms:Sign'));
    expect(sign).toHaveLength(1);
    expect(JSON.stringify(sign[0].Resource)).toMatch(/KeysSigningKey.*Arn/);
  });

  test('KMS: Sign and GetPublicKey on the one key, no kms:Verify (tokens are verified locally with the public key)', () => {
    const kmsActions = policyStatements(template)
      .filter((st) => actionsOf(st).some((a) => a.startsWith('kms:') && a !== 'kms:Decrypt' && a !== 'kms:DescribeKey'))
      .flatMap(actionsOf)
      .sort();
    expect(kmsActions).toEqual(['kms:GetPublicKey', 'kms:Sign']);
  });

  test('denylist grants: GetItem, BatchGetItem and PutItem on the one revocation table, nothing else in DynamoDB', () => {
    const ddb = policyStatements(template).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    for (const st of ddb) {
      const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      for (const r of resources) expect(JSON.stringify(r)).toMatch(/KeysRevocationTable/);
    }
  });

  test('signing key is asymmetric ECC P-256 for SIGN_VERIFY', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(jwt.signingKey).toBe(jwt.keys.key);
    expect(jwt.revocationTable).toBe(jwt.keys.revocationTable);
  });

  test('no VPC, no instances: stateless behind an HTTP API', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('rejects bad props all at once', () => {
    expectAllReported(
      () => new JwtSessions(topologyStack(), 'Sessions', { api: { timeout: Duration.seconds(90), memorySize: 20000 } }),
      ['timeout must be from 1 to 29 seconds', 'memorySize must be a whole number of MiB from 128 to 10240, got 20000'],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
