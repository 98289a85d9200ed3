/**
 * S3 session store: one object per session at `<prefix><id>`, holding
 * `{"version","token","createdAt","expiresAt","data"}` (version and write token are also in
 * `x-amz-meta-version` / `x-amz-meta-token`).
 *
 * - create = PutObject with `If-None-Match: *`; compareAndSet = PutObject with `If-Match: <etag>`
 *   of the write being replaced. The ETag is the MD5 of the body, so two writes of the same
 *   version and data would share it; the random write token in the body makes every ETag new. S3 answers 412 (or 409 ConditionalRequestConflict when two
 *   conditional writes race) → false. The store remembers the ETag of the latest version it saw
 *   per session id (a small LRU filled by load/create/compareAndSet); when it has none for the
 *   expected version, a HeadObject supplies it (then 2 round trips).
 * - load = GetObject; expired sessions are filtered here (lifecycle rules only work in whole days).
 *   S3 cannot slide an expiry without rewriting the object, so load rewrites (conditionally, same
 *   version, If-Match) only when less than half of the idle timeout is left: most loads are one
 *   GET, and a session in use never gets closer than half the idle timeout to expiring.
 * - delete = DeleteObject.
 * The IAM policy needs s3:ListBucket on the bucket, or a missing session reads as 403, not 404.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULTS } from '../env';
import { SessionTooLargeError, StoreUnavailableError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkSuccessor, checkWriteToken, sameWrite } from '../write-token';
import { bounded, httpStatusOfSdkError, sdkClientConfig } from './aws-call';
import { parseStoredJson } from './stored-json';

export interface S3StoreOptions {
  /** Session bucket. */
  readonly bucket: string;
  /** Key prefix for session objects. @default 'sessions/' */
  readonly prefix?: string;
  /** @default - a client of the store's own with `region`, `endpoint` and bounded timeouts */
  readonly client?: S3Client;
  /** @default - the SDK's region chain */
  readonly region?: string;
  /** @default - the SDK's endpoint chain (AWS_ENDPOINT_URL_S3) */
  readonly endpoint?: string;
  /** Path-style URLs (local S3 stand-ins). @default false */
  readonly forcePathStyle?: boolean;
  /** Bound on one store operation, ms. @default 2000 */
  readonly timeoutMs?: number;
  /** Largest session accepted, bytes of JSON. @default 4 MiB */
  readonly maxSessionBytes?: number;
  /** Session ids whose latest ETag is remembered. @default 10000 */
  readonly etagCacheSize?: number;
}

/** What the object body holds. */
interface SessionObject {
  readonly version: number;
  readonly token: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly data: SessionData;
}

/** The latest write of one session this store has seen, and the ETag that names it. */
interface SeenVersion extends WriteStamp {
  readonly etag: string;
}

const PING_KEY = '.healthz';

