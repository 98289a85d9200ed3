/**
 * Instance-local store for the sticky-sessions topology. Its sessions live in this process and
 * die with it: that is exactly the weakness the seed's table lists for sticky sessions, and
 * the lab measures it. Values are kept serialized so callers can never mutate stored state.
 *
 * Bounded by count and by bytes with LRU eviction: anonymous login spam can otherwise grow the
 * heap until the instance dies. Past either bound the least recently used session (read or
 * written) is dropped; it is simply gone, as if it had expired (its cookie then gets a 401).
 */
import { SessionTooLargeError } from '../errors';
import type { SessionStore, StoredSession, WriteStamp } from '../types';
import { sameWrite } from '../write-token';

/** Default {@link MemoryStoreOptions.maxSessions}. */
export const MEMORY_DEFAULT_MAX_SESSIONS = 100_000;
/** Default {@link MemoryStoreOptions.maxBytes}: 64 MiB of session JSON. */
export const MEMORY_DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface MemoryStoreOptions {
  /** Largest serialized session, bytes. @default 1048576 */
  readonly maxSessionBytes?: number;
  /** Expired entries are swept every this many writes. @default 1000 */
  readonly sweepEvery?: number;
  /**
   * Most sessions held; a new one past it evicts the least recently used.
   * @default MEMORY_DEFAULT_MAX_SESSIONS (100000)
   */
  readonly maxSessions?: number;
  /**
   * Most bytes of session data held (the UTF-8 length of each stored session's JSON); past it
   * the least recently used sessions are evicted. At least `maxSessionBytes`.
   * @default MEMORY_DEFAULT_MAX_BYTES (64 MiB)
   */
  readonly maxBytes?: number;
}

interface Entry {
  readonly json: string;
  readonly version: number;
  readonly token: string;
  expiresAt: number;
  /** UTF-8 length of `json`, as counted against `maxBytes`. */
  readonly bytes: number;
}

export class MemoryStore implements SessionStore {
  readonly kind = 'memory';
  readonly maxSessionBytes: number;
  /** Most sessions held. */
  readonly maxSessions: number;
  /** Most bytes of session JSON held. */
  readonly maxBytes: number;
  /** Sessions in least-recently-used-first order: a Map iterates in insertion order, and a use re-inserts. */
  private readonly entries = new Map<string, Entry>();
  private readonly sweepEvery: number;
  private writes = 0;
  private heldBytes = 0;
  private evictedCount = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxSessionBytes = opts.maxSessionBytes ?? 1024 * 1024;
    this.sweepEvery = opts.sweepEvery ?? 1000;
    this.maxSessions = opts.maxSessions ?? MEMORY_DEFAULT_MAX_SESSIONS;
    this.maxBytes = opts.maxBytes ?? MEMORY_DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxSessions) || this.maxSessions < 1) throw new RangeError(`maxSessions must be a whole number >= 1, got ${this.maxSessions}`);
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < this.maxSessionBytes) {
      throw new RangeError(`maxBytes must be a whole number >= maxSessionBytes (${this.maxSessionBytes}), got ${this.maxBytes}`);
    }
  }

  /** Number of sessions held (live or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes of session JSON held (counted against `maxBytes`). */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Sessions dropped to stay within the bounds since the store was made. */
  get evictions(): number {
    return this.evictedCount;
  }

  async load(id: string, opts: { now: number; idleTimeoutSeconds: number }): Promise<StoredSession | undefined> {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    if (e.expiresAt <= opts.now) {
      this.remove(id, e);
      return undefined;
    }
    // A read makes it the most recently used.
    this.entries.delete(id);
    this.entries.set(id, e);
    const s = JSON.parse(e.json) as StoredSession;
    e.expiresAt = Math.max(e.expiresAt, opts.now + opts.idleTimeoutSeconds * 1000);
    return { ...s, expiresAt: e.expiresAt };
  }

  async create(session: StoredSession): Promise<boolean> {
    const json = this.serialize(session);
    const existing = this.entries.get(session.id);
    if (existing !== undefined && existing.expiresAt > Date.now()) return false;
    this.put(session, json);
    return true;
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp): Promise<boolean> {
    const json = this.serialize(session);
    const e = this.entries.get(session.id);
    if (e === undefined || !sameWrite(e, expected) || e.expiresAt <= Date.now()) return false;
    this.put(session, json);
    return true;
  }

  async delete(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e !== undefined) this.remove(id, e);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.heldBytes = 0;
  }

  private serialize(session: StoredSession): string {
    const json = JSON.stringify(session);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    return json;
  }

  private put(session: StoredSession, json: string): void {
    const old = this.entries.get(session.id);
    if (old !== undefined) this.remove(session.id, old);
    const entry: Entry = { json, version: session.version, token: session.token, expiresAt: session.expiresAt, bytes: Buffer.byteLength(json) };
    this.entries.set(session.id, entry);
    this.heldBytes += entry.bytes;
    if (++this.writes % this.sweepEvery === 0) this.sweep(Date.now());
    this.evict(session.id);
  }

  /** Drops least recently used sessions until both bounds hold; never `keep` (the one just written, within maxSessionBytes <= maxBytes). */
  private evict(keep: string): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxSessions && this.heldBytes <= this.maxBytes) return;
      if (id === keep) continue;
      this.remove(id, e);
      this.evictedCount++;
    }
  }

  private remove(id: string, e: Entry): void {
    this.entries.delete(id);
    this.heldBytes -= e.bytes;
  }

  private sweep(now: number): void {
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.remove(id, e);
  }
}
