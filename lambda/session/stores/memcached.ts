/**
 * MemcachedStore: sessions in memcached (ElastiCache for Memcached, node-based or serverless),
 * one key per session, `<prefix><id>`, spread over the server list by rendezvous hashing
 * (each key goes to the server with the highest hash of server + key, so removing a server
 * moves only that server's sessions). The value is JSON `{"version","token","createdAt","expiresAt","data"}`.
 *
 * Client: `memcache-client` (text protocol, TLS for ElastiCache Serverless, `gets`/`cas`,
 * per-command timeout that drops a hung connection, reconnect on the next command). It talks
 * to one server per client, so the store keeps one client per server and picks by key.
 *
 * Commands, one round trip each unless noted:
 * - load:          `gets key`  → value + cas token (remembered per id+version in a small LRU).
 *                  When less than half the idle timeout is left, the expiry is slid with a
 *                  `cas` rewrite of the same version (a second round trip, at most once per half
 *                  idle window per session; a lost race keeps what was read).
 * - create:        `add` (stores only if the key is absent); if an expired leftover holds the
 *                  key, it is replaced with `gets` + `cas`.
 * - compareAndSet: `cas` with the cas unique remembered from this store's own load of the
 *                  expected write (1 round trip); otherwise, or when that is stale, `gets`
 *                  (compare version and write token) + `cas`. memcached's cas uniques restart
 *                  from 1 with the server, so they cannot tell writes apart on their own; the
 *                  remembered one only stands for a write whose version and token were read with it.
 *                  EXISTS / NOT_FOUND → false.
 * - delete:        `delete key`;  ping: `version` on every server, healthy while any answers.
 *
 * Why not `gats` (get-and-touch): memcached's clock ticks in whole seconds, so an item set with
 * exptime N lives between N−1 and N seconds (measured: exptime 2 → 1.06–2.00 s). Sliding the
 * idle expiry with memcached's TTL alone would end sessions up to a second early — or, with a
 * margin, late. So the exact expiry (ms) lives in the value and is what the store filters on;
 * memcached's TTL is set to that instant rounded up plus one second, so memcached drops an item
 * after it expired and never before. A TTL slide without rewriting the value would change nothing
 * the store honours, hence the occasional conditional rewrite instead.
 *
 * Every call is bounded by `timeoutMs` and then fails with StoreUnavailableError; a connection
 * that times out is dropped by the client and the next command opens a new one, so the same
 * store works again when the server is back.
 */
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { MemcacheClient } from 'memcache-client';
import { DEFAULTS } from '../env';
import { SessionError, SessionTooLargeError, StoreUnavailableError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkSuccessor, checkWriteToken, sameWrite } from '../write-token';
import { parseStoredJson } from './stored-json';

export interface MemcachedStoreOptions {
  /** `host:port` of each memcached server (ElastiCache: the node endpoints, or the serverless endpoint). */
  readonly servers: readonly string[];
  /** Prefix of every session key. @default 'sess:' */
  readonly keyPrefix?: string;
  /** Bound on every store call, ms, including (re)connecting. @default 2000 */
  readonly timeoutMs?: number;
  /**
   * Largest stored value (the JSON envelope with the data), bytes. memcached refuses items over
   * its item size limit (`-I`, 1 MiB by default, which also counts the key and ~50 bytes of item
   * header). @default 1047552 (1 MiB − 1 KiB)
   */
  readonly maxSessionBytes?: number;
  /** Connect with TLS (ElastiCache Serverless and in-transit encryption need it). @default - plain TCP */
  readonly tls?: ConnectionOptions;
  /** Connections per server; commands are pipelined on each. @default 2 */
  readonly maxConnectionsPerServer?: number;
  /** Session ids whose latest cas token is remembered. @default 10000 */
  readonly casCacheSize?: number;
}

/** What the stored value holds. */
interface SessionValue {
  readonly version: number;
  readonly token: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly data: SessionData;
}

/** The cas unique of one write of a session, as this store last read it. */
interface SeenToken extends WriteStamp {
  readonly cas: string;
  readonly expiresAt: number;
}

