/**
 * The session page: GET / answers one small HTML page that uses the reference routes through
 * `fetch` (log in, the session with its cart and prefs, which server answered, "send 20
 * requests"), and GET /assets/page.<hash>.js|css its script and stylesheet. Same on instances
 * and behind Lambda, in store and JWT mode.
 *
 * Every one of these responses carries {@link PAGE_SECURITY_HEADERS}: a Content-Security-Policy
 * that allows scripts, styles and fetches from this origin only (no inline script, no eval, Trusted
 * Types with no policy, so no HTML can be written from a string), no framing, no MIME sniffing and
 * no Referer. Asset names carry a hash of their content, so they are cached for a year and a new
 * deployment's page never loads an old script; the HTML itself is revalidated on every visit.
 */
import { createHash } from 'node:crypto';
import type { RouteTable } from './http';
import { pageHtml } from './page-html';
import { PAGE_SCRIPT } from './page-script';
import { PAGE_STYLE } from './page-style';
import type { AppResponse } from './types';

/** The page's Content-Security-Policy. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers on the page and its assets, besides content type and caching. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  readonly path: string;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly body: string;
}

function hashed(name: string, ext: string, contentType: string, body: string): Asset & { readonly integrity: string } {
  const hex = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return {
    path: `/assets/${name}.${hex}.${ext}`,
    contentType,
    cacheControl: 'public, max-age=31536000, immutable',
    body,
    integrity: `sha384-${createHash('sha384').update(body).digest('base64')}`,
  };
}

const script = hashed('page', 'js', 'text/javascript; charset=utf-8', PAGE_SCRIPT);
const style = hashed('page', 'css', 'text/css; charset=utf-8', PAGE_STYLE);
const page: Asset = {
  path: '/',
  contentType: 'text/html; charset=utf-8',
  cacheControl: 'no-cache',
  body: pageHtml({ scriptPath: script.path, scriptIntegrity: script.integrity, stylePath: style.path, styleIntegrity: style.integrity }),
};

/** Paths the page is served at: the HTML, its script and its stylesheet. */
export const PAGE_PATHS = { page: page.path, script: script.path, style: style.path } as const;

/** A fresh response (the router adds headers to it, so no two responses share an object). */
function respond(a: Asset): AppResponse {
  return { status: 200, headers: { 'content-type': a.contentType, 'cache-control': a.cacheControl, ...PAGE_SECURITY_HEADERS }, cookies: [], body: a.body };
}

/** GET routes for the page and its assets, for {@link createSessionApp}'s route table. */
export function pageRoutes(): RouteTable {
  const routes: Record<string, { GET: () => Promise<AppResponse> }> = {};
  for (const a of [page, script, style]) routes[a.path] = { GET: async () => respond(a) };
  return routes;
}
