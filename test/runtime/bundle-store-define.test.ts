/**
 * The reference app's one-store bundles: the package build and SessionApi bundle the Lambda
 * handlers and the instance server with the esbuild define `process.env.SESSION_BUNDLE_STORE`,
 * and lambda/session/bundled-stores.ts folds every other store away. Checked on esbuild's inputs
 * (deterministic), per store, against the every-store bundle that carries them all.
 */
import { resolve } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = resolve(__dirname, '../..');
const STORES = ['redis', 'dynamodb', 's3', 'memcached', 'postgres'];
/** The module each store is in, and the client library it loads. */
const MODULES: Record<string, RegExp> = {
  redis: /lambda\/session\/stores\/redis\.ts$|node_modules\/ioredis\//,
  dynamodb: /lambda\/session\/stores\/dynamodb\.ts$/,
  s3: /lambda\/session\/stores\/s3\.ts$/,
  memcached: /lambda\/session\/stores\/memcached\.ts$|node_modules\/memcache-client\//,
  postgres: /lambda\/session\/stores\/postgres\.ts$|node_modules\/pg\//,
  // (jose alone is no sign of JWT mode: the Cognito authenticator decodes tokens with it.)
  jwt: /lambda\/session\/jwt\/service\.ts$/,
};

function inputs(entry: string, store?: string): string[] {
  const r = buildSync({
    entryPoints: [resolve(ROOT, entry)],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    outdir: '/tmp/unused',
    metafile: true,
    logLevel: 'silent',
    external: ['@aws-sdk/*'],
    define: store === undefined ? {} : { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(store) },
  });
  // A module esbuild read but dropped entirely contributes no bytes to the output.
  const used = new Set(Object.values(r.metafile!.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k)));
  return Object.keys(r.metafile!.inputs).filter((f) => used.has(f));
}

const storesIn = (files: readonly string[]) => Object.keys(MODULES).filter((s) => files.some((f) => MODULES[s].test(f)));

describe('SESSION_BUNDLE_STORE (esbuild define) narrows the reference app to one store', () => {
  test('without it, the http-api handler carries every store and JWT', () => {
    expect(storesIn(inputs('lambda/handlers/http-api.ts'))).toEqual(Object.keys(MODULES));
  });

  test.each([...STORES, 'jwt', 'memory'])('bundled for %s, the http-api handler carries only that store', (store) => {
    expect(storesIn(inputs('lambda/handlers/http-api.ts', store))).toEqual(store === 'memory' ? [] : [store]);
  });

  test('the instance server too (bundled for redis: no DynamoDB, S3, memcached, PostgreSQL or JWT code)', () => {
    expect(storesIn(inputs('lambda/instance/main.ts', 'redis'))).toEqual(['redis']);
  });
});
