/**
 * The package as a team gets it: `npm pack` of this repository (prepack builds dist/ and the
 * prebuilt bundles), installed into fresh CDK apps under the OS temp directory that have only
 * aws-cdk-lib, constructs and cdk-sessions: no esbuild, no Docker (a stub that records calls),
 * no elasticache alpha unless a test asks for it. Each app is a plain-JS `new App()` +
 * `app.synth()` run by node.
 *
 * - `current`: the aws-cdk-lib this repository uses, without the optional alpha.
 * - `minimum`: the oldest aws-cdk-lib the peer range admits (MIN_AWS_CDK_LIB), with the alpha.
 *
 * To add a check: write its files into `current.app` (or `minimum.app`) with `write`, run them
 * with `node`, assert on the result; see the describe blocks below.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsumerApp, installedVersion, packRepository, parseSynth, REPO_ROOT, SynthesizedStack, synthScript } from '../support/consumer-app';

/** The oldest aws-cdk-lib the library supports; package.json's peer range starts here. */
const MIN_AWS_CDK_LIB = '2.269.0';
/** The elasticache alpha the minimum app installs (the optional peer, for serverless caches). */
const ALPHA = `@aws-cdk/aws-elasticache-alpha`;

/** Every topology with default props, one stack each, as the reference app builds them (bin/nag.ts). */
const EVERY_TOPOLOGY = `
const topologies = {
  Sticky: (s) => new cs.StickySessions(s, 'Sessions'),
  Redis: (s) => new cs.RedisSessions(s, 'Sessions'),
  Memcached: (s) => new cs.MemcachedSessions(s, 'Sessions'),
  DynamoDb: (s) => new cs.DynamoDbSessions(s, 'Sessions'),
  S3: (s) => new cs.S3Sessions(s, 'Sessions'),
  Rds: (s) => new cs.RdsSessions(s, 'Sessions'),
  Jwt: (s) => new cs.JwtSessions(s, 'Sessions'),
};
for (const [name, make] of Object.entries(topologies)) make(new Stack(app, name));
`;

/** What each topology must hold: a Lambda API, an instance fleet, or both. */
const EXPECTED: { [stack: string]: { readonly api: boolean; readonly fleet: boolean } } = {
  Sticky: { api: false, fleet: true },
  Redis: { api: true, fleet: true },
  Memcached: { api: true, fleet: true },
  DynamoDb: { api: true, fleet: false },
  S3: { api: true, fleet: false },
  Rds: { api: true, fleet: true },
  Jwt: { api: true, fleet: false },
};

let work: string;
let tarball: string;
const timings: string[] = [];

function timed<T>(what: string, f: () => T): T {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sessions-pack-'));
  tarball = timed('npm pack (prepack: tsc + bundles)', () => packRepository(work));
}, 600_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
  // Run time of each step, for the README and the report (not asserted).
  if (timings.length > 0) process.stdout.write(`pack test timings:\n  ${timings.join('\n  ')}\n`);
});

