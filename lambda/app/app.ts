/**
 * The reference session app: one request → response function, the same on instances and
 * behind Lambda. Routes and error semantics are those of design.md; every error becomes
 * `{"error":{"code","message"}}` with the status `httpStatusOf` gives it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { BadRequestError, httpStatusOf, SessionError, StoreUnavailableError } from '../session/errors';
import type { Session, SessionManager } from '../session/manager';
import { BodyTooLargeError, MethodNotAllowedError, NoSessionError, NotFoundError, truncate, UnsupportedMediaTypeError } from './errors';
import type { AppLogger, AppRequest, AppResponse } from './types';
import { LIMITS, parseJsonObject, readCart, readPrefs, validateCartItem, validateLogin, validatePrefs } from './validate';

/** Default cap on a request body, bytes. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

export interface AppOptions {
  readonly manager: SessionManager;
  /** Reported as `servedBy` by GET /session: the instance or function that answered. */
  readonly servedBy: string;
  /** Largest request body accepted, bytes. @default 16384 */
  readonly maxBodyBytes?: number;
  /** Where request and error lines go. @default - nothing is logged */
  readonly logger?: AppLogger;
}

export type App = (req: AppRequest) => Promise<AppResponse>;

/** The first 12 hex digits of SHA-256(session id): correlates log lines, never reveals the id. */
export function sessionHash(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

type Handler = (ctx: Ctx) => Promise<AppResponse>;

interface Ctx {
  readonly req: AppRequest;
  /** Filled in once the request's session is known, for the log line. */
  sessionId?: string;
}

const ROUTES: Record<string, Partial<Record<string, keyof typeof HANDLER_NAMES>>> = {
  '/login': { POST: 'login' },
  '/session': { GET: 'session' },
  '/cart/items': { POST: 'cartItems' },
  '/prefs': { PUT: 'prefs' },
  '/logout': { POST: 'logout' },
  '/healthz': { GET: 'healthz' },
};
const HANDLER_NAMES = { login: 1, session: 1, cartItems: 1, prefs: 1, logout: 1, healthz: 1 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const silent: AppLogger = { info() {}, warn() {}, error() {} };

export function createApp(opts: AppOptions): App {
  const { manager, servedBy } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.logger ?? silent;

  const cookiesOf = (req: AppRequest) => req.cookies ?? req.headers.cookie;

  /** The request's live session, or NoSessionError. */
  const requireSession = async (ctx: Ctx): Promise<Session> => {
    const s = await manager.load(cookiesOf(ctx.req));
    if (s === undefined) throw new NoSessionError();
    ctx.sessionId = s.id;
    return s;
  };

  const jsonBody = (req: AppRequest): Record<string, unknown> => readJsonBody(req, maxBodyBytes);

  const handlers: Record<keyof typeof HANDLER_NAMES, Handler> = {
    async login(ctx) {
      const { user } = validateLogin(jsonBody(ctx.req));
      const old = await manager.load(cookiesOf(ctx.req));
      const fresh = await manager.regenerate(old, (d) => {
        d.user = user;
      });
      ctx.sessionId = fresh.id;
      return json(200, { user }, [manager.setCookie(fresh)]);
    },
    async session(ctx) {
      const s = await requireSession(ctx);
      const user = typeof s.data.user === 'string' ? s.data.user : null;
      return json(200, { user, cart: readCart(s.data), prefs: readPrefs(s.data), servedBy });
    },
    async cartItems(ctx) {
      const line = validateCartItem(jsonBody(ctx.req));
      const s = await requireSession(ctx);
      const after = await manager.update(s, (d) => {
        d.cart = [...readCart(d), line];
      });
      return json(200, { cart: readCart(after.data) });
    },
    async prefs(ctx) {
      const changes = validatePrefs(jsonBody(ctx.req));
      const s = await requireSession(ctx);
      const after = await manager.update(s, (d) => {
        const merged = { ...readPrefs(d), ...changes };
        if (Object.keys(merged).length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may hold at most ${LIMITS.prefsMaxKeys} keys in all`);
        d.prefs = merged;
      });
      return json(200, { prefs: readPrefs(after.data) });
    },
    async logout(ctx) {
      // Idempotent: 204 and a cleared cookie whether or not a session was there.
      const s = await manager.load(cookiesOf(ctx.req));
      if (s !== undefined) {
        ctx.sessionId = s.id;
        await manager.destroy(s);
      }
      return { status: 204, headers: { 'cache-control': 'no-store' }, cookies: [manager.clearCookie()], body: '' };
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
      // A cookie that names no live session (bad signature, expired, deleted) is cleared so the browser stops sending it.
      if (err instanceof NoSessionError && hasOwnCookie(cookiesOf(req), manager.cookieName)) {
        res.cookies.push(manager.clearCookie());
      }
    }
    log.info('request', {
      requestId,
      method: truncate(req.method, 16),
      path: truncate(req.path),
      status: res.status,
      session: ctx.sessionId === undefined ? undefined : sessionHash(ctx.sessionId),
      ms: Date.now() - started,
    });
    return res;
  };
}

export function json(status: number, body: unknown, cookies: string[] = []): AppResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    cookies,
    body: JSON.stringify(body),
  };
}

/** The JSON object body of a write: 415, 413 and 400 checks, in that order. (Shared with the JWT-mode app.) */
export function readJsonBody(req: AppRequest, maxBodyBytes: number): Record<string, unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new UnsupportedMediaTypeError();
  const raw = req.body ?? '';
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > maxBodyBytes) throw new BodyTooLargeError(maxBodyBytes);
  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = utf8.decode(raw);
    } catch {
      throw new BadRequestError('the body is not valid UTF-8');
    }
  }
  return parseJsonObject(text);
}

/** The one place an error becomes a response; its status comes from `httpStatusOf`. */
export function errorResponse(err: unknown, requestId: string, log: AppLogger): AppResponse {
  const status = httpStatusOf(err);
  if (err instanceof SessionError && status < 500) {
    const res = json(status, { error: { code: err.code, message: err.message } });
    if (err instanceof MethodNotAllowedError) res.headers.allow = err.allow.join(', ');
    return res;
  }
  if (err instanceof SessionError) {
    log.warn('store error', { requestId, code: err.code, reason: err.message });
    return json(status, { error: { code: err.code, message: err.message } });
  }
  log.error('unexpected error', { requestId, error: err instanceof Error ? err : new Error(String(err)) });
  return json(500, { error: { code: 'internal', message: `internal error; request id ${requestId}` } });
}

/** True when the request carries a cookie named `name` (whatever its value). */
export function hasOwnCookie(cookies: string | readonly string[] | undefined, name: string): boolean {
  if (cookies === undefined) return false;
  const parts = typeof cookies === 'string' ? cookies.split(';') : cookies.flatMap((c) => c.split(';'));
  return parts.some((p) => p.split('=')[0].trim() === name);
}
