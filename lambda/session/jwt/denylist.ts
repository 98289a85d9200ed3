/**
 * Revocation for stateless tokens: a DynamoDB denylist (the table JwtSessionKeys creates:
 * partition key `pk` (S), TTL attribute `ttl`, epoch seconds).
 *
 *   pk = `jti#<jti>`   ttl = the token's exp          — logout: this one token is dead
 *   pk = `user#<sub>`  nbf = N, ttl = N + token TTL   — "log out everywhere": every token of the
 *                                                       user issued (iat) before N is dead
 *
 * An entry only has to outlive the tokens it revokes, so TTL deletion keeps the table as small
 * as the set of revoked-but-not-yet-expired tokens. DynamoDB TTL deletes lazily, which is harmless
 * here: a late-deleted entry names a token that has expired anyway.
 *
 * A check is two consistent GetItems in parallel (one round trip of latency; a revocation
 * written by another instance a moment ago is seen). Every call is bounded in time; an
 * unavailable table is a StoreUnavailableError (→ 503), never "not revoked".
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { bounded, sdkClientConfig } from '../stores/aws-call';

/** Result of a denylist check. */
export type DenylistVerdict = 'ok' | 'revoked' | 'revoked_user';

export interface Denylist {
  /** Is the token `jti` revoked, or was it issued (`iat`, epoch s) before the user's not-before time? */
  check(token: { jti: string; sub: string; iat: number }): Promise<DenylistVerdict>;
  /** Revoke one token until its `exp` (epoch s). */
  revokeToken(jti: string, exp: number): Promise<void>;
  /** Revoke every token of `sub` issued before `notBefore` (epoch s); the entry lives until `until` (epoch s). */
  revokeUser(sub: string, notBefore: number, until: number): Promise<void>;
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
}

export const jtiKey = (jti: string) => `jti#${jti}`;
export const userKey = (sub: string) => `user#${sub}`;

export class DynamoDbDenylist implements Denylist {
  readonly table: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;

  constructor(opts: DynamoDbDenylistOptions) {
    this.table = opts.table;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.ownsClient = opts.client === undefined;
    this.client = opts.client ?? new DynamoDBClient(sdkClientConfig({ region: opts.region, endpoint: opts.endpoint, timeoutMs: this.timeoutMs }));
  }

  async check(token: { jti: string; sub: string; iat: number }): Promise<DenylistVerdict> {
    const [byJti, byUser] = await bounded('denylist check', this.timeoutMs, (abortSignal) =>
      Promise.all([
        this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: jtiKey(token.jti) } }, ConsistentRead: true, ProjectionExpression: 'pk' }), { abortSignal }),
        this.client.send(
          new GetItemCommand({ TableName: this.table, Key: { pk: { S: userKey(token.sub) } }, ConsistentRead: true, ProjectionExpression: 'nbf' }),
          { abortSignal },
        ),
      ]),
    );
    if (byJti.Item !== undefined) return 'revoked';
    const nbf = Number(byUser.Item?.nbf?.N);
    if (Number.isFinite(nbf) && token.iat < nbf) return 'revoked_user';
    return 'ok';
  }

  async revokeToken(jti: string, exp: number): Promise<void> {
    await bounded('denylist write', this.timeoutMs, (abortSignal) =>
      this.client.send(new PutItemCommand({ TableName: this.table, Item: { pk: { S: jtiKey(jti) }, ttl: { N: String(Math.ceil(exp)) } } }), { abortSignal }),
    );
  }

  async revokeUser(sub: string, notBefore: number, until: number): Promise<void> {
    try {
      await bounded('denylist write', this.timeoutMs, (abortSignal) =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { pk: { S: userKey(sub) }, nbf: { N: String(notBefore) }, ttl: { N: String(Math.ceil(until)) } },
            // Never move a user's not-before time backwards (another instance's clock may lag).
            ConditionExpression: 'attribute_not_exists(pk) OR nbf < :nbf',
            ExpressionAttributeValues: { ':nbf': { N: String(notBefore) } },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: unknown }).name === 'ConditionalCheckFailedException') return; // a later not-before is already there
      throw err;
    }
  }

  async ping(): Promise<void> {
    await bounded('denylist ping', this.timeoutMs, (abortSignal) =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: 'ping' } }, ProjectionExpression: 'pk' }), { abortSignal }),
    );
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
