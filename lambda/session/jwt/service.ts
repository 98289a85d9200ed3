/**
 * Stateless JWT sessions: the session (user, cart, prefs) lives in a short-lived ES256 access
 * token in the session cookie; nothing is stored per session.
 *
 * - A session starts at login ({@link JwtSessionService.issue}): a new session id (`sid`, 128
 *   random bits) and session start (`sst`, epoch ms). Every change re-issues the token
 *   ({@link JwtSessionService.renew}: new jti, fresh iat/nbf/exp) with the same sid and sst.
 * - Lifetime: exp = now + TTL, never past sst + the absolute timeout; a token whose session
 *   started more than the absolute timeout ago is refused whatever its exp, and is not renewed.
 * - The whole Set-Cookie `name=value` must fit {@link MAX_COOKIE_BYTES}; a bigger token is refused
 *   with SessionTooLargeError (→ 413) before anything is signed, so the client's old token stays valid.
 * - load: verify (./token.ts), the absolute timeout, then, with revocation check `always`, the
 *   denylist (one BatchGetItem: jti, sid, user). A denylist that does not answer is a
 *   StoreUnavailableError (→ 503): a token is never accepted unchecked.
 * - logout: the session id goes on the denylist until the last token of the session has expired,
 *   so the login token and every renewal are refused. Log out everywhere: the user's revocation
 *   instant (epoch ms) goes on the denylist; every session of the user that started at or before
 *   it is refused. Sessions are compared by start (not by token issue time), so a renewal racing
 *   the revocation cannot outlive it, and in milliseconds, so a login right after it works.
 * - custom claims: the app's own claims (roles, tenant, ...) ride in the token beside the service's;
 *   a reserved name (RESERVED_CLAIMS: iss, sub, aud, exp, nbf, iat, jti, sid, sst, typ, cart,
 *   prefs) is refused with a TypeError, so they can never override the security claims. A renewal
 *   keeps them unless it gives new ones. They count against the cookie limit.
 * - jwks: current + previous public keys, for other verifiers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cookieName as fullCookieName, readCookie, serializeCookie } from '../cookies';
import { DEFAULTS } from '../env';
import { SessionTooLargeError, StoreUnavailableError } from '../errors';
import { runtimeMetrics } from '../metrics';
import { isUnavailable } from '../stores/aws-call';
import type { Denylist } from './denylist';
import type { JwtSigner, PublicJwk } from './keys';
import { checkCustomClaims, newJti, signingInput, signToken, tokenHeader, tokenLength, tokenPayload, TokenRejectedError, TokenVerifier } from './token';
import type { SessionClaims } from './token';

/** How much longer than the tokens it revokes a denylist entry lives (clock tolerance and skew between instances), seconds. */
const REVOCATION_MARGIN_SECONDS = 60;

/** Browsers' limit on one cookie: the `name=value` of a Set-Cookie, in bytes (RFC 6265 §6.1 minimum). */
export const MAX_COOKIE_BYTES = 4096;

/** What the app puts in a token. */
export interface SessionContent {
  /** The user (`sub`). */
  readonly sub: string;
  /** The reference app's cart lines (`cart` claim); `[]` for none. */
  readonly cart: readonly unknown[];
  /** The reference app's preferences (`prefs` claim); `{}` for none. */
  readonly prefs: Readonly<Record<string, string>>;
  /**
   * The app's own claims, JSON values under any name not in RESERVED_CLAIMS (a reserved one throws
   * a TypeError). Verified tokens give them back as `claims.custom`.
   * @default {}
   */
  readonly custom?: Readonly<Record<string, unknown>>;
}

/** The data a renewal changes; the subject, session id and session start stay. */
export interface SessionData {
  /** The renewed token's cart lines. */
  readonly cart: readonly unknown[];
  /** The renewed token's preferences. */
  readonly prefs: Readonly<Record<string, string>>;
  /** The app's own claims of the renewed token (as {@link SessionContent.custom}). @default - the session's current ones */
  readonly custom?: Readonly<Record<string, unknown>>;
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
  /** Absolute timeout, seconds from the session's start (login), however often it is renewed. @default 43200 */
  readonly absoluteTimeoutSeconds?: number;
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
  readonly absoluteTimeoutSeconds: number;
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
    this.absoluteTimeoutSeconds = opts.absoluteTimeoutSeconds ?? DEFAULTS.absoluteTimeoutSeconds;
    if (!(this.ttlSeconds > 0) || !(this.absoluteTimeoutSeconds > 0)) throw new RangeError('ttlSeconds and absoluteTimeoutSeconds must be positive');
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
   * Starts a session (login): a token for `content` with a new session id and session start, and
   * its Set-Cookie value. Throws SessionTooLargeError, before signing, when the cookie would
   * exceed {@link MAX_COOKIE_BYTES}.
   */
  async issue(content: SessionContent): Promise<IssuedToken> {
    return this.mint(content, newJti(), this.now());
  }

