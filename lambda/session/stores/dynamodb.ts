/**
 * DynamoDB session store: one item per session.
 *
 *   id (S, key) · version (N) · writeToken (S) · createdAt (N, ms) · expiresAt (N, ms) · ttl (N, epoch seconds,
 *   the table's TTL attribute) · data (S, JSON) — or dataRef (S, S3 key) when the data overflowed.
 *
 * - load = ONE strongly consistent GetItem (a session just written through another server is
 *   seen), billed as a read: 1 read unit per 4 KB of item, where the UpdateItem this store used
 *   to read with was billed as a write, 1 write unit per 1 KB (on-demand a write unit costs 5×
 *   a read unit, so a 1 KB session read cost 5×, a 3 KB one 15×). DynamoDB TTL deletes lazily
 *   (up to days), so load filters: an item past `expiresAt` or past createdAt + absolute timeout
 *   is never returned, the same two checks the UpdateItem's condition made.
 *   Sliding the idle expiry: only when less than half the idle timeout is left does load write,
 *   a conditional UpdateItem of expiresAt/ttl on the same version and write token (a second
 *   round trip, at most once per half idle window per session; a concurrent write that won keeps
 *   its own fresh expiry, and the read is returned). A session in use therefore never gets closer
 *   than half the idle timeout to expiring, and a session left alone ends between half the idle
 *   timeout and the idle timeout after its last use — never later than before this change; the
 *   S3 and Memcached stores slide the same way. When the data overflowed to S3, load follows the
 *   pointer: one more round trip.
 * - create = PutItem if attribute_not_exists(id); compareAndSet = PutItem if version and
 *   writeToken are the expected ones (the token tells a write apart from another of the same version).
 * - compareAndSetOrLoad (the manager's one-round-trip modify from the write it made last) = the
 *   same conditional PutItem with ReturnValuesOnConditionCheckFailure=ALL_OLD: on a conflict
 *   DynamoDB answers with the stored item in the same round trip, at no read cost ("No read
 *   capacity units are consumed"), so modify is 1 round trip and 1 write when this server wrote
 *   the session last, and 2 round trips (the failed write, billed as a write, then the retry)
 *   when another server did. Without it, modify is GetItem + PutItem: 2 round trips, a read and
 *   a write. Capability check: an endpoint that ignores the parameter (dynalite does) answers
 *   a conflict with no item; the store then reads the item (a third round trip, once), and if
 *   the item is there it knows the endpoint lacks the feature and from then on reads before it
 *   writes (GetItem, then PutItem only if the stored write is the expected one): 2 round trips.
 * - Size is computed before any write, as AWS counts it. Over the 400 KB item limit the write is
 *   refused (SessionTooLargeError), or, with `overflow`, the data goes first to S3 under a key
 *   unique to this write (`<prefix><id>/v<version>-<random>.json`) and the item keeps version +
 *   pointer, so the conditional PutItem still picks the single winner. The random part matters:
 *   two writers racing for the same version must not overwrite each other's object.
 *   Old objects: the previous version's object is deleted after a successful write (its key comes
 *   back in ALL_OLD, no extra read), a losing writer deletes its own, delete() deletes the
 *   current one; all best effort and logged. An object whose item write timed out is left to the
 *   bucket's lifecycle rule (the write may have landed, so deleting it could break the item).
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DEFAULTS } from '../env';
import { SessionTooLargeError, StoreUnavailableError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkWriteToken, sameWrite } from '../write-token';
import { bounded, sdkClientConfig } from './aws-call';
import { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from './aws-dynamodb-item-size';
import { parseStoredJson } from './stored-json';

/** Where the warnings of best-effort clean-ups go. */
export interface StoreLogger {
  warn(message: string, ...extra: unknown[]): void;
}

/** Sessions too large for one item go to S3; the item keeps a pointer. */
export interface DynamoDbOverflowOptions {
  /** Bucket for overflowed session data. */
  readonly bucket: string;
  /** @default - a client of the store's own (region, timeouts), endpoint from AWS_ENDPOINT_URL_S3 */
  readonly client?: S3Client;
  /** Key prefix inside the bucket. @default 'session-overflow/' */
  readonly prefix?: string;
  /**
   * Items whose inline size would exceed this many bytes keep their data in S3. Lower it to keep
   * large sessions out of DynamoDB (every load of an inline session is billed on its whole size).
   * @default 409600 (the DynamoDB item limit)
   */
  readonly thresholdBytes?: number;
  /** Largest session accepted, bytes of JSON. @default 4 MiB */
  readonly maxSessionBytes?: number;
}

