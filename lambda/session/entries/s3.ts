/**
 * `cdk-sessions/runtime/s3`: the S3 session store, and {@link s3StoreFactory} that lets
 * createSessionRuntime build it from SESSION_BUCKET and SESSION_BUCKET_PREFIX.
 *
 * @example
 * ```ts
 * import { createSessionRuntime, parseSessionEnv } from 'cdk-sessions/runtime';
 * import { s3StoreFactory } from 'cdk-sessions/runtime/s3';
 *
 * const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [s3StoreFactory] });
 * ```
 */
import type { SessionStoreFactory } from '../from-env';
import { S3Store } from '../stores/s3';

export { S3Store } from '../stores/s3';
export type { S3StoreOptions } from '../stores/s3';

/**
 * Builds an {@link S3Store} for SESSION_STORE=s3: SESSION_BUCKET under SESSION_BUCKET_PREFIX, every
 * call bounded by SESSION_STORE_TIMEOUT_MS. A custom endpoint (AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL) is taken for a local S3 stand-in and addressed path-style.
 */
export const s3StoreFactory: SessionStoreFactory = {
  kind: 's3',
  async create(env) {
    const s = env.s3!;
    return new S3Store({
      bucket: s.bucket,
      prefix: s.prefix,
      timeoutMs: env.storeTimeoutMs,
      maxSessionBytes: env.maxSessionBytes,
      // A custom endpoint is a local S3 stand-in, which wants path-style URLs.
      forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined,
    });
  },
};
