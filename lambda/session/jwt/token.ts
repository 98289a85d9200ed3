/**
 * Compact JWS for session tokens, built by hand from header + payload with a {@link JwtSigner}
 * (the signer may be KMS, which jose cannot call), and verified with jose.
 *
 * Header: `{alg: ES256, typ: session+jwt, kid}`. The explicit type (RFC 8725 §3.11) keeps a JWT
 * of another kind, signed by the same key for another purpose, from passing as a session token.
 *
 * Verification ({@link TokenVerifier}), in this order, the header checks before any signature work:
 * - the header must parse, carry `typ: session+jwt`, pin `alg` to ES256 (no `none`, no HS256
 *   with the public key as secret) and name a `kid` that is one of the configured keys
 *   (current + previous). Key-carrying headers (`jwk`, `jku`, `x5u`, `x5c`) are never used:
 *   the keys are only the configured ones;
 * - jose `jwtVerify` with a local JWKS built once from those public keys: signature, `typ` and
 *   `alg` again, unknown `crit` refused, then `iss`, `aud`, `exp`, `nbf` with a small clock
 *   tolerance; sub, jti, sid, sst, iat, nbf, exp, iss and aud are required.
 * Every refusal is a {@link TokenRejectedError} with a reason; the app treats all of them as "no session".
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { JWT_ALG } from './keys';
import type { JwtSigner, PublicJwk } from './keys';

/** Why a token was refused. */
export type RejectReason =
  | 'malformed'
  | 'wrong_typ'
  | 'missing_kid'
  | 'unknown_kid'
  | 'alg_not_allowed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'bad_claims'
  | 'revoked'
  | 'revoked_session'
  | 'revoked_user'
  | 'absolute_timeout';

export class TokenRejectedError extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`token rejected (${reason}): ${message}`, options);
    this.name = 'TokenRejectedError';
  }
}

/**
 * Claim names the session service sets itself: the registered security claims, the session's own
 * (sid, sst) and the reference app's data (cart, prefs). A user's claims may use any other name;
 * one of these is refused with a TypeError when a token is issued, so it can never override them.
 */
export const RESERVED_CLAIMS: readonly string[] = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'sst', 'typ', 'cart', 'prefs'];
const RESERVED = new Set(RESERVED_CLAIMS);

/**
 * The user's own claims as they go into a token: a plain object whose names are not in
 * {@link RESERVED_CLAIMS} and whose values are JSON (a copy, as JSON would carry it). Throws a
 * TypeError naming the claim otherwise. Their size counts against the cookie limit like the rest.
 */
export function checkCustomClaims(custom: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (custom === undefined) return {};
  if (custom === null || typeof custom !== 'object' || Array.isArray(custom)) throw new TypeError('custom claims must be a plain object of JSON values');
  const reserved = Object.keys(custom).filter((k) => RESERVED.has(k));
  if (reserved.length > 0) {
    throw new TypeError(`custom claims may not set ${reserved.map((k) => `"${k}"`).join(', ')}: reserved (${RESERVED_CLAIMS.join(', ')}) are set by the session service`);
  }
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(custom));
  } catch (err) {
    throw new TypeError(`custom claims must be JSON values: ${(err as Error).message}`, { cause: err });
  }
  return copy as Record<string, unknown>;
}

/** The JWT payload of `claims`: the user's claims first, then every claim of the service (which therefore always wins). */
export function tokenPayload(claims: SessionClaims): Record<string, unknown> {
  const { custom, ...own } = claims;
  return { ...custom, ...own };
}

/** The claims of a session token. Times are epoch seconds, except `sst` (epoch milliseconds). */
export interface SessionClaims {
  readonly sub: string;
  readonly cart: unknown[];
  readonly prefs: Record<string, string>;
  /** Session id: 128 random bits set at login and carried by every renewal; logout revokes it. */
  readonly sid: string;
  /**
   * Session start, epoch milliseconds: set at login, carried by every renewal. The absolute
   * timeout counts from it, and "log out everywhere" ends the sessions that started at or
   * before its instant (milliseconds, so a login right after it is not caught in the same second).
   */
  readonly sst: number;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  readonly iss: string;
  readonly aud: string;
  /**
   * The user's own claims (any name not in {@link RESERVED_CLAIMS}), given at issue or renewal as
   * `custom` and carried at the top level of the payload; `{}` when there are none.
   */
  readonly custom: Readonly<Record<string, unknown>>;
}

/** The `typ` header of session tokens (media type `application/session+jwt`). */
export const SESSION_TOKEN_TYP = 'session+jwt';

/** A new token id (`jti`) or session id (`sid`): 128 random bits, base64url. */
export function newJti(): string {
  return randomBytes(16).toString('base64url');
}

/** `base64url(header).base64url(payload)`: what gets signed. */
export function signingInput(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
}

/** Bytes of a compact ES256 token for this signing input (the signature is always 64 bytes → 86 characters). */
export function tokenLength(input: string): number {
  return Buffer.byteLength(input) + 1 + 86;
}

/** The protected header of a session token signed by `kid`. */
export function tokenHeader(kid: string): Record<string, unknown> {
  return { alg: JWT_ALG, typ: SESSION_TOKEN_TYP, kid };
}

