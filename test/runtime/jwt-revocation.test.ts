/**
 * Revocation through the DynamoDB denylist, on dynalite (real DynamoDB API, BatchGetItem included;
 * no TTL deletion, so the `ttl` attribute is checked as written, not as enforced). The clock is
 * injected: times here are exact, nothing waits for real time.
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
  const service = (check: 'always' | 'never' = 'always', timeoutMs = 1000, absoluteTimeoutSeconds?: number) =>
    new JwtSessionService({
      signer,
      issuer: 'iss',
      audience: 'aud',
      absoluteTimeoutSeconds,
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

  test('logout revokes the session id: the login token and every renewal are refused (revoked_session); another session of the same user still verifies', async () => {
    const s = service();
    const login = await s.issue({ sub: 'rev-1', cart: [], prefs: {} });
    now += 1000;
    const renewal1 = await s.renew(await s.verify(login.token), { cart: [{ sku: 'A-1', qty: 1 }], prefs: {} });
    now += 1000;
    const renewal2 = await s.renew(await s.verify(renewal1.token), { cart: [{ sku: 'A-1', qty: 1 }], prefs: { theme: 'dark' } });
    const otherSession = await s.issue({ sub: 'rev-1', cart: [], prefs: {} });
    expect(new Set([login, renewal1, renewal2].map((t) => t.claims.sid))).toEqual(new Set([login.claims.sid]));
    expect(new Set([login, renewal1, renewal2].map((t) => t.claims.jti)).size).toBe(3);
    expect(otherSession.claims.sid).not.toBe(login.claims.sid);

    await s.revoke(await s.verify(renewal2.token));
    for (const t of [login, renewal1, renewal2]) await expect(s.verify(t.token)).rejects.toMatchObject({ reason: 'revoked_session' });
    await expect(s.load(`${s.cookieName}=${login.token}`)).resolves.toBeUndefined();
    await expect(s.verify(otherSession.token)).resolves.toMatchObject({ claims: { sid: otherSession.claims.sid } });
    // The entry outlives the last token of the session: TTL from now (900 s) plus the 60 s margin.
    expect(await item(`sid#${login.claims.sid}`)).toEqual({ pk: { S: `sid#${login.claims.sid}` }, ttl: { N: String(Math.ceil(now / 1000) + 900 + 60) } });
  });

  test('a revoked jti (one token) is refused (revoked); the next renewal of its session still verifies', async () => {
    const s = service();
    const a = await s.issue({ sub: 'rev-2', cart: [], prefs: {} });
    const b = await s.renew(await s.verify(a.token), { cart: [], prefs: {} });
    await s.denylist!.revokeToken(a.claims.jti, a.claims.exp);
    await expect(s.verify(a.token)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(s.verify(b.token)).resolves.toBeDefined();
  });

  test("log out everywhere ends every session of the user started up to that millisecond (revoked_user); a login 1 ms later verifies; other users unaffected", async () => {
    const s = service();
    const before = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} });
    const otherUser = await s.issue({ sub: 'everywhere-2', cart: [], prefs: {} });
    now = T0 + 10_000;
    const sameMs = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} }); // started in the very millisecond of the revocation
    await s.revokeEverywhere('everywhere-1');
    await expect(s.verify(before.token)).rejects.toMatchObject({ reason: 'revoked_user' });
    await expect(s.verify(sameMs.token)).rejects.toMatchObject({ reason: 'revoked_user' });
    await expect(s.verify(otherUser.token)).resolves.toBeDefined();
    now += 1; // the same second (iat is equal), a later millisecond
    const after = await s.issue({ sub: 'everywhere-1', cart: [], prefs: {} });
    expect(after.claims.iat).toBe(sameMs.claims.iat);
    await expect(s.verify(after.token)).resolves.toBeDefined();
    expect(await item('user#everywhere-1')).toEqual({ pk: { S: 'user#everywhere-1' }, revokedAt: { N: String(T0 + 10_000) }, ttl: { N: String(Math.ceil((T0 + 10_000) / 1000) + 900 + 60) } });
  });

  test('a renewal racing log out everywhere (verified before it, issued after it) is refused: sessions compare by start, not by token issue time', async () => {
    const s = service();
    const login = await s.issue({ sub: 'race-1', cart: [], prefs: {} });
    now += 5000;
    const verified = await s.verify(login.token); // the renewal's check passes ...
    await s.revokeEverywhere('race-1'); // ... the revocation lands ...
    now += 1000;
    const renewed = await s.renew(verified, { cart: [{ sku: 'A-1', qty: 1 }], prefs: {} }); // ... then the renewal is signed
    await expect(s.verify(renewed.token)).rejects.toMatchObject({ reason: 'revoked_user' });
  });

  test("a user's revocation instant never moves backwards (an instance with a lagging clock cannot un-revoke)", async () => {
    const s = service();
    now = T0 + 50_000;
    await s.revokeEverywhere('monotonic');
    now = T0 + 20_000;
    await s.revokeEverywhere('monotonic');
    expect((await item('user#monotonic'))?.revokedAt).toEqual({ N: String(T0 + 50_000) });
  });

  test('the absolute timeout counts from login: renewals never extend the token past it, and at it the session is refused (absolute_timeout) and not renewed', async () => {
    const abs = 60;
    const s = service('always', 1000, abs);
    const login = await s.issue({ sub: 'abs-1', cart: [], prefs: {} });
    const end = login.claims.sst + abs * 1000;
    let cur = login;
    while (now + 1000 < end) {
      now += 1000;
      cur = await s.renew(await s.verify(cur.token), { cart: [], prefs: {} });
      expect(cur.claims.sst).toBe(login.claims.sst);
      expect(cur.claims.exp * 1000).toBeLessThanOrEqual(end);
    }
    const last = await s.verify(cur.token);
    now = end;
    await expect(s.verify(cur.token)).rejects.toMatchObject({ reason: 'absolute_timeout' });
    await expect(s.renew(last, { cart: [], prefs: {} })).rejects.toMatchObject({ reason: 'absolute_timeout' });
    // A new login starts a new session with its own clock.
    await expect(s.verify((await s.issue({ sub: 'abs-1', cart: [], prefs: {} })).token)).resolves.toBeDefined();
  });

  test('the absolute timeout is enforced on verification whatever the exp says (a token from an issuer with a longer setting)', async () => {
    const long = service('always', 1000, 3600);
    const t = await long.issue({ sub: 'abs-2', cart: [], prefs: {} });
    now += 61_000;
    await expect(long.verify(t.token)).resolves.toBeDefined();
    await expect(service('always', 1000, 60).verify(t.token)).rejects.toMatchObject({ reason: 'absolute_timeout' });
  });

  test("with SESSION_REVOCATION_CHECK=never a revoked token still verifies (the check is what enforces revocation)", async () => {
    const t = await service('always').issue({ sub: 'never-1', cart: [], prefs: {} });
    await service('always').revoke(await service('always').verify(t.token));
    await expect(service('always').verify(t.token)).rejects.toMatchObject({ reason: 'revoked_session' });
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
