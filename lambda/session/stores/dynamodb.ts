/**
 * DynamoDB session store: one item per session.
 *
 *   id (S, key) · version (N) · writeToken (S) · createdAt (N, ms) · expiresAt (N, ms) · ttl (N, epoch seconds,
 *   the table's TTL attribute) · data (S, JSON) — or dataRef (S, S3 key) when the data overflowed.
 *
 * - load = ONE UpdateItem that reads and slides (SET expiresAt/ttl, condition: exists, not idle-
 *   or absolutely expired, ALL_NEW). DynamoDB TTL deletes lazily (up to days), so the condition
 *   is what filters expired sessions. A consistent GetItem plus a conditional touch would cost a
 *   second round trip and no fewer write units (a touch is billed on the whole item either way).
 *   When the data overflowed to S3, load follows the pointer: 2 round trips.
 * - create = PutItem if attribute_not_exists(id); compareAndSet = PutItem if version and
 *   writeToken are the expected ones (the token tells a write apart from another of the same version).
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
import { SessionTooLargeError } from '../errors';
import type { LoadOptions, SessionData, SessionStore, StoredSession, WriteStamp } from '../types';
import { checkWriteToken } from '../write-token';
import { bounded, sdkClientConfig } from './aws-call';
import { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from './aws-dynamodb-item-size';

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

  async load(
    id: string,
    opts: LoadOptions,
  ): Promise<StoredSession | undefined> {
    const slidTo = opts.now + opts.idleTimeoutSeconds * 1000;
    return bounded('dynamodb load', this.timeoutMs, async (abortSignal) => {
      for (let attempt = 1; ; attempt++) {
        let item: Record<string, AttributeValue> | undefined;
        try {
          const out = await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: { id: { S: id } },
              UpdateExpression: 'SET #e = :e, #t = :t',
              ConditionExpression: 'attribute_exists(#id) AND #e > :now AND #c > :born',
              ExpressionAttributeNames: { '#id': 'id', '#e': 'expiresAt', '#t': this.ttl, '#c': 'createdAt' },
              ExpressionAttributeValues: {
                ':e': num(slidTo),
                ':t': num(ttlSeconds(slidTo)),
                ':now': num(opts.now),
                ':born': num(opts.now - opts.absoluteTimeoutSeconds * 1000),
              },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          );
          item = out.Attributes;
        } catch (err) {
          if (err instanceof ConditionalCheckFailedException) return undefined; // absent or expired
          throw err;
        }
        if (item === undefined) throw new Error(`dynamodb load of ${id}: UpdateItem returned no attributes`);
        const data = await this.dataOf(id, item, abortSignal);
        if (data !== undefined) {
          const createdAt = readNumber(item, 'createdAt');
          const expiresAt = Math.min(slidTo, createdAt + opts.absoluteTimeoutSeconds * 1000);
          return { id, data, version: readNumber(item, 'version'), token: item.writeToken?.S ?? '', createdAt, expiresAt };
        }
        // The overflow object was replaced by a concurrent write after our item read: read again.
        if (attempt >= POINTER_ATTEMPTS) {
          throw new Error(`dynamodb load of ${id}: overflow object ${item.dataRef?.S} is missing after ${attempt} reads`);
        }
      }
    });
  }

  async create(session: StoredSession): Promise<boolean> {
    return this.write(session, { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } });
  }

  async compareAndSet(session: StoredSession, expected: WriteStamp): Promise<boolean> {
    // An item stored before write tokens has none: the empty token expects exactly that.
    const token = checkWriteToken(expected.token);
    return this.write(session, {
      ConditionExpression: `#v = :expected AND ${token === '' ? 'attribute_not_exists(#k)' : '#k = :token'} AND #e > :now`,
      ExpressionAttributeNames: { '#v': 'version', '#k': 'writeToken', '#e': 'expiresAt' },
      ExpressionAttributeValues: { ':expected': num(expected.version), ':now': num(Date.now()), ...(token === '' ? {} : { ':token': { S: token } }) },
    });
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

  /**
   * Conditional PutItem of `session`, preceded by the S3 write when the data overflows.
   * Returns false when the condition failed; nothing of this write is left behind then.
   */
  private async write(
    session: StoredSession,
    condition: Pick<ConstructorParameters<typeof PutItemCommand>[0], 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<boolean> {
    const json = JSON.stringify(session.data);
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
        const out = await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ReturnValues: 'ALL_OLD', ...condition }), {
          abortSignal,
        });
        return { written: true, previousRef: out.Attributes?.dataRef?.S };
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return { written: false, previousRef: undefined };
        throw err;
      }
    });
    if (!result.written && objectKey !== undefined) await this.removeObject(objectKey, `lost the write of ${session.id} v${session.version}`);
    if (result.written && result.previousRef !== undefined && result.previousRef !== objectKey) {
      await this.removeObject(result.previousRef, `replaced by ${session.id} v${session.version}`);
    }
    return result.written;
  }

  /** The session data of an item: inline, or read from S3; undefined when the object is gone. */
  private async dataOf(id: string, item: Record<string, AttributeValue>, abortSignal: AbortSignal): Promise<SessionData | undefined> {
    if (item.data?.S !== undefined) return JSON.parse(item.data.S) as SessionData;
    const ref = item.dataRef?.S;
    if (ref === undefined) throw new Error(`dynamodb item ${id} has neither data nor dataRef`);
    if (this.overflow === undefined) throw new Error(`dynamodb item ${id} points to S3 (${ref}) but the store has no overflow bucket configured`);
    try {
      const out = await this.overflow.client.send(new GetObjectCommand({ Bucket: this.overflow.bucket, Key: ref }), { abortSignal });
      if (out.Body === undefined) throw new Error(`overflow object ${ref} has no body`);
      return JSON.parse(await out.Body.transformToString()) as SessionData;
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
  if (!Number.isFinite(n)) throw new Error(`dynamodb session item has no numeric "${name}"`);
  return n;
}