export interface DynamoDbStoreOptions {
  /** Table name; partition key `id` (S). */
  readonly table: string;
  /** @default - a client of the store's own with `region`, `endpoint` and bounded timeouts */
  readonly client?: DynamoDBClient;
  /** @default - the SDK's region chain */
  readonly region?: string;
  /** @default - the SDK's endpoint chain (AWS_ENDPOINT_URL_DYNAMODB) */
  readonly endpoint?: string;
  /** Bound on one store operation, ms. @default 2000 */
  readonly timeoutMs?: number;
  /** The table's TTL attribute (epoch seconds). @default 'ttl' */
  readonly ttlAttribute?: string;
  /** @default - no overflow: sessions over the item limit are refused */
  readonly overflow?: DynamoDbOverflowOptions;
  /** @default - a Powertools logger, service 'cdk-sessions' */
  readonly logger?: StoreLogger;
}

/** Room left in the item for the key, version and timestamps when data is inline. */
const INLINE_OVERHEAD_BYTES = 1024;
const DEFAULT_OVERFLOW_MAX_BYTES = 4 * 1024 * 1024;
/** A key no session id can take (ids are base64url): ping reads it. */
const PING_KEY = '#healthz';
/** Loads retried when a concurrent write replaced the overflow object between item and object read. */
const POINTER_ATTEMPTS = 3;

/** The condition part of a PutItem. */
type Condition = Pick<ConstructorParameters<typeof PutItemCommand>[0], 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

interface Overflow {
  readonly bucket: string;
  readonly client: S3Client;
  readonly prefix: string;
  readonly thresholdBytes: number;
}

export class DynamoDbStore implements SessionStore {
  readonly kind = 'dynamodb';
  readonly maxSessionBytes: number;
  readonly table: string;
  private readonly client: DynamoDBClient;
  private readonly overflow?: Overflow;
  private readonly timeoutMs: number;
  private readonly ttl: string;
  private readonly logger: StoreLogger;
  /** Whether the endpoint returns the item of a failed condition: learnt from the first conflict. */
  private itemOnConditionFailure: boolean | undefined;
  /** Clients this store created and must destroy on close. */
  private readonly owned: Array<{ destroy(): void }> = [];

  constructor(opts: DynamoDbStoreOptions) {
    this.table = opts.table;
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    this.ttl = opts.ttlAttribute ?? 'ttl';
    this.logger = opts.logger ?? new Logger({ serviceName: 'cdk-sessions' });
    const clientConfig = sdkClientConfig({ region: opts.region, endpoint: opts.endpoint, timeoutMs: this.timeoutMs });
    this.client = opts.client ?? this.own(new DynamoDBClient(clientConfig));
    if (opts.overflow) {
      const o = opts.overflow;
      this.overflow = {
        bucket: o.bucket,
        client: o.client ?? this.own(new S3Client({ ...clientConfig, endpoint: undefined })),
        prefix: o.prefix ?? 'session-overflow/',
        thresholdBytes: Math.min(o.thresholdBytes ?? DYNAMODB_ITEM_LIMIT_BYTES, DYNAMODB_ITEM_LIMIT_BYTES),
      };
      this.maxSessionBytes = o.maxSessionBytes ?? DEFAULT_OVERFLOW_MAX_BYTES;
    } else {
      this.maxSessionBytes = DYNAMODB_ITEM_LIMIT_BYTES - INLINE_OVERHEAD_BYTES;
    }
  }

  async load(id: string, opts: LoadOptions): Promise<StoredSession | undefined> {
    return bounded('dynamodb load', this.timeoutMs, (abortSignal) => this.read(id, opts, abortSignal));
  }

