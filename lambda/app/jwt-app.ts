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
import { BadRequestError, StoreUnavailableError } from '../session/errors';
import type { JwtSession, JwtSessionService } from '../session/jwt/service';
import { NoSessionError } from './errors';
import { cookiesOf, createRouter, DEFAULT_MAX_BODY_BYTES, json, noContent, readJsonBody, silentLogger, type App, type RouteContext } from './http';
import type { AppLogger } from './types';
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

export function createJwtApp(opts: JwtAppOptions): App {
  const { sessions, servedBy } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const requireSession = async (ctx: RouteContext): Promise<JwtSession> => {
    const s = await sessions.load(cookiesOf(ctx.req));
    if (s === undefined) throw new NoSessionError();
    ctx.sessionRef = s.claims.jti;
    return s;
  };

  const jsonBody = (ctx: RouteContext) => readJsonBody(ctx.req, maxBodyBytes);

  const handlers = {
    async login(ctx: RouteContext) {
      const { user } = validateLogin(jsonBody(ctx));
      const old = await sessions.load(cookiesOf(ctx.req));
      // The cart and prefs of the current token come along (a guest cart survives logging in).
      const data = old === undefined ? {} : dataOf(old);
      const issued = await sessions.issue({ sub: user, cart: readCart(data), prefs: readPrefs(data) });
      ctx.sessionRef = issued.claims.jti;
      return json(200, { user }, [issued.setCookie]);
    },
    async session(ctx: RouteContext) {
      const s = await requireSession(ctx);
      return json(200, { user: s.claims.sub, cart: readCart(dataOf(s)), prefs: readPrefs(dataOf(s)), servedBy });
    },
    async cartItems(ctx: RouteContext) {
      const line = validateCartItem(jsonBody(ctx));
      const s = await requireSession(ctx);
      const cart = [...readCart(dataOf(s)), line];
      const issued = await sessions.issue({ sub: s.claims.sub, cart, prefs: readPrefs(dataOf(s)) });
      return json(200, { cart }, [issued.setCookie]);
    },
    async prefs(ctx: RouteContext) {
      const changes = validatePrefs(jsonBody(ctx));
      const s = await requireSession(ctx);
      const merged = { ...readPrefs(dataOf(s)), ...changes };
      if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
      const issued = await sessions.issue({ sub: s.claims.sub, cart: readCart(dataOf(s)), prefs: merged });
      return json(200, { prefs: merged }, [issued.setCookie]);
    },
    async logout(ctx: RouteContext) {
      // Idempotent like the store mode: 204 and a cleared cookie whether or not a valid token came.
      const s = await sessions.load(cookiesOf(ctx.req));
      if (s !== undefined) {
        ctx.sessionRef = s.claims.jti;
        await sessions.revoke(s);
      }
      return noContent([sessions.clearCookie()]);
    },
    async logoutEverywhere(ctx: RouteContext) {
      const s = await requireSession(ctx);
      await sessions.revokeEverywhere(s.claims.sub);
      return noContent([sessions.clearCookie()]);
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

  return createRouter({
    routes: {
      '/login': { POST: handlers.login },
      '/session': { GET: handlers.session },
      '/cart/items': { POST: handlers.cartItems },
      '/prefs': { PUT: handlers.prefs },
      '/logout': { POST: handlers.logout },
      '/logout/everywhere': { POST: handlers.logoutEverywhere },
      '/.well-known/jwks.json': { GET: handlers.jwks },
      '/healthz': { GET: handlers.healthz },
    },
    logger: opts.logger ?? silentLogger,
    cookieName: sessions.cookieName,
    clearCookie: () => sessions.clearCookie(),
  });
}

/** The session data inside a verified token, for the shared defensive readers. */
function dataOf(s: JwtSession): Record<string, unknown> {
  return { cart: s.claims.cart, prefs: s.claims.prefs };
}
