/**
 * What a team's own Lambda handler weighs when it imports the runtime core and one store entry
 * (`cdk-sessions/runtime` + `cdk-sessions/runtime/<store>`), bundled as a user bundles it: from the
 * BUILT package (tsc output under dist/, resolved through package.json `exports`, as npm installs
 * it), esbuild with minify, CommonJS, node24, the AWS SDK v3 left to the Lambda runtime.
 *
 * Used by `npm run bench -- bundles` (prints the sizes) and test/runtime/user-bundles.test.ts
 * (asserts the budget: a size is deterministic, not a timing).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';

const ROOT = resolve(__dirname, '..');

/** The budget of a user handler on the core and one store, minified, AWS SDK external. */
export const USER_BUNDLE_BUDGET_BYTES = 250 * 1024;

/** Each store entry point and the factory it exports. */
export const STORE_ENTRIES: Readonly<Record<string, string>> = {
  redis: 'redisStoreFactory',
  dynamodb: 'dynamoDbStoreFactory',
  s3: 's3StoreFactory',
  memcached: 'memcachedStoreFactory',
  postgres: 'postgresStoreFactory',
};

/** Store clients the core entry must never pull in. */
export const STORE_CLIENTS = ['ioredis', '@aws-sdk/client-dynamodb', '@aws-sdk/client-s3', 'memcache-client', 'pg'];

/**
 * A user's API Gateway (HTTP API) handler on the core and `store`'s entry: the runtime built once
 * per cold start from the environment the constructs set, one session per visitor, a counter.
 */
export function userHandlerSource(store: string): string {
  if (store === 'memory') return userHandlerBody(`import { createSessionRuntime, parseSessionEnv, httpStatusOf } from 'cdk-sessions/runtime';`, '[]');
  if (store === 'jwt') {
    return `
import { parseSessionEnv } from 'cdk-sessions/runtime';
import { createJwtRuntime } from 'cdk-sessions/runtime/jwt';

let runtime;
export async function handler(event) {
  runtime ??= createJwtRuntime(parseSessionEnv(process.env));
  const { sessions } = await runtime;
  const session = await sessions.load(event.cookies);
  const issued = session ? await sessions.renew(session, { cart: session.claims.cart, prefs: session.claims.prefs })
    : await sessions.issue({ sub: 'visitor', cart: [], prefs: {}, custom: { visits: 1 } });
  return { statusCode: 200, cookies: [issued.setCookie], body: JSON.stringify(issued.claims) };
}
`;
  }
  const factory = STORE_ENTRIES[store];
  return userHandlerBody(`import { createSessionRuntime, parseSessionEnv, httpStatusOf } from 'cdk-sessions/runtime';\nimport { ${factory} } from 'cdk-sessions/runtime/${store}';`, `[${factory}]`);
}

function userHandlerBody(imports: string, stores: string): string {
  return `${imports}

let runtime;
export async function handler(event) {
  try {
    runtime ??= createSessionRuntime(parseSessionEnv(process.env), { stores: ${stores} });
    const { manager } = await runtime;
    let session = await manager.modify(event.cookies, (data) => ({ ...data, visits: Number(data.visits ?? 0) + 1 }));
    session ??= await manager.create({ visits: 1 });
    return { statusCode: 200, cookies: [manager.setCookie(session)], body: JSON.stringify(session.data) };
  } catch (err) {
    return { statusCode: httpStatusOf(err), body: JSON.stringify({ error: String(err) }) };
  }
}
`;
}

/**
 * The package as npm would install it: package.json and the runtime's tsc output in
 * `<dir>/node_modules/cdk-sessions`, beside links to this repository's dependencies (so a file in
 * `<dir>` resolves `cdk-sessions/...` through `exports`, and the package its own dependencies).
 */
export interface BuiltPackage {
  /** The directory holding node_modules/cdk-sessions. */
  readonly dir: string;
  /** Where bare imports resolve from (for esbuild's nodePaths): `<dir>/node_modules`. */
  readonly nodePaths: readonly string[];
  dispose(): void;
}

/** Compiles lambda/ with tsconfig.build.json's settings into `<tmp>/node_modules/cdk-sessions/dist` beside package.json (a few seconds). */
export function buildPackage(): BuiltPackage {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-built-'));
  const modules = join(dir, 'node_modules');
  const pkg = join(modules, 'cdk-sessions');
  mkdirSync(pkg, { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== 'cdk-sessions' && !name.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: join(pkg, 'dist'), rootDir: ROOT, sourceMap: false, typeRoots: [join(ROOT, 'node_modules', '@types')] },
      include: [join(ROOT, 'lambda')],
      exclude: [join(ROOT, '**/*.test.ts')],
    }),
  );
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: ROOT, stdio: 'pipe' });
  return { dir, nodePaths: [modules], dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One user handler bundled against the built package. */
export interface UserBundle {
  readonly store: string;
  readonly bytes: number;
  /** The package files and dependencies in the bundle (esbuild's inputs). */
  readonly inputs: readonly string[];
  readonly outfile: string;
}

/** Bundles {@link userHandlerSource} for `store` as a user's build would. */
export function bundleUserHandler(pkg: BuiltPackage, store: string): UserBundle {
  const entry = join(pkg.dir, `handler-${store}.mjs`);
  writeFileSync(entry, userHandlerSource(store));
  const outfile = join(pkg.dir, `handler-${store}.min.js`);
  const r = buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    nodePaths: [...pkg.nodePaths],
    metafile: true,
    logLevel: 'silent',
  });
  return { store, bytes: statSync(outfile).size, inputs: Object.keys((r.metafile as Metafile).inputs), outfile };
}
