import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseSessionEnv } from '../../../lambda/session/env';
import { JwtSessionKeys } from '../../../lib/stores';
import { actionsOf, expectProblems, newConsumer, newStack, policyStatements } from '../helpers';

const SERVICE_WIDE = /^[a-z0-9-]+:\*$/;

/** Statements of one consumer's DefaultPolicy. */
function statementsOf(template: Template, roleLogicalId: string): any[] {
  return policyStatements({
    findResources: (type: string) =>
      Object.fromEntries(
        Object.entries(template.findResources(type)).filter(([, r]: [string, any]) => r.Properties.Roles[0].Ref === roleLogicalId),
      ),
  });
}

describe('JwtSessionKeys', () => {
  const stack = newStack();
  const keys = new JwtSessionKeys(stack, 'Jwt', { alias: 'sessions/jwt' });
  const issuer = newConsumer(stack, 'Issuer');
  const verifier = newConsumer(stack, 'Verifier');
  const issuerBinding = keys.bindIssuer(issuer);
  const verifierBinding = keys.bindVerifier(verifier);
  const template = Template.fromStack(stack);
  const keyArn = stack.resolve(keys.key.keyArn);
  const tableArn = stack.resolve(keys.revocationTable.tableArn);

  test('the key is ECC_NIST_P256 for SIGN_VERIFY, retained, with the alias', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PendingWindowInDays: 30 }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/sessions/jwt' });
  });

  test('the revocation table has pk (S), TTL ttl, PITR, on-demand billing and is retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      }),
      DeletionPolicy: 'Retain',
    });
  });

  test('the issuer gets kms:Sign + GetPublicKey on the one key and Get/BatchGet/PutItem on the one table, nothing else', () => {
    const statements = statementsOf(template, stack.resolve(issuer.role.roleName).Ref);
    const byResource = new Map<string, string[]>();
    for (const s of statements) {
      const k = JSON.stringify(s.Resource);
      byResource.set(k, [...(byResource.get(k) ?? []), ...actionsOf(s)].sort());
    }
    expect(Object.fromEntries(byResource)).toEqual({
      [JSON.stringify(keyArn)]: ['kms:GetPublicKey', 'kms:Sign'],
      [JSON.stringify(tableArn)]: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
    });
    for (const s of statements) for (const a of actionsOf(s)) expect(a).not.toMatch(SERVICE_WIDE);
  });

  test('the verifier gets kms:GetPublicKey and Get/BatchGetItem only: no kms:Sign, no kms:Verify (verification is local), no table writes', () => {
    const statements = statementsOf(template, stack.resolve(verifier.role.roleName).Ref);
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'kms:GetPublicKey']);
    for (const s of statements) expect([JSON.stringify(keyArn), JSON.stringify(tableArn)]).toContain(JSON.stringify(s.Resource));
  });

  test('the key policy does not name the consumers (grants live on their roles)', () => {
    const keyPolicy = Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy;
    expect(JSON.stringify(keyPolicy)).not.toContain('IssuerRole');
    expect(JSON.stringify(keyPolicy)).not.toContain('kms:Sign');
  });

  test('both bindings return the jwt environment, which the runtime parser accepts', () => {
    const env = stack.resolve(issuerBinding.environment);
    expect(env).toEqual({
      SESSION_STORE: 'jwt',
      SESSION_JWT_KMS_KEY_ID: keyArn,
      SESSION_JWT_ISSUER: 'cdk-sessions',
      SESSION_JWT_AUDIENCE: 'cdk-sessions',
      SESSION_JWT_TTL: '900',
      SESSION_REVOCATION_TABLE: stack.resolve(keys.revocationTable.tableName),
      SESSION_REVOCATION_CHECK: 'always',
    });
    expect(stack.resolve(verifierBinding.environment)).toEqual(env);
    const parsed = parseSessionEnv({ ...issuerBinding.environment, SESSION_JWT_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:1:key/k', SESSION_REVOCATION_TABLE: 'r' });
    expect(parsed.jwt).toMatchObject({ issuer: 'cdk-sessions', audience: 'cdk-sessions', ttlSeconds: 900, revocationCheck: 'always' });
  });

  test('bind() is the issuer binding (kind jwt)', () => {
    const s2 = newStack();
    const k2 = new JwtSessionKeys(s2, 'Jwt');
    expect(k2.kind).toBe('jwt');
    k2.bind(newConsumer(s2, 'App'));
    expect(policyStatements(Template.fromStack(s2)).flatMap(actionsOf)).toContain('kms:Sign');
  });
});

