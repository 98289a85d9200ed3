/**
 * Write tokens: a random value made for every write of a session and stored with it, so that a
 * compare-and-set names the exact write it replaces (see {@link WriteStamp}).
 */
import { randomBytes } from 'node:crypto';
import type { WriteStamp } from './types';

/** Random bytes per token: 96 bits, so two writes never draw the same one. */
export const WRITE_TOKEN_BYTES = 12;

/** A new write token: 16 base64url characters. */
export function newWriteToken(): string {
  return randomBytes(WRITE_TOKEN_BYTES).toString('base64url');
}

/**
 * Throws unless `token` is base64url: stores put it into JSON and Lua unescaped. `''` (a session
 * stored before write tokens) passes as something to compare with, never as a token to write.
 */
export function checkWriteToken(token: string, use: 'compare' | 'write' = 'compare'): string {
  const ok = typeof token === 'string' && /^[A-Za-z0-9_-]{0,64}$/.test(token) && (use === 'compare' || token.length >= 16);
  if (!ok) throw new Error(`write token must be base64url${use === 'write' ? ', at least 16 characters' : ''}, got ${JSON.stringify(token)}`);
  return token;
}

/** Throws unless `session` is the write that directly follows `expected`. */
export function checkSuccessor(what: string, session: WriteStamp, expected: WriteStamp): void {
  if (session.version !== expected.version + 1) throw new Error(`${what}: version must be ${expected.version + 1}, got ${session.version}`);
  checkWriteToken(session.token, 'write');
  if (session.token === expected.token) throw new Error(`${what}: a write needs a new write token`);
}

/** True when `a` and `b` name the same write. */
export function sameWrite(a: WriteStamp, b: WriteStamp): boolean {
  return a.version === b.version && a.token === b.token;
}
