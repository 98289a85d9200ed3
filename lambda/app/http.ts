/**
 * What both reference apps (store mode and JWT mode) share: JSON responses, the one place an
 * error becomes a response, strict body reading, the router that dispatches a request to a
 * route handler, logs one line per request and clears a cookie that names no live session, and
 * {@link createSessionApp}: the routes both modes answer alike (/logout, /healthz, /readyz, and
 * the session page at /) and the helpers their other routes use.
 */
import * as crypto from 'node:crypto';
import { TextDecoder } from 'node:util';
import { setBounded } from '../session/bounded';
import { BadRequestError, httpStatusOf, SessionError, StoreUnavailableError } from '../session/errors';
import { runtimeMetrics } from '../session/metrics';
import { normalizeOrigin, refuseCrossSite, SAFE_METHODS } from './csrf';
import { BodyTooLargeError, MethodNotAllowedError, NoSessionError, NotFoundError, truncate, UnsupportedMediaTypeError } from './errors';
import { pageRoutes } from './page';
import type { AppLogger, AppRequest, AppResponse } from './types';
import { parseJsonObject } from './validate';

/** Default cap on a request body, bytes. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

export type App = (req: AppRequest) => Promise<AppResponse>;

/** Per-request state a handler fills in for the log line. */
export interface RouteContext {
  readonly req: AppRequest;
  /** Session id or token id once known; only its hash is logged. */
  sessionRef?: string;
}

export type RouteHandler = (ctx: RouteContext) => Promise<AppResponse>;

/** path → method → handler. */
export type RouteTable = Readonly<Record<string, Readonly<Partial<Record<string, RouteHandler>>>>>;

export interface RouterOptions {
  readonly routes: RouteTable;
  readonly logger: AppLogger;
  /** The session cookie's full name, and the Set-Cookie value that clears it. */
  readonly cookieName: string;
  readonly clearCookie: () => string;
  /** True for a cookie the app must leave in place although it named no session (see SessionBackend.keepCookie). */
  readonly keepCookie?: (cookies: string | readonly string[] | undefined) => boolean;
  /** Sent as X-Served-By on every response (errors too), so a page can show which instance answered. @default - no such header */
  readonly servedBy?: string;
}

export const silentLogger: AppLogger = { info() {}, warn() {}, error() {} };

/** The request's cookies: API Gateway v2's `cookies` array, else the Cookie header. */
export function cookiesOf(req: AppRequest): string | readonly string[] | undefined {
  return req.cookies ?? req.headers.cookie;
}

/** crypto.hash (Node ≥ 20.12): one call instead of a Hash object per request. */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;

/** Hashes of the session ids seen last (a browser sends the same one on every request), oldest first. */
const recentHashes = new Map<string, string>();
const RECENT_HASHES_MAX = 10_000;

/** The first 12 hex digits of SHA-256(session id): correlates log lines, never reveals the id. */
export function sessionHash(id: string): string {
  const known = recentHashes.get(id);
  if (known !== undefined) return known;
  const hash = (oneShotHash ? oneShotHash('sha256', id, 'hex') : crypto.createHash('sha256').update(id).digest('hex')).slice(0, 12);
  setBounded(recentHashes, id, hash, RECENT_HASHES_MAX);
  return hash;
}

