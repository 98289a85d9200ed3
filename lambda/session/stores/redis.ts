/**
 * RedisStore: sessions in Redis or Valkey (standalone or cluster mode, TLS, AUTH/ACL), one key
 * per session, `<prefix>{<id>}` — the hash tag keeps everything of a session in one slot.
 *
 * Commands, one round trip each:
 * - load:          GETEX key PX <idle ms>            (reads and slides the idle expiry)
 * - create:        SET key value PXAT <expiresAt> NX
 * - compareAndSet: EVALSHA (Lua: GET, compare version and write token, SET value PXAT <expiresAt>)
 * - compareAndSetOrLoad: EVALSHA (the same script: on a mismatch PEXPIRE and return the value)
 * - delete:        UNLINK key;  ping: PING
 *
 * Every call is bounded by `commandTimeoutMs` and then fails with StoreUnavailableError; the
 * client reconnects in the background forever, so the same store works again when Redis does.
 */
import type { Cluster, Redis, Result } from 'ioredis';
import { SessionError, SessionTooLargeError, StoreUnavailableError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkSuccessor, checkWriteToken } from '../write-token';
import { createRedisClient, isAuthError } from './redis-client';
import type { RedisClient, RedisConnectionOptions, RedisCredentials } from './redis-client';
import { parseStoredJson } from './stored-json';

export { isAuthError, parseRedisUrl } from './redis-client';
export type { RedisClient, RedisConnectionOptions, RedisCredentials } from './redis-client';

/**
 * Compares the stored write (the version and write token leading the JSON value, given whole in
 * ARGV[1] as the prefix they make, e.g. `{"v":2,"t":"…",`) and replaces value and expiry: 1 when
 * written, nil when the session is gone. On a mismatch: 0, or, when an idle timeout in ms is
 * given as ARGV[4], the stored value with its idle expiry slid (as GETEX PX does on a load), so
 * the writer can re-apply its change without another read. The token, not the version, is what
 * tells a lost write from another writer's: after a failover both can be version 2.
 */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
if string.sub(cur, 1, #ARGV[1]) ~= ARGV[1] then
  if not ARGV[4] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return cur
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** {@link CAS_SCRIPT}, defined on each client by RedisStore. */
    sessionCas(key: string, expectedPrefix: string, value: string, pxat: string, idleMs?: string): Result<number | string | null, Context>;
  }
}

/** Where the store writes its warnings (a Powertools Logger fits). */
export interface RedisStoreLogger {
  warn(message: string): void;
}

interface RedisStoreCommonOptions {
  /** Prefix of every session key. @default 'sess:' */
  readonly keyPrefix?: string;
  /** Bound on every store call, ms, including waiting for a (re)connection. @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Largest serialized session data accepted, bytes. @default 524288 (512 KiB) */
  readonly maxSessionBytes?: number;
  /** @default console */
  readonly logger?: RedisStoreLogger;
}

/** Build the client from connection settings (the store owns it and closes it). */
export interface RedisStoreOptions extends RedisConnectionOptions, RedisStoreCommonOptions {
  /**
   * Called when Redis rejects the credentials (WRONGPASS/NOAUTH), e.g. after the AUTH token was
   * rotated: return the current ones (from Secrets Manager) and the store reconnects with them.
   * Called at most once per `credentialsRefreshIntervalMs`.
   * @default - no refresh; use {@link RedisStore.setCredentials} by hand
   */
  readonly refreshCredentials?: () => Promise<RedisCredentials>;
  /** Least time between two `refreshCredentials` calls, ms. @default 5000 */
  readonly credentialsRefreshIntervalMs?: number;
}

/**
 * Use a client you built (the store does not close it; credentials cannot be replaced). The store
 * corks its connections from its first command of an event-loop turn until setImmediate, so your
 * own commands sent later in that turn leave with them, at the end of the turn.
 */
