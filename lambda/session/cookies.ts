/**
 * Session ids and their signed cookie: `<id>.<base64url HMAC-SHA256(secret, id)>`.
 * The first secret signs; every secret verifies (rotation). Verification is constant-time.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Bytes of randomness in a session id: 192 bits, above the 128-bit floor. */
export const SESSION_ID_BYTES = 24;
const ID_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A signing secret: its text, or the HMAC key made from it once with {@link cookieKeys} (the
 * same signatures, without importing the key again for every request).
 */
export type CookieSecret = string | KeyObject;

/** A new session id: base64url of {@link SESSION_ID_BYTES} bytes from crypto.randomBytes. */
export function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}

/** HMAC keys for `secrets` (their UTF-8 bytes, as an HMAC over the text uses), in the same order. */
export function cookieKeys(secrets: readonly string[]): KeyObject[] {
  return secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')));
}

function mac(id: string, secret: CookieSecret): Buffer {
  return createHmac('sha256', secret).update(id).digest();
}

/** The cookie value for `id`, signed with the first secret. */
export function signSessionId(id: string, secrets: readonly CookieSecret[]): string {
  if (secrets.length === 0) throw new Error('no cookie secret configured');
  return `${id}.${mac(id, secrets[0]).toString('base64url')}`;
}

/** The id and signature text of a value shaped `<id>.<43 base64url characters>`, or undefined. */
function splitSigned(value: string | undefined): [id: string, sigText: string] | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = value.slice(0, dot);
  const sigText = value.slice(dot + 1);
  return ID_PATTERN.test(id) && SIG_PATTERN.test(sigText) ? [id, sigText] : undefined;
}

/** True when `value` has the shape of a signed session id (`<id>.<signature>`), whatever secret signed it. */
export function isSignedShape(value: string | undefined): boolean {
  return splitSigned(value) !== undefined;
}

/**
 * The session id inside a signed cookie value, or undefined when the value is malformed,
 * unsigned or signed with no known secret. Never throws.
 */
export function verifySignedSessionId(value: string | undefined, secrets: readonly CookieSecret[]): string | undefined {
  const parts = splitSigned(value);
  if (parts === undefined) return undefined;
  const [id, sigText] = parts;
  const given = Buffer.from(sigText, 'base64url');
  // base64url of 32 bytes leaves 2 unused bits in the last character: only the canonical
  // spelling is accepted, so a valid cookie has exactly one accepted text.
  if (given.toString('base64url') !== sigText) return undefined;
  let ok = false;
  // Check every secret, without stopping early, so timing does not tell which one matched.
  for (const secret of secrets) {
    const expected = mac(id, secret);
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok ? id : undefined;
}

/**
 * The value of cookie `name` in a Cookie header (or in API Gateway v2's `cookies` array).
 * The first occurrence wins; malformed pairs are skipped. Never throws.
 */
export function readCookie(header: string | readonly string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string') return valueOf(findCookie(header, name));
  for (const h of header) {
    const found = findCookie(String(h), name);
    if (found !== undefined) return valueOf(found);
  }
  return undefined;
}

/** The raw value of the first `name=…` pair in a `;`-separated list, without splitting the whole list. */
function findCookie(text: string, name: string): string | undefined {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(';', start);
    if (end < 0) end = text.length;
    const eq = text.indexOf('=', start);
    if (eq >= 0 && eq < end && text.slice(start, eq).trim() === name) return text.slice(eq + 1, end);
    start = end + 1;
  }
  return undefined;
}

/** A cookie's value: trimmed, unquoted, %-decoded; a malformed %-escape is a bad cookie, which means "no session". */
function valueOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return undefined;
  }
}

export interface CookieAttributes {
  readonly secure: boolean;
  /** Seconds; 0 clears the cookie. Omitted: a browser-session cookie. */
  readonly maxAgeSeconds?: number;
}

/** A Set-Cookie value: HttpOnly, Path=/, SameSite=Lax, and Secure when `secure`. */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (attrs.secure) parts.push('Secure');
  if (attrs.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(attrs.maxAgeSeconds))}`);
  return parts.join('; ');
}

/** The full cookie name: `__Host-<base>` when secure (no Domain, Path=/, Secure), `<base>` otherwise. */
export function cookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}
