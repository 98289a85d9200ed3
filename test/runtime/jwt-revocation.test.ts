/**
 * Revocation through the DynamoDB denylist, on dynalite (real DynamoDB API; no TTL deletion, so
 * the `ttl` attribute is checked as written, not as enforced).
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { DynamoDbDenylist } from '../../lambda/session/jwt/denylist';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { JwtSessionService } from '../../lambda/session/jwt/service';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, type Dynalite } from '../support/dynalite';
import { REVOCATION_TABLE, startDenylistDynalite } from '../support/jwt-denylist';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0, 250);

describe('JWT revocation on a DynamoDB denylist (dynalite)', () => {
  let dyn: Dynalite;
  let client: DynamoDBClient;
  let signer: LocalKeySigner;
  let now: number;
  const service = (check: 'always' | 'never' = 'always', timeoutMs = 1000) =>
    new JwtSessionService({
      signer,
      issuer: 'iss',
      audience: 'aud',
      denylist: new DynamoDbDenylist({ table: REVOCATION_TABLE, client, timeoutMs }),
      revocationCheck: check,
      now: () => now,
    });
  const item = async (pk: string) => (await client.send(new GetItemCommand({ TableName: REVOCATION_TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    dyn = await startDenylistDynalite();
    client = dyn.client();
    signer = await LocalKeySigner.generate();
  });
  afterAll(async () => {
    client?.destroy();
    await dyn?.close();
  });
  beforeEach(() => {
    now = T0;
  });

  test('a revoked jti is refused (revoked); another token of the same user still verifies', async () => {
    const s = service();
    const a = await s.issue({ sub: 'rev-1', cart: [], prefs: {} });
    const b = await s.issue({ sub: 'rev-1', cart: [], prefs: {} });
    await s.revoke(await s.verify(a.token));
    await expect(s.verify(a.token)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(s.load(`${s.cookieName}=${a.token}`)).resolves.toBeUndefined();
    await expect(s.verify(b.token)).resolves.toMatchObject({ claims: { jti: b.claims.jti } });
    expect(await item(`jti#${a.claims.jti}`)).toEqual({ pk: { S: `jti#${a.claims.jti}` }, ttl: { N: String(a.claims.exp) } });
  });

  test("a token issued before the user's not-before (log out everywhere) is refused (revoked_user); one issued in a later second verifies", async () => {
    const s = service();
    const before = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} });
    const otherUser = await s.issue({ sub: 'everywhere-2', cart: [], prefs: {} });
    now = T0 + 10_000;
    await s.revokeEverywhere('everywhere-1');
    await expect(s.verify(before.token)).rejects.toMatchObject({ reason: 'revoked_user' });
    await expect(s.verify(otherUser.token)).resolves.toBeDefined();
    // iat has one-second resolution: the second of the log-out-everywhere is refused too, the next one is not.
    const sameSecond = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} });
    await expect(s.verify(sameSecond.token)).rejects.toMatchObject({ reason: 'revoked_user' });
    now = T0 + 11_000;
    const after = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} });
    await expect(s.verify(after.token)).resolves.toBeDefined();
    const nbf = Math.floor((T0 + 10_000) / 1000) + 1;
    expect(await item('user#everywhere-1')).toEqual({ pk: { S: 'user#everywhere-1' }, nbf: { N: String(nbf) }, ttl: { N: String(nbf + 900 + 60) } });
  });

  test("a user's not-before never moves backwards (an instance with a lagging clock cannot un-revoke)", async () => {
    const s = service();
    now = T0 + 50_000;
    await s.revokeEverywhere('monotonic');
    now = T0 + 20_000;
    await s.revokeEverywhere('monotonic');
    expect((await item('user#monotonic'))?.nbf).toEqual({ N: String(Math.floor((T0 + 50_000) / 1000) + 1) });
  });

  test("with SESSION_REVOCATION_CHECK=never a revoked token still verifies (the check is what enforces revocation)", async () => {
    const t = await service('always').issue({ sub: 'never-1', cart: [], prefs: {} });
    await service('always').revoke(await service('always').verify(t.token));
    await expect(service('always').verify(t.token)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(service('never').verify(t.token)).resolves.toBeDefined();
  });

  test('denylist down with check always: verify and load throw StoreUnavailableError (→ 503), never accept unchecked', async () => {
    const s = service('always', 500);
    const t = await s.issue({ sub: 'down-1', cart: [], prefs: {} });
    await dyn.stop();
    try {
      await expect(s.verify(t.token)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(s.load(`${s.cookieName}=${t.token}`)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(s.revoke({ token: t.token, claims: t.claims, kid: t.kid })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(s.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      // With the check off, verification needs no table at all.
      await expect(service('never').verify(t.token)).resolves.toBeDefined();
    } finally {
      await dyn.restart();
    }
    await expect(s.verify(t.token)).resolves.toBeDefined();
  });
});
