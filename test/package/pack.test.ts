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
 * In `current`, a team's app also wires its own Lambda function and Fargate service with one
 * `connect()` each, runs its own prebuilt server (FleetServer.fromAsset) from cdk.out the way the
 * fleet's user data starts it, against a local redis-server, and bundles its own handler from
 * `cdk-sessions/runtime` + `/runtime/redis` (with this repository's esbuild: the app has none).
 *
 * To add a check: write its files into `current.app` (or `minimum.app`) with `write`, run them
 * with `node`, assert on the result; see the describe blocks below.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { INSTANCE_HEALTH_CHECK, LOCAL_HEALTH_WAIT_SECONDS } from '../../lib/compute/health-check';
import { ConsumerApp, installedVersion, packRepository, parseSynth, REPO_ROOT, SynthesizedStack, synthScript } from '../support/consumer-app';
import { freePort } from '../support/ports';
import { PUBLIC_API } from './public-api';
import { RedisServer } from '../support/redis-server';

/** The oldest aws-cdk-lib the library supports; package.json's peer range starts here. */
const MIN_AWS_CDK_LIB = '2.269.0';
/** The elasticache alpha the minimum app installs (optional, for serverless caches). */
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

  test("the installed package's root exports exactly the public API's values (classes, enums, constants)", () => {
    const r = app.node(app.write('.exports.js', "process.stdout.write(JSON.stringify(Object.keys(require('cdk-sessions')).sort()));\n"));
    expect(r.stderr).toBe('');
    const values = Object.keys(PUBLIC_API).filter((n) => PUBLIC_API[n] !== 'interface');
    expect(JSON.parse(r.stdout)).toEqual(values.sort());
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
    expect(r.stderr).toMatch(/RedisSessionStore with serverless: true needs @aws-cdk\/aws-elasticache-alpha, which is not installed/);
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

  describe('adopted into a team app: one-call wiring, its own server on the fleet, its own handler bundle', () => {
    /** The team's server directory (prebuilt: plain JS and the node_modules it needs), outside the app. */
    let serverDir: string;
    let stack: SynthesizedStack;
    let template: Template;
    let redis: RedisServer;

    beforeAll(async () => {
      redis = await RedisServer.start();
      serverDir = path.join(work, 'team-server');
      timed('team server directory (copy of the installed runtime + ioredis)', () => {
        app.write(path.relative(app.dir, path.join(serverDir, 'server.js')), TEAM_SERVER);
        copyModuleClosure(app, ['cdk-sessions/runtime', 'cdk-sessions/runtime/redis'], serverDir);
      });
      const script = app.write('adopt.js', synthScript(path.join(app.dir, 'cdk.out.adopt'), adoptBody(serverDir)));
      const r = timed('synth of RedisSessions + a Lambda function + a Fargate service + FleetServer.fromAsset', () => app.node(script));
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      [stack] = parseSynth(r.stdout);
      template = JSON.parse(fs.readFileSync(stack.templateFile, 'utf8'));
    }, 300_000);

    afterAll(async () => {
      await redis?.dispose();
    });

    test('connect() wires a Lambda function and a Fargate service in one call each: environment, grants, network', () => {
      const resources = Object.entries(template.Resources);
      const fnId = logicalId(template, 'AWS::Lambda::Function', /^UserFunction[0-9A-F]{8}$/);
      const taskId = logicalId(template, 'AWS::ECS::TaskDefinition', /^UserTask[0-9A-F]{8}$/);
      const serviceId = logicalId(template, 'AWS::ECS::Service', /^UserService/);
      const fn = template.Resources[fnId].Properties;
      const task = template.Resources[taskId].Properties;
      const service = template.Resources[serviceId].Properties;

      // The topology's own consumers: its API function (the only other function with a session
      // store) and its fleet (the environment file its user data writes).
      const apiIds = resources
        .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id !== fnId && r.Properties.Environment?.Variables?.SESSION_STORE === 'redis')
        .map(([id]) => id);
      expect(apiIds).toHaveLength(1);
      const api = template.Resources[apiIds[0]].Properties;
      const apiEnv: Env = api.Environment.Variables;
      const fleetEnv = fleetEnvironment(template).env;

      const consumers: { [name: string]: { env: Env; roleId: string; securityGroupId: string } } = {
        function: { env: fn.Environment.Variables, roleId: getAttId(fn.Role), securityGroupId: getAttId(fn.VpcConfig.SecurityGroupIds[0]) },
        service: {
          env: Object.fromEntries(task.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value])),
          roleId: getAttId(task.TaskRoleArn),
          securityGroupId: getAttId(service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]),
        },
      };

      // The store's variables, the one cookie secret and the cookie settings of the API.
      const shared = Object.keys(apiEnv).filter((k) => /^SESSION_(STORE|REDIS_.*|COOKIE_.*|IDLE_TIMEOUT|ABSOLUTE_TIMEOUT)$/.test(k));
      expect(shared).toEqual(expect.arrayContaining(['SESSION_STORE', 'SESSION_REDIS_URL', 'SESSION_REDIS_AUTH_SECRET_ARN', 'SESSION_COOKIE_SECRET_ARN', 'SESSION_COOKIE_NAME']));
      const cookieSecretArn = apiEnv.SESSION_COOKIE_SECRET_ARN;
      expect(fleetEnv.SESSION_COOKIE_SECRET_ARN).toEqual(cookieSecretArn);
      // The network path of the API's function: the cache's port, and the Secrets Manager
      // endpoint the topology adds to its own VPC.
      const cacheId = logicalId(template, 'AWS::ElastiCache::ReplicationGroup', /./);
      const cache = template.Resources[cacheId].Properties;
      const storeRule = { to: JSON.stringify(cache.SecurityGroupIds[0]), port: cache.Port };
      const sorted = (rules: { to: string; port: number }[]) => [...rules].sort((a, b) => `${a.to}${a.port}`.localeCompare(`${b.to}${b.port}`));
      const apiIngress = sorted(ingressesFrom(template, getAttId(api.VpcConfig.SecurityGroupIds[0])));
      expect(apiIngress).toContainEqual(storeRule);

      for (const [name, c] of Object.entries(consumers)) {
        for (const key of shared) expect([name, key, c.env[key]]).toEqual([name, key, apiEnv[key]]);
        const statements = statementsOfRole(template, c.roleId);
        // Data (the cache's AUTH token secret) and the cookie secret.
        for (const secret of [cookieSecretArn, apiEnv.SESSION_REDIS_AUTH_SECRET_ARN]) {
          expect([name, statements.some((s) => allows(s, 'secretsmanager:GetSecretValue', secret))]).toEqual([name, true]);
        }
        expect([name, sorted(ingressesFrom(template, c.securityGroupId))]).toEqual([name, apiIngress]);
      }
    });

    test("FleetServer.fromAsset: the team's prebuilt server runs from cdk.out as the instance's user data starts it", async () => {
      const fleet = fleetEnvironment(template);
      // The asset the instance downloads and unzips into the app directory.
      const key = /s3:\/\/[^/\s]+\/([0-9a-f]{64}\.zip)/.exec(fleet.text)?.[1];
      expect(key).toBeDefined();
      const asset = stack.assets.find((a) => key!.startsWith(a.path.replace(/^asset\./, '')));
      expect(asset?.files).toEqual(['node_modules', 'server.js']);
      const unzip = /^unzip -o -q \S+ -d (\S+)$/m.exec(fleet.text)![1];
      const workDir = /^WorkingDirectory=(\S+)$/m.exec(fleet.text)![1];
      const execStart = /^ExecStart=\/bin\/sh (\S+)$/m.exec(fleet.text)![1];
      const unitPath = /^Environment=PATH=(\S+)$/m.exec(fleet.text)![1];
      expect(workDir).toBe(unzip);
      expect(fleet.start).toEqual(['#!/bin/sh', `exec ${TEAM_START_COMMAND}`]);

      // The instance's /opt/cdk-sessions, rebuilt in a directory with no node_modules above it.
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sessions-instance-'));
      const local = (p: string) => path.join(root, path.relative('/opt/cdk-sessions', p));
      const appDir = local(workDir);
      fs.cpSync(path.join(path.dirname(stack.templateFile), asset!.path), appDir, { recursive: true });
      const nodeBin = local(unitPath.split(':')[0]);
      fs.mkdirSync(nodeBin, { recursive: true });
      fs.symlinkSync(process.execPath, path.join(nodeBin, 'node'));
      fs.writeFileSync(local(execStart), `${fleet.start.join('\n')}\n`, { mode: 0o755 });

      // The environment file, with what only AWS resolves pointed at local stand-ins: every other
      // variable (SESSION_STORE, cookie settings, timeouts, NODE_ENV) as the template writes it.
      const cookieSecretFile = path.join(root, 'cookie-secret');
      fs.writeFileSync(cookieSecretFile, 'a-local-cookie-secret-of-at-least-32-characters');
      const port = await freePort();
      const overrides: Env = {
        SESSION_REDIS_URL: redis.url(),
        SESSION_REDIS_AUTH_SECRET_ARN: undefined,
        SESSION_COOKIE_SECRET_ARN: undefined,
        SESSION_COOKIE_SECRET_FILE: cookieSecretFile,
        PORT: String(port),
        SESSION_SERVED_BY: 'i-0123456789abcdef0',
        // Read by the reference app's login only; a team's server that does its own login ignores them.
        SESSION_COGNITO_USER_POOL_ID: 'us-east-1_local',
        SESSION_COGNITO_CLIENT_ID: 'localclient0123456789',
        AWS_REGION: 'us-east-1',
      };
      const unresolved = Object.entries(fleet.env).filter(([, v]) => typeof v !== 'string').map(([k]) => k);
      expect(unresolved.filter((k) => !(k in overrides))).toEqual([]);
      expect(fleet.env.SESSION_STORE).toBe('redis');
      expect(fleet.env.PORT).toMatch(/^\d+$/);
      const env: { [key: string]: string } = { PATH: `${unitPath}`.split(':').map((p) => (p.startsWith('/opt/cdk-sessions') ? local(p) : p)).join(':') };
      for (const [k, v] of Object.entries({ ...fleet.env, ...overrides })) if (typeof v === 'string') env[k] = v;

      await redis.cli('FLUSHALL');
      const server = spawn('/bin/sh', [local(execStart)], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      server.stdout!.on('data', (b) => (output += b));
      server.stderr!.on('data', (b) => (output += b));
      try {
        const base = `http://127.0.0.1:${port}`;
        // As long as the instance's user data waits for the health check.
        await waitForHealth(`${base}${INSTANCE_HEALTH_CHECK.path}`, LOCAL_HEALTH_WAIT_SECONDS * 1000, server, () => output);
        const created = await fetch(`${base}/cart`, { method: 'POST', body: JSON.stringify({ item: 'tea' }) });
        expect(created.status).toBe(201);
        const cookie = created.headers.get('set-cookie')!.split(';')[0];
        // The cookie the fleet's settings ask for (an HTTP listener without a certificate: not Secure).
        expect(cookie.startsWith(`${fleet.env.SESSION_COOKIE_SECURE === 'false' ? '' : '__Host-'}${fleet.env.SESSION_COOKIE_NAME}=`)).toBe(true);
        const read = await fetch(`${base}/cart`, { headers: { cookie } });
        expect(read.status).toBe(200);
        expect(await read.json()).toEqual({ items: ['tea'], servedBy: 'i-0123456789abcdef0' });
        // In redis-server, not in the process.
        expect(Number((await redis.cli('DBSIZE')).trim())).toBe(1);
      } finally {
        await stop(server);
        fs.rmSync(root, { recursive: true, force: true });
      }
    }, 300_000);

    test('a handler importing cdk-sessions/runtime and /runtime/redis bundles to ≤ 250 KB and serves a request on redis-server', async () => {
      const entry = app.write('src/handler.ts', TEAM_HANDLER);
      const outfile = path.join(work, 'handler-bundle', 'index.js');
      // The repository's esbuild: the app has none, as a team's app may bundle with its own tooling.
      const result = timed('esbuild of a user handler (core + redis)', () =>
        esbuild.buildSync({
          entryPoints: [entry],
          outfile,
          absWorkingDir: app.dir,
          bundle: true,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          minify: true,
          external: ['@aws-sdk/*'],
          metafile: true,
          logLevel: 'error',
        }),
      );
      const bytes = fs.statSync(outfile).size;
      timings.push(`user handler bundle (core + redis, minified, AWS SDK external): ${(bytes / 1024).toFixed(1)} KiB`);
      expect(bytes).toBeLessThanOrEqual(250 * 1024);
      const inputs = Object.keys(result.metafile!.inputs);
      // From the installed package, and no other store's code or client.
      expect(inputs.some((i) => i.startsWith('node_modules/cdk-sessions/dist/lambda/session/entries/redis.js'))).toBe(true);
      expect(inputs.filter((i) => !i.startsWith('node_modules/') && i !== 'src/handler.ts')).toEqual([]);
      expect(inputs.filter((i) => /stores\/(dynamodb|s3|memcached|postgres)|node_modules\/(pg|memcache-client|jose)\//.test(i))).toEqual([]);

      // Loaded from outside the app (only the bundle), as Lambda would: two requests, one session.
      const runner = path.join(path.dirname(outfile), 'invoke.js');
      fs.writeFileSync(runner, HANDLER_RUNNER);
      const r = await runNode(runner, {
        SESSION_STORE: 'redis',
        SESSION_REDIS_URL: redis.url(),
        SESSION_COOKIE_SECRET: 'a-local-cookie-secret-of-at-least-32-characters',
        NODE_ENV: 'production',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([
        { statusCode: 201, views: 1, cookie: true },
        { statusCode: 200, views: 2, cookie: true },
      ]);
    }, 120_000);
  });
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

// ---- adopted into a team's app (issue 15: one-call wiring, own server, own handler) ----------

/** The start command of the team's prebuilt server, as the fleet's user data runs it. */
const TEAM_START_COMMAND = 'node server.js';

/**
 * A team's own server, plain JS: Node's http module, sessions from `cdk-sessions/runtime` on the
 * Redis store entry, health check on /healthz, a cart in the session.
 */
const TEAM_SERVER = `'use strict';
const http = require('node:http');
const { createSessionRuntime, parseSessionEnv } = require('cdk-sessions/runtime');
const { redisStoreFactory } = require('cdk-sessions/runtime/redis');

async function main() {
  const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
  const { manager } = runtime;
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer(async (req, res) => {
    try {
      if (req.url === '/healthz') return send(res, 200, { ok: true });
      if (req.url === '/cart' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const session = await manager.create({ items: [JSON.parse(body).item] });
        return send(res, 201, { ok: true }, { 'set-cookie': manager.setCookie(session) });
      }
      if (req.url === '/cart') {
        const session = await manager.load(req.headers.cookie);
        if (!session) return send(res, 404, { error: 'no session' });
        return send(res, 200, { items: session.data.items, servedBy: runtime.servedBy });
      }
      return send(res, 404, { error: 'not found' });
    } catch (err) {
      console.error(err);
      return send(res, 500, { error: 'internal' });
    }
  });
  server.listen(Number(process.env.PORT));
  process.once('SIGTERM', () => server.close(() => runtime.close()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/** A team's Lambda handler in TypeScript: the runtime core and one store entry. */
const TEAM_HANDLER = `import { createSessionRuntime, parseSessionEnv, type SessionData, type SessionRuntime } from 'cdk-sessions/runtime';
import { redisStoreFactory } from 'cdk-sessions/runtime/redis';

let runtime: Promise<SessionRuntime> | undefined;

export async function handler(event: { cookies?: string[] }) {
  runtime ??= createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
  const { manager } = await runtime;
  const existing = await manager.modify(event.cookies, (d: SessionData) => ({ ...d, views: Number(d.views) + 1 }));
  const session = existing ?? (await manager.create({ views: 1 }));
  return { statusCode: existing ? 200 : 201, cookies: [manager.setCookie(session)], body: JSON.stringify({ views: session.data.views }) };
}
`;

/** Calls the bundled handler twice as API Gateway would (the second time with the cookie) and prints what came back. */
const HANDLER_RUNNER = `'use strict';
const { handler } = require('./index.js');
(async () => {
  const results = [];
  let cookies;
  for (let i = 0; i < 2; i++) {
    const r = await handler({ cookies });
    const cookie = r.cookies[0].split(';')[0];
    results.push({ statusCode: r.statusCode, views: JSON.parse(r.body).views, cookie: cookie.startsWith('__Host-sid=') });
    cookies = [cookie];
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/** A team's stack: RedisSessions running its own server, plus its own function and Fargate service, each wired by one connect(). */
function adoptBody(serverDir: string): string {
  return `
const ecs = require('aws-cdk-lib/aws-ecs');
const lambda = require('aws-cdk-lib/aws-lambda');
const stack = new Stack(app, 'Adopt');
const sessions = new cs.RedisSessions(stack, 'Sessions', {
  server: cs.FleetServer.fromAsset(${JSON.stringify(serverDir)}, { startCommand: ${JSON.stringify(TEAM_START_COMMAND)} }),
});
const fn = new lambda.Function(stack, 'UserFunction', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 204 });'),
  vpc: sessions.vpc,
});
sessions.connect(cs.SessionConsumer.fromFunction(fn));
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: sessions.vpc });
const task = new ecs.FargateTaskDefinition(stack, 'UserTask');
task.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'), portMappings: [{ containerPort: 8080 }] });
const service = new ecs.FargateService(stack, 'UserService', { cluster, taskDefinition: task, minHealthyPercent: 100 });
sessions.connect(cs.SessionConsumer.fromFargateService(service));
`;
}

interface Template {
  readonly Resources: { [id: string]: { readonly Type: string; readonly Properties: any } };
}
type Env = { [key: string]: unknown };

/** The one resource of `type` whose logical id matches. */
function logicalId(template: Template, type: string, id: RegExp): string {
  const ids = Object.entries(template.Resources)
    .filter(([k, r]) => r.Type === type && id.test(k))
    .map(([k]) => k);
  expect([type, id.source, ids.length]).toEqual([type, id.source, 1]);
  return ids[0];
}

/** The logical id in `{ "Fn::GetAtt": [id, attr] }`. */
function getAttId(v: unknown): string {
  const att = (v as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (!att) throw new Error(`not a Fn::GetAtt: ${JSON.stringify(v)}`);
  return att[0];
}

/**
 * The fleet's user data (its launch template's) as text, each CloudFormation token replaced by a
 * placeholder; the environment file and start script it writes (heredocs), with tokens put back
 * (a variable that holds a token is that token, or `{ text, tokens }` when mixed with text).
 */
function fleetEnvironment(template: Template): { text: string; env: Env; start: string[] } {
  const templates = Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::LaunchTemplate' && r.Properties.LaunchTemplateData?.UserData);
  expect(templates).toHaveLength(1);
  const tokens: unknown[] = [];
  const render = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && 'Fn::Base64' in v) return render(v['Fn::Base64']);
    if (v && typeof v === 'object' && 'Fn::Join' in v && typeof v['Fn::Join'][0] === 'string' && Array.isArray(v['Fn::Join'][1])) {
      return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
    }
    tokens.push(v);
    return `\u00ab${tokens.length - 1}\u00bb`;
  };
  const text = render(templates[0].Properties.LaunchTemplateData.UserData);
  const lines = text.split('\n');
  const heredoc = (end: string) => {
    const from = lines.findIndex((l) => l.endsWith(`<<'${end}'`));
    const to = lines.indexOf(end, from + 1);
    expect([end, from >= 0 && to > from]).toEqual([end, true]);
    return lines.slice(from + 1, to);
  };
  const env: Env = {};
  for (const line of heredoc('SESSION_ENV')) {
    const eq = line.indexOf('=');
    const value = line.slice(eq + 1);
    const only = /^\u00ab(\d+)\u00bb$/.exec(value);
    const used = [...value.matchAll(/\u00ab(\d+)\u00bb/g)].map((m) => tokens[Number(m[1])]);
    env[line.slice(0, eq)] = only ? tokens[Number(only[1])] : used.length > 0 ? { text: value, tokens: used } : value;
  }
  return { text, env, start: heredoc('SESSION_START') };
}

/** Every IAM statement of the policies attached to the role `roleId`. */
function statementsOfRole(template: Template, roleId: string): any[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: unknown) => JSON.stringify(x) === JSON.stringify({ Ref: roleId })))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

/** Whether the statement allows `action` on `resource` (a token, compared as JSON). */
function allows(statement: any, action: string, resource: unknown): boolean {
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  return (
    statement.Effect === 'Allow' &&
    list(statement.Action).includes(action) &&
    list(statement.Resource).some((r) => JSON.stringify(r) === JSON.stringify(resource))
  );
}

/** The ingress rules whose source is the security group `sourceId`: target group (as JSON) and port. */
function ingressesFrom(template: Template, sourceId: string): { to: string; port: number }[] {
  const source = JSON.stringify({ 'Fn::GetAtt': [sourceId, 'GroupId'] });
  const rules: { to: string; port: number }[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.SourceSecurityGroupId) === source) {
      rules.push({ to: JSON.stringify(r.Properties.GroupId), port: r.Properties.FromPort });
    }
    if (r.Type === 'AWS::EC2::SecurityGroup') {
      for (const rule of r.Properties.SecurityGroupIngress ?? []) {
        if (JSON.stringify(rule.SourceSecurityGroupId) === source) rules.push({ to: JSON.stringify({ 'Fn::GetAtt': [id, 'GroupId'] }), port: rule.FromPort });
      }
    }
  }
  return rules;
}

/**
 * Copies into `dir/node_modules` the packages that loading `modules` from the app's node_modules
 * pulls in, as a team's build would ship them (`npm install --omit=dev` trimmed to what runs):
 * each package whole, except cdk-sessions itself (its package.json and dist/, not the construct
 * library's prebuilt bundles).
 */
function copyModuleClosure(app: ConsumerApp, modules: string[], dir: string): void {
  const r = app.node(app.write('.closure.js', `${modules.map((m) => `require(${JSON.stringify(m)});`).join('\n')}\nprocess.stdout.write(JSON.stringify(Object.keys(require.cache)));\n`));
  expect(r.stderr).toBe('');
  const nodeModules = path.join(app.dir, 'node_modules');
  const roots = new Set<string>();
  for (const file of JSON.parse(r.stdout) as string[]) {
    const rel = path.relative(nodeModules, file);
    if (rel.startsWith('..')) continue;
    const parts = rel.split(path.sep);
    const last = parts.lastIndexOf('node_modules');
    const at = last + 1;
    roots.add(parts.slice(0, at + (parts[at].startsWith('@') ? 2 : 1)).join(path.sep));
  }
  expect([...roots]).toEqual(expect.arrayContaining(['cdk-sessions', 'ioredis']));
  for (const root of roots) {
    const from = path.join(nodeModules, root);
    const to = path.join(dir, 'node_modules', root);
    if (root === 'cdk-sessions') {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
      fs.cpSync(path.join(from, 'dist'), path.join(to, 'dist'), { recursive: true });
    } else {
      fs.cpSync(from, to, { recursive: true });
    }
  }
}

/** Polls `url` until it answers 200; fails at once when the process exits, or after `timeoutMs`. */
async function waitForHealth(url: string, timeoutMs: number, proc: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the server exited (${proc.exitCode ?? proc.signalCode}):\n${output()}`);
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`no 200 from ${url} within ${timeoutMs} ms (last status ${status}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM (the server drains and closes), SIGKILL if still running 10 s later. */
async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** `node file` in the file's directory with only PATH, HOME and `env`. */
async function runNode(file: string, env: { [key: string]: string }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [file], { cwd: path.dirname(file), env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b) => (stdout += b));
  proc.stderr!.on('data', (b) => (stderr += b));
  const status = await new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { status, stdout, stderr };
}
