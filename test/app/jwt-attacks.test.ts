/**
 * Attacks on JWT mode (SESSION_STORE=jwt) through HTTP, against the Lambda adapter (API Gateway
 * HTTP API v2 handler) and the instance server (child process), both on the real clock with the
 * denylist on dynalite: the RFC 8725 checks (forged and confused algorithms, explicit typing,
 * required claims, audience, issuer, expiry, keys named or carried by the token) and the
 * session-ending findings of issue 14 (logout ends every token of the session, the absolute
 * timeout holds however often a session is renewed, a login right after "log out everywhere"
 * works, and login carries data over only from the same user).
 *
 * Forged tokens are signed with the app's own key unless the attack is about the key, and
 * differ from a genuine token by one defect; the baseline test shows the genuine one is served.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { DEFAULTS } from '../../lambda/session/env';
import type { Client, Reply } from '../support/app-client';
import { removeInstanceBundle } from '../support/app-instance';
import type { Dynalite } from '../support/dynalite';
import { startDenylistDynalite } from '../support/jwt-denylist';
import { forgeToken, JWT_TRANSPORTS, jwtEnv, jwtLogin, serveJwtApp, withProcessEnv, type ServedJwtApp } from '../support/jwt-app';

const CLEARED = 'sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0';
/** SESSION_ABSOLUTE_TIMEOUT of the short-lived app, seconds. */
const SHORT_ABSOLUTE_S = 5;
/** How long past the absolute timeout the test keeps renewing before it expects the refusal, ms. */
const MARGIN_MS = 2000;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const parts = (token: string) => token.split('.');
const payloadOf = (token: string) => JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString()) as Record<string, unknown>;

/** Each attack: how to make the token from the app's key and an attacker's key. */
type Forge = (key: LocalKeySigner, attacker: LocalKeySigner) => Promise<string>;
const ATTACKS: ReadonlyArray<[string, Forge]> = [
  ['alg none, no signature (RFC 8725 §2.1, §3.1)', async (key) => `${b64({ alg: 'none', typ: 'session+jwt', kid: key.kid })}.${parts(await forgeToken(key))[1]}.`],
  [
    'HS256 keyed with the public key, algorithm confusion (§2.1, §3.1)',
    async (key) => {
      const pubPem = createPublicKey(key.privatePem()).export({ format: 'pem', type: 'spki' }).toString();
      const input = `${b64({ alg: 'HS256', typ: 'session+jwt', kid: key.kid })}.${parts(await forgeToken(key))[1]}`;
      return `${input}.${createHmac('sha256', pubPem).update(input).digest('base64url')}`;
    },
  ],
  ['ES256 signature relabelled ES384 (§3.1)', async (key) => {
    const [, p, s] = parts(await forgeToken(key));
    return `${b64({ alg: 'ES384', typ: 'session+jwt', kid: key.kid })}.${p}.${s}`;
  }],
  ['typ JWT instead of session+jwt, explicit typing (§3.11)', (key) => forgeToken(key, {}, { typ: 'JWT' })],
  ['no typ (§3.11)', (key) => forgeToken(key, {}, { typ: undefined })],
  ['no exp (§3.10: required claims)', (key) => forgeToken(key, { exp: undefined })],
  ['no sid (a token that logout could not end)', (key) => forgeToken(key, { sid: undefined })],
  ['no sst (a token the absolute timeout could not bound)', (key) => forgeToken(key, { sst: undefined })],
  ['wrong aud (§3.9)', (key) => forgeToken(key, { aud: 'other-app' })],
  ['wrong iss (§3.8)', (key) => forgeToken(key, { iss: 'https://evil.test' })],
  ['expired: exp a minute ago, past the 5 s clock tolerance', (key) => {
    const t = Math.floor(Date.now() / 1000);
    return forgeToken(key, { iat: t - 960, nbf: t - 960, exp: t - 60 });
  }],
  ['not yet valid: nbf a minute ahead', (key) => {
    const t = Math.floor(Date.now() / 1000);
    return forgeToken(key, { nbf: t + 60 });
  }],
  [
    'session past the absolute timeout: sst 12 h + 1 min ago, exp fresh',
    (key) => forgeToken(key, { sst: Date.now() - (DEFAULTS.absoluteTimeoutSeconds + 60) * 1000 }),
  ],
  ['payload tampered: sub changed, signature kept', async (key) => {
    const [h, p, s] = parts(await forgeToken(key, {}, {}, 'ann'));
    return `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })}.${s}`;
  }],
  ["attacker's key carried in the header (jwk, jku) under our kid (§3.10)", (key, attacker) => forgeToken(attacker, {}, { kid: key.kid, jwk: attacker.publicJwk(), jku: 'https://evil.test/jwks.json' })],
  ["attacker's key under its own kid (unknown kid)", (_key, attacker) => forgeToken(attacker)],
  ['kid as a path (../../../dev/null), signed by our key: kid is only looked up among configured keys (§3.10)', (key) => forgeToken(key, {}, { kid: '../../../dev/null' })],
  ['unknown critical header parameter (crit)', (key) => forgeToken(key, {}, { crit: ['x-ext'], 'x-ext': 1 })],
];

