/**
 * SessionManager: the session semantics of design.md on top of any {@link SessionStore}.
 * - load: verify the signed cookie, one store round trip that also slides the idle expiry.
 * - update: optimistic concurrency; on a lost compare-and-set, re-read and re-apply the
 *   caller's function, with bounded, jittered retries; an unchanged session is never written.
 * - modify: load + update from a request's cookies, in one round trip when this manager wrote
 *   the session last and the store can compare-and-set-or-load (Redis).
 * - regenerate (login): new id, data carried, old id deleted. destroy (logout): deleted in the store.
 */
import type { KeyObject } from 'node:crypto';
import { cookieKeys, cookieName, isSignedShape, newSessionId, readCookie, serializeCookie, signSessionId, verifySignedSessionId } from './cookies';
import { setBounded } from './bounded';
import { ConflictError, SessionGoneError, SessionTooLargeError, StoreUnavailableError } from './errors';
import { runtimeMetrics } from './metrics';
import type { LoadOptions, SessionData, SessionStore, StoredSession } from './types';
import { newWriteToken, sameWrite } from './write-token';

export type Session = StoredSession;

/** Verified cookie values kept per manager (about 110 bytes each). */
const VERIFIED_COOKIES_MAX = 10_000;

/** What a manager remembers of a session it wrote: enough to write it again from there. */
interface Written {
  readonly version: number;
  /** The token of that write: the store compares it too, so a copy of a write a failover lost never passes for current. */
  readonly token: string;
  readonly createdAt: number;
  /** The idle expiry as written (another instance's read may have slid it since). */
  readonly expiresAt: number;
  /** `JSON.stringify(data)` as written. */
  readonly data: string;
}

/** What one remembered session costs beyond its data, in characters of the budget (id, object, map slot). */
const WRITTEN_ENTRY_OVERHEAD = 128;

/** Changes a copy of the session data in place, or returns the new data. */
export type SessionUpdate = (data: SessionData) => SessionData | void;

export interface SessionManagerOptions {
  readonly store: SessionStore;
  /** Cookie signing secrets: the first signs, all verify. At least one, each ≥ 32 bytes. */
  readonly secrets: readonly string[];
  /** @default 1800 */
  readonly idleTimeoutSeconds?: number;
  /** @default 43200 */
  readonly absoluteTimeoutSeconds?: number;
  /** Cookie base name; `__Host-` is prefixed when secure. @default 'sid' */
  readonly cookieName?: string;
  /** Secure cookie (HTTPS). `false` only for plain-HTTP local runs. @default true */
  readonly secure?: boolean;
  /** The app's own limit on the serialized session, bytes; the store's limit also applies. @default 65536 */
  readonly maxSessionBytes?: number;
  /** Compare-and-set attempts before ConflictError. @default 40 */
  readonly maxAttempts?: number;
  /**
   * Budget of what this manager keeps of the sessions it wrote last, so that `modify` can write
   * from there in one round trip (stores with `compareAndSetOrLoad`): each session counts the
   * characters of its serialized data plus 128; the oldest go first. The stored version decides:
   * a session changed elsewhere costs the same two round trips as without it, never a lost
   * update (the store compares version and write token). 0 turns it off. @default 8388608 (8 Mi)
   */
  readonly writtenCacheChars?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
  /**
   * Called when a well-formed cookie verifies against none of the secrets: a secret added
   * elsewhere mid-rotation may be missing here. It may reload the secrets (`setSecrets`) and
   * resolves true when it did; the cookie is then verified again. Rate-limit it: forged cookies
   * reach it too (see CookieSecretReloader). @default - none: such a cookie is no session
   */
  readonly onUnknownSignature?: () => Promise<boolean>;
}

export class SessionManager {
  readonly store: SessionStore;
  /** The cookie's full name (with `__Host-` when secure). */
  readonly cookieName: string;
  readonly secure: boolean;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  readonly maxSessionBytes: number;
  /** HMAC keys of the cookie secrets, made once (the first signs, all verify). */
  private keys: readonly KeyObject[];
  /**
   * Cookie values whose signature verified with the current secrets → their session id. An HMAC
   * per request was a tenth of the instance server's CPU on a session read; a browser sends the
   * same cookie on every request. Only exact values that verified are kept (a forged value is
   * never a hit, so it is always checked); it says nothing about the session being live, which
   * the store decides. Bounded, and emptied when the secrets change.
   */
  private readonly verified = new Map<string, string>();
  /**
   * Sessions this manager wrote last, by id, oldest first; their data's characters are
   * `writtenChars`, kept under `writtenMaxChars`. Only with a store that has compareAndSetOrLoad.
   */
  private readonly written = new Map<string, Written>();
  private writtenChars = 0;
  private readonly writtenMaxChars: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly onUnknownSignature?: () => Promise<boolean>;

