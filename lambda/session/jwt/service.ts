/**
 * Stateless JWT sessions: the session (user, cart, prefs) lives in a short-lived ES256 access
 * token in the session cookie; nothing is stored per session.
 *
 * - issue: new jti, iat = nbf = now, exp = now + TTL; re-issued on every change. The whole
 *   Set-Cookie `name=value` must fit {@link MAX_COOKIE_BYTES}; a bigger token is refused with
 *   SessionTooLargeError (→ 413) before anything is signed, so the client's old token stays valid.
 * - load: verify (./token.ts), then, with revocation check `always`, ask the denylist. A denylist
 *   that does not answer is a StoreUnavailableError (→ 503): a token is never accepted unchecked.
 * - logout: the token's jti goes on the denylist until its exp. Log out everywhere: the user's
 *   not-before time goes on the denylist; every token issued before it is refused. `iat` has
 *   one-second resolution and the not-before time is rounded up, so a token issued in the same
 *   second as the log-out-everywhere (even just after it) is refused too: the safe side.
 * - jwks: current + previous public keys, for other verifiers.
 */
import { cookieName as fullCookieName, readCookie, serializeCookie } from '../cookies';
import { SessionTooLargeError, StoreUnavailableError } from '../errors';
import { isUnavailable } from '../stores/aws-call';
import type { Denylist } from './denylist';
import type { JwtSigner, PublicJwk } from './keys';
import { JWT_ALG } from './keys';
import { newJti, signingInput, signToken, tokenLength, TokenRejectedError, TokenVerifier } from './token';
import type { SessionClaims } from './token';

/** Browsers' limit on one cookie: the `name=value` of a Set-Cookie, in bytes (RFC 6265 §6.1 minimum). */
export const MAX_COOKIE_BYTES = 4096;

/** What the app puts in a token. */
export interface SessionContent {
  readonly sub: string;
  readonly cart: readonly unknown[];
  readonly prefs: Readonly<Record<string, string>>;
}

/** A verified session token. */
export interface JwtSession {
  readonly token: string;
  readonly claims: SessionClaims;
  /** The key that signed it. */
  readonly kid: string;
}

export interface IssuedToken extends JwtSession {
  /** The Set-Cookie value carrying the token. */
  readonly setCookie: string;
}

export interface JwtSessionServiceOptions {
  /** Signs new tokens. @default - none: this process only verifies (issue() throws) */
  readonly signer?: JwtSigner;
  /** Public keys of previous signing keys that still verify (rotation). @default [] */
  readonly previousKeys?: readonly PublicJwk[];
  /** Public key of the current signing key when there is no signer (verify-only processes). */
  readonly currentKey?: PublicJwk;
  readonly issuer: string;
  readonly audience: string;
  /** Access-token lifetime, seconds. @default 900 */
  readonly ttlSeconds?: number;
  /** Clock skew allowed on exp / nbf, seconds. @default 5 */
  readonly clockToleranceSeconds?: number;
  /** @default - none: logout only clears the cookie, the token stays valid until it expires */
  readonly denylist?: Denylist;
  /** Consult the denylist on every verification. Requires a denylist. @default 'always' when a denylist is given */
  readonly revocationCheck?: 'always' | 'never';
  /** Cookie base name; `__Host-` is prefixed when secure. @default 'sid' */
  readonly cookieName?: string;
  /** @default true */
  readonly secure?: boolean;
  /** Bound on one signing call, ms (KMS). @default 2000 */
  readonly signTimeoutMs?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
}

export class JwtSessionService {
  readonly kind = 'jwt' as const;
  readonly cookieName: string;
  readonly secure: boolean;
  readonly ttlSeconds: number;
  readonly issuer: string;
  readonly audience: string;
  readonly revocationCheck: 'always' | 'never';
  readonly verifier: TokenVerifier;
  readonly denylist?: Denylist;
  private readonly signer?: JwtSigner;
  private readonly signTimeoutMs: number;
  private readonly now: () => number;

  constructor(opts: JwtSessionServiceOptions) {
    this.signer = opts.signer;
    this.denylist = opts.denylist;
    this.revocationCheck = opts.revocationCheck ?? (opts.denylist ? 'always' : 'never');
    if (this.revocationCheck === 'always' && !opts.denylist) throw new Error("revocationCheck 'always' needs a denylist");
    const current = opts.signer?.publicJwk() ?? opts.currentKey;
    if (!current) throw new Error('a signer or the current public key is required');
    this.issuer = opts.issuer;
    this.audience = opts.audience;
    this.ttlSeconds = opts.ttlSeconds ?? 900;
    this.secure = opts.secure ?? true;
    this.cookieName = fullCookieName(opts.cookieName ?? 'sid', this.secure);
    this.signTimeoutMs = opts.signTimeoutMs ?? 2000;
    this.now = opts.now ?? Date.now;
    this.verifier = new TokenVerifier({
      keys: [current, ...(opts.previousKeys ?? [])],
      issuer: opts.issuer,
      audience: opts.audience,
      clockToleranceSeconds: opts.clockToleranceSeconds,
      now: this.now,
    });
  }