export interface RedisStoreClientOptions extends RedisStoreCommonOptions {
  /** A ready ioredis Redis or Cluster. */
  readonly client: RedisClient;
}

const DEFAULT_MAX_BYTES = 512 * 1024;

export class RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly maxSessionBytes: number;
  /** Bound on every call, ms. */
  readonly commandTimeoutMs: number;
  private readonly keyPrefix: string;
  private readonly logger: RedisStoreLogger;
  private readonly connection?: RedisStoreOptions;
  private client: RedisClient;
  private credentials?: RedisCredentials;
  private lastRefresh = 0;
  private refreshing?: Promise<void>;
  private failing = false;
  /** A connection is corked until the next setImmediate ({@link corkUntilImmediate}). */
  private corked = false;
  private closed = false;

  constructor(opts: RedisStoreOptions | RedisStoreClientOptions) {
    this.keyPrefix = opts.keyPrefix ?? 'sess:';
    if (/[{}]/.test(this.keyPrefix)) throw new Error(`keyPrefix must not contain "{" or "}" (the id is the key's cluster hash tag), got "${this.keyPrefix}"`);
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 2000;
    this.maxSessionBytes = opts.maxSessionBytes ?? DEFAULT_MAX_BYTES;
    this.logger = opts.logger ?? console;
    if ('client' in opts) {
      this.client = this.adopt(opts.client);
    } else {
      this.connection = opts;
      this.credentials = opts.credentials;
      this.client = this.adopt(createRedisClient({ ...opts, commandTimeoutMs: this.commandTimeoutMs }));
    }
  }

  /** The Redis key of session `id`. */
  keyOf(id: string): string {
    return `${this.keyPrefix}{${id}}`;
  }

  async load(id: string, opts: LoadOptions): Promise<StoredSession | undefined> {
    const raw = await this.run('load', (c) => c.getex(this.keyOf(id), 'PX', opts.idleTimeoutSeconds * 1000));
    if (raw === null) return undefined;
    const s = live(id, raw, opts);
    if (s === undefined) await this.delete(id); // past the absolute timeout: removed now rather than slid on
    return s;
  }

  async create(session: StoredSession): Promise<boolean> {
    const value = this.encode(session);
    const reply = await this.run('create', (c) => c.set(this.keyOf(session.id), value, 'PXAT', session.expiresAt, 'NX'));
    return reply === 'OK';
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp, serializedData?: string): Promise<boolean> {
    return (await this.cas(session, expected, serializedData)) === 1;
  }

  async compareAndSetOrLoad(session: StoredSession, expected: WriteStamp, serializedData: string, opts: LoadOptions): Promise<true | StoredSession | undefined> {
    const reply = await this.cas(session, expected, serializedData, opts.idleTimeoutSeconds * 1000);
    if (reply === 1) return true;
    if (reply === null) return undefined; // gone
    if (typeof reply !== 'string') throw new StoreUnavailableError(`redis compareAndSetOrLoad: unexpected reply ${JSON.stringify(reply)}`);
    const current = live(session.id, reply, opts);
    if (current === undefined) await this.delete(session.id); // past the absolute timeout
    return current;
  }

  /** {@link CAS_SCRIPT} for `session`; with `idleMs`, a mismatch answers the stored value. Throws (callers are async) before sending anything when the session is malformed or too large. */
  private cas(session: StoredSession, expectedWrite: WriteStamp, serializedData: string | undefined, idleMs?: number): Promise<number | string | null> {
    const what = idleMs === undefined ? 'compareAndSet' : 'compareAndSetOrLoad';
    checkSuccessor(what, session, expectedWrite);
    const value = this.encode(session, serializedData);
    const key = this.keyOf(session.id);
    const expected = stampPrefix(expectedWrite);
    const pxat = String(session.expiresAt);
    // No fifth argument at all without idleMs: Lua sees ARGV[4] as nil only when it is not sent.
    return this.run(what, (c) => (idleMs === undefined ? c.sessionCas(key, expected, value, pxat) : c.sessionCas(key, expected, value, pxat, String(idleMs))));
  }

  async delete(id: string): Promise<void> {
    await this.run('delete', (c) => c.unlink(this.keyOf(id)));
  }

  async ping(): Promise<void> {
    await this.run('ping', (c) => c.ping());
  }

  /**
   * Reconnect with new credentials (AUTH token rotation): a new client replaces the current
   * one, which is closed once its pending replies are in. Only for stores built from options.
   */
  async setCredentials(credentials: RedisCredentials): Promise<void> {
    if (this.connection === undefined) throw new Error('setCredentials needs a RedisStore built from connection options, not from a client');
    if (this.closed) throw new Error('RedisStore is closed');
    this.credentials = credentials;
    const old = this.client;
    this.client = this.adopt(createRedisClient({ ...this.connection, credentials, commandTimeoutMs: this.commandTimeoutMs }));
    await this.quit(old);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connection !== undefined) await this.quit(this.client);
  }

  /** Size check, then `{"v":…,"t":"…","c":…,"e":…,"d":…}` — version and token lead so the Lua script compares one prefix. */
  private encode(s: StoredSession, data = JSON.stringify(s.data)): string {
    const bytes = Buffer.byteLength(data);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    return `{"v":${int(s.version)},"t":"${checkWriteToken(s.token, 'write')}","c":${int(s.createdAt)},"e":${int(s.expiresAt)},"d":${data}}`;
  }

  /**
   * Runs one command within the bound: waits for a (re)connection if there is none, then for
   * the reply. Any failure becomes StoreUnavailableError (typed session errors pass through).
   * One promise and one timer per call: this is on the path of every request.
   */
  private run<T>(what: string, op: (c: RedisClient) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`redis ${what}: the store is closed`));
    const client = this.client;
    const ms = this.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let waiting: (() => void) | undefined;
      const done = () => {
        clearTimeout(timer);
        if (waiting) client.off('ready', waiting);
      };
      const timer = setTimeout(() => {
        done();
        reject(new StoreUnavailableError(`redis ${what} got no answer within ${ms} ms (status ${client.status})`));
      }, ms);
      const send = () => {
        let reply: Promise<T>;
        try {
          this.corkUntilImmediate(client);
          reply = op(client);
        } catch (err) {
          reply = Promise.reject(err);
        }
        reply.then(
          (value) => {
            done();
            resolve(value);
          },
          (err: unknown) => {
            done();
            reject(this.failure(what, err));
          },
        );
      };
      if (client.status === 'ready') send();
      else {
        waiting = send;
        client.once('ready', send);
      }
    });
  }

  /**
   * Commands sent in one turn of the event loop leave in one write per connection: the
   * connections are corked at the first command and uncorked on setImmediate, after the poll
   * phase has run every request that was ready (node-redis batches its writes the same way).
   * Each loopback write(2) also wakes redis-server on the other core and cost about as much CPU
   * as the rest of a session read; measured: 2.0 → 1.3 writes per request and 14 % less server
   * CPU per read. A cluster client corks each primary's connection (commands go to the primary
   * of their slot; one not connected yet is left alone). `isCluster`, not instanceof: a client
   * may come from another copy of ioredis.
   */
  private corkUntilImmediate(client: RedisClient): void {
    if (this.corked) return;
    const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
    const streams = nodes.flatMap((n) => (n.stream ? [n.stream] : []));
    for (const s of streams) s.cork();
    this.corked = true;
    setImmediate(() => {
      this.corked = false;
      for (const s of streams) s.uncork();
    });
  }

  private failure(what: string, err: unknown): SessionError {
    if (err instanceof SessionError) return err;
    this.noteAuthFailure(err);
    return new StoreUnavailableError(`redis ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  /** Defines the Lua command and listens for errors, so none goes unhandled. */
  private adopt(client: RedisClient): RedisClient {
    client.defineCommand('sessionCas', { numberOfKeys: 1, lua: CAS_SCRIPT });
    const onError = (err: unknown): void => {
      this.noteAuthFailure(err);
      if (this.failing) return; // logged once per outage; the reconnect loop repeats the same error
      this.failing = true;
      this.logger.warn(`redis session store: connection error, reconnecting in the background: ${err instanceof Error ? err.message : String(err)}`);
    };
    client.on('error', onError);
    if (client.isCluster) client.on('node error', onError);
    client.on('ready', () => {
      if (this.failing) this.logger.warn('redis session store: connection ready again');
      this.failing = false;
    });
    return client;
  }

  /** On WRONGPASS/NOAUTH, fetch fresh credentials (at most once per interval) and reconnect. */
  private noteAuthFailure(err: unknown): void {
    const refresh = this.connection?.refreshCredentials;
    if (!isAuthError(err) || refresh === undefined || this.refreshing || this.closed) return;
    const interval = this.connection?.credentialsRefreshIntervalMs ?? 5000;
    if (Date.now() - this.lastRefresh < interval) return;
    this.lastRefresh = Date.now();
    this.refreshing = refresh()
      .then((creds) => this.setCredentials(creds))
      .catch((e: unknown) => this.logger.warn(`redis session store: refreshing credentials failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  /** QUIT within the bound, else drop the connection. */
  private async quit(client: RedisClient): Promise<void> {
    if (client.status === 'end') return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.commandTimeoutMs);
    });
    try {
      const how = client.status === 'ready' ? await Promise.race([client.quit(), late]) : 'late';
      if (how === 'late') client.disconnect();
    } catch (err) {
      // QUIT failed because the connection is already broken: dropping it is all that is left.
      this.logger.warn(`redis session store: QUIT failed (${err instanceof Error ? err.message : String(err)}); disconnecting`);
      client.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How a stored value written by `stamp` begins: `{"v":2,"t":"<token>",`. A value stored before
 * write tokens (`{"v":2,"c":…`) is matched by the empty token as `{"v":2,"c":`, which no value
 * with a token begins with.
 */
function stampPrefix(stamp: WriteStamp): string {
  const token = checkWriteToken(stamp.token);
  return token === '' ? `{"v":${int(stamp.version)},"c":` : `{"v":${int(stamp.version)},"t":"${token}",`;
}

function int(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`expected a whole number, got ${n}`);
  return n;
}

