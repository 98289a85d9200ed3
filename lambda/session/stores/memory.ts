/**
 * Instance-local store for the sticky-sessions topology. Its sessions live in this process and
 * die with it: that is exactly the weakness the seed's table lists for sticky sessions, and
 * the lab measures it. Values are kept serialized so callers can never mutate stored state.
 */
import { SessionTooLargeError } from '../errors';
import type { SessionStore, StoredSession, WriteStamp } from '../types';
import { sameWrite } from '../write-token';

export interface MemoryStoreOptions {
  /** Largest serialized session, bytes. @default 1048576 */
  readonly maxSessionBytes?: number;
  /** Expired entries are swept every this many writes. @default 1000 */
  readonly sweepEvery?: number;
}

interface Entry {
  readonly json: string;
  readonly version: number;
  readonly token: string;
  expiresAt: number;
}

export class MemoryStore implements SessionStore {
  readonly kind = 'memory';
  readonly maxSessionBytes: number;
  private readonly entries = new Map<string, Entry>();
  private readonly sweepEvery: number;
  private writes = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxSessionBytes = opts.maxSessionBytes ?? 1024 * 1024;
    this.sweepEvery = opts.sweepEvery ?? 1000;
  }

  /** Number of sessions held (live or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  async load(id: string, opts: { now: number; idleTimeoutSeconds: number }): Promise<StoredSession | undefined> {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    if (e.expiresAt <= opts.now) {
      this.entries.delete(id);
      return undefined;
    }
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
    this.entries.delete(id);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
  }

  private serialize(session: StoredSession): string {
    const json = JSON.stringify(session);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    return json;
  }

  private put(session: StoredSession, json: string): void {
    this.entries.set(session.id, { json, version: session.version, token: session.token, expiresAt: session.expiresAt });
    if (++this.writes % this.sweepEvery === 0) this.sweep(Date.now());
  }

  private sweep(now: number): void {
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
  }
}