/** 1 MiB item limit minus room for the key and memcached's item header. */
export const MEMCACHED_DEFAULT_MAX_BYTES = 1024 * 1024 - 1024;
/** memcached reads an exptime above this many seconds as an absolute unix time. */
export const MEMCACHED_RELATIVE_EXPTIME_MAX = 30 * 24 * 3600;

/**
 * The memcached exptime that keeps an item until at least `atMs` (epoch ms): relative seconds
 * up to 30 days, an absolute unix time beyond (memcached's rule), rounded up plus one second
 * because memcached's whole-second clock can end an item up to a second before its exptime.
 * An instant already past gives -1 (expired at once).
 */
export function memcachedExptime(atMs: number, nowMs: number): number {
  if (atMs <= nowMs) return -1;
  const relative = Math.ceil((atMs - nowMs) / 1000) + 1;
  return relative <= MEMCACHED_RELATIVE_EXPTIME_MAX ? relative : Math.ceil(atMs / 1000) + 1;
}

/** What memcache-client resolves `gets` with. */
interface CasResult {
  readonly value: unknown;
  readonly casUniq: string | number;
}

type StoreReply = 'stored' | 'exists' | 'not_found' | 'not_stored';

export class MemcachedStore implements SessionStore {
  readonly kind = 'memcached';
  readonly maxSessionBytes: number;
  /** Bound on every call, ms. */
  readonly timeoutMs: number;
  private readonly keyPrefix: string;
  private readonly servers: readonly string[];
  private readonly clients: readonly MemcacheClient[];
  private readonly tokens: TokenCache;
  private closed = false;

  constructor(opts: MemcachedStoreOptions) {
    if (opts.servers.length === 0) throw new Error('MemcachedStore needs at least one server');
    for (const s of opts.servers) if (!/^[^:\s]+:\d{1,5}$/.test(s)) throw new Error(`memcached server "${s}" must be host:port`);
    this.keyPrefix = opts.keyPrefix ?? 'sess:';
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    this.maxSessionBytes = opts.maxSessionBytes ?? MEMCACHED_DEFAULT_MAX_BYTES;
    this.tokens = new TokenCache(opts.casCacheSize ?? 10_000);
    this.servers = [...opts.servers];
    this.clients = this.servers.map(
      (server) =>
        new MemcacheClient({
          server: { server, maxConnections: opts.maxConnectionsPerServer ?? 2 },
          cmdTimeout: this.timeoutMs,
          connectTimeout: this.timeoutMs,
          keepAlive: 30_000,
          noDelay: true,
          tls: opts.tls,
        }),
    );
  }

  /** The memcached key of session `id`. */
  keyOf(id: string): string {
    const key = `${this.keyPrefix}${id}`;
    // memcached keys: at most 250 bytes, no whitespace or control characters.
    if (!/^[\x21-\x7e]{1,250}$/.test(key)) throw new Error(`session id is not usable as a memcached key: ${JSON.stringify(id.slice(0, 40))}`);
    return key;
  }

  /** The server (`host:port`) that holds session `id`. */
  serverOf(id: string): string {
    return this.servers[this.indexOf(this.keyOf(id))];
  }

  async load(id: string, opts: LoadOptions): Promise<StoredSession | undefined> {
    const key = this.keyOf(id);
    return this.run('load', key, async (c) => {
      const r = (await c.gets(key)) as CasResult | undefined;
      if (r === undefined) {
        this.tokens.forget(id);
        return undefined;
      }
      const v = decode(id, r.value);
      const deadline = v.createdAt + opts.absoluteTimeoutSeconds * 1000;
      if (v.expiresAt <= opts.now || deadline <= opts.now) {
        // Expired to the ms (memcached drops it within a second or two by itself): never returned.
        this.tokens.forget(id);
        if (deadline <= opts.now) await c.delete(key);
        return undefined;
      }
      const cas = String(r.casUniq);
      const session: StoredSession = { id, ...v };
      const idleMs = opts.idleTimeoutSeconds * 1000;
      const slidTo = Math.min(opts.now + idleMs, deadline);
      if (v.expiresAt - opts.now >= idleMs / 2 || slidTo <= v.expiresAt) {
        this.tokens.remember(id, { version: v.version, token: v.token, cas, expiresAt: v.expiresAt });
        return session;
      }
      // Less than half the idle time left: slide by rewriting the same version, only if unchanged.
      const slid: StoredSession = { ...session, expiresAt: slidTo };
      const reply = await this.store(c, 'cas', slid, opts.now, cas);
      // Either way the token we hold is spent; a concurrent writer's own expiry is fresh anyway.
      this.tokens.forget(id);
      return reply === 'stored' ? slid : session;
    });
  }

