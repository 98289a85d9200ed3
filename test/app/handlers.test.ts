/**
 * The Lambda entry points themselves: the exported `handler`s build the runtime from the
 * environment once per cold start and reuse it (a memory-store session survives between
 * invocations only if the store is reused), event details each adapter must honour, and the
 * failure paths (failed cold start, unexpected error) that must end in a JSON 500, not a crash.
 */
import type { ALBEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { createApp, type App } from '../../lambda/app/app';
import type { AppLogger } from '../../lambda/app/types';
import { createAlbHandler, fromAlbEvent, handler as albHandler, toAlbResult } from '../../lambda/handlers/alb';
import { createHttpApiHandler, fromHttpApiEvent, handler as httpApiHandler } from '../../lambda/handlers/http-api';
import { logger as handlerLogger } from '../../lambda/handlers/runtime';
import { SessionManager } from '../../lambda/session/manager';
import { MemoryStore } from '../../lambda/session/stores/memory';
import type { SessionStore } from '../../lambda/session/types';
import { TEST_SECRET } from '../support/app-backends';
import { OpenAuthenticator } from '../../lambda/session/auth/open';

const v2 = (method: string, rawPath: string, extra: Partial<APIGatewayProxyEventV2> = {}, stage = '$default'): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: '$default',
  rawPath,
  rawQueryString: '',
  headers: {},
  requestContext: {
    accountId: '1',
    apiId: 'a',
    domainName: 'd',
    domainPrefix: 'd',
    http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'jest' },
    requestId: 'r-1',
    routeKey: '$default',
    stage,
    time: '',
    timeEpoch: 0,
  },
  isBase64Encoded: false,
  ...extra,
});

const alb = (method: string, path: string, extra: Partial<ALBEvent> = {}): ALBEvent => ({
  requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1' } },
  httpMethod: method,
  path,
  multiValueHeaders: {},
  body: '',
  isBase64Encoded: false,
  ...extra,
});

