/**
 * The package's runtime entry points, checked on the BUILT package (tsc output resolved through
 * package.json `exports`, as an installed package is): every subpath resolves and loads, the core
 * pulls in no store client and never aws-cdk-lib, a user's handler on the core and one store stays
 * within the bundle budget, and createSessionRuntime names the import a missing store needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { buildPackage, bundleUserHandler, STORE_CLIENTS, STORE_ENTRIES, USER_BUNDLE_BUDGET_BYTES, type BuiltPackage } from '../../bench/user-bundles';
import { parseSessionEnv } from '../../lambda/session/env';
import { createSessionRuntime } from '../../lambda/session/from-env';
import { redisStoreFactory } from '../../lambda/session/entries/redis';

const ROOT = resolve(__dirname, '../..');
const pkgJson = require(resolve(ROOT, 'package.json'));
const SUBPATHS = ['runtime', 'runtime/redis', 'runtime/dynamodb', 'runtime/s3', 'runtime/memcached', 'runtime/postgres', 'runtime/jwt', 'runtime/app'];
const SECRET = 's'.repeat(32);

/** Every package file and every bare import (external or bundled) an entry pulls in, as esbuild resolves it. */
function importGraph(entry: string, nodePaths: readonly string[] = []): { inputs: string[]; packages: string[] } {
  const r = buildSync({ entryPoints: [entry], bundle: true, platform: 'node', write: false, metafile: true, logLevel: 'silent', outdir: '/tmp/unused', external: ['@aws-sdk/*'], nodePaths: [...nodePaths] });
  const inputs = Object.keys(r.metafile.inputs);
  const packages = new Set<string>();
  for (const file of inputs) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m !== null && m[1] !== 'cdk-sessions') packages.add(m[1]);
  }
  for (const input of Object.values(r.metafile.inputs)) for (const i of input.imports) if (i.external) packages.add(i.path);
  return { inputs, packages: [...packages].sort() };
}

const forbiddenInCore = (packages: readonly string[]) => packages.filter((p) => STORE_CLIENTS.includes(p) || /^(aws-cdk-lib|constructs|@aws-cdk\/)/.test(p));

describe('package.json exports', () => {
  it('maps cdk-sessions to the constructs and each runtime subpath to its entry under dist/, with types', () => {
    expect(pkgJson.name).toBe('cdk-sessions');
    expect(pkgJson.exports['.'].default).toBe('./dist/lib/index.js');
    expect(pkgJson.exports['./runtime']).toEqual({ types: './dist/lambda/session/index.d.ts', default: './dist/lambda/session/index.js' });
    for (const store of [...Object.keys(STORE_ENTRIES), 'jwt']) {
      expect(pkgJson.exports[`./runtime/${store}`]).toEqual({ types: `./dist/lambda/session/entries/${store}.d.ts`, default: `./dist/lambda/session/entries/${store}.js` });
    }
    for (const sub of SUBPATHS) expect(pkgJson.typesVersions['*'][sub]).toEqual([pkgJson.exports[`./${sub}`].types.slice(2)]);
  });

  it('the source core (lambda/session/index.ts) imports no store client and never aws-cdk-lib', () => {
    const g = importGraph(join(ROOT, 'lambda/session/index.ts'));
    expect(g.inputs.some((f) => f.endsWith('lambda/session/manager.ts'))).toBe(true);
    expect(forbiddenInCore(g.packages)).toEqual([]);
  });
});