/** Checks that hold for any synthesized topology set in a consumer app. */
function expectEveryTopology(app: ConsumerApp, stacks: SynthesizedStack[], stderr: string): void {
  expect(stacks.map((s) => s.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  for (const stack of stacks) {
    const want = EXPECTED[stack.name];
    expect(fs.existsSync(stack.templateFile)).toBe(true);
    const lambdaAssets = stack.assets.filter((a) => a.files.includes('index.js'));
    const serverAssets = stack.assets.filter((a) => a.files.includes('server.js'));
    // [stack, has API bundle, has server bundle] so that a failure names the stack.
    expect([stack.name, lambdaAssets.length > 0, serverAssets.length]).toEqual([stack.name, want.api, want.fleet ? 1 : 0]);
    if (want.api) expect([stack.name, stack.resourceTypes.includes('AWS::Lambda::Function')]).toEqual([stack.name, true]);
    if (want.fleet) expect([stack.name, stack.resourceTypes.includes('AWS::AutoScaling::AutoScalingGroup')]).toEqual([stack.name, true]);
    // Prebuilt: each code asset is exactly one bundle and its source map.
    for (const a of [...lambdaAssets, ...serverAssets]) {
      expect(a.files.every((f) => /^(index|server)\.js(\.map)?$/.test(f))).toBe(true);
      expect(a.files).toHaveLength(2);
    }
  }
  // Nothing was bundled at synth time: no esbuild, no Docker.
  expect(stderr).not.toMatch(/Bundling asset/);
  expect(app.dockerCalls()).toBe('');
}

describe(`a CDK app with aws-cdk-lib ${installedVersion('aws-cdk-lib')}, constructs and cdk-sessions only`, () => {
  let app: ConsumerApp;

  beforeAll(() => {
    app = timed('npm install (current aws-cdk-lib)', () => ConsumerApp.create('current', { tarball }));
  }, 600_000);

  afterAll(() => app?.remove());

  test('has neither esbuild nor the elasticache alpha, and loads both entry points', () => {
    expect(app.resolves('esbuild')).toBe(false);
    expect(app.resolves(ALPHA)).toBe(false);
    expect(app.resolves('cdk-sessions')).toBe(true);
    expect(app.resolves('cdk-sessions/runtime')).toBe(true);
    // The package ships its bundles; the build's staleness records stay behind.
    const pkgDir = path.join(app.dir, 'node_modules', 'cdk-sessions');
    expect(fs.existsSync(path.join(pkgDir, 'bundles', 'http-api-redis', 'index.js'))).toBe(true);
    expect(fs.readdirSync(path.join(pkgDir, 'bundles')).filter((f) => !fs.statSync(path.join(pkgDir, 'bundles', f)).isDirectory())).toEqual([]);
  });

  test('synthesizes every topology from the prebuilt bundles, without esbuild or Docker', () => {
    const script = app.write('every-topology.js', synthScript(path.join(app.dir, 'cdk.out'), EVERY_TOPOLOGY));
    const r = timed('synth of 7 topologies (current)', () => app.node(script));
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expectEveryTopology(app, parseSynth(r.stdout), r.stderr);
  }, 300_000);

  test("a TypeScript app type-checks against the package's declarations (cdk init's compiler options)", () => {
    const file = app.write(
      'bin/app.ts',
      `import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoDbSessions, SessionEnvVars } from 'cdk-sessions';

const app = new App();
const sessions = new DynamoDbSessions(new Stack(app, 'Sessions'), 'Sessions');
const fn: lambda.IFunction = sessions.api.function;
const store: string = SessionEnvVars.STORE;
export const used = [fn.node.path, store];
`,
    );
    const r = timed('tsc of a TypeScript consumer file', () => app.typecheck([path.relative(app.dir, file)]));
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);

  test('a serverless cache without the optional alpha installed fails with an error that names it', () => {
    const script = app.write(
      'serverless.js',
      synthScript(path.join(app.dir, 'cdk.out.serverless'), `
const ec2 = require('aws-cdk-lib/aws-ec2');
const stack = new Stack(app, 'Serverless');
new cs.RedisSessionStore(stack, 'Store', { vpc: new ec2.Vpc(stack, 'Vpc'), serverless: true });
`),
    );
    const r = app.node(script);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/RedisSessionStore with serverless: true needs the optional peer dependency @aws-cdk\/aws-elasticache-alpha/);
  }, 120_000);

  test('a bundle missing from the installed package is an error that names it and the fix', () => {
    const bundle = path.join(app.dir, 'node_modules', 'cdk-sessions', 'bundles', 'http-api-s3');
    fs.renameSync(bundle, `${bundle}.aside`);
    let r;
    try {
      r = app.node(app.write('missing.js', synthScript(path.join(app.dir, 'cdk.out.missing'), "new cs.S3Sessions(new Stack(app, 'S3'), 'Sessions');")));
    } finally {
      fs.renameSync(`${bundle}.aside`, bundle);
    }
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cdk-sessions: the prebuilt bundle \S*bundles\/http-api-s3\/index\.js is missing.*reinstall cdk-sessions/);
  }, 120_000);

  // Checks to come here (issue 15): wire a user Lambda and a Fargate service in one call each,
  // run a user's own server on the fleet, bundle a user handler from `cdk-sessions/runtime/redis`.
});

describe(`a CDK app on the oldest supported aws-cdk-lib (${MIN_AWS_CDK_LIB}) with the elasticache alpha`, () => {
  let app: ConsumerApp;

  beforeAll(() => {
    app = timed(`npm install (aws-cdk-lib ${MIN_AWS_CDK_LIB})`, () =>
      ConsumerApp.create('minimum', { tarball, awsCdkLib: MIN_AWS_CDK_LIB, dependencies: { [ALPHA]: installedVersion(ALPHA) } }),
    );
  }, 600_000);

  afterAll(() => app?.remove());

  test('the peer range of package.json starts at this version', () => {
    const peers = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).peerDependencies;
    expect(peers['aws-cdk-lib']).toBe(`^${MIN_AWS_CDK_LIB}`);
    expect(JSON.parse(fs.readFileSync(path.join(app.dir, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version).toBe(MIN_AWS_CDK_LIB);
    expect(app.resolves('esbuild')).toBe(false);
  });

  test('synthesizes every topology, and serverless Redis and Memcached stores with the alpha', () => {
    const script = app.write(
      'every-topology.js',
      synthScript(path.join(app.dir, 'cdk.out'), `${EVERY_TOPOLOGY}
const ec2 = require('aws-cdk-lib/aws-ec2');
const serverless = new Stack(app, 'Serverless');
const vpc = new ec2.Vpc(serverless, 'Vpc');
new cs.RedisSessionStore(serverless, 'Redis', { vpc, serverless: true });
new cs.MemcachedSessionStore(serverless, 'Memcached', { vpc, serverless: true });
`),
    );
    const r = timed(`synth of 7 topologies + serverless caches (aws-cdk-lib ${MIN_AWS_CDK_LIB})`, () => app.node(script));
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const stacks = parseSynth(r.stdout);
    const serverless = stacks.find((s) => s.name === 'Serverless')!;
    expect(serverless.resourceTypes.filter((t) => t === 'AWS::ElastiCache::ServerlessCache')).toHaveLength(2);
    expectEveryTopology(app, stacks.filter((s) => s !== serverless), r.stderr);
  }, 300_000);
});
