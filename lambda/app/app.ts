/**
 * The reference session app: one request → response function, the same on instances and
 * behind Lambda. Routes and error semantics are those of design.md; every error becomes
 * `{"error":{"code","message"}}` with the status `httpStatusOf` gives it.
 */
import { BadRequestError, StoreUnavailableError } from '../session/errors';
import type { Session, SessionManager } from '../session/manager';
import { NoSessionError } from './errors';
import { cookiesOf, createRouter, DEFAULT_MAX_BODY_BYTES, json, noContent, readJsonBody, silentLogger, type App, type RouteContext } from './http';
import type { AppLogger } from './types';
import { LIMITS, readCart, readPrefs, validateCartItem, validateLogin, validatePrefs } from './validate';

export { DEFAULT_MAX_BODY_BYTES, errorResponse, hasOwnCookie, json, readJsonBody, sessionHash } from './http';
export type { App } from './http';

export interface AppOptions {
  readonly manager: SessionManager;
  /** Reported as `servedBy` by GET /session: the instance or function that answered. */
  readonly servedBy: string;
  /** Largest request body accepted, bytes. @default 16384 */
  readonly maxBodyBytes?: number;
  /** Where request and error lines go. @default - nothing is logged */
  readonly logger?: AppLogger;
}

export function createApp(opts: AppOptions): App {
  const { manager, servedBy } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  /** The request's live session, or NoSessionError. */
  const requireSession = async (ctx: RouteContext): Promise<Session> => {
    const s = await manager.load(cookiesOf(ctx.req));
    if (s === undefined) throw new NoSessionError();
    ctx.sessionRef = s.id;
    return s;
  };

  const jsonBody = (ctx: RouteContext): Record<string, unknown> => readJsonBody(ctx.req, maxBodyBytes);

  const handlers = {
    async login(ctx: RouteContext) {
      const { user } = validateLogin(jsonBody(ctx));
      const old = await manager.load(cookiesOf(ctx.req));
      const fresh = await manager.regenerate(old, (d) => {
        d.user = user;
      });
      ctx.sessionRef = fresh.id;
      return json(200, { user }, [manager.setCookie(fresh)]);
    },
    async session(ctx: RouteContext) {
      const s = await requireSession(ctx);
      const user = typeof s.data.user === 'string' ? s.data.user : null;
      return json(200, { user, cart: readCart(s.data), prefs: readPrefs(s.data), servedBy });
    },
    async cartItems(ctx: RouteContext) {
      const line = validateCartItem(jsonBody(ctx));
      const s = await requireSession(ctx);
      const after = await manager.update(s, (d) => {
        d.cart = [...readCart(d), line];
      });
      return json(200, { cart: readCart(after.data) });
    },
    async prefs(ctx: RouteContext) {
      const changes = validatePrefs(jsonBody(ctx));
      const s = await requireSession(ctx);
      const after = await manager.update(s, (d) => {
        const merged = { ...readPrefs(d), ...changes };
        if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
        d.prefs = merged;
      });
      return json(200, { prefs: readPrefs(after.data) });
    },
    async logout(ctx: RouteContext) {
      // Idempotent: 204 and a cleared cookie whether or not a session was there.
      const s = await manager.load(cookiesOf(ctx.req));
      if (s !== undefined) {
        ctx.sessionRef = s.id;
        await manager.destroy(s);
      }
      return noContent([manager.clearCookie()]);
    },
    async healthz() {
      try {
        await manager.store.ping();
      } catch (err) {
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError('the session store does not answer', { cause: err });
      }
      return json(200, { status: 'ok', store: manager.store.kind, servedBy });
    },
  };

  return createRouter({
    routes: {
      '/login': { POST: handlers.login },
      '/session': { GET: handlers.session },
      '/cart/items': { POST: handlers.cartItems },
      '/prefs': { PUT: handlers.prefs },
      '/logout': { POST: handlers.logout },
      '/healthz': { GET: handlers.healthz },
    },
    logger: opts.logger ?? silentLogger,
    cookieName: manager.cookieName,
    clearCookie: () => manager.clearCookie(),
  });
}
