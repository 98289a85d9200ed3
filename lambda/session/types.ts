/** The contract between the SessionManager and every store backend. */

/** Session payload: any JSON object. */
export type SessionData = Record<string, unknown>;

/**
 * What a compare-and-set expects to find stored: the version and the token of the write that
 * stored it. A version alone can repeat: when a failover loses version 2, another writer's
 * version 2 takes its place, and a copy of the lost one would look current. The token cannot.
 */
export interface WriteStamp {
  /** Starts at 1 on create; every successful write adds 1. */
  readonly version: number;
  /**
   * Random per write (96 bits, base64url, from `newWriteToken`); stores compare it with the
   * version. `''` only for a session stored before write tokens existed.
   */
  readonly token: string;
}

/** A session as a store keeps it. All times are epoch milliseconds. */
export interface StoredSession extends WriteStamp {
  /** Opaque id (base64url of ≥ 16 random bytes). */
  readonly id: string;
  readonly data: SessionData;
  /** Creation time: the absolute timeout counts from here. */
  readonly createdAt: number;
  /** When the session dies unless used again: min(last use + idle timeout, createdAt + absolute timeout). */
  readonly expiresAt: number;
}

/** What `load` needs to know: the time, and the timeouts it slides and checks. */
export interface LoadOptions {
  readonly now: number;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
}

/**
 * One backend. Every method is bounded in time (throws StoreUnavailableError past the bound)
 * and never loses a write silently.
 */
export interface SessionStore {
  /** `memory`, `redis`, `dynamodb`, `s3`, … */
  readonly kind: string;
  /** Largest serialized session this store can hold, bytes (before the manager's own limit). */
  readonly maxSessionBytes: number;

  /**
   * One round trip: return the session if present and not expired at `now`, and slide its
   * expiry to `expiresAt` (the caller has already capped it at the absolute deadline when it
   * can; stores that cannot know createdAt before reading may slide by `idleTimeoutSeconds`
   * and leave the absolute check to the manager). A store that expires lazily must filter
   * here: an expired session is never returned. Changes neither version nor token.
   */
  load(id: string, opts: LoadOptions): Promise<StoredSession | undefined>;

  /**
   * Write a new session only if no session with this id exists. Returns false if one does
   * (the caller picks a new id). Throws SessionTooLargeError before writing anything if too large.
   */
  create(session: StoredSession): Promise<boolean>;

  /**
   * Replace the session only if the stored one is still the write `expected` names: same version
   * and same token (`session.version` must be `expected.version + 1`, with a new token). Returns
   * false on a mismatch or when the session is gone. Throws SessionTooLargeError before writing anything if too large.
   * `serializedData`, when given, is `JSON.stringify(session.data)`, which the caller already
   * has (the manager compares it to tell a change): a store may write it instead of serializing again.
   */
  compareAndSet(session: StoredSession, expected: WriteStamp, serializedData?: string): Promise<boolean>;

  /**
   * Optional, for a store that can do it in the same round trip: `compareAndSet`, except that
   * on a mismatch it answers with the stored session, read and slid as `load` would
   * (so a writer that started from a version it knew retries without a separate read), and
   * `undefined` when the session is gone or past its absolute timeout. `true` when written.
   */
  compareAndSetOrLoad?(session: StoredSession, expected: WriteStamp, serializedData: string, opts: LoadOptions): Promise<true | StoredSession | undefined>;

  /** Delete the session (no error if it is already gone). */
  delete(id: string): Promise<void>;

  /** Cheap liveness check for /healthz; throws StoreUnavailableError when the store does not answer. */
  ping(): Promise<void>;

  /** Release connections (tests, graceful shutdown). */
  close(): Promise<void>;
}