/**
 * A value just read, whose idle expiry the read slid by `opts.idleTimeoutSeconds`, as a session;
 * undefined when it is past its absolute timeout (the caller deletes it).
 */
function live(id: string, raw: string, opts: LoadOptions): StoredSession | undefined {
  const s = decode(id, raw);
  const deadline = s.createdAt + opts.absoluteTimeoutSeconds * 1000;
  if (deadline <= opts.now) return undefined;
  s.expiresAt = Math.min(opts.now + opts.idleTimeoutSeconds * 1000, deadline); // what the read just set
  return s;
}

/** A decoded session, still the store's own: load sets its `expiresAt` to the one GETEX gave it. */
type Decoded = { -readonly [K in keyof StoredSession]: StoredSession[K] };

/** The stored value back into a session; a value not written by this store is an error, not "no session". */
function decode(id: string, raw: string): Decoded {
  const o = parseStoredJson(raw, `redis: the value of session ${id.slice(0, 6)}…`) as { v?: unknown; t?: unknown; c?: unknown; e?: unknown; d?: unknown };
  if (typeof o.v !== 'number' || (o.t !== undefined && typeof o.t !== 'string') || typeof o.c !== 'number' || typeof o.e !== 'number' || typeof o.d !== 'object' || o.d === null || Array.isArray(o.d)) {
    throw new StoreUnavailableError(`redis: the value of session ${id.slice(0, 6)}… is not a stored session`);
  }
  return { id, version: o.v, token: o.t ?? '', createdAt: o.c, expiresAt: o.e, data: o.d as SessionData };
}