describe('JwtSessionKeys rotation', () => {
  test('with an existing signing key and a previous key: Sign only on the new key, GetPublicKey on both, previous ARNs in the environment', () => {
    const stack = newStack();
    const spec = { keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY };
    const next = new kms.Key(stack, 'KeyV2', spec);
    const old = kms.Key.fromKeyArn(stack, 'KeyV1', 'arn:aws:kms:us-east-1:111122223333:key/1111aaaa-11aa-11aa-11aa-111111aaaaaa');
    const keys = new JwtSessionKeys(stack, 'Jwt', { existingSigningKey: next, previousSigningKeys: [old] });
    const issuer = newConsumer(stack, 'Issuer');
    const verifier = newConsumer(stack, 'Verifier');
    const binding = keys.bindIssuer(issuer);
    keys.bindVerifier(verifier);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1); // ours, not a second one made by the construct
    expect(keys.key).toBe(next);
    const nextArn = JSON.stringify(stack.resolve(next.keyArn));
    const oldArn = JSON.stringify(old.keyArn);
    const byResource = (role: string) => {
      const m: Record<string, string[]> = {};
      for (const st of statementsOf(template, stack.resolve(role).Ref)) {
        const k = JSON.stringify(st.Resource);
        m[k] = [...(m[k] ?? []), ...actionsOf(st)].sort();
      }
      return m;
    };
    expect(byResource(issuer.role.roleName)).toMatchObject({ [nextArn]: ['kms:GetPublicKey', 'kms:Sign'], [oldArn]: ['kms:GetPublicKey'] });
    expect(byResource(verifier.role.roleName)).toMatchObject({ [nextArn]: ['kms:GetPublicKey'], [oldArn]: ['kms:GetPublicKey'] });
    const env = stack.resolve(binding.environment);
    expect(env.SESSION_JWT_KMS_KEY_ID).toEqual(stack.resolve(next.keyArn));
    expect(env.SESSION_JWT_PREVIOUS_KMS_KEY_IDS).toBe(old.keyArn);
  });

  test('existingSigningKey together with description or pendingWindow is refused', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'K', { keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    expect(() => new JwtSessionKeys(stack, 'Jwt', { existingSigningKey: key, description: 'x', pendingWindow: Duration.days(7) })).toThrow(
      /existingSigningKey and description are mutually exclusive[\s\S]*existingSigningKey and pendingWindow are mutually exclusive/,
    );
  });
});

describe('JwtSessionKeys validation', () => {
  test('bad props are all reported in one error', () => {
    const stack = newStack();
    const make = () =>
      new JwtSessionKeys(stack, 'Jwt', {
        alias: 'aws/mine',
        pendingWindow: Duration.days(3),
        tokenTtlSeconds: 0,
        issuer: ' ',
        audience: '',
        revocationCheck: 'sometimes' as never,
        existingRevocationTable: dynamodb.TableV2.fromTableName(stack, 'T', 't'),
        revocationTableProps: {},
      });
    expectProblems(make, [
      /^existingRevocationTable and revocationTableProps are mutually exclusive/,
      /^alias must not start with 'alias\/aws\/'/,
      /^pendingWindow \(days\) must be a whole number from 7 to 30/,
      /^tokenTtlSeconds must be a whole number from 1 to 86400/,
      /^issuer must not be empty/,
      /^audience must not be empty/,
      /^revocationCheck must be 'always' or 'never'/,
    ]);
  });
});
