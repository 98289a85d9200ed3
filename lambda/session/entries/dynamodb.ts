/**
 * `cdk-sessions/runtime/dynamodb`: the DynamoDB session store (with an optional S3 overflow
 * bucket for sessions past the item limit), and {@link dynamoDbStoreFactory} that lets
 * createSessionRuntime build it from SESSION_TABLE and SESSION_OVERFLOW_BUCKET.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { dynamoDbStoreFactory } from 'cdk-sessions/runtime/dynamodb';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [dynamoDbStoreFactory] });
 * ```
 */
import type { SessionStoreFactory } from '../from-env';
import { DynamoDbStore } from '../stores/dynamodb';

export { DynamoDbStore } from '../stores/dynamodb';
export type { DynamoDbOverflowOptions, DynamoDbStoreOptions, StoreLogger } from '../stores/dynamodb';
export { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from '../stores/aws-dynamodb-item-size';

/**
 * Builds a {@link DynamoDbStore} for SESSION_STORE=dynamodb: SESSION_TABLE, and SESSION_OVERFLOW_BUCKET
 * when set; every call bounded by SESSION_STORE_TIMEOUT_MS. The AWS SDK takes its region, credentials
 * and endpoint (AWS_ENDPOINT_URL_DYNAMODB for a local stand-in) from its usual chain.
 */
export const dynamoDbStoreFactory: SessionStoreFactory = {
  kind: 'dynamodb',
  async create(env, { logger }) {
    const d = env.dynamodb!;
    return new DynamoDbStore({
      table: d.table,
      timeoutMs: env.storeTimeoutMs,
      overflow: d.overflowBucket !== undefined ? { bucket: d.overflowBucket, maxSessionBytes: env.maxSessionBytes } : undefined,
      logger,
    });
  },
};
