/**
 * SessionRuntime.close() (and JwtRuntime.close()) leave nothing that keeps the event loop alive:
 * a one-shot script that builds the runtime from the environment, does one session and calls
 * close() exits by itself with code 0 — no process.exit. Each script is bundled with esbuild and
 * run as a fresh `node`; Redis is a real redis-server on its own port.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { startSecretsStandIn, type SecretsStandIn } from '../support/app-secrets';
import { RedisServer } from '../support/redis-server';

const ROOT = resolve(__dirname, '../..');
const STORE_TIMEOUT_MS = 1000;
/**
 * How long a script may take: starting node (generous: two cores shared by several jobs), then
 * at most three store calls (create, load, the QUIT in close()) each bounded by the store timeout.
 */
const EXIT_BOUND_MS = 10_000 + 3 * STORE_TIMEOUT_MS;
const SECRET = 'c'.repeat(32);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-close-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A user's one-shot script on the core (+ the redis entry), bundled; `close` false leaves close() out (the control). */
function sessionScript(name: string, close: boolean): string {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(
    entry,
    `import { createSessionRuntime, parseSessionEnv } from ${JSON.stringify(join(ROOT, 'lambda/session/index'))};
     import { redisStoreFactory } from ${JSON.stringify(join(ROOT, 'lambda/session/entries/redis'))};
     (async () => {
       const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
       const created = await runtime.manager.create({ user: 'script' });
       const loaded = await runtime.manager.loadById(created.id);
       process.stdout.write(JSON.stringify(loaded?.data));
       ${close ? 'await runtime.close();' : ''}
     })().catch((err) => { console.error(err); process.exitCode = 2; });`,
  );
  return bundle(entry, name);
}

/** A team's script with the runtime's own metrics on: started before the runtime, its last counts written by stop() before close(). */
function metricsScript(): string {
  const entry = join(dir, 'metrics.ts');
  writeFileSync(
    entry,
    `import { createSessionRuntime, parseSessionEnv, startRuntimeMetrics } from ${JSON.stringify(join(ROOT, 'lambda/session/index'))};
     import { redisStoreFactory } from ${JSON.stringify(join(ROOT, 'lambda/session/entries/redis'))};
     (async () => {
       const metrics = startRuntimeMetrics(process.env);
       const runtime = await createSessionRuntime(parseSessionEnv(process.env), { stores: [redisStoreFactory] });
       const created = await runtime.manager.create({ user: 'script' });
       await runtime.manager.loadById(created.id);
       metrics.stop();
       await runtime.close();
     })().catch((err) => { console.error(err); process.exitCode = 2; });`,
  );
  return bundle(entry, 'metrics');
}

function jwtScript(): string {
  const entry = join(dir, 'jwt.ts');
  writeFileSync(
    entry,
    `import { parseSessionEnv } from ${JSON.stringify(join(ROOT, 'lambda/session/index'))};
     import { createJwtRuntime } from ${JSON.stringify(join(ROOT, 'lambda/session/entries/jwt'))};
     (async () => {
       const runtime = await createJwtRuntime(parseSessionEnv(process.env));
       const issued = await runtime.sessions.issue({ sub: 'script', cart: [], prefs: {}, custom: { tenant: 'acme' } });
       const verified = await runtime.sessions.verify(issued.token);
       process.stdout.write(JSON.stringify({ user: verified.claims.sub, ...verified.claims.custom }));
       await runtime.close();
     })().catch((err) => { console.error(err); process.exitCode = 2; });`,
  );
  return bundle(entry, 'jwt');
}

function bundle(entry: string, name: string): string {
  const outfile = join(dir, `${name}.js`);
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', outfile, logLevel: 'silent', external: ['@aws-sdk/*'] });
  return outfile;
}

/** Runs `file` (bare imports left external resolve from this repository's node_modules); resolves with its exit code and output, or `code: 'still running'` once EXIT_BOUND_MS has passed (then it is killed). */
function run(file: string, env: Record<string, string>): Promise<{ code: number | null | 'still running'; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: 'still running', stdout, stderr });
    }, EXIT_BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const BASE = { SESSION_COOKIE_SECRET: SECRET, SESSION_COOKIE_SECURE: 'false', SESSION_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS), SESSION_AUTH: 'open' };