describe.each(JWT_TRANSPORTS)('JWT attacks through HTTP, %s', (transport) => {
  let dyn: Dynalite;
  let key: LocalKeySigner;
  let attacker: LocalKeySigner;
  let app: ServedJwtApp;
  let short: ServedJwtApp;
  let restoreEnv: () => void;

  const session = (token: string) => app.client().get('/session', { cookie: `sid=${token}` });
  const loggedIn = async (user: string, on: ServedJwtApp = app) => {
    const c = on.client();
    expect((await jwtLogin(c, user)).status).toBe(200);
    return c;
  };
  const tokenOf = (c: Client) => c.jar.get('sid')!;
  const expectRefused = (r: Reply) => {
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('no_session');
    expect(r.setCookies).toEqual([CLEARED]);
  };

  beforeAll(async () => {
    dyn = await startDenylistDynalite();
    key = await LocalKeySigner.generate();
    attacker = await LocalKeySigner.generate();
    const env = jwtEnv(key, dyn);
    restoreEnv = withProcessEnv({ AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint, AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY, AWS_REGION: env.AWS_REGION });
    app = await serveJwtApp(transport, env);
    // SESSION_IDLE_TIMEOUT may not exceed the absolute timeout (env validation).
    short = await serveJwtApp(transport, jwtEnv(key, dyn, { SESSION_ABSOLUTE_TIMEOUT: String(SHORT_ABSOLUTE_S), SESSION_IDLE_TIMEOUT: String(SHORT_ABSOLUTE_S) }));
  });
  afterAll(async () => {
    await app?.close();
    await short?.close();
    removeInstanceBundle();
    await dyn?.close();
    restoreEnv?.();
  });

  test('baseline: a token made as the app makes it, signed by its key, is served (200), so each refusal below comes from its one defect', async () => {
    const r = await session(await forgeToken(key));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user: 'mallory', cart: [], prefs: {} });
  });

  test.each(ATTACKS)('%s: refused, 401 and the cookie cleared', async (_name, forge) => {
    const token = await forge(key, attacker);
    expectRefused(await session(token));
    // Nor can it be turned into a fresh token.
    expect((await app.client().post('/cart/items', { sku: 'A-1', qty: 1 }, { cookie: `sid=${token}` })).status).toBe(401);
  });

  test('logout ends every token of the session (issue 14 item 2): the tokens from login and from each renewal get 401 afterwards and cannot renew', async () => {
    const c = await loggedIn('eve');
    const tokens = [tokenOf(c)];
    expect((await c.post('/cart/items', { sku: 'A-1', qty: 1 })).status).toBe(200);
    tokens.push(tokenOf(c));
    expect((await c.put('/prefs', { theme: 'dark' })).status).toBe(200);
    tokens.push(tokenOf(c));
    expect(new Set(tokens).size).toBe(3);
    expect(new Set(tokens.map((t) => decodeJwt(t).sid)).size).toBe(1);
    for (const t of tokens) expect((await session(t)).status).toBe(200); // stateless: every renewal's token is valid until logout

    expect((await c.post('/logout', {})).status).toBe(204);
    for (const t of tokens) {
      expectRefused(await session(t));
      expect((await app.client().post('/cart/items', { sku: 'B-2', qty: 1 }, { cookie: `sid=${t}` })).status).toBe(401);
    }
  });

  test("logout ends only that session: the same user's session on another device stays", async () => {
    const laptop = await loggedIn('gil');
    const phone = await loggedIn('gil');
    expect((await laptop.post('/logout', {})).status).toBe(204);
    expect((await phone.get('/session')).status).toBe(200);
  });

  test('log out everywhere, then log in at once: the new token works, every time (5 rounds, each within a second); the earlier tokens stay refused', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await loggedIn('fay');
      const old = tokenOf(c);
      expect((await c.post('/logout/everywhere', {})).status).toBe(204);
      expect((await jwtLogin(c, 'fay')).status).toBe(200);
      const r = await c.get('/session');
      expect(r.status).toBe(200);
      expect(r.json.user).toBe('fay');
      expectRefused(await session(old));
    }
  });

  test("login carries data only from the same user (issue 14 item 3): bob logging in where alice's token is gets an empty cart, and alice's token is revoked", async () => {
    const browser = await loggedIn('alice');
    expect((await browser.post('/cart/items', { sku: 'ALICE-1', qty: 3 })).status).toBe(200);
    expect((await browser.put('/prefs', { theme: 'alice-dark' })).status).toBe(200);
    const alices = tokenOf(browser);

    expect((await jwtLogin(browser, 'bob')).status).toBe(200);
    expect((await browser.get('/session')).json).toMatchObject({ user: 'bob', cart: [], prefs: {} });
    expect(payloadOf(tokenOf(browser))).toMatchObject({ sub: 'bob', cart: [], prefs: {} });
    expectRefused(await session(alices));
  });

  test('the same user logging in again keeps cart and prefs in a new session; the previous token is revoked', async () => {
    const c = await loggedIn('hana');
    expect((await c.post('/cart/items', { sku: 'H-1', qty: 1 })).status).toBe(200);
    expect((await c.put('/prefs', { lang: 'de' })).status).toBe(200);
    const before = tokenOf(c);
    expect((await jwtLogin(c, 'hana')).status).toBe(200);
    expect(decodeJwt(tokenOf(c)).sid).not.toBe(decodeJwt(before).sid);
    expect((await c.get('/session')).json).toMatchObject({ user: 'hana', cart: [{ sku: 'H-1', qty: 1 }], prefs: { lang: 'de' } });
    expectRefused(await session(before));
  });

  test(`absolute timeout (SESSION_ABSOLUTE_TIMEOUT=${SHORT_ABSOLUTE_S}), renewed every second: no token expires past it, and once it plus a margin has passed since login the session is refused and not renewed`, async () => {
    const c = short.client();
    const beforeLogin = Date.now();
    expect((await jwtLogin(c, 'ida')).status).toBe(200);
    // The session starts during the login request; this process shares the server's clock.
    const end = Date.now() + SHORT_ABSOLUTE_S * 1000;
    const seen = [tokenOf(c)];
    const statuses: number[] = [];
    // Renew every second until the timeout plus a margin has passed.
    while (Date.now() < end + MARGIN_MS) {
      await sleep(1000);
      const r = await c.post('/cart/items', { sku: 'I-1', qty: 1 });
      statuses.push(r.status);
      if (r.status === 200) seen.push(tokenOf(c));
    }
    // The first renewal (a second after login, well inside the timeout) worked; the session was really renewed.
    expect(statuses[0]).toBe(200);
    for (const t of seen) expect(decodeJwt(t).exp! * 1000).toBeLessThanOrEqual(end);
    // Past the timeout: the last renewal was refused, and no token of the session is served any more.
    expect(statuses[statuses.length - 1]).toBe(401);
    for (const t of seen) expect(decodeJwt(t)).toMatchObject({ sid: decodeJwt(seen[0]).sid, sst: expect.any(Number) });
    expect(decodeJwt(seen[0]).sst).toBeGreaterThanOrEqual(beforeLogin);
    for (const t of seen) expect((await short.client().get('/session', { cookie: `sid=${t}` })).status).toBe(401);
    // A new login starts a new session.
    expect((await (await loggedIn('ida', short)).get('/session')).status).toBe(200);
  }, 60_000);
});