const own = <T extends object>(o: T, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function createRouter(opts: RouterOptions): App {
  const { routes, logger: log } = opts;
  // A header value must be printable ASCII; servedBy comes from the environment or the host name.
  const servedByHeader = opts.servedBy?.replace(/[^\x20-\x7e]/g, '?');
  return async function app(req: AppRequest): Promise<AppResponse> {
    const started = Date.now();
    const ctx: RouteContext = { req };
    const requestId = req.requestId ?? crypto.randomUUID();
    let res: AppResponse;
    try {
      const route = own(routes, req.path) ? routes[req.path] : undefined;
      if (route === undefined) throw new NotFoundError(req.path);
      const handler = own(route, req.method) ? route[req.method] : undefined;
      if (handler === undefined) throw new MethodNotAllowedError(Object.keys(route));
      res = await handler(ctx);
    } catch (err) {
      res = errorResponse(err, requestId, log);
      // A cookie that names no live session (bad signature, expired, deleted) is cleared so the browser stops sending it.
      // Not one that may be signed with a secret this process has not loaded yet: clearing it would log its user out mid-rotation.
      const cookies = cookiesOf(req);
      if (err instanceof NoSessionError && hasOwnCookie(cookies, opts.cookieName) && !(opts.keepCookie?.(cookies) ?? false)) res.cookies.push(opts.clearCookie());
    }
    if (servedByHeader !== undefined) res.headers['x-served-by'] = servedByHeader;
    runtimeMetrics.response(res.status);
    log.info('request', {
      requestId,
      method: truncate(req.method, 16),
      path: truncate(req.path),
      status: res.status,
      session: ctx.sessionRef === undefined ? undefined : sessionHash(ctx.sessionRef),
      ms: Date.now() - started,
    });
    return res;
  };
}

/** What both apps take besides their session backend. */
export interface AppCommonOptions {
  /** Reported as `servedBy` by GET /session, /healthz and /readyz, and in the X-Served-By header of every response: the instance or function that answered. */
  readonly servedBy: string;
  /** Largest request body accepted, bytes. @default 16384 */
  readonly maxBodyBytes?: number;
  /** Where request and error lines go. @default - nothing is logged */
  readonly logger?: AppLogger;
  /**
   * Origins (`https://host[:port]`) besides the app's own that may send state-changing requests,
   * e.g. a front end on a sibling host (SESSION_ALLOWED_ORIGINS). See ./csrf.ts.
   * @default - none: same-origin requests only
   */
  readonly allowedOrigins?: readonly string[];
}

/** Where an app's sessions live: a store behind a SessionManager, or signed tokens. */
export interface SessionBackend<S> {
  /** The live session named by the request's cookies, if any. */
  load(cookies: string | readonly string[] | undefined): Promise<S | undefined>;
  /** What names the session in the log line (only its hash is logged): session id or token id. */
  refOf(session: S): string;
  /** Logout: the session is deleted (or revoked) where it lives. */
  end(session: S): Promise<void>;
  /** /readyz: resolves when the backend answers (within the store's own timeout). */
  ping(): Promise<void>;
  /** `store` in the /healthz and /readyz answers. */
  readonly kind: string;
  /** What /readyz says does not answer, e.g. "the session store". */
  readonly pingsWhat: string;
  /** The session cookie's full name, and the Set-Cookie value that clears it. */
  readonly cookieName: string;
  clearCookie(): string;
  /**
   * Optional: true for a cookie that named no session but must not be cleared, e.g. one signed
   * with a cookie secret this process has not loaded yet. @default - every such cookie is cleared
   */
  keepCookie?(cookies: string | readonly string[] | undefined): boolean;
}

/** The helpers an app's own routes get from {@link createSessionApp}. */
export interface SessionRouteKit<S> {
  /** The request's live session (named in the log line), or undefined. */
  current(ctx: RouteContext): Promise<S | undefined>;
  /** The request's live session, or NoSessionError (401). */
  require(ctx: RouteContext): Promise<S>;
  /** The request's JSON object body: 415, 413 and 400 checks. */
  jsonBody(ctx: RouteContext): Record<string, unknown>;
  /** For routes that take no fields (logout): an empty body or `{}`, else 400. */
  noFields(ctx: RouteContext): void;
}

/**
 * An app over `backend`: the routes `routes` returns, plus POST /logout (idempotent: 204 and a
 * cleared cookie whether or not a session was there), GET /healthz and GET /readyz, which both
 * modes answer alike:
 * - /healthz is liveness of this process, the load balancer's check: 200 whenever the process
 *   serves and its event loop runs this handler, whatever the store does. A store outage must
 *   not make the target group mark every instance unhealthy (and the Auto Scaling group replace
 *   the fleet); its requests get 503s instead.
 * - /readyz is the deep check for operators: 200 when the backend answers, 503 when it does not
 *   (within the store's timeout).
 * - GET / and its assets: the session page (./page.ts).
 * Every state-changing route refuses cross-site requests before its handler runs (./csrf.ts:
 * 403, or 415 without JSON).
 */
export function createSessionApp<S>(opts: AppCommonOptions, backend: SessionBackend<S>, routes: (kit: SessionRouteKit<S>) => RouteTable): App {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowedOrigins = new Set<string>();
  for (const o of opts.allowedOrigins ?? []) {
    const n = normalizeOrigin(o);
    if (n === undefined) throw new TypeError(`allowedOrigins: "${o}" is not an http(s) origin (scheme://host[:port])`);
    allowedOrigins.add(n);
  }
  const current = async (ctx: RouteContext): Promise<S | undefined> => {
    const s = await backend.load(cookiesOf(ctx.req));
    if (s !== undefined) ctx.sessionRef = backend.refOf(s);
    return s;
  };
  const kit: SessionRouteKit<S> = {
    current,
    async require(ctx) {
      const s = await backend.load(cookiesOf(ctx.req)); // as current(), without one more await on every read
      if (s === undefined) throw new NoSessionError();
      ctx.sessionRef = backend.refOf(s);
      return s;
    },
    jsonBody: (ctx) => readJsonBody(ctx.req, maxBodyBytes),
    noFields(ctx) {
      const raw = ctx.req.body;
      if (raw === undefined || raw.length === 0) return;
      if (Object.keys(readJsonBody(ctx.req, maxBodyBytes)).length > 0) throw new BadRequestError('this route takes no fields: send {} or an empty body');
    },
  };
  return createRouter({
    routes: refusingCrossSite(allowedOrigins, {
      ...pageRoutes(), // GET / and its assets: the session page (./page.ts)
      ...routes(kit),
      '/logout': {
        async POST(ctx) {
          kit.noFields(ctx);
          const s = await current(ctx);
          if (s !== undefined) await backend.end(s);
          return noContent([backend.clearCookie()]);
        },
      },
      '/healthz': {
        async GET() {
          return json(200, { status: 'ok', store: backend.kind, servedBy: opts.servedBy });
        },
      },
      '/readyz': {
        async GET() {
          try {
            await backend.ping();
          } catch (err) {
            throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`${backend.pingsWhat} does not answer`, { cause: err });
          }
          return json(200, { status: 'ready', store: backend.kind, servedBy: opts.servedBy });
        },
      },
    }),
    logger: opts.logger ?? silentLogger,
    cookieName: backend.cookieName,
    clearCookie: () => backend.clearCookie(),
    keepCookie: backend.keepCookie === undefined ? undefined : (cookies) => backend.keepCookie!(cookies),
    servedBy: opts.servedBy,
  });
}

/** `routes` with every state-changing handler behind {@link refuseCrossSite}. */
function refusingCrossSite(allowedOrigins: ReadonlySet<string>, routes: RouteTable): RouteTable {
  const out: Record<string, Partial<Record<string, RouteHandler>>> = {};
  for (const [path, methods] of Object.entries(routes)) {
    const guarded: Partial<Record<string, RouteHandler>> = {};
    for (const [method, handler] of Object.entries(methods)) {
      if (handler === undefined) continue;
      guarded[method] = SAFE_METHODS.has(method)
        ? handler
        : (ctx) => {
            refuseCrossSite(ctx.req, allowedOrigins);
            return handler(ctx);
          };
    }
    out[path] = guarded;
  }
  return out;
}

export function json(status: number, body: unknown, cookies: string[] = []): AppResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    cookies,
    body: JSON.stringify(body),
  };
}

/** 204 with the session cookie cleared (logout). */
export function noContent(cookies: string[]): AppResponse {
  return { status: 204, headers: { 'cache-control': 'no-store' }, cookies, body: '' };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON object body of a write: 415, 413 and 400 checks, in that order. */
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
