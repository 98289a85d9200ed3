import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { STORE_KINDS, StoreKind } from '../../lambda/session/env';
import { SessionApi } from '../../lib/compute';
import { bundlesDir, INSTANCE_SERVER_FILE, PREBUILT_BUNDLES, prebuiltBundleDir, PrebuiltBundle } from '../../lib/compute/bundles';
import { bundleInstanceServer } from '../../lib/compute/runtime-assets';
import { buildBundle, isStale } from '../../scripts/build-bundles';
import { freePort, waitForPort } from '../support/ports';
import { FakeStore } from './compute/fake-store';

/**
 * Budgets, minified: the handler leaves the AWS SDK to the Lambda runtime; the server bundles it.
 * 270 KB since the runtime writes its own metrics through Powertools Metrics (issue 17: +10.5 KB
 * minified for the library, +3 KB of ours); the Redis handler (ioredis) is the largest, ~256 KB.
 */
const HANDLER_BUDGET_BYTES = 270 * 1024;
const SERVER_BUDGET_BYTES = 1536 * 1024;
const root = path.join(__dirname, '..', '..');

/** The package that holds each store's client, and the other stores' clients a store may also use. */
const STORE_CLIENTS: Record<StoreKind, string | undefined> = {
  memory: undefined,
  redis: 'ioredis',
  dynamodb: '@aws-sdk/client-dynamodb',
  s3: '@aws-sdk/client-s3',
  memcached: 'memcache-client',
  postgres: 'pg',
  jwt: '@aws-sdk/client-kms',
};
const ALSO_USES: Partial<Record<StoreKind, StoreKind[]>> = {
  dynamodb: ['s3'], // oversized sessions overflow to S3
  jwt: ['dynamodb'], // the revocation list
};

const byName = (name: string): PrebuiltBundle => PREBUILT_BUNDLES.find((b) => b.name === name)!;

/**
 * The packages a shipped bundle carries or loads: from its source map's `sources` (bundled
 * code) and its `require("…")` calls (left to the runtime, e.g. the AWS SDK in Lambda).
 */
function packagesIn(bundle: PrebuiltBundle): Set<string> {
  const file = path.join(bundlesDir(), bundle.name, bundle.file);
  const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  const names = new Set<string>();
  for (const s of map.sources) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s);
    if (m) names.add(m[1]);
  }
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/require\("((?:@[^/"]+\/)?[^/"]+)[^"]*"\)/g)) names.add(m[1]);
  return names;
}

