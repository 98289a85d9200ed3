/**
 * Revocation for stateless tokens: a DynamoDB denylist (the table JwtSessionKeys creates:
 * partition key `pk` (S), TTL attribute `ttl`, epoch seconds).
 *
 *   pk = `sid#<sid>`   ttl = the last exp any token of the session can have  — logout: every token
 *                                                       of this session (login token, each renewal) is dead
 *   pk = `user#<sub>`  revokedAt = T (epoch ms)       — "log out everywhere": every session of the
 *                      ttl = T + token lifetime          user that started (`sst`) at or before T is dead
 *   pk = `jti#<jti>`   ttl = the token's exp          — this one token is dead (API; the app revokes sessions)
 *
 * An entry only has to outlive the tokens it revokes, so TTL deletion keeps the table as small
 * as the set of revoked-but-not-yet-expired tokens. DynamoDB TTL deletes lazily, which is harmless
 * here: a late-deleted entry names tokens that have expired anyway.
 *
 * A check is one strongly consistent BatchGetItem of the three keys (one request, one round trip;
 * a revocation written by another instance a moment ago is seen), billed as 3 read units
 * whether the entries exist or not. Every call is bounded in time; an unavailable table is a
 * StoreUnavailableError (→ 503), never "not revoked".
 *
 * With `notRevokedCacheMs`, a "not revoked" answer is reused for the same token (jti, sid, sub
 * and session start) for that long in this process: a browser's burst of requests with one token
 * costs one check. The price is a revocation delay: a revocation written through another instance
 * is refused here up to `notRevokedCacheMs` later. One written through this instance empties the
 * cache at once. "Revoked" answers are never cached (they are asked again, and stay revoked).
 */