  /** The JWKS document: current key first, then previous ones. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.verifier.keys.map((k) => ({ ...k })) };
  }

  /**
   * A new token for `content` (new jti, fresh iat/nbf/exp) and its Set-Cookie value.
   * Throws SessionTooLargeError, before signing, when the cookie would exceed {@link MAX_COOKIE_BYTES}.
   */
  async issue(content: SessionContent): Promise<IssuedToken> {
    const signer = this.signer;
    if (!signer) throw new Error('this process has no signing key (verify-only)');
    const now = Math.floor(this.now() / 1000);
    const claims: SessionClaims = {
      sub: content.sub,
      cart: [...content.cart],
      prefs: { ...content.prefs },
      iat: now,
      nbf: now,
      exp: now + this.ttlSeconds,
      jti: newJti(),
      iss: this.issuer,
      aud: this.audience,
    };
    const header = { alg: JWT_ALG, typ: 'JWT', kid: signer.kid };
    const cookieBytes = Buffer.byteLength(this.cookieName) + 1 + tokenLength(signingInput(header, { ...claims }));
    if (cookieBytes > MAX_COOKIE_BYTES) throw new SessionTooLargeError(cookieBytes, MAX_COOKIE_BYTES);
    const token = await this.sign(signer, claims);
    return { token, claims, kid: signer.kid, setCookie: this.setCookie(token, claims.exp) };
  }

  /**
   * Verify a token and, with revocation check `always`, consult the denylist.
   * Throws TokenRejectedError (bad / expired / revoked) or StoreUnavailableError (denylist down).
   */
  async verify(token: string): Promise<JwtSession> {
    const { claims, kid } = await this.verifier.verify(token);
    if (this.revocationCheck === 'always') {
      const verdict = await this.denylist!.check(claims);
      if (verdict === 'revoked') throw new TokenRejectedError('revoked', 'the token was revoked (logout)');
      if (verdict === 'revoked_user') throw new TokenRejectedError('revoked_user', "the token was issued before the user's log-out-everywhere");
    }
    return { token, claims, kid };
  }

  /** The verified session in the request's cookies; undefined for none or a refused token. Denylist down → StoreUnavailableError. */
  async load(cookies: string | readonly string[] | undefined): Promise<JwtSession | undefined> {
    const token = readCookie(cookies, this.cookieName);
    if (token === undefined) return undefined;
    try {
      return await this.verify(token);
    } catch (err) {
      if (err instanceof TokenRejectedError) return undefined;
      throw err;
    }
  }

  /** Logout: this token's jti is denied until it expires. Without a denylist there is nothing to record. */
  async revoke(session: JwtSession): Promise<void> {
    await this.denylist?.revokeToken(session.claims.jti, session.claims.exp);
  }

  /**
   * Log out everywhere: every token of `sub` issued up to now is denied. The entry lives as long as
   * such a token could (TTL + clock tolerance). Needs a denylist.
   */
  async revokeEverywhere(sub: string): Promise<void> {
    if (!this.denylist) throw new Error('log out everywhere needs a revocation table');
    // Every token issued in this second or before is refused (iat has one-second resolution).
    const notBefore = Math.floor(this.now() / 1000) + 1;
    await this.denylist.revokeUser(sub, notBefore, notBefore + this.ttlSeconds + 60);
  }

  /** Liveness for /healthz: the denylist answers (when there is one). */
  async ping(): Promise<void> {
    await this.denylist?.ping();
  }

  /** Set-Cookie carrying `token`, living until `exp` (epoch s). */
  setCookie(token: string, exp: number): string {
    return serializeCookie(this.cookieName, token, { secure: this.secure, maxAgeSeconds: Math.max(0, exp - Math.floor(this.now() / 1000)) });
  }

  /** Set-Cookie that removes the cookie. */
  clearCookie(): string {
    return serializeCookie(this.cookieName, '', { secure: this.secure, maxAgeSeconds: 0 });
  }

  async close(): Promise<void> {
    await this.denylist?.close();
  }

  private async sign(signer: JwtSigner, claims: SessionClaims): Promise<string> {
    const timeoutMs = this.signTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`signing did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([signToken(signer, { ...claims }), expired]);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      if (isUnavailable(err)) throw new StoreUnavailableError(`signing failed: ${(err as Error).message}`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
