/**
 * The reference session app: one request → response function, the same on instances and
 * behind Lambda. Routes and error semantics are those of design.md; every error becomes
 * `{"error":{"code","message"}}` with the status `httpStatusOf` gives it.
 */
import type { Authenticator } from '../session/auth/types';
import { BadRequestError } from '../session/errors';
import type { Session, SessionManager, SessionUpdate } from '../session/manager';
import { NoSessionError } from './errors';
import { dataAtLogin } from './login';
import { cookiesOf, createSessionApp, json, type App, type AppCommonOptions, type RouteContext } from './http';
import { LIMITS, readCart, readPrefs, validateCartItem, validateLogin, validatePrefs } from './validate';

export { DEFAULT_MAX_BODY_BYTES, errorResponse, hasOwnCookie, json, readJsonBody, sessionHash } from './http';
export type { App } from './http';

export interface AppOptions extends AppCommonOptions {
  readonly manager: SessionManager;
  /** Checks POST /login's credential (SESSION_AUTH: Cognito, or `open` for local runs). */
  readonly authenticator: Authenticator;
}

export function createApp(opts: AppOptions): App {
  const { manager, servedBy, authenticator } = opts;
  const backend = {
    load: (cookies: string | readonly string[] | undefined) => manager.load(cookies),
    refOf: (s: Session) => s.id,
    end: (s: Session) => manager.destroy(s),
    ping: () => manager.store.ping(),
    kind: manager.store.kind,
    pingsWhat: 'the session store',
    cookieName: manager.cookieName,
    clearCookie: () => manager.clearCookie(),
    keepCookie: (cookies: string | readonly string[] | undefined) => manager.mayBeSignedWithNewerSecret(cookies),
  };
  /**
   * Load + compare-and-set of the request's session (one round trip when this instance wrote it
   * last); its verified id is named in the log line whatever the outcome. NoSessionError (401) without one.
   */
  const modify = async (ctx: RouteContext, fn: SessionUpdate): Promise<Session> => {
    const cookies = cookiesOf(ctx.req);
    const id = manager.idFromCookies(cookies) ?? (await manager.idAfterSecretReload(cookies));
    ctx.sessionRef = id;
    const s = id === undefined ? undefined : await manager.modifyById(id, fn);
    if (s === undefined) throw new NoSessionError();
    return s;
  };
  return createSessionApp(opts, backend, ({ current, require, jsonBody }) => ({
    '/login': {
      async POST(ctx) {
        // The credential first: a refused login reads and writes nothing in the store.
        const { user } = await authenticator.authenticate(validateLogin(jsonBody(ctx)));
        const old = await current(ctx);
        // Another user's data stays behind; the old session is deleted whoever held it.
        const fresh = await manager.regenerate(old, (d) => dataAtLogin(d, user));
        ctx.sessionRef = fresh.id;
        return json(200, { user }, [manager.setCookie(fresh)]);
      },
    },
    '/session': {
      async GET(ctx) {
        const s = await require(ctx);
        const user = typeof s.data.user === 'string' ? s.data.user : null;
        return json(200, { user, cart: readCart(s.data), prefs: readPrefs(s.data), servedBy });
      },
    },
    '/cart/items': {
      async POST(ctx) {
        const line = validateCartItem(jsonBody(ctx));
        const after = await modify(ctx, (d) => {
          d.cart = [...readCart(d), line];
        });
        return json(200, { cart: readCart(after.data) });
      },
    },
    '/prefs': {
      async PUT(ctx) {
        const changes = validatePrefs(jsonBody(ctx));
        const after = await modify(ctx, (d) => {
          const merged = { ...readPrefs(d), ...changes };
          if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
          d.prefs = merged;
        });
        return json(200, { prefs: readPrefs(after.data) });
      },
    },
  }));
}
