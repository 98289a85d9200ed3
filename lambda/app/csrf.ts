/**
 * Cross-site request refusal for the state-changing routes (POST, PUT, DELETE, PATCH): what a
 * forged form or a script on another site cannot get past, whatever the browser.
 *
 * 1. `Origin`, when present, must be the request's own origin (its scheme and `Host`; the scheme
 *    from `X-Forwarded-Proto` when a load balancer or API Gateway set it) or one listed in
 *    `allowedOrigins` (SESSION_ALLOWED_ORIGINS). `Origin: null` (sandboxed frames, some
 *    redirects) never matches.
 * 2. `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (typed or bookmarked by the
 *    user). `same-site` (a sibling subdomain) and `cross-site` pass only with an `Origin` that
 *    `allowedOrigins` lists: a sibling subdomain is trusted only when named.
 * 3. The content type must be `application/json` (415 otherwise). A form or a `text/plain`
 *    fetch cannot send that cross-origin without a CORS preflight, and the app answers no
 *    preflight (OPTIONS is a 405), so this holds even for a browser that sends neither header.
 *
 * A request with neither header (curl, server-to-server) passes 1 and 2: CSRF needs a browser,
 * and every browser that runs scripts sends at least `Origin` on a cross-origin POST.
 */
import { CrossSiteRequestError, truncate, UnsupportedMediaTypeError } from './errors';
import type { AppRequest } from './types';

/** Methods that change nothing; every other method is checked. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `scheme://host[:port]` in the form browsers send in `Origin` (lower case, default port
 * dropped), or undefined when `s` is not a bare http(s) origin.
 */
export function normalizeOrigin(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') return undefined;
  if (u.pathname !== '/' || /^[^:]+:\/\/[^/]+\/./.test(s)) return undefined;
  return u.origin;
}

/** The request's own origin: X-Forwarded-Proto (else http) + Host, or undefined without a usable Host. */
function ownOrigin(req: AppRequest): string | undefined {
  const host = req.headers.host;
  if (host === undefined || host === '') return undefined;
  const proto = (req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim().toLowerCase();
  return normalizeOrigin(`${proto === 'https' ? 'https' : 'http'}://${host}`);
}

/**
 * Throws CrossSiteRequestError (403) or UnsupportedMediaTypeError (415) when a state-changing
 * request fails the rules above; returns for a safe method.
 *
 * @example
 * refuseCrossSite({ method: 'POST', path: '/logout', headers: { host: 'shop.example', origin: 'https://evil.example' }, body: undefined }, new Set());
 * // throws CrossSiteRequestError
 */
export function refuseCrossSite(req: AppRequest, allowedOrigins: ReadonlySet<string>): void {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.headers.origin;
  const normalized = origin === undefined ? undefined : normalizeOrigin(origin.trim());
  const listed = normalized !== undefined && allowedOrigins.has(normalized);
  if (origin !== undefined && !listed && (normalized === undefined || normalized !== ownOrigin(req))) {
    throw new CrossSiteRequestError(`Origin ${truncate(origin)} is neither this site nor an allowed origin`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !listed) {
    throw new CrossSiteRequestError(`Sec-Fetch-Site ${truncate(site)} without an allowed Origin`);
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new UnsupportedMediaTypeError();
}