describe('prebuilt bundles (what the package ships; constructs take them as they are)', () => {
  beforeAll(() => {
    for (const b of PREBUILT_BUNDLES) prebuiltBundleDir(b); // builds missing or stale ones, as any synth from source does
  }, 120_000);

  test('every bundle is present with its source map, and fresh against its sources', () => {
    for (const b of PREBUILT_BUNDLES) {
      const file = path.join(bundlesDir(), b.name, b.file);
      expect(fs.existsSync(file)).toBe(true);
      expect(fs.existsSync(`${file}.map`)).toBe(true);
      expect(isStale(b)).toBe(false);
      const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8'));
      expect(map.sourcesContent).toBeUndefined();
      // No absolute paths of the build machine: same sources, same bytes, same asset hash anywhere.
      expect(fs.readFileSync(file, 'utf8')).not.toContain(root);
      expect(map.sources.every((s: string) => !path.isAbsolute(s))).toBe(true);
    }
  });

  test.each(STORE_KINDS.map((s) => [s]))('the %s bundles hold that store client and no other store client', (store) => {
    const allowed = new Set([store, ...(ALSO_USES[store] ?? [])]);
    for (const name of [`http-api-${store}`, `instance-server-${store}`]) {
      const packages = packagesIn(byName(name));
      for (const [kind, client] of Object.entries(STORE_CLIENTS)) {
        if (client === undefined) continue;
        expect([name, client, packages.has(client)]).toEqual([name, client, allowed.has(kind as StoreKind)]);
      }
    }
  });

  test('Lambda bundles leave the AWS SDK to the runtime; instance servers carry it', () => {
    for (const store of STORE_KINDS) {
      const handler = packagesIn(byName(`http-api-${store}`));
      expect(fs.readFileSync(path.join(bundlesDir(), `http-api-${store}`, 'index.js'), 'utf8')).toMatch(/require\("@aws-sdk\/client-secrets-manager"\)/);
      expect([...handler].filter((p) => p.startsWith('@smithy/'))).toEqual([]);
      const server = packagesIn(byName(`instance-server-${store}`));
      // Bundled, not required: the only @aws-sdk require left is the SDK's own optional CRT signer.
      expect([store, server.has('@aws-sdk/client-secrets-manager'), [...server].filter((p) => p.startsWith('@aws-sdk/') && p !== '@aws-sdk/signature-v4-crt').length > 0]).toEqual([store, true, true]);
      const requires = [...fs.readFileSync(path.join(bundlesDir(), `instance-server-${store}`, INSTANCE_SERVER_FILE), 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
      expect([store, [...new Set(requires)]]).toEqual([store, ['@aws-sdk/signature-v4-crt']]);
    }
  });

  test(`each HTTP API handler loads with only the runtime's AWS SDK beside it, exports handler, and stays under ${HANDLER_BUDGET_BYTES / 1024} KB`, () => {
    const files = STORE_KINDS.map((s) => path.join(bundlesDir(), `http-api-${s}`, 'index.js'));
    for (const file of files) expect(fs.statSync(file).size).toBeLessThan(HANDLER_BUDGET_BYTES);
    // The Lambda runtime supplies @aws-sdk/*: emulate that with this repo's node_modules.
    const probe = spawnSync(process.execPath, ['-e', `process.stdout.write(${JSON.stringify(files)}.map((f) => typeof require(f).handler).join(','))`], {
      cwd: '/',
      env: { PATH: process.env.PATH, NODE_PATH: path.join(root, 'node_modules'), NODE_NO_WARNINGS: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toBe(files.map(() => 'function').join(','));
  });

  test('the memory handler answers GET /healthz; the redis one refuses another store (only its own, and the core\'s memory store, are in it)', () => {
    const event = JSON.stringify({ version: '2.0', rawPath: '/healthz', headers: {}, requestContext: { http: { method: 'GET', path: '/healthz' }, stage: '$default', requestId: 'r' }, isBase64Encoded: false });
    const invoke = (store: string, env: Record<string, string>) =>
      spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(bundlesDir(), `http-api-${store}`, 'index.js'))}).handler(${event}).then((r) => process.stdout.write(String(r.statusCode)), (e) => process.stdout.write('threw: ' + e.message))`], {
        cwd: '/',
        env: { PATH: process.env.PATH, NODE_PATH: path.join(root, 'node_modules'), NODE_NO_WARNINGS: '1', SESSION_AUTH: 'open', SESSION_COOKIE_SECRET: 'b'.repeat(32), POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    expect(invoke('memory', { SESSION_STORE: 'memory' }).stdout).toBe('200');
    // Memory is in every build; another store than the bundle's is not.
    const other = invoke('redis', { SESSION_STORE: 'dynamodb', SESSION_TABLE: 'sessions' });
    expect(other.stdout).toMatch(/500$/);
    expect(`${other.stdout}${other.stderr}`).toMatch(/not available in this runtime build \(bundled for redis\)/);
  });

  test(`the instance server stays under ${SERVER_BUDGET_BYTES / 1024} KB and serves /healthz from its own bundle with no node_modules`, async () => {
    for (const s of STORE_KINDS) expect(fs.statSync(path.join(bundlesDir(), `instance-server-${s}`, INSTANCE_SERVER_FILE)).size).toBeLessThan(SERVER_BUDGET_BYTES);
    const dir = path.join(bundlesDir(), 'instance-server-memory');
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(dir, INSTANCE_SERVER_FILE)], {
      cwd: '/',
      env: { PATH: process.env.PATH, PORT: String(port), SESSION_STORE: 'memory', SESSION_COOKIE_SECRET: 'x'.repeat(32), SESSION_COOKIE_SECURE: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await waitForPort(port, 15_000);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(stderr).not.toMatch(/Cannot find module/);
  });

  test('the postgres schema handler loads and leaves pg-native and the AWS SDK out', () => {
    const file = path.join(bundlesDir(), 'postgres-schema', 'index.js');
    const probe = spawnSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(file)}).handler)`], {
      cwd: '/',
      env: { PATH: process.env.PATH, NODE_PATH: path.join(root, 'node_modules'), NODE_NO_WARNINGS: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toBe('function');
    expect([...packagesIn(byName('postgres-schema'))].sort()).toEqual(expect.arrayContaining(['@aws-sdk/client-secrets-manager', 'pg', 'pg-native']));
  });

  test('a rebuild from the same sources gives byte-identical files (deterministic asset hashes)', () => {
    const out = fs.mkdtempSync(path.join(root, '.bundles-check-')); // same depth as bundles/: same relative source paths
    try {
      for (const name of ['http-api-redis', 'instance-server-dynamodb']) {
        const b = byName(name);
        buildBundle(b, out);
        for (const f of [b.file, `${b.file}.map`]) {
          expect(fs.readFileSync(path.join(out, name, f)).equals(fs.readFileSync(path.join(bundlesDir(), name, f)))).toBe(true);
        }
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('constructs deploy the prebuilt bundles (a real synth, no bundling step)', () => {
  let assembly: string;
  let template: Template;

  beforeAll(() => {
    const app = new App(); // no 'aws:cdk:bundling-stacks' override
    const stack = new Stack(app, 'Bundles');
    new SessionApi(stack, 'Api', { store: new FakeStore(stack, 'Store', { kind: 'redis' }) });
    bundleInstanceServer(stack, 'Server', { store: 'redis' });
    assembly = app.synth().directory;
    template = Template.fromStack(stack);
  }, 120_000);

  const assetDirWith = (file: string): string[] =>
    fs
      .readdirSync(assembly)
      .filter((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly, d, file)))
      .map((d) => path.join(assembly, d));

  test.each([
    ['the API function', 'http-api-redis', 'index.js'],
    ['the instance server asset', 'instance-server-redis', INSTANCE_SERVER_FILE],
  ])('%s is the prebuilt %s, byte for byte', (_what, name, file) => {
    const dirs = assetDirWith(file);
    expect(dirs).toHaveLength(1);
    expect(fs.readdirSync(dirs[0]).sort()).toEqual([file, `${file}.map`]);
    for (const f of [file, `${file}.map`]) {
      expect(fs.readFileSync(path.join(dirs[0], f)).equals(fs.readFileSync(path.join(bundlesDir(), name, f)))).toBe(true);
    }
  });

  test('the API function is a plain Lambda function on Node.js 24, handler index.handler', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  test('the same sources give the same asset hash in a second app', () => {
    const hashes = (a: App) => {
      const s = new Stack(a, 'Bundles');
      new SessionApi(s, 'Api', { store: new FakeStore(s, 'Store', { kind: 'redis' }) });
      return JSON.stringify(Template.fromStack(s).findResources('AWS::Lambda::Function'));
    };
    const ctx = { context: { 'aws:cdk:bundling-stacks': [] } };
    expect(hashes(new App(ctx))).toBe(hashes(new App(ctx)));
    expect(hashes(new App(ctx))).toMatch(/[a-f0-9]{64}\.zip/);
  });
});

describe("a user's own entry is still bundled at synth time (needs esbuild in the app)", () => {
  test('SessionApi entry: NodejsFunction bundles it with the store define', () => {
    const dir = fs.mkdtempSync(path.join(root, 'test', '.own-entry-'));
    try {
      const entry = path.join(dir, 'own.ts');
      fs.writeFileSync(entry, "export const handler = async () => ({ statusCode: 200, body: `own ${process.env.SESSION_BUNDLE_STORE}` });\n");
      const app = new App();
      const stack = new Stack(app, 'Own');
      new SessionApi(stack, 'Api', { store: new FakeStore(stack, 'Store', { kind: 's3' }), entry });
      const assembly = app.synth().directory;
      const dirs = fs.readdirSync(assembly).filter((d) => d.startsWith('asset.')).map((d) => path.join(assembly, d, 'index.js'));
      const code = dirs.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
      expect(code).toHaveLength(1);
      expect(code[0]).toContain('own s3');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