  async create(session: StoredSession): Promise<boolean> {
    checkWriteToken(session.token, 'write');
    const key = this.keyOf(session.id);
    const value = this.encode(session);
    return this.run('create', key, async (c) => {
      const now = Date.now();
      if ((await this.store(c, 'add', session, now, undefined, value)) === 'stored') return true;
      // The key is taken. An expired leftover (memcached keeps an item up to ~1 s past its
      // expiry) must not block the id: replace it, unless someone changed it meanwhile.
      const r = (await c.gets(key)) as CasResult | undefined;
      if (r === undefined) return (await this.store(c, 'add', session, now, undefined, value)) === 'stored';
      if (decode(session.id, r.value).expiresAt > Date.now()) return false;
      return (await this.store(c, 'cas', session, now, String(r.casUniq), value)) === 'stored';
    });
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp): Promise<boolean> {
    checkSuccessor('compareAndSet', session, expected);
    const key = this.keyOf(session.id);
    const value = this.encode(session);
    return this.run('compareAndSet', key, async (c) => {
      const seen = this.tokens.get(session.id);
      this.tokens.forget(session.id); // spent either way: `cas` does not return the new token
      if (seen !== undefined && sameWrite(seen, expected)) {
        if (seen.expiresAt <= Date.now()) return false;
        const reply = await this.store(c, 'cas', session, Date.now(), seen.cas, value);
        if (reply === 'stored') return true;
        if (reply === 'not_found') return false;
        // EXISTS: changed since our read — another version, or only a slid expiry. Look.
      }
      const r = (await c.gets(key)) as CasResult | undefined;
      if (r === undefined) return false;
      const current = decode(session.id, r.value);
      if (!sameWrite(current, expected) || current.expiresAt <= Date.now()) return false;
      return (await this.store(c, 'cas', session, Date.now(), String(r.casUniq), value)) === 'stored';
    });
  }

  async delete(id: string): Promise<void> {
    const key = this.keyOf(id);
    this.tokens.forget(id);
    await this.run('delete', key, async (c) => {
      try {
        await c.delete(key);
      } catch (err) {
        if (replyOf(err) !== 'NOT_FOUND') throw err;
      }
    });
  }

