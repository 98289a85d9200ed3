/**
 * The reference app in JWT mode (SESSION_STORE=jwt): the same routes, with the session in a
 * signed token instead of a store. Login starts a session (new session id `sid`, session start
 * `sst`); every change re-issues the token (new jti, same sid and sst, never past the absolute
 * timeout). The cart lives in the token, so a change that would push the cookie past 4096 bytes
 * answers 413 and sets no cookie (the client's current token stays valid).
 *
 * | route | JWT mode |
 * | --- | --- |
 * | POST /login | checks the credential (SESSION_AUTH) and starts a new session for the user it proves; cart and prefs come along only from a valid token of the same user; the request's previous session, whoever's, is revoked |
 * | GET /session | verifies (typ, alg, signature, iss, aud, exp, nbf, absolute timeout, denylist per SESSION_REVOCATION_CHECK) |
 * | POST /cart/items, PUT /prefs | re-issue with the change; 401 once the session is past its absolute timeout |
 * | POST /logout | revokes the session id: the login token and every renewal are refused; 204, cookie cleared |
 * | POST /logout/everywhere | ends every session of the user started until now; 204, cookie cleared; 401 without a valid token |
 * | GET /.well-known/jwks.json | current + previous public keys, cacheable for 5 minutes |
 * | GET /healthz | liveness of the process: 200 whatever the denylist does |
 * | GET /readyz | 200 when the denylist answers (or there is none), 503 when not |
 */
import type { Authenticator } from '../session/auth/types';
import { BadRequestError } from '../session/errors';
import type { JwtSession, JwtSessionService, SessionData } from '../session/jwt/service';
import { TokenRejectedError } from '../session/jwt/token';
import { NoSessionError } from './errors';
import { createSessionApp, json, noContent, type App, type AppCommonOptions } from './http';
import { LIMITS, readCart, readPrefs, validateCartItem, validateLogin, validatePrefs } from './validate';

/** How long clients and caches may keep the JWKS, seconds. Short, so a rotation is seen soon. */
export const JWKS_MAX_AGE_SECONDS = 300;

export interface JwtAppOptions extends AppCommonOptions {
  readonly sessions: JwtSessionService;
  /** Checks POST /login's credential (SESSION_AUTH: Cognito, or `open` for local runs). */
  readonly authenticator: Authenticator;
}

export function createJwtApp(opts: JwtAppOptions): App {
  const { sessions, servedBy, authenticator } = opts;
  const backend = {
    load: (cookies: string | readonly string[] | undefined) => sessions.load(cookies),
    refOf: (s: JwtSession) => s.claims.sid,
    end: (s: JwtSession) => sessions.revoke(s),
    ping: () => sessions.ping(),
    kind: 'jwt',
    pingsWhat: 'the revocation table',
    cookieName: sessions.cookieName,
    clearCookie: () => sessions.clearCookie(),
  };
  /** Re-issues `s` with `data`; a session past its absolute timeout is no session (401). */
  const renew = async (s: JwtSession, data: SessionData) => {
    try {
      return await sessions.renew(s, data);
    } catch (err) {
      if (err instanceof TokenRejectedError) throw new NoSessionError('the session has ended; POST /login again');
      throw err;
    }
  };
  return createSessionApp(opts, backend, ({ current, require, jsonBody }) => ({
    '/login': {
      async POST(ctx) {
        // The token's sub is the user the authenticator proved, so "log out everywhere" (which revokes
        // the sub of the caller's own verified token) can only ever reach the caller's own tokens.
        const { user } = await authenticator.authenticate(validateLogin(jsonBody(ctx)));
        const old = await current(ctx);
        // Data comes along only from the same user's valid token: bob logging in where alice's token is gets nothing of hers.
        const data = old !== undefined && old.claims.sub === user ? dataOf(old) : {};
        const issued = await sessions.issue({ sub: user, cart: readCart(data), prefs: readPrefs(data) });
        // The previous session ends, whoever's it was, so its tokens cannot be replayed (after signing: a failure leaves it as it was).
        if (old !== undefined) await sessions.revoke(old);
        ctx.sessionRef = issued.claims.sid;
        return json(200, { user }, [issued.setCookie]);
      },
    },
    '/session': {
      async GET(ctx) {
        const s = await require(ctx);
        return json(200, { user: s.claims.sub, cart: readCart(dataOf(s)), prefs: readPrefs(dataOf(s)), servedBy });
      },
    },
    '/cart/items': {
      async POST(ctx) {
        const line = validateCartItem(jsonBody(ctx));
        const s = await require(ctx);
        const cart = [...readCart(dataOf(s)), line];
        const issued = await renew(s, { cart, prefs: readPrefs(dataOf(s)) });
        return json(200, { cart }, [issued.setCookie]);
      },
    },
    '/prefs': {
      async PUT(ctx) {
        const changes = validatePrefs(jsonBody(ctx));
        const s = await require(ctx);
        const merged = { ...readPrefs(dataOf(s)), ...changes };
        if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
        const issued = await renew(s, { cart: readCart(dataOf(s)), prefs: merged });
        return json(200, { prefs: merged }, [issued.setCookie]);
      },
    },
    '/logout/everywhere': {
      async POST(ctx) {
        const s = await require(ctx);
        await sessions.revokeEverywhere(s.claims.sub);
        return noContent([sessions.clearCookie()]);
      },
    },
    '/.well-known/jwks.json': {
      async GET() {
        return {
          status: 200,
          headers: { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`, 'x-content-type-options': 'nosniff' },
          cookies: [],
          body: JSON.stringify(sessions.jwks()),
        };
      },
    },
  }));
}

/** The session data inside a verified token, for the shared defensive readers. */
function dataOf(s: JwtSession): Record<string, unknown> {
  return { cart: s.claims.cart, prefs: s.claims.prefs };
}