describe('exported handlers (environment: SESSION_STORE=memory, secure cookies by default)', () => {
  beforeAll(() => {
    process.env.SESSION_STORE = 'memory';
    process.env.SESSION_AUTH = 'open';
    process.env.SESSION_COOKIE_SECRET = TEST_SECRET;
    process.env.SESSION_SERVED_BY = 'fn-test';
    handlerLogger.setLogLevel('SILENT');
    delete process.env.SESSION_COOKIE_SECURE;
  });

  test('http-api handler: a session made in one invocation is read in the next (store built once and reused); cookie is __Host-, Secure, HttpOnly, SameSite=Lax', async () => {
    const login = await httpApiHandler(v2('POST', '/login', { headers: { 'content-type': 'application/json' }, body: '{"user":"lambda"}' }));
    expect(login.statusCode).toBe(200);
    expect(login.cookies).toHaveLength(1);
    const attrs = login.cookies![0].split('; ');
    expect(attrs[0]).toMatch(/^__Host-sid=/);
    expect(attrs).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure']));
    expect(attrs.some((a) => /^Domain=/i.test(a))).toBe(false);
    const pair = attrs[0];
    const s = await httpApiHandler(v2('GET', '/session', { cookies: ['theme=dark', pair] }));
    expect(s.statusCode).toBe(200);
    expect(JSON.parse(s.body!)).toEqual({ user: 'lambda', cart: [], prefs: {}, servedBy: 'fn-test' });
    expect(s.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  });

  test('alb handler: same lazy runtime; Set-Cookie travels in multiValueHeaders and the Cookie header may arrive split', async () => {
    const login = await albHandler(alb('POST', '/login', { multiValueHeaders: { 'content-type': ['application/json'] }, body: Buffer.from('{"user":"alb"}').toString('base64'), isBase64Encoded: true }));
    expect(login.statusCode).toBe(200);
    expect(login.statusDescription).toBe('200 OK');
    const setCookie = login.multiValueHeaders!['set-cookie'] as string[];
    expect(setCookie).toHaveLength(1);
    const pair = setCookie[0].split('; ')[0];
    const cart = await albHandler(
      alb('POST', '/cart/items', { multiValueHeaders: { 'Content-Type': ['application/json'], Cookie: ['a=1', `${pair}; b=2`] }, body: '{"sku":"x","qty":1}' }),
    );
    expect(cart.statusCode).toBe(200);
    expect(JSON.parse(cart.body!)).toEqual({ cart: [{ sku: 'x', qty: 1 }] });
    expect(cart.multiValueHeaders!['content-type']).toEqual(['application/json; charset=utf-8']);
  });
});

describe('adapters', () => {
  const manager = new SessionManager({ store: new MemoryStore(), secrets: [TEST_SECRET], secure: false });
  const app = createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'adapters' });
  const httpApi = createHttpApiHandler(async () => app);
  const albH = createAlbHandler(async () => app);

  test('http-api: a named stage prefix is stripped from rawPath; $default is left alone', async () => {
    expect(fromHttpApiEvent(v2('GET', '/prod/healthz', {}, 'prod')).path).toBe('/healthz');
    expect(fromHttpApiEvent(v2('GET', '/prod', {}, 'prod')).path).toBe('/');
    expect(fromHttpApiEvent(v2('GET', '/production/healthz', {}, 'prod')).path).toBe('/production/healthz');
    expect(fromHttpApiEvent(v2('GET', '/prod/healthz')).path).toBe('/prod/healthz');
    expect((await httpApi(v2('GET', '/prod/healthz', {}, 'prod'))).statusCode).toBe(200);
  });

  test('http-api: a base64 body is decoded to bytes, so invalid UTF-8 is a 400 and valid bytes work', async () => {
    const login = await httpApi(v2('POST', '/login', { headers: { 'content-type': 'application/json' }, body: Buffer.from('{"user":"b64 ✓"}').toString('base64'), isBase64Encoded: true }));
    expect(login.statusCode).toBe(200);
    expect(JSON.parse(login.body!)).toEqual({ user: 'b64 ✓' });
    const bad = await httpApi(v2('POST', '/login', { headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true }));
    expect(bad.statusCode).toBe(400);
  });

  test('alb: single-value events (multi-value headers off) get single-value headers back', async () => {
    const ev = alb('GET', '/healthz');
    delete (ev as { multiValueHeaders?: unknown }).multiValueHeaders;
    ev.headers = { Host: 'x' };
    const r = await albH(ev);
    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8' });
    expect(r.multiValueHeaders).toBeUndefined();
  });

  test('alb: several Set-Cookie values all travel in multiValueHeaders (none is folded or lost)', () => {
    const r = toAlbResult({ status: 200, headers: { 'content-type': 'application/json' }, cookies: ['a=1; Path=/', 'b=2; Path=/'], body: '{}' }, true);
    expect(r.multiValueHeaders!['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(fromAlbEvent(alb('GET', '/x', { multiValueHeaders: { cookie: ['a=1', 'b=2'], 'X-Two': ['1', '2'] } })).headers).toMatchObject({ cookie: 'a=1; b=2', 'x-two': '1, 2' });
  });

  test('a failed cold start answers a JSON 500 with a generic message instead of throwing', async () => {
    const failing = createHttpApiHandler(() => Promise.reject(new Error('secret arn:aws:secretsmanager:… not found')));
    const r = await failing(v2('GET', '/session'));
    expect(r.statusCode).toBe(500);
    expect(JSON.parse(r.body!).error.code).toBe('internal');
    expect(r.body).not.toContain('secretsmanager');
  });
});

describe('unexpected errors', () => {
  test('a bug inside a store call becomes a 500 with a generic message and one error log line; the next request works', async () => {
    const real = new MemoryStore();
    let broken = true;
    // Fault injection around a real store: the first load throws a plain TypeError (a bug, not an outage).
    const store: SessionStore = Object.assign(Object.create(real) as SessionStore, {
      load: (...a: Parameters<SessionStore['load']>) => {
        if (broken) {
          broken = false;
          throw new TypeError('cannot read properties of undefined (reading "secret-internal")');
        }
        return real.load(...a);
      },
    });
    const lines: Array<{ level: string; message: string; attrs: Record<string, unknown> }> = [];
    const logger: AppLogger = {
      info: (message, attrs) => lines.push({ level: 'info', message, attrs }),
      warn: (message, attrs) => lines.push({ level: 'warn', message, attrs }),
      error: (message, attrs) => lines.push({ level: 'error', message, attrs }),
    };
    const manager = new SessionManager({ store, secrets: [TEST_SECRET], secure: false });
    const app: App = createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'x', logger });
    const session = await manager.create({ user: 'u' });
    const cookie = manager.setCookie(session).split(';')[0];
    const r = await app({ method: 'GET', path: '/session', headers: { cookie }, body: undefined, requestId: 'req-500' });
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: { code: 'internal', message: 'internal error; request id req-500' } });
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].attrs.requestId).toBe('req-500');
    expect((errors[0].attrs.error as Error).message).toContain('secret-internal');
    expect(JSON.stringify(lines)).not.toContain(session.id);
    expect((await app({ method: 'GET', path: '/session', headers: { cookie }, body: undefined })).status).toBe(200);
  });
});