  constructor(opts: SessionManagerOptions) {
    this.store = opts.store;
    this.secure = opts.secure ?? true;
    this.cookieName = cookieName(opts.cookieName ?? 'sid', this.secure);
    this.idleTimeoutSeconds = opts.idleTimeoutSeconds ?? 1800;
    this.absoluteTimeoutSeconds = opts.absoluteTimeoutSeconds ?? 43200;
    this.maxSessionBytes = Math.min(opts.maxSessionBytes ?? 65536, opts.store.maxSessionBytes);
    this.maxAttempts = opts.maxAttempts ?? 40;
    this.writtenMaxChars = opts.store.compareAndSetOrLoad === undefined ? 0 : (opts.writtenCacheChars ?? 8 * 1024 * 1024);
    this.now = opts.now ?? Date.now;
    this.onUnknownSignature = opts.onUnknownSignature;
    this.keys = [];
    this.setSecrets(opts.secrets);
    if (this.absoluteTimeoutSeconds < this.idleTimeoutSeconds) {
      throw new Error('absoluteTimeoutSeconds must not be shorter than idleTimeoutSeconds');
    }
  }

  /** Replace the cookie secrets (rotation without a restart). */
  setSecrets(secrets: readonly string[]): void {
    if (secrets.length === 0) throw new Error('at least one cookie secret is required');
    if (secrets.some((s) => Buffer.byteLength(s) < 32)) throw new Error('cookie secrets must be at least 32 bytes');
    this.keys = cookieKeys(secrets);
    this.verified.clear(); // a secret taken out of rotation must stop verifying at once
  }

  /** The session id in a Cookie header (or API Gateway v2 `cookies`), if its signature verifies. */
  idFromCookies(cookies: string | readonly string[] | undefined): string | undefined {
    const value = readCookie(cookies, this.cookieName);
    if (value === undefined) return undefined;
    const known = this.verified.get(value);
    if (known !== undefined) return known;
    const id = verifySignedSessionId(value, this.keys);
    if (id !== undefined) {
      // Map order is insertion order: when full, forget the oldest entry.
      setBounded(this.verified, value, id, VERIFIED_COOKIES_MAX);
    }
    return id;
  }

  /**
   * The session id in a cookie that verified against no secret, once `onUnknownSignature` has
   * reloaded the secrets; undefined when there is no such cookie or hook, or it still does not verify.
   */
  async idAfterSecretReload(cookies: string | readonly string[] | undefined): Promise<string | undefined> {
    if (this.onUnknownSignature === undefined || !isSignedShape(readCookie(cookies, this.cookieName))) return undefined;
    return (await this.onUnknownSignature()) ? this.idFromCookies(cookies) : undefined;
  }

  /**
   * True for a cookie of the signed shape that verifies against no secret known here while this
   * manager reloads its secrets (`onUnknownSignature`): it may be signed with a secret this
   * process has not loaded yet (a rotation in progress), so the app must not clear it.
   */
  mayBeSignedWithNewerSecret(cookies: string | readonly string[] | undefined): boolean {
    return this.onUnknownSignature !== undefined && isSignedShape(readCookie(cookies, this.cookieName)) && this.idFromCookies(cookies) === undefined;
  }

  /** The live session named by the request's cookie; undefined for no, bad or expired cookie. */
  load(cookies: string | readonly string[] | undefined): Promise<Session | undefined> {
    const id = this.idFromCookies(cookies); // never throws
    if (id !== undefined) return this.loadById(id);
    if (this.onUnknownSignature === undefined) return Promise.resolve(undefined);
    return this.idAfterSecretReload(cookies).then((again) => (again === undefined ? undefined : this.loadById(again)));
  }

  /** The live session with this id (one store round trip, slides the idle expiry). */
  async loadById(id: string): Promise<Session | undefined> {
    const now = this.now();
    const s = await this.store.load(id, this.loadOptions(now));
    const w = this.written.get(id);
    if (w !== undefined && (s === undefined || !sameWrite(s, w))) this.forget(id); // gone, or written elsewhere since
    if (s === undefined) return undefined;
    if (s.expiresAt <= now || this.absoluteDeadline(s) <= now) {
      runtimeMetrics.count('SessionsExpired');
      if (this.absoluteDeadline(s) <= now) await this.store.delete(id);
      return undefined;
    }
    return s;
  }