  /**
   * Re-issues `session`'s token with `data` (same subject, session id and session start; new jti,
   * fresh iat/nbf/exp). Throws TokenRejectedError `absolute_timeout` when the session has no
   * whole second left before its absolute timeout, SessionTooLargeError as {@link issue}.
   */
  async renew(session: JwtSession, data: SessionData): Promise<IssuedToken> {
    const { sub, sid, sst } = session.claims;
    return this.mint({ sub, cart: data.cart, prefs: data.prefs, custom: data.custom ?? session.claims.custom }, sid, sst);
  }

  /** Epoch ms at which a session started at `sst` ends, however often it is renewed. */
  sessionEnd(sst: number): number {
    return sst + this.absoluteTimeoutSeconds * 1000;
  }

  private async mint(content: SessionContent, sid: string, sst: number): Promise<IssuedToken> {
    const signer = this.signer;
    if (!signer) throw new Error('this process has no signing key (verify-only)');
    const custom = checkCustomClaims(content.custom);
    const now = Math.floor(this.now() / 1000);
    // Never past the absolute timeout: the last token of a session expires with the session.
    const exp = Math.min(now + this.ttlSeconds, Math.floor(this.sessionEnd(sst) / 1000));
    if (exp <= now) throw new TokenRejectedError('absolute_timeout', 'the session has reached its absolute timeout');
    const claims: SessionClaims = {
      sub: content.sub,
      cart: [...content.cart],
      prefs: { ...content.prefs },
      sid,
      sst,
      iat: now,
      nbf: now,
      exp,
      jti: newJti(),
      iss: this.issuer,
      aud: this.audience,
      custom,
    };
    const cookieBytes = Buffer.byteLength(this.cookieName) + 1 + tokenLength(signingInput(tokenHeader(signer.kid), tokenPayload(claims)));
    if (cookieBytes > MAX_COOKIE_BYTES) throw new SessionTooLargeError(cookieBytes, MAX_COOKIE_BYTES);
    const token = await this.sign(signer, claims);
    return { token, claims, kid: signer.kid, setCookie: this.setCookie(token, claims.exp) };
  }

  /**
   * Verify a token, refuse it once its session is past the absolute timeout and, with revocation
   * check `always`, consult the denylist (token, session and user in one request).
   * Throws TokenRejectedError (bad / expired / revoked) or StoreUnavailableError (denylist down).
   */
  async verify(token: string): Promise<JwtSession> {
    const { claims, kid } = await this.verifier.verify(token);
    // By the verifier's clock and without tolerance: ending a session a few seconds early is the safe side.
    if (this.now() >= this.sessionEnd(claims.sst)) throw new TokenRejectedError('absolute_timeout', 'the session started more than the absolute timeout ago');
    if (this.revocationCheck === 'always') {
      const verdict = await this.denylist!.check(claims);
      if (verdict === 'revoked') throw new TokenRejectedError('revoked', 'the token was revoked');
      if (verdict === 'revoked_session') throw new TokenRejectedError('revoked_session', 'the session was logged out');
      if (verdict === 'revoked_user') throw new TokenRejectedError('revoked_user', "the session started before the user's log-out-everywhere");
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
      if (err instanceof TokenRejectedError) {
        runtimeMetrics.count(err.reason === 'revoked' || err.reason === 'revoked_session' || err.reason === 'revoked_user' ? 'JwtRevoked' : 'JwtRejected');
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Logout: every token of `session`'s session (login token, every renewal) is denied, until the
   * last of them could expire (TTL from now, never past the absolute timeout, plus the clock
   * tolerance). Without a denylist there is nothing to record.
   */
  async revoke(session: JwtSession): Promise<void> {
    await this.denylist?.revokeSession(session.claims.sid, this.revocationUntil(session.claims.sst));
  }

  /**
   * Log out everywhere: every session of `sub` that started up to now is denied. Resolves once
   * this process's clock has passed the revocation instant, so a login that follows on this
   * process starts after it. The entry lives as long as such a session's tokens could. Needs a denylist.
   */
  async revokeEverywhere(sub: string): Promise<void> {
    if (!this.denylist) throw new Error('log out everywhere needs a revocation table');
    const at = this.now();
    await this.denylist.revokeUser(sub, at, this.revocationUntil(at));
    // A login in the same millisecond could not be told apart from one just before; wait that millisecond out.
    const left = at + 1 - this.now();
    if (left > 0) await sleep(Math.min(left, 2));
  }

  /** Epoch s until which a revocation must last: no token of a session started at `sst` and issued by now lives longer. */
  private revocationUntil(sst: number): number {
    const nowS = Math.ceil(this.now() / 1000);
    return Math.min(nowS + this.ttlSeconds, Math.ceil(this.sessionEnd(sst) / 1000)) + REVOCATION_MARGIN_SECONDS;
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
      return await Promise.race([signToken(signer, tokenPayload(claims)), expired]);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      if (isUnavailable(err)) throw new StoreUnavailableError(`signing failed: ${(err as Error).message}`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