/** Compact JWS `header.payload.signature` signed by `signer`; the header is {@link tokenHeader}. */
export async function signToken(signer: JwtSigner, payload: Record<string, unknown>): Promise<string> {
  const input = signingInput(tokenHeader(signer.kid), payload);
  const sig = await signer.sign(Buffer.from(input));
  if (sig.length !== 64) throw new Error(`an ES256 signature is 64 bytes, the signer returned ${sig.length}`);
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

export interface TokenVerifierOptions {
  /** Public keys that verify: the current signer's first, then previous keys still in rotation. */
  readonly keys: readonly PublicJwk[];
  readonly issuer: string;
  readonly audience: string;
  /** Allowed clock skew for exp / nbf, seconds. @default 5 */
  readonly clockToleranceSeconds?: number;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

const REQUIRED_CLAIMS = ['sub', 'jti', 'sid', 'sst', 'iat', 'nbf', 'exp', 'iss', 'aud'];

export class TokenVerifier {
  readonly keys: readonly PublicJwk[];
  private readonly kids: ReadonlySet<string>;
  private readonly jwks: ReturnType<typeof createLocalJWKSet>;
  private readonly now: () => number;

  constructor(private readonly opts: TokenVerifierOptions) {
    if (opts.keys.length === 0) throw new Error('at least one verification key is required');
    // The same key listed twice (e.g. as current and previous) would make the JWKS ambiguous.
    const byKid = new Map(opts.keys.map((k) => [k.kid, k]));
    this.keys = [...byKid.values()];
    this.kids = new Set(byKid.keys());
    this.jwks = createLocalJWKSet({ keys: this.keys.map((k) => ({ ...k })) });
    this.now = opts.now ?? Date.now;
  }

  /** The verified claims of `token`, or a {@link TokenRejectedError} saying why not. Does not consult the denylist. */
  async verify(token: string): Promise<{ claims: SessionClaims; kid: string }> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192 || token.split('.').length !== 3) {
      throw new TokenRejectedError('malformed', 'not a compact JWS');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw new TokenRejectedError('malformed', 'the header does not decode', { cause: err });
    }
    if (header.typ !== SESSION_TOKEN_TYP) throw new TokenRejectedError('wrong_typ', `typ ${String(header.typ)} is not ${SESSION_TOKEN_TYP}`);
    if (typeof header.kid !== 'string' || header.kid === '') throw new TokenRejectedError('missing_kid', 'the header names no kid');
    if (header.alg !== JWT_ALG) throw new TokenRejectedError('alg_not_allowed', `alg ${String(header.alg)} is not ${JWT_ALG}`);
    if (!this.kids.has(header.kid)) throw new TokenRejectedError('unknown_kid', 'no configured key has this kid');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        algorithms: [JWT_ALG],
        typ: SESSION_TOKEN_TYP,
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockToleranceSeconds ?? 5,
        currentDate: new Date(this.now()),
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (err) {
      throw rejection(err);
    }
    return { claims: sessionClaims(payload), kid: header.kid };
  }
}

function rejection(err: unknown): TokenRejectedError {
  const e = err as { code?: unknown; claim?: unknown; reason?: unknown; message?: unknown };
  const msg = typeof e.message === 'string' ? e.message : String(err);
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenRejectedError('expired', msg, { cause: err });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new TokenRejectedError('bad_signature', msg, { cause: err });
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new TokenRejectedError('alg_not_allowed', msg, { cause: err });
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new TokenRejectedError('unknown_kid', msg, { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return new TokenRejectedError('bad_claims', msg, { cause: err });
      if (e.claim === 'nbf') return new TokenRejectedError('not_yet_valid', msg, { cause: err });
      if (e.claim === 'iss') return new TokenRejectedError('wrong_issuer', msg, { cause: err });
      if (e.claim === 'aud') return new TokenRejectedError('wrong_audience', msg, { cause: err });
      if (e.claim === 'typ') return new TokenRejectedError('wrong_typ', msg, { cause: err });
      return new TokenRejectedError('bad_claims', msg, { cause: err });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new TokenRejectedError('malformed', msg, { cause: err });
    default:
      // jose reports every refusal with a code; anything else is a bug, not a bad token.
      if (typeof e.code === 'string' && e.code.startsWith('ERR_J')) return new TokenRejectedError('malformed', msg, { cause: err });
      throw err;
  }
}

/** The payload as session claims, shape-checked (a validly signed token from a newer release still reads safely). */
function sessionClaims(p: JWTPayload): SessionClaims {
  const bad = (what: string) => new TokenRejectedError('bad_claims', what);
  if (typeof p.sub !== 'string' || p.sub === '') throw bad('sub must be a non-empty string');
  if (typeof p.jti !== 'string' || p.jti === '') throw bad('jti must be a non-empty string');
  if (typeof p.sid !== 'string' || p.sid === '') throw bad('sid must be a non-empty string');
  if (!Number.isSafeInteger(p.sst) || (p.sst as number) < 0) throw bad('sst must be epoch milliseconds');
  for (const k of ['iat', 'nbf', 'exp'] as const) if (typeof p[k] !== 'number') throw bad(`${k} must be a number`);
  const aud = Array.isArray(p.aud) ? p.aud[0] : p.aud;
  const prefs: Record<string, string> = {};
  if (p.prefs !== null && typeof p.prefs === 'object' && !Array.isArray(p.prefs)) {
    for (const [k, v] of Object.entries(p.prefs as Record<string, unknown>)) if (typeof v === 'string') prefs[k] = v;
  }
  const custom: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!RESERVED.has(k)) custom[k] = v;
  return {
    sub: p.sub,
    cart: Array.isArray(p.cart) ? p.cart : [],
    prefs,
    sid: p.sid,
    sst: p.sst as number,
    iat: p.iat!,
    nbf: p.nbf!,
    exp: p.exp!,
    jti: p.jti,
    iss: String(p.iss),
    aud: String(aud),
    custom,
  };
}
