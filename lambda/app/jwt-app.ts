/**
 * The reference app in JWT mode (SESSION_STORE=jwt): the same routes, with the session in a
 * signed token instead of a store. Every change re-issues the token (new jti); the cart lives
 * in the token, so a change that would push the cookie past 4096 bytes answers 413 and sets no
 * cookie (the client's current token stays valid).
 *
 * | route | JWT mode |
 * | --- | --- |
 * | POST /login | issues a token for the user (cart and prefs of a valid current token carried over) |
 * | GET /session | verifies (signature, iss, aud, exp, nbf, denylist per SESSION_REVOCATION_CHECK) |
 * | POST /cart/items, PUT /prefs | re-issue with the change |
 * | POST /logout | revokes the token's jti (denylist, until its exp); 204, cookie cleared |
 * | POST /logout/everywhere | denies every token of the user issued until now; 204, cookie cleared; 401 without a valid token |
 * | GET /.well-known/jwks.json | current + previous public keys, cacheable for 5 minutes |
 * | GET /healthz | 200 when the denylist answers (or there is none), 503 when not |
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, StoreUnavailableError } from '../session/errors';
import type { JwtSession, JwtSessionService } from '../session/jwt/service';
import { DEFAULT_MAX_BODY_BYTES, errorResponse, hasOwnCookie, json, readJsonBody, sessionHash } from './app';
import type { App } from './app';
import { MethodNotAllowedError, NoSessionError, NotFoundError, truncate } from './errors';
import type { AppLogger, AppRequest, AppResponse } from './types';
import { LIMITS, readCart, readPrefs, validateCartItem, validateLogin, validatePrefs } from './validate';

/** How long clients and caches may keep the JWKS, seconds. Short, so a rotation is seen soon. */
export const JWKS_MAX_AGE_SECONDS = 300;

export interface JwtAppOptions {
  readonly sessions: JwtSessionService;
  /** Reported as `servedBy` by GET /session. */
  readonly servedBy: string;
  /** Largest request body accepted, bytes. @default 16384 */
  readonly maxBodyBytes?: number;
  /** @default - nothing is logged */
  readonly logger?: AppLogger;
}

type Name = 'login' | 'session' | 'cartItems' | 'prefs' | 'logout' | 'logoutEverywhere' | 'jwks' | 'healthz';
const ROUTES: Record<string, Partial<Record<string, Name>>> = {
  '/login': { POST: 'login' },
  '/session': { GET: 'session' },
  '/cart/items': { POST: 'cartItems' },
  '/prefs': { PUT: 'prefs' },
  '/logout': { POST: 'logout' },
  '/logout/everywhere': { POST: 'logoutEverywhere' },
  '/.well-known/jwks.json': { GET: 'jwks' },
  '/healthz': { GET: 'healthz' },
};

interface Ctx {
  readonly req: AppRequest;
  jti?: string;
}

const silent: AppLogger = { info() {}, warn() {}, error() {} };

export function createJwtApp(opts: JwtAppOptions): App {
  const { sessions, servedBy } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.logger ?? silent;
  const cookiesOf = (req: AppRequest) => req.cookies ?? req.headers.cookie;

  const requireSession = async (ctx: Ctx): Promise<JwtSession> => {
    const s = await sessions.load(cookiesOf(ctx.req));
    if (s === undefined) throw new NoSessionError();
    ctx.jti = s.claims.jti;
    return s;
  };

  const jsonBody = (req: AppRequest) => readJsonBody(req, maxBodyBytes);

  const handlers: Record<Name, (ctx: Ctx) => Promise<AppResponse>> = {
    async login(ctx) {
      const { user } = validateLogin(jsonBody(ctx.req));
      const old = await sessions.load(cookiesOf(ctx.req));
      // The cart and prefs of the current token come along (a guest cart survives logging in).
      const data = old === undefined ? {} : dataOf(old);
      const issued = await sessions.issue({ sub: user, cart: readCart(data), prefs: readPrefs(data) });
      ctx.jti = issued.claims.jti;
      return json(200, { user }, [issued.setCookie]);
    },
    async session(ctx) {
      const s = await requireSession(ctx);
      return json(200, { user: s.claims.sub, cart: readCart(dataOf(s)), prefs: readPrefs(dataOf(s)), servedBy });
    },
    async cartItems(ctx) {
      const line = validateCartItem(jsonBody(ctx.req));
      const s = await requireSession(ctx);
      const cart = [...readCart(dataOf(s)), line];
      const issued = await sessions.issue({ sub: s.claims.sub, cart, prefs: readPrefs(dataOf(s)) });
      return json(200, { cart }, [issued.setCookie]);
    },
    async prefs(ctx) {
      const changes = validatePrefs(jsonBody(ctx.req));
      const s = await requireSession(ctx);
      const merged = { ...readPrefs(dataOf(s)), ...changes };
      if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
      const issued = await sessions.issue({ sub: s.claims.sub, cart: readCart(dataOf(s)), prefs: merged });
      return json(200, { prefs: merged }, [issued.setCookie]);
    },
    async logout(ctx) {
      // Idempotent like the store mode: 204 and a cleared cookie whether or not a valid token came.
      const s = await sessions.load(cookiesOf(ctx.req));
      if (s !== undefined) {
        ctx.jti = s.claims.jti;
        await sessions.revoke(s);
      }
      return { status: 204, headers: { 'cache-control': 'no-store' }, cookies: [sessions.clearCookie()], body: '' };
    },
    async logoutEverywhere(ctx) {
      const s = await requireSession(ctx);
      await sessions.revokeEverywhere(s.claims.sub);
      return { status: 204, headers: { 'cache-control': 'no-store' }, cookies: [sessions.clearCookie()], body: '' };
    },
    async jwks() {
      return {
        status: 200,
        headers: { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`, 'x-content-type-options': 'nosniff' },
        cookies: [],
        body: JSON.stringify(sessions.jwks()),
      };
    },
    async healthz() {
      try {
        await sessions.ping();
      } catch (err) {
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError('the revocation table does not answer', { cause: err });
      }
      return json(200, { status: 'ok', store: 'jwt', servedBy });
    },
  };

  return async function app(req: AppRequest): Promise<AppResponse> {
    const started = Date.now();
    const ctx: Ctx = { req };
    const requestId = req.requestId ?? randomUUID();
    let res: AppResponse;
    try {
      const route = Object.prototype.hasOwnProperty.call(ROUTES, req.path) ? ROUTES[req.path] : undefined;
      if (route === undefined) throw new NotFoundError(req.path);
      const name = Object.prototype.hasOwnProperty.call(route, req.method) ? route[req.method] : undefined;
      if (name === undefined) throw new MethodNotAllowedError(Object.keys(route));
      res = await handlers[name](ctx);
    } catch (err) {
      res = errorResponse(err, requestId, log);
      if (err instanceof NoSessionError && hasOwnCookie(cookiesOf(req), sessions.cookieName)) res.cookies.push(sessions.clearCookie());
    }
    log.info('request', {
      requestId,
      method: truncate(req.method, 16),
      path: truncate(req.path),
      status: res.status,
      session: ctx.jti === undefined ? undefined : sessionHash(ctx.jti),
      ms: Date.now() - started,
    });
    return res;
  };
}

/** The session data inside a verified token, for the shared defensive readers. */
function dataOf(s: JwtSession): Record<string, unknown> {
  return { cart: s.claims.cart, prefs: s.claims.prefs };
}
