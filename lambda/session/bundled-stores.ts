/**
 * Every store factory, for the reference app, its Lambda handlers and the instance server
 * (not part of the `cdk-sessions/runtime` core, which a user's bundle imports).
 *
 * Each factory is loaded with `require` only when its store is asked for, so a memory-store
 * process never loads ioredis or AWS SDK clients it does not use. Each is also guarded by
 * SESSION_BUNDLE_STORE, which the package build and SessionApi set at bundle time (esbuild
 * `define`) so that a bundle keeps only its own store: the other conditions fold to false and
 * esbuild drops their `require`s.
 */
import type { StoreKind } from './env';
import type { SessionStoreFactory } from './from-env';

/** A factory whose module is required on first use. */
function lazy(kind: StoreKind, load: () => SessionStoreFactory): SessionStoreFactory {
  return { kind, create: (env, context) => load().create(env, context) };
}

/** The store factories this build carries: every store, or only SESSION_BUNDLE_STORE's in a one-store bundle. */
export function bundledStoreFactories(): SessionStoreFactory[] {
  const out: SessionStoreFactory[] = [];
  if ((process.env.SESSION_BUNDLE_STORE ?? 'redis') === 'redis') {
    out.push(lazy('redis', () => (require('./entries/redis') as typeof import('./entries/redis')).redisStoreFactory));
  }
  if ((process.env.SESSION_BUNDLE_STORE ?? 'dynamodb') === 'dynamodb') {
    out.push(lazy('dynamodb', () => (require('./entries/dynamodb') as typeof import('./entries/dynamodb')).dynamoDbStoreFactory));
  }
  if ((process.env.SESSION_BUNDLE_STORE ?? 's3') === 's3') {
    out.push(lazy('s3', () => (require('./entries/s3') as typeof import('./entries/s3')).s3StoreFactory));
  }
  if ((process.env.SESSION_BUNDLE_STORE ?? 'memcached') === 'memcached') {
    out.push(lazy('memcached', () => (require('./entries/memcached') as typeof import('./entries/memcached')).memcachedStoreFactory));
  }
  if ((process.env.SESSION_BUNDLE_STORE ?? 'postgres') === 'postgres') {
    out.push(lazy('postgres', () => (require('./entries/postgres') as typeof import('./entries/postgres')).postgresStoreFactory));
  }
  return out;
}

/**
 * Throws when this is a one-store bundle (SESSION_BUNDLE_STORE) made for another store than
 * `store`; memory is in every build.
 */
export function assertBundledFor(store: StoreKind): void {
  const bundled = process.env.SESSION_BUNDLE_STORE;
  if (bundled !== undefined && store !== bundled && store !== 'memory') {
    throw new Error(`SESSION_STORE=${store} is not available in this runtime build (bundled for ${bundled})`);
  }
}