  /** A new session holding `data`. */
  async create(data: SessionData = {}): Promise<Session> {
    const serialized = JSON.stringify(data);
    this.checkBytes(Buffer.byteLength(serialized));
    const now = this.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const s: Session = { id: newSessionId(), data, version: 1, token: newWriteToken(), createdAt: now, expiresAt: this.expiry(now, now) };
      if (await this.store.create(s)) {
        runtimeMetrics.count('SessionsCreated');
        this.remember(s, serialized);
        return s;
      }
    }
    // Five collisions of 192-bit random ids means the store is not behaving.
    throw new StoreUnavailableError('could not create a session with a fresh id');
  }

  /**
   * Apply `fn` to the session's data and store it with compare-and-set. On a conflict the
   * session is re-read and `fn` re-applied to the fresh data, up to `maxAttempts` times.
   * When `fn` leaves the data unchanged nothing is written and the session is returned as is.
   */
  async update(session: Session, fn: SessionUpdate): Promise<Session> {
    let current: Session | undefined = session;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const before = JSON.stringify(current.data);
      const { next, after } = apply(before, fn);
      if (after === before) return current; // unchanged: never written back
      this.checkBytes(Buffer.byteLength(after));
      const written = this.successor(current, next, this.now());
      const started = Date.now();
      if (await this.store.compareAndSet(written, current, after)) {
        this.remember(written, after);
        return written;
      }
      runtimeMetrics.count('CasConflicts');
      if (attempt < this.maxAttempts) {
        runtimeMetrics.count('CasRetries');
        await backoff(attempt, Date.now() - started);
      }
      current = await this.loadById(session.id);
      if (current === undefined) throw new SessionGoneError();
    }
    runtimeMetrics.count('CasExhausted');
    throw this.conflict();
  }

  /**
   * The request's session with `fn` applied, as `load` then `update` would give it; undefined
   * when there is no live session (nothing written). When this manager wrote the session last
   * (every request of a sticky session does) and the store has compareAndSetOrLoad, it writes
   * from the write it made (version and token), in one round trip. If that is no longer the stored one,
   * the store answers with the current session instead, and `update` takes over from it: `fn`
   * re-applied, then update's own retries, each re-reading after its backoff (data read before a
   * backoff would be stale by the time it is written, and contenders would keep colliding).
   */
  async modify(cookies: string | readonly string[] | undefined, fn: SessionUpdate): Promise<Session | undefined> {
    const id = this.idFromCookies(cookies) ?? (await this.idAfterSecretReload(cookies));
    return id === undefined ? undefined : this.modifyById(id, fn);
  }

  /** {@link modify} for a session id already taken from a verified cookie. */
  async modifyById(id: string, fn: SessionUpdate): Promise<Session | undefined> {
    const now = this.now();
    const base = this.written.get(id);
    const applied = base !== undefined && base.expiresAt > now && this.absoluteDeadline(base) > now ? applyTo(base.data, fn) : undefined;
    if (base === undefined || applied === undefined || this.store.compareAndSetOrLoad === undefined || applied.after === base.data || Buffer.byteLength(applied.after) > this.maxSessionBytes) {
      // Nothing usable remembered (none, or past its expiry as written), or fn left it unchanged,
      // refused it or made it too large: a read decides, as without the cache. It tells whether
      // the session is live (and slides it), and the stored data, not a remembered copy, is judged.
      const s = await this.loadById(id);
      return s === undefined ? undefined : this.update(s, fn);
    }
    const written = this.successor({ id, ...base }, applied.next, now);
    const reply = await this.store.compareAndSetOrLoad(written, base, applied.after, this.loadOptions(now));
    if (reply === true) {
      this.remember(written, applied.after);
      return written;
    }
    this.forget(id);
    if (reply !== undefined) runtimeMetrics.count('CasConflicts'); // written elsewhere since: update re-applies fn on the stored one
    return reply === undefined ? undefined : this.update(reply, fn);
  }

  /**
   * Login: a new id carrying the old session's data with `fn` applied (`fn` decides what is
   * carried: the reference app keeps only an anonymous session's or the same user's), then the
   * old id is deleted, so a fixated id is worthless. The new session is stored before the old one goes.
   */
  async regenerate(old: Session | undefined, fn?: SessionUpdate): Promise<Session> {
    const data = JSON.parse(JSON.stringify(old?.data ?? {})) as SessionData;
    const next = (fn ? fn(data) : undefined) ?? data;
    const fresh = await this.create(next);
    if (old !== undefined) await this.destroy(old);
    return fresh;
  }

  /** Logout: the session is deleted in the store. */
  async destroy(session: Session | string): Promise<void> {
    const id = typeof session === 'string' ? session : session.id;
    this.forget(id);
    await this.store.delete(id);
    runtimeMetrics.count('SessionsDestroyed');
  }

  /** Set-Cookie value carrying the signed id; lives until the absolute deadline. */
  setCookie(session: Session): string {
    const maxAge = Math.max(0, Math.floor((this.absoluteDeadline(session) - this.now()) / 1000));
    return serializeCookie(this.cookieName, signSessionId(session.id, this.keys), { secure: this.secure, maxAgeSeconds: maxAge });
  }

  /** Set-Cookie value that removes the cookie. */
  clearCookie(): string {
    return serializeCookie(this.cookieName, '', { secure: this.secure, maxAgeSeconds: 0 });
  }

  /** Serialized size of `data` in bytes, as the limit counts it. */
  sizeOf(data: SessionData): number {
    return Buffer.byteLength(JSON.stringify(data));
  }

  /** The session that replaces `s` with `data`: the next version with a new write token, its idle expiry slid from `now`. */
  private successor(s: Pick<Session, 'id' | 'version' | 'createdAt'>, data: SessionData, now: number): Session {
    return { id: s.id, data, version: s.version + 1, token: newWriteToken(), createdAt: s.createdAt, expiresAt: this.expiry(s.createdAt, now) };
  }

  private loadOptions(now: number): LoadOptions {
    return { now, idleTimeoutSeconds: this.idleTimeoutSeconds, absoluteTimeoutSeconds: this.absoluteTimeoutSeconds };
  }

  private conflict(): ConflictError {
    return new ConflictError(`session changed concurrently ${this.maxAttempts} times in a row; update not applied`);
  }

  /** Keep what was just written (newest last); the oldest go first past the budget. */
  private remember(s: Session, data: string): void {
    if (this.writtenMaxChars === 0) return;
    this.forget(s.id);
    const cost = data.length + WRITTEN_ENTRY_OVERHEAD;
    if (cost > this.writtenMaxChars / 16) return; // no one session takes a large share
    this.written.set(s.id, { version: s.version, token: s.token, createdAt: s.createdAt, expiresAt: s.expiresAt, data });
    this.writtenChars += cost;
    for (const [id, w] of this.written) {
      if (this.writtenChars <= this.writtenMaxChars) break;
      this.written.delete(id);
      this.writtenChars -= w.data.length + WRITTEN_ENTRY_OVERHEAD;
    }
  }

  private forget(id: string): void {
    const w = this.written.get(id);
    if (w === undefined) return;
    this.written.delete(id);
    this.writtenChars -= w.data.length + WRITTEN_ENTRY_OVERHEAD;
  }

  private checkBytes(bytes: number): void {
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
  }

  private absoluteDeadline(s: Pick<Session, 'createdAt'>): number {
    return s.createdAt + this.absoluteTimeoutSeconds * 1000;
  }

  private expiry(createdAt: number, now: number): number {
    return Math.min(now + this.idleTimeoutSeconds * 1000, this.absoluteDeadline({ createdAt }));
  }
}

/** `fn` applied to a copy of serialized data, and the result serialized. */
function apply(serialized: string, fn: SessionUpdate): { next: SessionData; after: string } {
  const data = JSON.parse(serialized) as SessionData;
  const next = fn(data) ?? data;
  return { next, after: JSON.stringify(next) };
}

/** {@link apply}, or undefined when `fn` throws (modify then judges the stored data instead). */
function applyTo(serialized: string, fn: SessionUpdate): { next: SessionData; after: string } | undefined {
  try {
    return apply(serialized, fn);
  } catch {
    return undefined;
  }
}

/**
 * Jittered exponential backoff: a random wait up to 1, 2, 4, … 32 ms, or up to a few times the
 * store's own round trip when that is longer. A fixed cap shorter than the round trip would let
 * contenders on a slow store collide again and again; scaling with it spreads their retries.
 */
function backoff(attempt: number, roundTripMs: number): Promise<void> {
  const cap = Math.max(Math.min(32, 2 ** Math.min(attempt, 5)), Math.min(roundTripMs * Math.min(attempt, 4), 1000));
  return new Promise((r) => setTimeout(r, Math.random() * cap));
}