  async create(session: StoredSession): Promise<boolean> {
    return (await this.write(session, { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } })).written;
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp, serializedData?: string): Promise<boolean> {
    return (await this.write(session, this.casCondition(expected), serializedData)).written;
  }

  /**
   * Whether this endpoint answers a failed condition with the stored item
   * (ReturnValuesOnConditionCheckFailure): undefined until a conflict has shown it.
   */
  get returnsItemOnConditionFailure(): boolean | undefined {
    return this.itemOnConditionFailure;
  }

  async compareAndSetOrLoad(
    session: StoredSession,
    expected: WriteStamp,
    serializedData: string,
    opts: LoadOptions,
  ): Promise<true | StoredSession | undefined> {
    if (this.itemOnConditionFailure === false) {
      // This endpoint cannot answer a conflict with the item: read first, write only over the expected write.
      const stored = await bounded('dynamodb load', this.timeoutMs, (abortSignal) => this.read(session.id, opts, abortSignal, expected));
      if (stored === undefined || !sameWrite(stored, expected)) return stored;
      const { written } = await this.write(session, this.casCondition(expected), serializedData);
      if (written) return true;
      return bounded('dynamodb load', this.timeoutMs, (abortSignal) => this.read(session.id, opts, abortSignal));
    }
    const { written, current } = await this.write(session, this.casCondition(expected), serializedData, true);
    if (written) return true;
    if (current !== undefined) {
      this.itemOnConditionFailure = true;
      return bounded('dynamodb load', this.timeoutMs, (abortSignal) => this.fromItem(session.id, current, opts, abortSignal));
    }
    // No item came back: the session is gone, or the endpoint ignores the parameter. A read tells.
    const stored = await bounded('dynamodb load', this.timeoutMs, (abortSignal) => this.read(session.id, opts, abortSignal));
    if (this.itemOnConditionFailure === undefined && stored !== undefined) {
      this.itemOnConditionFailure = false;
      this.logger.warn('dynamodb session store: this endpoint does not return the item of a failed condition (ReturnValuesOnConditionCheckFailure); modify reads before it writes');
    }
    return stored;
  }

  async delete(id: string): Promise<void> {
    const out = await bounded('dynamodb delete', this.timeoutMs, (abortSignal) =>
      this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { id: { S: id } }, ReturnValues: 'ALL_OLD' }), { abortSignal }),
    );
    const ref = out.Attributes?.dataRef?.S;
    if (ref !== undefined) await this.removeObject(ref, `session ${id} deleted`);
  }

  async ping(): Promise<void> {
    await bounded('dynamodb ping', this.timeoutMs, (abortSignal) =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { id: { S: PING_KEY } } }), { abortSignal }),
    );
  }

  async close(): Promise<void> {
    for (const c of this.owned.splice(0)) c.destroy();
  }

  /** The condition of a compare-and-set: the stored write is `expected` (version and token) and not idle-expired. */
  private casCondition(expected: WriteStamp): Condition {
    // An item stored before write tokens has none: the empty token expects exactly that.
    const token = checkWriteToken(expected.token);
    return {
      ConditionExpression: `#v = :expected AND ${token === '' ? 'attribute_not_exists(#k)' : '#k = :token'} AND #e > :now`,
      ExpressionAttributeNames: { '#v': 'version', '#k': 'writeToken', '#e': 'expiresAt' },
      ExpressionAttributeValues: { ':expected': num(expected.version), ':now': num(Date.now()), ...(token === '' ? {} : { ':token': { S: token } }) },
    };
  }

  /**
   * Conditional PutItem of `session`, preceded by the S3 write when the data overflows.
   * `written` is false when the condition failed; nothing of this write is left behind then, and
   * with `returnCurrent` the stored item comes back as `current` where the endpoint supports it.
   */
  private async write(
    session: StoredSession,
    condition: Condition,
    serializedData?: string,
    returnCurrent = false,
  ): Promise<{ written: boolean; current?: Record<string, AttributeValue> }> {
    const json = serializedData ?? JSON.stringify(session.data);
    const dataBytes = Buffer.byteLength(json);
    if (dataBytes > this.maxSessionBytes) throw new SessionTooLargeError(dataBytes, this.maxSessionBytes);
    const base: Record<string, AttributeValue> = {
      id: { S: session.id },
      version: num(session.version),
      writeToken: { S: checkWriteToken(session.token, 'write') },
      createdAt: num(session.createdAt),
      expiresAt: num(session.expiresAt),
      [this.ttl]: num(ttlSeconds(session.expiresAt)),
    };
    let item: Record<string, AttributeValue> = { ...base, data: { S: json } };
    let objectKey: string | undefined;
    const inlineBytes = dynamoDbItemSize(item);
    if (inlineBytes > (this.overflow?.thresholdBytes ?? DYNAMODB_ITEM_LIMIT_BYTES)) {
      if (this.overflow === undefined) throw new SessionTooLargeError(inlineBytes, DYNAMODB_ITEM_LIMIT_BYTES);
      objectKey = `${this.overflow.prefix}${session.id}/v${session.version}-${randomBytes(6).toString('base64url')}.json`;
      item = { ...base, dataRef: { S: objectKey } };
    }
    const overflow = this.overflow;
    const result = await bounded('dynamodb write', this.timeoutMs, async (abortSignal) => {
      if (objectKey !== undefined && overflow !== undefined) {
        await overflow.client.send(
          new PutObjectCommand({ Bucket: overflow.bucket, Key: objectKey, Body: json, ContentType: 'application/json' }),
          { abortSignal },
        );
      }
      try {
        const out = await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ReturnValues: 'ALL_OLD',
            ...(returnCurrent ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
            ...condition,
          }),
          { abortSignal },
        );
        return { written: true, previousRef: out.Attributes?.dataRef?.S };
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return { written: false, previousRef: undefined, current: err.Item };
        throw err;
      }
    });
    if (!result.written && objectKey !== undefined) await this.removeObject(objectKey, `lost the write of ${session.id} v${session.version}`);
    if (result.written && result.previousRef !== undefined && result.previousRef !== objectKey) {
      await this.removeObject(result.previousRef, `replaced by ${session.id} v${session.version}`);
    }
    return { written: result.written, current: result.current };
  }

  /**
   * The live session `id`: one strongly consistent GetItem (plus the overflow object, plus the
   * slide when due). With `writingOver`, a session that is still that write is not slid: the
   * caller is about to write it, which slides it anyway.
   */
  private async read(id: string, opts: LoadOptions, abortSignal: AbortSignal, writingOver?: WriteStamp): Promise<StoredSession | undefined> {
    for (let attempt = 1; ; attempt++) {
      const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: true }), { abortSignal });
      if (out.Item === undefined) return undefined;
      const live = this.liveSession(id, out.Item, opts);
      if (live === undefined) return undefined;
      const data = await this.dataOf(id, out.Item, abortSignal);
      if (data !== undefined) {
        const session: StoredSession = { ...live, data };
        return writingOver !== undefined && sameWrite(session, writingOver) ? session : this.slide(session, opts, abortSignal);
      }
      // The overflow object was replaced by a concurrent write after our item read: read again.
      if (attempt >= POINTER_ATTEMPTS) {
        throw new StoreUnavailableError(`dynamodb load of ${id}: overflow object ${out.Item.dataRef?.S} is missing after ${attempt} reads`);
      }
    }
  }

  /** The session in an item a failed condition returned (read and slid as load would); undefined when expired. */
  private async fromItem(id: string, item: Record<string, AttributeValue>, opts: LoadOptions, abortSignal: AbortSignal): Promise<StoredSession | undefined> {
    const live = this.liveSession(id, item, opts);
    if (live === undefined) return undefined;
    const data = await this.dataOf(id, item, abortSignal);
    // The object went with a write made since the item was returned: read the session afresh.
    if (data === undefined) return this.read(id, opts, abortSignal);
    return this.slide({ ...live, data }, opts, abortSignal);
  }

  /** An item's session fields, or undefined when it is past its idle expiry or its absolute timeout at `opts.now`. */
  private liveSession(id: string, item: Record<string, AttributeValue>, opts: LoadOptions): Omit<StoredSession, 'data'> | undefined {
    const createdAt = readNumber(item, 'createdAt');
    const expiresAt = readNumber(item, 'expiresAt');
    if (expiresAt <= opts.now || createdAt + opts.absoluteTimeoutSeconds * 1000 <= opts.now) return undefined;
    return { id, version: readNumber(item, 'version'), token: item.writeToken?.S ?? '', createdAt, expiresAt };
  }

  /**
   * Slides the idle expiry of a session just read, only when less than half the idle timeout is
   * left and sliding moves it: a conditional UpdateItem on the same write (version and token).
   * Returns the session as slid, or as read when another write got there first.
   */
  private async slide(session: StoredSession, opts: LoadOptions, abortSignal: AbortSignal): Promise<StoredSession> {
    const idleMs = opts.idleTimeoutSeconds * 1000;
    if (session.expiresAt - opts.now >= idleMs / 2) return session;
    const slidTo = Math.min(opts.now + idleMs, session.createdAt + opts.absoluteTimeoutSeconds * 1000);
    if (slidTo <= session.expiresAt) return session;
    const token = checkWriteToken(session.token);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: session.id } },
          UpdateExpression: 'SET #e = :e, #t = :t',
          ConditionExpression: `#v = :v AND ${token === '' ? 'attribute_not_exists(#k)' : '#k = :token'}`,
          ExpressionAttributeNames: { '#e': 'expiresAt', '#t': this.ttl, '#v': 'version', '#k': 'writeToken' },
          ExpressionAttributeValues: {
            ':e': num(slidTo),
            ':t': num(ttlSeconds(slidTo)),
            ':v': num(session.version),
            ...(token === '' ? {} : { ':token': { S: token } }),
          },
        }),
        { abortSignal },
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return session; // written or deleted since: the read stands
      throw err;
    }
    return { ...session, expiresAt: slidTo };
  }

  /** The session data of an item: inline, or read from S3; undefined when the object is gone. */
  private async dataOf(id: string, item: Record<string, AttributeValue>, abortSignal: AbortSignal): Promise<SessionData | undefined> {
    if (item.data?.S !== undefined) return parseData(item.data.S, `dynamodb item ${id}`);
    const ref = item.dataRef?.S;
    if (ref === undefined) throw new StoreUnavailableError(`dynamodb item ${id} has neither data nor dataRef`);
    if (this.overflow === undefined) throw new StoreUnavailableError(`dynamodb item ${id} points to S3 (${ref}) but the store has no overflow bucket configured`);
    try {
      const out = await this.overflow.client.send(new GetObjectCommand({ Bucket: this.overflow.bucket, Key: ref }), { abortSignal });
      if (out.Body === undefined) throw new StoreUnavailableError(`overflow object ${ref} has no body`);
      return parseData(await out.Body.transformToString(), `overflow object ${ref}`);
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  /** Best-effort delete of an overflow object; a failure is logged, never thrown. */
  private async removeObject(key: string, why: string): Promise<void> {
    const overflow = this.overflow;
    if (overflow === undefined) {
      this.logger.warn('dynamodb session store: an item pointed to S3 but no overflow bucket is configured', { key, why });
      return;
    }
    try {
      await bounded('overflow object delete', this.timeoutMs, (abortSignal) =>
        overflow.client.send(new DeleteObjectCommand({ Bucket: overflow.bucket, Key: key }), { abortSignal }),
      );
    } catch (err) {
      this.logger.warn('dynamodb session store: could not delete an old overflow object; the bucket lifecycle rule will', {
        bucket: overflow.bucket,
        key,
        why,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private own<T extends { destroy(): void }>(client: T): T {
    this.owned.push(client);
    return client;
  }
}

function num(n: number): AttributeValue {
  return { N: String(n) };
}

function ttlSeconds(expiresAtMs: number): number {
  return Math.ceil(expiresAtMs / 1000);
}

function readNumber(item: Record<string, AttributeValue>, name: string): number {
  const raw = item[name]?.N;
  const n = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(n)) throw new StoreUnavailableError(`dynamodb session item has no numeric "${name}"`);
  return n;
}

/** Session data this store wrote (a JSON object); anything else is the store failing (503), never "no session" nor a crash. */
function parseData(text: string, what: string): SessionData {
  const d = parseStoredJson(text, `${what}: the session data`);
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new StoreUnavailableError(`${what}: the session data is not an object`);
  return d as SessionData;
}