describe('conflicts', () => {
  test('with one compare-and-set attempt, concurrent cart adds give 200 or 409 conflict; every 200 line is stored and no 409 line is', async () => {
    const manager = new SessionManager({ store: new MemoryStore(), secrets: [TEST_SECRET], secure: false, maxAttempts: 1 });
    const app = createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'c' });
    const s = await manager.create({ user: 'u' });
    const cookie = manager.setCookie(s).split(';')[0];
    const post = (sku: string) =>
      app({ method: 'POST', path: '/cart/items', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ sku, qty: 1 }) });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`s${i}`)));
    const ok = rs.flatMap((r, i) => (r.status === 200 ? [`s${i}`] : []));
    const conflicts = rs.filter((r) => r.status === 409);
    expect(conflicts.length).toBeGreaterThan(0);
    expect(ok.length + conflicts.length).toBe(20);
    expect(JSON.parse(conflicts[0].body)).toEqual({ error: { code: 'conflict', message: expect.any(String) } });
    const stored = (await manager.loadById(s.id))!.data.cart as Array<{ sku: string }>;
    expect(stored.map((l) => l.sku).sort()).toEqual(ok.sort());
  });
});

describe('cross-site refusal behind Lambda (header names in any case, as the event carries them)', () => {
  const manager = new SessionManager({ store: new MemoryStore(), secrets: [TEST_SECRET], secure: true });
  const app = createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'csrf', allowedOrigins: ['https://www.example.com'] });
  const httpApi = createHttpApiHandler(async () => app);
  const albFn = createAlbHandler(async () => app);
  const page = { Host: 'api.example.com', 'X-Forwarded-Proto': 'https', 'Content-Type': 'application/json' };

  test('a form post from another site is a 403 through both adapters and the session survives; same-origin and an allowed origin are served', async () => {
    const login = await httpApi(v2('POST', '/login', { headers: { ...page, Origin: 'https://api.example.com', 'Sec-Fetch-Site': 'same-origin' }, body: '{"user":"lam"}' }));
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies![0].split(';')[0];
    const id = manager.idFromCookies(cookie)!;
    const forged = { ...page, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' };
    const viaApi = await httpApi(v2('POST', '/logout', { headers: forged, cookies: [cookie], body: 'x=1' }));
    expect([viaApi.statusCode, JSON.parse(viaApi.body!).error.code]).toEqual([403, 'cross_site_request']);
    const single = await albFn(alb('POST', '/logout', { multiValueHeaders: undefined, headers: { ...forged, Cookie: cookie }, body: 'x=1' }));
    expect([single.statusCode, JSON.parse(single.body!).error.code]).toEqual([403, 'cross_site_request']);
    const multi = await albFn(alb('PUT', '/prefs', { multiValueHeaders: { ORIGIN: ['https://evil.example'], 'content-type': ['application/json'], Host: ['api.example.com'], Cookie: [cookie] }, body: '{"theme":"x"}' }));
    expect([multi.statusCode, JSON.parse(multi.body!).error.code]).toEqual([403, 'cross_site_request']);
    expect(await manager.loadById(id)).toMatchObject({ data: { user: 'lam' } });
    // A front end on a sibling host that SESSION_ALLOWED_ORIGINS lists (Sec-Fetch-Site: same-site).
    const sibling = await albFn(alb('POST', '/cart/items', { multiValueHeaders: { 'Content-Type': ['application/json'], Origin: ['https://www.example.com'], 'Sec-Fetch-Site': ['same-site'], Host: ['api.example.com'], Cookie: [cookie] }, body: '{"sku":"s","qty":1}' }));
    expect(sibling.statusCode).toBe(200);
    const out = await httpApi(v2('POST', '/logout', { headers: { ...page, Origin: 'https://api.example.com', 'Sec-Fetch-Site': 'same-origin' }, cookies: [cookie] }));
    expect(out.statusCode).toBe(204);
    expect(await manager.loadById(id)).toBeUndefined();
  });

  test('an allowed origin that is not a bare http(s) origin is refused when the app is built', () => {
    for (const bad of ['www.example.com', 'https://www.example.com/app', 'ftp://x.example', 'https://u@x.example']) {
      expect(() => createApp({ manager, authenticator: new OpenAuthenticator(), servedBy: 'x', allowedOrigins: [bad] })).toThrow(/allowedOrigins/);
    }
  });
});
