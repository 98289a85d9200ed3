import { Match } from 'aws-cdk-lib/assertions';
import { S3Sessions } from '../../../lib';
import { actionsOf, expectAllReported, expectNoServiceWideWildcards, policyActions, policyStatements, synthTopology, topologyStack } from '../helpers';

describe('S3Sessions', () => {
  const { topology: sessions, template } = synthTopology((s) => new S3Sessions(s, 'Sessions'));

  test('a Lambda HTTP API on the bucket: Node 24, ARM64, SESSION_STORE=s3', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ SESSION_STORE: 's3', SESSION_BUCKET: { Ref: Match.anyValue() } }) },
    });
    expect(sessions.bucket).toBe(sessions.store.bucket);
    expect(sessions.fleet).toBeUndefined();
  });

  test('object access is limited to the session prefix', () => {
    const s3Statements = policyStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:') && a.includes('Object')));
    expect(s3Statements.length).toBeGreaterThan(0);
    for (const s of s3Statements) expect(JSON.stringify(s.Resource)).toContain('/sessions/*');
    expect(policyActions(template)).not.toContain('s3:DeleteBucket');
  });

  test('the session bucket is TLS-only', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('IAM has no service-wide wildcards', () => {
    expectNoServiceWideWildcards(template);
  });

  test('rejects bad API props all at once', () => {
    expectAllReported(
      () => new S3Sessions(topologyStack(), 'Sessions', { api: { memorySize: 100, reservedConcurrentExecutions: -1 }, cookieName: 'bad name' }),
      [
        'memorySize must be a whole number of MiB from 128 to 10240, got 100',
        'reservedConcurrentExecutions must be a whole number >= 1, got -1',
        'cookieName must be 1-64 letters',
      ],
    );
  });

  test('template snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