import { BatchGetItemCommand, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { setBounded } from '../bounded';
import { bounded, sdkClientConfig } from '../stores/aws-call';

/** Result of a denylist check. */
export type DenylistVerdict = 'ok' | 'revoked' | 'revoked_session' | 'revoked_user';

/** What a check needs from a token: its id, session id, subject and session start (epoch ms). */
export interface DenylistSubject {
  readonly jti: string;
  readonly sid: string;
  readonly sub: string;
  readonly sst: number;
}

export interface Denylist {
  /** Is the token `jti` revoked, its session `sid` revoked, or did its session start (`sst`) at or before the user's log-out-everywhere? */
  check(token: DenylistSubject): Promise<DenylistVerdict>;
  /** Revoke one token until its `exp` (epoch s). */
  revokeToken(jti: string, exp: number): Promise<void>;
  /** Revoke every token of session `sid`; the entry lives until `until` (epoch s). */
  revokeSession(sid: string, until: number): Promise<void>;
  /** Revoke every session of `sub` started at or before `revokedAtMs` (epoch ms); the entry lives until `until` (epoch s). */
  revokeUser(sub: string, revokedAtMs: number, until: number): Promise<void>;
  /** Cheap liveness check (one GetItem). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DynamoDbDenylistOptions {
  readonly table: string;
  /** @default - a client of its own with `region`, `endpoint` and bounded timeouts */
  readonly client?: DynamoDBClient;
  /** @default - the SDK's region chain */
  readonly region?: string;
  /** @default - the SDK's endpoint chain (AWS_ENDPOINT_URL_DYNAMODB) */
  readonly endpoint?: string;
  /** Bound on one denylist operation, ms. @default 2000 */
  readonly timeoutMs?: number;
  /**
   * How long a "not revoked" answer is reused for the same token in this process, ms; also the
   * longest a revocation made through another instance can take to be refused here. 0 asks the
   * table on every check. The runtime sets it from SESSION_REVOCATION_CACHE_MS (default 1000).
   * @default 0
   */
  readonly notRevokedCacheMs?: number;
  /** Tokens whose "not revoked" answer is kept at most; the oldest go first. @default 10000 */
  readonly notRevokedCacheSize?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
  /**
   * Wraps every call to the table, with its outcome (the runtime's metrics count them as store
   * calls; cached "not revoked" answers are no call). @default - none
   */
  readonly observe?: <T>(call: Promise<T>) => Promise<T>;
}

export const jtiKey = (jti: string) => `jti#${jti}`;
export const sidKey = (sid: string) => `sid#${sid}`;
export const userKey = (sub: string) => `user#${sub}`;

/** Pause between BatchGetItem calls while DynamoDB leaves keys unprocessed (throttling), ms. */
const UNPROCESSED_RETRY_MS = 20;

export class DynamoDbDenylist implements Denylist {
  readonly table: string;
  /** How long a "not revoked" answer is reused per token, ms (0: never). */
  readonly notRevokedCacheMs: number;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  /** Token key → until when its "not revoked" answer stands (epoch ms), oldest first. */
  private readonly notRevoked = new Map<string, number>();
  private readonly notRevokedMax: number;
  /** Moves on every revocation made here: a check asked before one ended caches nothing. */
  private revocations = 0;
  private readonly now: () => number;
  private readonly observe: <T>(call: Promise<T>) => Promise<T>;

  constructor(opts: DynamoDbDenylistOptions) {
    this.table = opts.table;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.notRevokedCacheMs = opts.notRevokedCacheMs ?? 0;
    if (!(this.notRevokedCacheMs >= 0)) throw new RangeError(`notRevokedCacheMs must be 0 or more, got ${opts.notRevokedCacheMs}`);
    this.notRevokedMax = opts.notRevokedCacheSize ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.observe = opts.observe ?? ((call) => call);
    this.ownsClient = opts.client === undefined;
    this.client = opts.client ?? new DynamoDBClient(sdkClientConfig({ region: opts.region, endpoint: opts.endpoint, timeoutMs: this.timeoutMs }));
  }

  async check(token: DenylistSubject): Promise<DenylistVerdict> {
    const cacheKey = this.notRevokedCacheMs > 0 ? `${token.jti}\n${token.sid}\n${token.sub}\n${token.sst}` : undefined;
    if (cacheKey !== undefined) {
      const until = this.notRevoked.get(cacheKey);
      if (until !== undefined && until > this.now()) return 'ok';
      this.notRevoked.delete(cacheKey);
    }
    const asked = this.now();
    const revocations = this.revocations;
    const verdict = await this.ask(token);
    // Valid from when it was asked: a revocation written after that is refused no later than the bound.
    // Not when a revocation made here overlapped the check: the answer may predate it.
    if (verdict === 'ok' && cacheKey !== undefined && revocations === this.revocations) {
      setBounded(this.notRevoked, cacheKey, asked + this.notRevokedCacheMs, this.notRevokedMax);
    }
    return verdict;
  }

  private async ask(token: DenylistSubject): Promise<DenylistVerdict> {
    const keys = [jtiKey(token.jti), sidKey(token.sid), userKey(token.sub)];
    const found = await this.observe(bounded('denylist check', this.timeoutMs, (abortSignal) => this.batchGet(keys, abortSignal)));
    if (found.has(keys[1])) return 'revoked_session';
    if (found.has(keys[0])) return 'revoked';
    const revokedAt = Number(found.get(keys[2])?.revokedAt?.N);
    if (Number.isFinite(revokedAt) && token.sst <= revokedAt) return 'revoked_user';
    return 'ok';
  }

  /** The items among `keys` (pk → attributes), read consistently; keys DynamoDB leaves unprocessed are asked again until the caller's bound. */
  private async batchGet(keys: readonly string[], abortSignal: AbortSignal): Promise<Map<string, Record<string, AttributeValue>>> {
    const found = new Map<string, Record<string, AttributeValue>>();
    let pending: Record<string, AttributeValue>[] = keys.map((pk) => ({ pk: { S: pk } }));
    for (;;) {
      const out = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'pk, revokedAt' } } }),
        { abortSignal },
      );
      for (const item of out.Responses?.[this.table] ?? []) if (item.pk?.S !== undefined) found.set(item.pk.S, item);
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (pending.length === 0) return found;
      await new Promise((r) => setTimeout(r, UNPROCESSED_RETRY_MS));
      if (abortSignal.aborted) throw abortSignal.reason;
    }
  }

  async revokeToken(jti: string, exp: number): Promise<void> {
    await this.revoking(() => this.put(jtiKey(jti), exp));
  }

  async revokeSession(sid: string, until: number): Promise<void> {
    await this.revoking(() => this.put(sidKey(sid), until));
  }

  /** Runs a revocation write so that this process refuses what it revokes at once: no "not revoked" answer from before it survives it. */
  private async revoking(write: () => Promise<void>): Promise<void> {
    this.revocations++;
    this.notRevoked.clear();
    try {
      await write();
    } finally {
      this.revocations++;
      this.notRevoked.clear();
    }
  }

  async revokeUser(sub: string, revokedAtMs: number, until: number): Promise<void> {
    await this.revoking(() => this.putUser(sub, revokedAtMs, until));
  }

  private async putUser(sub: string, revokedAtMs: number, until: number): Promise<void> {
    try {
      await this.observe(
        bounded('denylist write', this.timeoutMs, (abortSignal) =>
          this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: { pk: { S: userKey(sub) }, revokedAt: { N: String(revokedAtMs) }, ttl: { N: String(Math.ceil(until)) } },
              // Never move a user's revocation instant backwards (another instance's clock may lag).
              ConditionExpression: 'attribute_not_exists(revokedAt) OR revokedAt < :at',
              ExpressionAttributeValues: { ':at': { N: String(revokedAtMs) } },
            }),
            { abortSignal },
          ),
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: unknown }).name === 'ConditionalCheckFailedException') return; // a later instant is already there
      throw err;
    }
  }

  private async put(pk: string, until: number): Promise<void> {
    await this.observe(
      bounded('denylist write', this.timeoutMs, (abortSignal) =>
        this.client.send(new PutItemCommand({ TableName: this.table, Item: { pk: { S: pk }, ttl: { N: String(Math.ceil(until)) } } }), { abortSignal }),
      ),
    );
  }

  async ping(): Promise<void> {
    await this.observe(
      bounded('denylist ping', this.timeoutMs, (abortSignal) =>
        this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: 'ping' } }, ProjectionExpression: 'pk' }), { abortSignal }),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