export class S3Store implements SessionStore {
  readonly kind = 's3';
  readonly maxSessionBytes: number;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  private readonly etags: EtagCache;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? DEFAULTS.bucketPrefix;
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    this.maxSessionBytes = opts.maxSessionBytes ?? 4 * 1024 * 1024;
    this.etags = new EtagCache(opts.etagCacheSize ?? 10_000);
    this.ownsClient = opts.client === undefined;
    this.client =
      opts.client ??
      new S3Client({
        ...sdkClientConfig({ region: opts.region, endpoint: opts.endpoint, timeoutMs: this.timeoutMs }),
        forcePathStyle: opts.forcePathStyle,
      });
  }

  async load(
    id: string,
    opts: LoadOptions,
  ): Promise<StoredSession | undefined> {
    return bounded('s3 load', this.timeoutMs, async (abortSignal) => {
      let read: { body: SessionObject; etag: string };
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(id) }), { abortSignal });
        if (out.Body === undefined || out.ETag === undefined) throw new StoreUnavailableError(`s3 object ${this.key(id)} came without body or ETag`);
        read = { body: parseObject(await out.Body.transformToString(), this.key(id)), etag: out.ETag };
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
      const { body } = read;
      const deadline = body.createdAt + opts.absoluteTimeoutSeconds * 1000;
      if (body.expiresAt <= opts.now || deadline <= opts.now) return undefined;
      this.etags.remember(id, { version: body.version, token: body.token, etag: read.etag });
      const session: StoredSession = { id, ...body };
      const idleMs = opts.idleTimeoutSeconds * 1000;
      if (body.expiresAt - opts.now >= idleMs / 2) return session;
      // Less than half the idle time left: slide, without changing the version, only if unchanged.
      const slid: StoredSession = { ...session, expiresAt: Math.min(opts.now + idleMs, deadline) };
      const etag = await this.put(slid, { IfMatch: read.etag }, abortSignal);
      // A concurrent write won: return what was read; the writer's own expiry is fresh anyway.
      return etag === undefined ? session : slid;
    });
  }

  async create(session: StoredSession): Promise<boolean> {
    checkWriteToken(session.token, 'write');
    return bounded('s3 create', this.timeoutMs, async (abortSignal) => {
      return (await this.put(session, { IfNoneMatch: '*' }, abortSignal)) !== undefined;
    });
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp): Promise<boolean> {
    checkSuccessor('compareAndSet', session, expected);
    return bounded('s3 compareAndSet', this.timeoutMs, async (abortSignal) => {
      const seen = this.etags.get(session.id);
      const etag = seen !== undefined && sameWrite(seen, expected) ? seen.etag : await this.currentEtag(session.id, expected, abortSignal);
      if (etag === undefined) return false;
      return (await this.put(session, { IfMatch: etag }, abortSignal)) !== undefined;
    });
  }

  async delete(id: string): Promise<void> {
    this.etags.forget(id);
    await bounded('s3 delete', this.timeoutMs, (abortSignal) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(id) }), { abortSignal }),
    );
  }

  async ping(): Promise<void> {
    await bounded('s3 ping', this.timeoutMs, async (abortSignal) => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(PING_KEY) }), { abortSignal });
      } catch (err) {
        if (!(err instanceof NotFound)) throw err; // a 404 is S3 answering
      }
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private key(id: string): string {
    return `${this.prefix}${id}`;
  }

  /** The object body; throws SessionTooLargeError when the data is over the limit. */
  private serialize(session: StoredSession): string {
    const data = JSON.stringify(session.data);
    const bytes = Buffer.byteLength(data);
    if (bytes > this.maxSessionBytes) throw new SessionTooLargeError(bytes, this.maxSessionBytes);
    const { version, createdAt, expiresAt } = session;
    const token = checkWriteToken(session.token); // a slide re-stores the write it read, even one without a token
    return `${JSON.stringify({ version, token, createdAt, expiresAt }).slice(0, -1)},"data":${data}}`;
  }

  /**
   * Conditional PutObject. Returns the new ETag, or undefined when the condition failed
   * (412 Precondition Failed, 409 ConditionalRequestConflict, 404 for If-Match on a deleted object).
   */
  private async put(
    session: StoredSession,
    condition: { IfMatch: string } | { IfNoneMatch: '*' },
    abortSignal: AbortSignal,
  ): Promise<string | undefined> {
    const body = this.serialize(session);
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(session.id),
          Body: body,
          ContentType: 'application/json',
          Metadata: { version: String(session.version), token: session.token },
          ...condition,
        }),
        { abortSignal },
      );
      if (out.ETag === undefined) throw new StoreUnavailableError(`s3 PutObject of ${this.key(session.id)} returned no ETag`);
      this.etags.remember(session.id, { version: session.version, token: session.token, etag: out.ETag });
      return out.ETag;
    } catch (err) {
      const status = httpStatusOfSdkError(err);
      if (status === 412 || status === 409 || status === 404) {
        this.etags.forget(session.id);
        return undefined;
      }
      throw err;
    }
  }

  /** The ETag of the stored object if it still holds the write `expected`; undefined if gone or changed. */
  private async currentEtag(id: string, expected: WriteStamp, abortSignal: AbortSignal): Promise<string | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(id) }), { abortSignal });
      const stored = { version: Number(head.Metadata?.version), token: head.Metadata?.token ?? '' };
      if (!sameWrite(stored, expected) || head.ETag === undefined) return undefined;
      return head.ETag;
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }
}

/**
 * The stored object back into a session. An object this store did not write (not JSON, or not a
 * session) is the store failing (StoreUnavailableError: 503, counted as a store error), never
 * "no session" nor a crash. Real S3 never shows a partly written object; s3rver stopped in the
 * middle of a PUT can leave one.
 */
function parseObject(text: string, key: string): SessionObject {
  const o = parseStoredJson(text, `s3 object ${key}`) as Partial<SessionObject>;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.version !== 'number' ||
    (o.token !== undefined && typeof o.token !== 'string') ||
    typeof o.createdAt !== 'number' ||
    typeof o.expiresAt !== 'number' ||
    typeof o.data !== 'object' ||
    o.data === null ||
    Array.isArray(o.data)
  ) {
    throw new StoreUnavailableError(`s3 object ${key} is not a session object`);
  }
  return { version: o.version, token: o.token ?? '', createdAt: o.createdAt, expiresAt: o.expiresAt, data: o.data };
}

/** Latest version + ETag per session id, least recently used evicted first (Map keeps order). */
class EtagCache {
  private readonly map = new Map<string, SeenVersion>();
  constructor(private readonly capacity: number) {}

  get(id: string): SeenVersion | undefined {
    const v = this.map.get(id);
    if (v !== undefined) {
      this.map.delete(id);
      this.map.set(id, v);
    }
    return v;
  }

  remember(id: string, v: SeenVersion): void {
    this.map.delete(id);
    this.map.set(id, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }

  forget(id: string): void {
    this.map.delete(id);
  }
}
