/**
 * SESSION_AUTH in the seam (parseSessionEnv): production refuses `open`; a missing value is the
 * reference app's refusal (createAuthenticator), not the seam's, so a team's own app needs none;
 * Cognito needs its pool and client ids, every problem is reported in one error; and the check
 * the Cognito authenticator makes on the access token it gets back.
 */
import { UnsecuredJWT } from 'jose';
import { parseSessionEnv, SessionEnvError } from '../../lambda/session/env';
import { userOfAccessToken } from '../../lambda/session/auth/cognito';
import { createAuthenticator } from '../../lambda/session/auth/from-env';

const BASE = { SESSION_STORE: 'memory', SESSION_COOKIE_SECRET: 'x'.repeat(32) };
const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    parseSessionEnv(env);
  } catch (err) {
    if (err instanceof SessionEnvError) return err.problems;
    throw err;
  }
  throw new Error('parseSessionEnv accepted it');
};

describe('SESSION_AUTH', () => {
  test('unset outside production: open, flagged as defaulted (the runtime warns)', () => {
    expect(parseSessionEnv(BASE).auth).toEqual({ kind: 'open', defaulted: true, required: false, timeoutMs: 3000 });
    expect(parseSessionEnv({ ...BASE, NODE_ENV: 'development' }).auth.defaulted).toBe(true);
    expect(parseSessionEnv({ ...BASE, SESSION_AUTH: 'open' }).auth).toEqual({ kind: 'open', defaulted: false, required: false, timeoutMs: 3000 });
    const warnings: string[] = [];
    createAuthenticator(parseSessionEnv(BASE).auth, { logger: { warn: (m) => warnings.push(m) } });
    expect(warnings).toEqual([expect.stringMatching(/^SESSION_AUTH is not set: using open/)]);
  });

  test('NODE_ENV=production: open is refused by the seam; unset is accepted by the seam (a team’s own app has no SESSION_AUTH) and refused by the reference app’s authenticator, naming the variable', () => {
    expect(problemsOf({ ...BASE, NODE_ENV: 'production', SESSION_AUTH: 'open' })).toEqual([expect.stringMatching(/^SESSION_AUTH=open .* is refused when NODE_ENV=production/)]);
    const auth = parseSessionEnv({ ...BASE, NODE_ENV: 'production' }).auth;
    expect(auth).toEqual({ kind: 'open', defaulted: true, required: true, timeoutMs: 3000 });
    expect(() => createAuthenticator(auth, { logger: { warn: () => undefined } })).toThrow(/SESSION_AUTH is required when NODE_ENV=production/);
  });

  test('cognito: pool id and client id, the region taken from the pool id; the bound from SESSION_AUTH_TIMEOUT_MS', () => {
    const env = { ...BASE, NODE_ENV: 'production', SESSION_AUTH: 'cognito', SESSION_COGNITO_USER_POOL_ID: 'eu-central-1_AbC123', SESSION_COGNITO_CLIENT_ID: '1example23456789', SESSION_AUTH_TIMEOUT_MS: '1500' };
    expect(parseSessionEnv(env).auth).toEqual({
      kind: 'cognito',
      defaulted: false,
      required: true,
      timeoutMs: 1500,
      cognito: { userPoolId: 'eu-central-1_AbC123', clientId: '1example23456789', region: 'eu-central-1' },
    });
  });

  test('every problem at once: an unknown kind with a bad store, or cognito without ids and a bad timeout', () => {
    expect(problemsOf({ ...BASE, SESSION_AUTH: 'ldap', SESSION_STORE: 'floppy' })).toEqual([
      expect.stringMatching(/SESSION_STORE must be one of/),
      'SESSION_AUTH must be one of cognito, open, got "ldap"',
    ]);
    expect(problemsOf({ ...BASE, SESSION_AUTH: 'cognito', SESSION_AUTH_TIMEOUT_MS: '0' })).toEqual([
      expect.stringMatching(/SESSION_AUTH_TIMEOUT_MS must be a whole number from 1 to 60000/),
      'SESSION_COGNITO_USER_POOL_ID is required when SESSION_AUTH=cognito',
      'SESSION_COGNITO_CLIENT_ID is required when SESSION_AUTH=cognito',
    ]);
    expect(problemsOf({ ...BASE, SESSION_AUTH: 'cognito', SESSION_COGNITO_USER_POOL_ID: 'nounderscore', SESSION_COGNITO_CLIENT_ID: 'bad id' })).toEqual([
      'SESSION_COGNITO_USER_POOL_ID must look like <region>_<id>, got "nounderscore"',
      'SESSION_COGNITO_CLIENT_ID must be 1-128 letters, digits, "_" or "+", got "bad id"',
    ]);
  });
});

describe('userOfAccessToken', () => {
  const expected = { userPoolId: 'eu-west-1_Pool1', clientId: 'client1' };
  const token = (claims: Record<string, unknown>) =>
    new UnsecuredJWT({ token_use: 'access', client_id: 'client1', username: 'alice', sub: 'uuid-1', ...claims }).setIssuer('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1').encode();

  test("the session's user is the token's username, with its sub", () => {
    expect(userOfAccessToken(token({}), expected)).toEqual({ user: 'alice', subject: 'uuid-1' });
  });

  test('an id token, or an access token of another client or pool, is not used', () => {
    expect(() => userOfAccessToken(token({ token_use: 'id' }), expected)).toThrow(/token_use/);
    expect(() => userOfAccessToken(token({ client_id: 'other' }), expected)).toThrow(/client_id/);
    expect(() => userOfAccessToken(token({}), { ...expected, userPoolId: 'eu-west-1_Other' })).toThrow(/iss/);
    expect(() => userOfAccessToken(token({ username: '' }), expected)).toThrow(/username/);
  });
});