describe('the built package', () => {
  let pkg: BuiltPackage;
  beforeAll(() => {
    pkg = buildPackage();
  }, 120_000);
  afterAll(() => pkg?.dispose());

  it('resolves and loads every runtime subpath through exports, and has the .d.ts each names', () => {
    const probe = `
      const out = {};
      for (const sub of ${JSON.stringify(SUBPATHS)}) {
        const file = require.resolve('cdk-sessions/' + sub);
        out[sub] = { file: file.slice(file.indexOf('node_modules/cdk-sessions/') + 'node_modules/cdk-sessions/'.length), exports: Object.keys(require('cdk-sessions/' + sub)) };
      }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: pkg.dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, { file: string; exports: string[] }>;
    for (const sub of SUBPATHS) {
      expect(`./${out[sub].file}`).toBe(pkgJson.exports[`./${sub}`].default);
      expect(existsSync(join(pkg.dir, 'node_modules/cdk-sessions', pkgJson.exports[`./${sub}`].types))).toBe(true);
    }
    expect(out.runtime.exports).toEqual(expect.arrayContaining(['SessionManager', 'createSessionRuntime', 'parseSessionEnv', 'SessionEnvVars', 'MemoryStore', 'startRuntimeMetrics']));
    expect(out.runtime.exports).not.toContain('RedisStore');
    expect(out['runtime/redis'].exports).toEqual(expect.arrayContaining(['RedisStore', 'redisStoreFactory']));
    expect(out['runtime/dynamodb'].exports).toEqual(expect.arrayContaining(['DynamoDbStore', 'dynamoDbStoreFactory']));
    expect(out['runtime/s3'].exports).toEqual(expect.arrayContaining(['S3Store', 's3StoreFactory']));
    expect(out['runtime/memcached'].exports).toEqual(expect.arrayContaining(['MemcachedStore', 'memcachedStoreFactory']));
    expect(out['runtime/postgres'].exports).toEqual(expect.arrayContaining(['PostgresStore', 'postgresStoreFactory', 'createPostgresSchema']));
    expect(out['runtime/jwt'].exports).toEqual(expect.arrayContaining(['createJwtRuntime', 'JwtSessionService']));
    expect(out['runtime/app'].exports).toEqual(expect.arrayContaining(['createApp', 'createInstanceServer']));
  });

  it("the built core's import graph holds no store client (ioredis, DynamoDB, S3, memcache-client, pg) and no aws-cdk-lib", () => {
    const g = importGraph(join(pkg.dir, 'node_modules/cdk-sessions/dist/lambda/session/index.js'), pkg.nodePaths);
    expect(g.inputs.some((f) => f.endsWith('dist/lambda/session/manager.js'))).toBe(true);
    expect(forbiddenInCore(g.packages)).toEqual([]);
  });

  it.each(['redis', 'dynamodb'])(
    `a user's handler on cdk-sessions/runtime + cdk-sessions/runtime/%s bundles (minified, CJS, node24, AWS SDK external) within ${USER_BUNDLE_BUDGET_BYTES / 1024} KB and carries no other store`,
    (store) => {
      const b = bundleUserHandler(pkg, store);
      expect(b.inputs.some((f) => f.includes(`dist/lambda/session/entries/${store}.js`))).toBe(true);
      const others = Object.keys(STORE_ENTRIES).filter((s) => s !== store);
      expect(b.inputs.filter((f) => others.some((o) => f.includes(`dist/lambda/session/stores/${o}.js`)))).toEqual([]);
      expect(b.bytes).toBeLessThanOrEqual(USER_BUNDLE_BUDGET_BYTES);
    },
  );
});

describe('createSessionRuntime and the store it was not given', () => {
  const base = { SESSION_COOKIE_SECRET: SECRET, SESSION_COOKIE_SECURE: 'false' };

  it('SESSION_STORE=redis without the redis entry: the error names the import to add and the option to pass it in', async () => {
    const env = parseSessionEnv({ ...base, SESSION_STORE: 'redis', SESSION_REDIS_URL: 'redis://127.0.0.1:1' });
    await expect(createSessionRuntime(env)).rejects.toThrow(
      "SESSION_STORE=redis needs the redis store, which was not passed to createSessionRuntime: add `import { redisStoreFactory } from 'cdk-sessions/runtime/redis';` and call createSessionRuntime(env, { stores: [redisStoreFactory] })",
    );
    // Another store's factory does not stand in for it.
    await expect(createSessionRuntime(parseSessionEnv({ ...base, SESSION_STORE: 'dynamodb', SESSION_TABLE: 't' }), { stores: [redisStoreFactory] })).rejects.toThrow(
      "import { dynamoDbStoreFactory } from 'cdk-sessions/runtime/dynamodb'",
    );
  });

  it('SESSION_STORE=jwt: the error names createJwtRuntime and cdk-sessions/runtime/jwt, not a "runtime build"', async () => {
    const env = parseSessionEnv({ ...base, SESSION_STORE: 'jwt', SESSION_JWT_PRIVATE_KEY: 'pem', SESSION_JWT_ISSUER: 'i', SESSION_JWT_AUDIENCE: 'a' });
    const err = await createSessionRuntime(env).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/createJwtRuntime.*'cdk-sessions\/runtime\/jwt'/);
    expect((err as Error).message).not.toMatch(/runtime build/);
  });
});
