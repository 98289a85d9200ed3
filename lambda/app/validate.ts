/**
 * Strict validation of the app's request bodies. Every function throws BadRequestError with a
 * message naming the field, or returns a clean value built from scratch (never the parsed
 * object itself, so no prototype tricks travel into the session).
 */
import { BadRequestError } from '../session/errors';

export const LIMITS = {
  userMin: 1,
  userMax: 128,
  /** Cognito's own bounds on a password. */
  passwordMin: 1,
  passwordMax: 256,
  skuPattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
  qtyMin: 1,
  qtyMax: 999,
  prefsMaxKeys: 32,
  prefKeyPattern: /^[A-Za-z0-9_.-]{1,64}$/,
  prefValueMax: 256,
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface CartLine {
  readonly sku: string;
  readonly qty: number;
}

/**
 * The body parsed as a JSON object (not an array, not a primitive), every string in it (keys
 * and values, at any depth) checked by {@link assertCleanString}: a field added later gets the
 * check without asking for it.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('the body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError('the body must be a JSON object');
  }
  assertCleanStrings(value, 'body');
  return value as Record<string, unknown>;
}

/** U+0000, or a UTF-16 surrogate without its partner (JSON can spell both: `\u0000`, `\ud800`). */
const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Throws BadRequestError (400) when `s` holds U+0000 or a lone surrogate. Neither is text: no
 * UTF-8 encoding exists for a lone surrogate, and PostgreSQL's jsonb (like many stores and
 * logs) refuses both, so the same body must fail the same way on every store.
 */
export function assertCleanString(s: string, field: string): void {
  if (NUL_OR_LONE_SURROGATE.test(s)) throw new BadRequestError(`"${field.slice(0, 64)}" must not contain U+0000 or a lone UTF-16 surrogate`);
}

/** {@link assertCleanString} on every key and string value of a parsed JSON value (iterative: depth is the client's choice). */
function assertCleanStrings(root: unknown, rootField: string): void {
  const pending: Array<[unknown, string]> = [[root, rootField]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, field] = next;
    if (typeof value === 'string') assertCleanString(value, field);
    else if (Array.isArray(value)) for (const v of value) pending.push([v, field]);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        assertCleanString(k, 'field name');
        pending.push([v, k.replace(/[^\x20-\x7e]/g, '?')]);
      }
    }
  }
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new BadRequestError(`unknown field "${k.slice(0, 32)}"; allowed: ${allowed.join(', ')}`);
  }
}

/**
 * `{"user": "...", "password": "..."}`: user 1-128 characters, no control characters; password
 * 1-256 characters, optional here (the authenticator decides whether it needs one). A message
 * never repeats the password.
 */
export function validateLogin(obj: Record<string, unknown>): { user: string; password?: string } {
  onlyKeys(obj, ['user', 'password']);
  const user = obj.user;
  if (typeof user !== 'string') throw new BadRequestError('"user" must be a string');
  const chars = [...user].length;
  if (chars < LIMITS.userMin || chars > LIMITS.userMax) {
    throw new BadRequestError(`"user" must be ${LIMITS.userMin}-${LIMITS.userMax} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(user) || user.trim() === '') throw new BadRequestError('"user" must not be blank or contain control characters');
  const password = obj.password;
  if (password === undefined) return { user };
  if (typeof password !== 'string') throw new BadRequestError('"password" must be a string');
  const pchars = [...password].length;
  if (pchars < LIMITS.passwordMin || pchars > LIMITS.passwordMax) {
    throw new BadRequestError(`"password" must be ${LIMITS.passwordMin}-${LIMITS.passwordMax} characters`);
  }
  return { user, password };
}

/** `{"sku": "...", "qty": n}`: sku matches the pattern, qty an integer 1-999. */
export function validateCartItem(obj: Record<string, unknown>): CartLine {
  onlyKeys(obj, ['sku', 'qty']);
  const { sku, qty } = obj;
  if (typeof sku !== 'string' || !LIMITS.skuPattern.test(sku)) {
    throw new BadRequestError('"sku" must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
  }
  if (typeof qty !== 'number' || !Number.isInteger(qty) || qty < LIMITS.qtyMin || qty > LIMITS.qtyMax) {
    throw new BadRequestError(`"qty" must be an integer from ${LIMITS.qtyMin} to ${LIMITS.qtyMax}`);
  }
  return { sku, qty };
}

/** `{key: "value", …}`: ≤ 32 keys of a safe pattern, string values ≤ 256 characters. */
export function validatePrefs(obj: Record<string, unknown>): Record<string, string> {
  const keys = Object.keys(obj);
  if (keys.length === 0) throw new BadRequestError('prefs must name at least one key');
  if (keys.length > LIMITS.prefsMaxKeys) throw new BadRequestError(`prefs may have at most ${LIMITS.prefsMaxKeys} keys`);
  const out: Record<string, string> = Object.create(null);
  for (const k of keys) {
    if (FORBIDDEN_KEYS.has(k)) throw new BadRequestError(`pref key "${k}" is not allowed`);
    if (!LIMITS.prefKeyPattern.test(k)) throw new BadRequestError('pref keys must be 1-64 letters, digits, "_", "-" or "."');
    const v = obj[k];
    if (typeof v !== 'string') throw new BadRequestError(`pref "${k}" must be a string`);
    if ([...v].length > LIMITS.prefValueMax) throw new BadRequestError(`pref "${k}" must be at most ${LIMITS.prefValueMax} characters`);
    out[k] = v;
  }
  return { ...out };
}

/** The cart as stored, defensively read (a session written by an older version still works). */
export function readCart(data: Record<string, unknown>): CartLine[] {
  const cart = data.cart;
  if (!Array.isArray(cart)) return [];
  return cart.filter(
    (l): l is CartLine => l !== null && typeof l === 'object' && typeof (l as CartLine).sku === 'string' && typeof (l as CartLine).qty === 'number',
  );
}

/** The prefs as stored. */
export function readPrefs(data: Record<string, unknown>): Record<string, string> {
  const p = data.prefs;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'string' && !FORBIDDEN_KEYS.has(k)) out[k] = v;
  return out;
}