  /**
   * `version` on every server; resolves when at least one answers. Memcached does not replicate,
   * so a dead node makes only its own sessions unavailable (their calls fail with
   * StoreUnavailableError); the instance still serves every other session and must stay healthy:
   * failing its health check would take every instance out of the balancer for one node.
   * Rejects with the first error when no server answers.
   */
  async ping(): Promise<void> {
    const results = await Promise.allSettled(this.clients.map((c, i) => this.runOn('ping', this.servers[i], () => c.version())));
    if (results.some((r) => r.status === 'fulfilled')) return;
    throw (results[0] as PromiseRejectedResult).reason;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.clients) c.shutdown();
  }

  /** Size check, then the JSON envelope. */
  private encode(s: StoredSession): string {
    // A slide re-stores the write it read, so the token may be one stored before write tokens ('').
    const token = checkWriteToken(s.token);
    const value = `${JSON.stringify({ version: int(s.version), token, createdAt: int(s.createdAt), expiresAt: int(s.expiresAt) }).slice(0, -1)},"data":${JSON.stringify(s.data)}}`;
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    return value;
  }

  /** One store command (`add` or `cas`); memcached's refusals become replies, not errors. */
  private async store(c: MemcacheClient, cmd: 'add' | 'cas', s: StoredSession, now: number, casUniq?: string, value = this.encode(s)): Promise<StoreReply> {
    const lifetime = memcachedExptime(s.expiresAt, now);
    try {
      if (cmd === 'add') await c.add(this.keyOf(s.id), value, { lifetime });
      else await c.cas(this.keyOf(s.id), value, { lifetime, casUniq: casUniq! });
      return 'stored';
    } catch (err) {
      const reply = replyOf(err);
      if (reply === 'EXISTS') return 'exists';
      if (reply === 'NOT_FOUND') return 'not_found';
      if (reply === 'NOT_STORED') return 'not_stored';
      if (reply === 'SERVER_ERROR' && /too large/i.test(err instanceof Error ? err.message : '')) {
        // The server's item limit (-I) is below this store's maxSessionBytes: nothing was written.
        throw new SessionTooLargeError(Buffer.byteLength(value), this.maxSessionBytes);
      }
      throw err;
    }
  }

  /** Runs `op` on the client of the server that holds `key`, within the bound. */
  private run<T>(what: string, key: string, op: (c: MemcacheClient) => Promise<T>): Promise<T> {
    const i = this.indexOf(key);
    const c = this.clients[i];
    return this.runOn(what, this.servers[i], () => op(c));
  }

  /** Any failure within the bound becomes StoreUnavailableError (typed session errors pass through). */
  private async runOn<T>(what: string, server: string, op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`memcached ${what}: the store is closed`);
    const ms = this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`memcached ${what} on ${server} got no answer within ${ms} ms`)), ms);
    });
    try {
      // Promise.race subscribes to both, so the loser's later rejection is handled; the client's
      // own cmdTimeout then drops the hung connection.
      return await Promise.race([op(), expired]);
    } catch (err) {
      if (err instanceof SessionError) throw err;
      throw new StoreUnavailableError(`memcached ${what} on ${server} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Rendezvous hashing: the server with the highest hash of (server, key). */
  private indexOf(key: string): number {
    if (this.servers.length === 1) return 0;
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < this.servers.length; i++) {
      const score = createHash('sha1').update(this.servers[i]).update('\0').update(key).digest().readUInt32BE(0);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}

/** The first word of memcached's reply when the client rejected with one (EXISTS, NOT_FOUND, …). */
function replyOf(err: unknown): string | undefined {
  const tokens = (err as { cmdTokens?: unknown } | null)?.cmdTokens;
  return Array.isArray(tokens) && typeof tokens[0] === 'string' ? tokens[0] : undefined;
}

function int(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`expected a whole number, got ${n}`);
  return n;
}

/** The stored value back into a session; a value not written by this store is an error, not "no session". */
function decode(id: string, raw: unknown): SessionValue {
  const o = (typeof raw === 'string' ? parseStoredJson(raw, `memcached: the value of session ${id.slice(0, 6)}…`) : raw) as Partial<SessionValue>;
  if (
    typeof o !== 'object' || o === null ||
    typeof o.version !== 'number' || (o.token !== undefined && typeof o.token !== 'string') || typeof o.createdAt !== 'number' || typeof o.expiresAt !== 'number' ||
    typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)
  ) {
    throw new StoreUnavailableError(`memcached: the value of session ${id.slice(0, 6)}… is not a stored session`);
  }
  return { version: o.version, token: o.token ?? '', createdAt: o.createdAt, expiresAt: o.expiresAt, data: o.data };
}

/** Latest version + cas token per session id, least recently used evicted first (Map keeps order). */
class TokenCache {
  private readonly map = new Map<string, SeenToken>();
  constructor(private readonly capacity: number) {}

  get(id: string): SeenToken | undefined {
    return this.map.get(id);
  }

  remember(id: string, t: SeenToken): void {
    this.map.delete(id);
    this.map.set(id, t);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }

  forget(id: string): void {
    this.map.delete(id);
  }
}