describe(`a one-shot script that calls close() exits by itself with code 0 (bound ${EXIT_BOUND_MS} ms)`, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  test('memory store', async () => {
    const r = await run(sessionScript('memory', true), { ...BASE, SESSION_STORE: 'memory' });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: JSON.stringify({ user: 'script' }) });
  }, EXIT_BOUND_MS + 5_000);

  test('memory store, cookie secrets from a file reloaded every second (the reload timer does not hold the process)', async () => {
    const file = join(dir, 'cookie-secret');
    writeFileSync(file, SECRET);
    const { SESSION_COOKIE_SECRET: _unused, ...rest } = BASE;
    const r = await run(sessionScript('memory-file', true), { ...rest, SESSION_STORE: 'memory', SESSION_COOKIE_SECRET_FILE: file, SESSION_COOKIE_SECRET_RELOAD_SECONDS: '1' });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: JSON.stringify({ user: 'script' }) });
  }, EXIT_BOUND_MS + 5_000);

  test('redis store on a real redis-server', async () => {
    const r = await run(sessionScript('redis', true), { ...BASE, SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url() });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: JSON.stringify({ user: 'script' }) });
  }, EXIT_BOUND_MS + 5_000);

  test("redis store with the runtime's metrics on (startRuntimeMetrics from cdk-sessions/runtime): one EMF line with the store calls, and the interval timer does not hold the process", async () => {
    const r = await run(metricsScript(), { ...BASE, SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url(), SESSION_METRICS: 'on', POWERTOOLS_SERVICE_NAME: 'team-script' });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> } });
    expect(lines).toHaveLength(1);
    expect(lines[0]._aws.CloudWatchMetrics[0].Namespace).toBe('CdkSessions');
    expect(lines[0]).toMatchObject({ service: 'team-script', SessionsCreated: 1, StoreCalls: 2 }); // create and load, timed through the metered store
  }, EXIT_BOUND_MS + 5_000);

  test('redis store with its AUTH token and the cookie secret from Secrets Manager', async () => {
    const password = 'p'.repeat(24);
    const secured = await RedisServer.start({ password });
    let sm: SecretsStandIn | undefined;
    try {
      sm = await startSecretsStandIn();
      const cookieArn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:cookie-AbCdEf';
      const authArn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:redis-auth-AbCdEf';
      sm.secrets.set(cookieArn, JSON.stringify({ secret: SECRET }));
      sm.secrets.set(authArn, password);
      const { SESSION_COOKIE_SECRET: _unused, ...rest } = BASE;
      const r = await run(sessionScript('redis-arn', true), {
        ...rest,
        SESSION_STORE: 'redis',
        SESSION_REDIS_URL: secured.url(),
        SESSION_REDIS_AUTH_SECRET_ARN: authArn,
        SESSION_COOKIE_SECRET_ARN: cookieArn,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: JSON.stringify({ user: 'script' }) });
      expect(sm.calls.get(authArn)).toBe(1);
    } finally {
      await sm?.close();
      await secured.dispose();
    }
  }, EXIT_BOUND_MS + 10_000);

  test('control: the same redis script without close() is still running at the bound (the open connection holds it)', async () => {
    const r = await run(sessionScript('redis-no-close', false), { ...BASE, SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url() });
    expect(r.stdout).toBe(JSON.stringify({ user: 'script' }));
    expect(r.code).toBe('still running');
  }, EXIT_BOUND_MS + 5_000);

  test('JWT runtime (local key, no denylist)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const r = await run(jwtScript(), {
      SESSION_STORE: 'jwt',
      SESSION_JWT_PRIVATE_KEY: pem,
      SESSION_JWT_ISSUER: 'https://issuer.test',
      SESSION_JWT_AUDIENCE: 'app',
      SESSION_REVOCATION_CHECK: 'never',
      SESSION_COOKIE_SECURE: 'false',
      SESSION_AUTH: 'open',
    });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: JSON.stringify({ user: 'script', tenant: 'acme' }) });
  }, EXIT_BOUND_MS + 5_000);
});
