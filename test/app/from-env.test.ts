/**
 * lambda/session/from-env.ts: building the runtime from SESSION_* variables, with secrets from
 * Secrets Manager (a local stand-in speaking GetSecretValue) — cookie secrets by ARN, the Redis
 * AUTH token by ARN and fetched again after rotation, without a restart — and the
 * `cdk-sessions/runtime` entry point's import graph (never aws-cdk-lib).
 */
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { createApp } from '../../lambda/app/app';
import { parseSessionEnv } from '../../lambda/session/env';
import { buildOnce } from '../../lambda/handlers/runtime';
import { redisStoreFactory } from '../../lambda/session/entries/redis';
import { createSessionRuntime, parseCookieSecrets, parseRedisCredentials, type SessionRuntime } from '../../lambda/session/from-env';
import { signSessionId, verifySignedSessionId } from '../../lambda/session/cookies';
import { TEST_SECRET } from '../support/app-backends';
import { Client, httpApiSend } from '../support/app-client';
import { RedisServer } from '../support/redis-server';
import { startSecretsStandIn, type SecretsStandIn } from '../support/app-secrets';
import { OpenAuthenticator } from '../../lambda/session/auth/open';

const ROOT = resolve(__dirname, '../..');
const quiet = { warn: () => undefined };
const COOKIE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cookie-AbCdEf';
const REDIS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:redis-auth-AbCdEf';
const NEW_SECRET = 'new-cookie-secret-after-rotation-0123456789';

let sm: SecretsStandIn;
const runtimes: SessionRuntime[] = [];
beforeAll(async () => {
  sm = await startSecretsStandIn();
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await sm.close();
});

test('cookie secrets parse from a JSON array, a JSON object (values in order) or a comma list; short or empty ones are refused', () => {
  const a = 'a'.repeat(32);
  const b = 'b'.repeat(40);
  expect(parseCookieSecrets(JSON.stringify([a, b]))).toEqual([a, b]);
  expect(parseCookieSecrets(JSON.stringify({ current: a, previous: b }))).toEqual([a, b]);
  expect(parseCookieSecrets(` ${a} , ${b} `)).toEqual([a, b]);
  expect(() => parseCookieSecrets('short')).toThrow(/at least 32 bytes/);
  expect(() => parseCookieSecrets('[]')).toThrow(/no secrets/);
  expect(() => parseCookieSecrets('{"a":')).toThrow(/does not parse/);
  expect(parseRedisCredentials('tok')).toEqual({ password: 'tok' });
  expect(parseRedisCredentials('{"username":"app","password":"p"}')).toEqual({ username: 'app', password: 'p' });
  expect(() => parseRedisCredentials('{"username":"app"}')).toThrow(/no "password"/);
});

test('SESSION_COOKIE_SECRET_ARN: the cookie secrets come from Secrets Manager, the first signs and a previous one still verifies', async () => {
  sm.secrets.set(COOKIE_ARN, JSON.stringify({ current: NEW_SECRET, previous: TEST_SECRET }));
  const env = parseSessionEnv({ SESSION_STORE: 'memory', SESSION_COOKIE_SECRET_ARN: COOKIE_ARN, SESSION_COOKIE_SECURE: 'false' });
  const rt = await createSessionRuntime(env, { secretsManager: sm.client(), logger: quiet });
  runtimes.push(rt);
  const s = await rt.manager.create({ user: 'x' });
  const value = rt.manager.setCookie(s).split(';')[0].slice('sid='.length);
  expect(verifySignedSessionId(value, [NEW_SECRET])).toBe(s.id);
  expect(verifySignedSessionId(value, [TEST_SECRET])).toBeUndefined();
  expect(rt.manager.idFromCookies(`sid=${signSessionId(s.id, [TEST_SECRET])}`)).toBe(s.id); // signed before rotation
  expect(sm.calls.get(COOKIE_ARN)).toBe(1);
});

test('the handlers build the runtime once and reuse it; a failed build (missing secret) is retried on the next call', async () => {
  const arn = `${COOKIE_ARN}-lazy`;
  const get = buildOnce(() => createSessionRuntime(parseSessionEnv({ SESSION_STORE: 'memory', SESSION_COOKIE_SECRET_ARN: arn }), { secretsManager: sm.client(), logger: quiet }));
  await expect(get()).rejects.toThrow();
  sm.secrets.set(arn, NEW_SECRET);
  const first = await get();
  runtimes.push(first);
  expect(await get()).toBe(first);
  expect(sm.calls.get(arn)).toBe(2);
});

test('SESSION_REDIS_AUTH_SECRET_ARN: the AUTH token comes from Secrets Manager; after rotation Redis rejects it and the store fetches the new one, no restart, no session lost', async () => {
  const redis = await RedisServer.start({ password: 'first-token-0123456789' });
  try {
    sm.secrets.set(REDIS_ARN, 'first-token-0123456789');
    const env = parseSessionEnv({
      SESSION_STORE: 'redis',
      SESSION_REDIS_URL: redis.url(),
      SESSION_REDIS_AUTH_SECRET_ARN: REDIS_ARN,
      SESSION_COOKIE_SECRET: TEST_SECRET,
      SESSION_COOKIE_SECURE: 'false',
      SESSION_STORE_TIMEOUT_MS: '1000',
    });
    const rt = await createSessionRuntime(env, { stores: [redisStoreFactory], secretsManager: sm.client(), logger: quiet });
    runtimes.push(rt);
    const c = new Client(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'rot' })));
    expect((await c.post('/login', { user: 'rotating' })).status).toBe(200);
    expect(sm.calls.get(REDIS_ARN)).toBe(1);

    // Rotation: Secrets Manager holds the new token, Redis requires it, old connections are cut.
    sm.secrets.set(REDIS_ARN, 'second-token-9876543210');
    await redis.cli('CONFIG', 'SET', 'requirepass', 'second-token-9876543210');
    await redis.cli('-a', 'second-token-9876543210', '--no-auth-warning', 'CLIENT', 'KILL', 'TYPE', 'normal').catch(() => undefined);

    const deadline = Date.now() + 20_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await c.post('/cart/items', { sku: 'after-rotation', qty: 1 })).status;
      if (status === 200) break;
      expect(status).toBe(503); // while reconnecting: unavailable, never a wrong answer
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect(sm.calls.get(REDIS_ARN)).toBeGreaterThanOrEqual(2);
    expect((await c.get('/session')).json).toMatchObject({ user: 'rotating', cart: [{ sku: 'after-rotation', qty: 1 }] });
  } finally {
    await redis.dispose();
  }
});

test('the cdk-sessions/runtime entry point and both Lambda handlers bundle without aws-cdk-lib or constructs', () => {
  for (const entry of ['lambda/session/index.ts', 'lambda/handlers/http-api.ts', 'lambda/handlers/alb.ts', 'lambda/instance/main.ts']) {
    const out = buildSync({ entryPoints: [join(ROOT, entry)], bundle: true, platform: 'node', target: 'node20', write: false, metafile: true, logLevel: 'silent', external: ['@aws-sdk/*'] });
    const inputs = Object.keys(out.metafile!.inputs);
    expect(inputs.some((p) => p.includes(`lambda/${entry.split('/')[1]}`))).toBe(true);
    expect(inputs.filter((p) => /node_modules\/(aws-cdk-lib|constructs|aws-cdk)\//.test(p))).toEqual([]);
  }
});
