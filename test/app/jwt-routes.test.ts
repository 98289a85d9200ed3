/**
 * The reference app in JWT mode (SESSION_STORE=jwt) through the API Gateway HTTP API v2 adapter:
 * runtime built from SESSION_* variables by createJwtRuntime (local P-256 key from PEM), denylist
 * on dynalite. The clock is injected so that "log out everywhere" (one-second iat resolution)
 * and expiry are exact; nothing here waits for real time to pass.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { App } from '../../lambda/app/app';
import { createJwtApp } from '../../lambda/app/jwt-app';
import { parseSessionEnv } from '../../lambda/session/env';
import { createJwtRuntime, type JwtRuntime } from '../../lambda/session/jwt/from-env';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { JwtSessionService } from '../../lambda/session/jwt/service';
import { Client, httpApiSend, httpSend } from '../support/app-client';
import { removeInstanceBundle, startInstance } from '../support/app-instance';
import type { Dynalite } from '../support/dynalite';
import { jwtEnv } from '../support/jwt-app';
import { startDenylistDynalite } from '../support/jwt-denylist';
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { PAGE_CSP, PAGE_PATHS } from '../../lambda/app/page';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0, 0);

describe('reference app, SESSION_STORE=jwt, via the HTTP API adapter', () => {
  let dyn: Dynalite;
  let oldKey: LocalKeySigner;
  let key: LocalKeySigner;
  let runtime: JwtRuntime;
  let app: App;
  let now = T0;
  let env: Record<string, string>;
  const saved = { ...process.env };

  const client = () => new Client(httpApiSend(app));
  const loggedIn = async (user = 'ann') => {
    const c = client();
    expect((await c.post('/login', { user })).status).toBe(200);
    return c;
  };
  const tokenOf = (c: Client) => c.jar.get('sid')!;
  const tick = (ms = 1000) => {
    now += ms;
  };

  beforeAll(async () => {
    dyn = await startDenylistDynalite();
    oldKey = await LocalKeySigner.generate();
    key = await LocalKeySigner.generate();
    env = jwtEnv(key, dyn, {
      SESSION_AUTH: 'open',
      SESSION_JWT_PREVIOUS_PUBLIC_KEYS: oldKey.privatePem().replace(/\n/g, '\\n'), // one-line form, as in a .env file
      SESSION_STORE_TIMEOUT_MS: '1000',
    });
    Object.assign(process.env, env); // the SDK's endpoint and credential chains read process.env
    runtime = await createJwtRuntime(parseSessionEnv(env), { now: () => now });
    const logger = { info: () => undefined, warn: () => undefined, error: (m: string, a: Record<string, unknown>) => console.error(m, a) };
    app = createJwtApp({ sessions: runtime.sessions, authenticator: new OpenAuthenticator(), servedBy: 'test-jwt', logger });
  });
  afterAll(async () => {
    await runtime?.close();
    await dyn?.close();
    for (const k of Object.keys(env ?? {})) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  beforeEach(() => tick(5000));

  test('POST /login issues an ES256 session+jwt token in the session cookie with sub, cart, prefs, sid, sst, iat, nbf, exp, jti, iss, aud', async () => {
    const c = client();
    const r = await c.post('/login', { user: 'ann' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: 'ann' });
    expect(r.setCookies).toHaveLength(1);
    expect(r.setCookies[0]).toMatch(/^sid=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=900$/);
    const token = tokenOf(c);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'session+jwt', kid: key.kid });
    const claims = decodeJwt(token);
    const iat = Math.floor(now / 1000);
    expect(claims).toEqual({
      sub: 'ann',
      cart: [],
      prefs: {},
      sid: expect.stringMatching(/^[\w-]{22}$/), // 128 random bits
      sst: now,
      iat,
      nbf: iat,
      exp: iat + 900,
      jti: expect.stringMatching(/^[\w-]{22}$/),
      iss: 'https://shop.test',
      aud: 'shop',
    });
    expect(claims.sid).not.toBe(claims.jti);
  });

  test('GET / serves the same session page in JWT mode, with its CSP, and X-Served-By names the function on every answer', async () => {
    const page = await client().get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const asset of [PAGE_PATHS.script, PAGE_PATHS.style]) {
      expect(page.text).toContain(`"${asset.slice(1)}"`); // linked relatively, so it works under a stage path too
      expect((await client().get(asset)).status).toBe(200);
    }
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(page.headers['x-served-by']).toBe('test-jwt');
    expect((await client().get('/session')).headers['x-served-by']).toBe('test-jwt');
  });

  test('GET /session verifies the token and answers user, cart, prefs, servedBy; 401 without one', async () => {
    const c = await loggedIn('bob');
    const r = await c.get('/session');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: 'bob', cart: [], prefs: {}, servedBy: 'test-jwt' });
    expect((await client().get('/session')).status).toBe(401);
  });

  test('cart and prefs changes re-issue the token with a new jti, the same sid and sst; the data lives in the token', async () => {
    const c = await loggedIn('cara');
    const first = tokenOf(c);
    tick();
    const r1 = await c.post('/cart/items', { sku: 'A-1', qty: 2 });
    expect(r1.status).toBe(200);
    expect(r1.json).toEqual({ cart: [{ sku: 'A-1', qty: 2 }] });
    expect(r1.setCookies).toHaveLength(1);
    const second = tokenOf(c);
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    expect(decodeJwt(second)).toMatchObject({ sid: decodeJwt(first).sid, sst: decodeJwt(first).sst, iat: decodeJwt(first).iat! + 1 });
    expect(decodeJwt(second).cart).toEqual([{ sku: 'A-1', qty: 2 }]);
    const r2 = await c.put('/prefs', { theme: 'dark' });
    expect(r2.json).toEqual({ prefs: { theme: 'dark' } });
    expect((await c.get('/session')).json).toMatchObject({ cart: [{ sku: 'A-1', qty: 2 }], prefs: { theme: 'dark' } });
    // Stateless: the earlier token is not revoked by a change; it still shows the earlier data until it expires.
    expect((await c.get('/session', { cookie: `sid=${first}` })).json).toMatchObject({ cart: [], prefs: {} });
  });

  test('a cart past the 4096-byte cookie answers 413, sets no cookie, and the previous token stays valid', async () => {
    const c = await loggedIn('dan');
    const sku = 'S'.repeat(60);
    let lines = 0;
    let last: Awaited<ReturnType<Client['post']>> | undefined;
    for (let i = 0; i < 200; i++) {
      last = await c.post('/cart/items', { sku: `${sku}${String(i).padStart(3, '0')}`, qty: 1 });
      if (last.status !== 200) break;
      lines++;
      expect(Buffer.byteLength(`sid=${tokenOf(c)}`)).toBeLessThanOrEqual(4096);
    }
    expect(lines).toBeGreaterThan(5);
    expect(last!.status).toBe(413);
    expect(last!.json.error.code).toBe('session_too_large');
    expect(last!.setCookies).toEqual([]);
    const r = await c.get('/session');
    expect(r.status).toBe(200);
    expect(r.json.cart).toHaveLength(lines);
  });

  test('POST /logout revokes the session (204, cookie cleared); replaying its token afterwards is 401', async () => {
    const c = await loggedIn('eve');
    const token = tokenOf(c);
    const r = await c.post('/logout', {});
    expect(r.status).toBe(204);
    expect(r.setCookies).toEqual(['sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    const replay = await client().get('/session', { cookie: `sid=${token}` });
    expect(replay.status).toBe(401);
    expect(replay.setCookies).toEqual(['sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    expect((await client().post('/logout', {})).status).toBe(204); // idempotent without a session
  });

  test('POST /logout/everywhere refuses every earlier token of the user on every device; other users and later logins are unaffected', async () => {
    const laptop = await loggedIn('fay');
    const phone = await loggedIn('fay');
    const someoneElse = await loggedIn('gus');
    tick();
    const r = await laptop.post('/logout/everywhere', {});
    expect(r.status).toBe(204);
    expect(r.setCookies).toEqual(['sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    expect((await phone.get('/session')).status).toBe(401);
    expect((await someoneElse.get('/session')).status).toBe(200);
    tick(1); // one millisecond later: the same second, which iat alone could not tell apart
    const again = await loggedIn('fay');
    expect((await again.get('/session')).status).toBe(200);
    expect((await client().post('/logout/everywhere', {})).status).toBe(401);
  });

  test('GET /.well-known/jwks.json serves the current and previous public keys (no private parts), cacheable briefly', async () => {
    const r = await client().get('/.well-known/jwks.json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/jwk-set+json');
    expect(r.headers['cache-control']).toBe('public, max-age=300');
    expect(r.json.keys.map((k: { kid: string }) => k.kid)).toEqual([key.kid, oldKey.kid]);
    for (const k of r.json.keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
  });

  test('rotation through the environment: a token signed by the previous key (SESSION_JWT_PREVIOUS_PUBLIC_KEYS) is served until it expires', async () => {
    const before = new JwtSessionService({ signer: oldKey, issuer: 'https://shop.test', audience: 'shop', secure: false, now: () => now });
    const { token, claims } = await before.issue({ sub: 'hal', cart: [{ sku: 'OLD-1', qty: 1 }], prefs: {} });
    const r = await client().get('/session', { cookie: `sid=${token}` });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user: 'hal', cart: [{ sku: 'OLD-1', qty: 1 }] });
    const saved = now;
    now = claims.exp * 1000 + 6000;
    try {
      expect((await client().get('/session', { cookie: `sid=${token}` })).status).toBe(401);
    } finally {
      now = saved;
    }
  });

  test('a tampered token cookie is no session: 401 and the cookie is cleared', async () => {
    const c = await loggedIn('ivy');
    const [h, p, s] = tokenOf(c).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(tokenOf(c)), sub: 'admin' })).toString('base64url')}.${s}`;
    expect(p).not.toBe(forged.split('.')[1]);
    const r = await client().get('/session', { cookie: `sid=${forged}` });
    expect(r.status).toBe(401);
    expect(r.setCookies).toEqual(['sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
  });

  test('denylist down: /readyz and GET /session answer 503 (never accept an unchecked token), logout 503, /healthz (liveness) stays 200; back up, 200 again', async () => {
    const c = await loggedIn('jon');
    expect((await c.get('/healthz')).json).toEqual({ status: 'ok', store: 'jwt', servedBy: 'test-jwt' });
    expect((await c.get('/readyz')).json).toEqual({ status: 'ready', store: 'jwt', servedBy: 'test-jwt' });
    await dyn.stop();
    try {
      const ready = await c.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.error.code).toBe('store_unavailable');
      expect((await c.get('/healthz')).status).toBe(200);
      const r = await c.get('/session');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('store_unavailable');
      expect((await c.post('/logout', {})).status).toBe(503);
    } finally {
      await dyn.restart();
    }
    expect((await c.get('/session')).status).toBe(200);
    expect((await c.get('/readyz')).status).toBe(200);
  });

  test('secure cookies use the __Host- prefix with Secure', async () => {
    const secure = new JwtSessionService({ signer: key, issuer: 'i', audience: 'a', secure: true, now: () => now });
    const r = await new Client(httpApiSend(createJwtApp({ sessions: secure, authenticator: new OpenAuthenticator(), servedBy: 's' }))).post('/login', { user: 'kim' });
    expect(r.setCookies[0]).toMatch(/^__Host-sid=[\w.-]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=900$/);
  });

  test('bad input keeps the store-mode error semantics: 400, 404, 405, 415', async () => {
    const c = await loggedIn('lou');
    expect((await c.post('/cart/items', { sku: 'A-1', qty: 0 })).status).toBe(400);
    expect((await c.get('/nope')).status).toBe(404);
    const m = await c.post('/.well-known/jwks.json', {});
    expect(m.status).toBe(405);
    expect(m.headers.allow).toBe('GET');
    expect((await c.post('/cart/items', undefined, { body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  test('the Lambda entry point (lambda/handlers/http-api handler) serves JWT mode from SESSION_STORE=jwt', async () => {
    // Its runtime is built from process.env (set in beforeAll), with the real clock.
    const { handler } = require('../../lambda/handlers/http-api') as typeof import('../../lambda/handlers/http-api');
    const c = new Client(async (r) => {
      const res = await handler({
        version: '2.0',
        routeKey: '$default',
        rawPath: r.path,
        rawQueryString: '',
        cookies: r.cookies.length > 0 ? r.cookies : undefined,
        headers: r.headers,
        requestContext: { http: { method: r.method, path: r.path }, requestId: 'r', stage: '$default' } as never,
        body: r.body?.toString('utf8'),
        isBase64Encoded: false,
      });
      return { status: res.statusCode ?? 0, headers: (res.headers ?? {}) as Record<string, string>, setCookies: res.cookies ?? [], text: res.body ?? '', json: res.body ? JSON.parse(res.body) : undefined };
    });
    expect((await c.post('/login', { user: 'max' })).status).toBe(200);
    expect(decodeProtectedHeader(tokenOf(c)).kid).toBe(key.kid);
    expect((await c.get('/session')).json).toMatchObject({ user: 'max' });
  });

  test('the instance server (npm run serve) serves JWT mode too: login, cart re-issue, session', async () => {
    const inst = await startInstance({ ...env, SESSION_SERVED_BY: 'instance-jwt' });
    try {
      const c = new Client(httpSend(inst.port));
      expect((await c.post('/login', { user: 'ivy' })).status).toBe(200);
      const first = tokenOf(c);
      expect((await c.post('/cart/items', { sku: 'A-1', qty: 2 })).status).toBe(200);
      expect(tokenOf(c)).not.toBe(first); // re-issued on change
      expect((await c.get('/session')).json).toMatchObject({ user: 'ivy', cart: [{ sku: 'A-1', qty: 2 }], servedBy: 'instance-jwt' });
    } finally {
      await inst.dispose();
      removeInstanceBundle();
    }
  });
});
