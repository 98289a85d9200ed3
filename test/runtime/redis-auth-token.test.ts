/**
 * ElastiCache AUTH tokens hold letters, digits and `! & # $ ^ < > -`. These tests start a real
 * redis-server whose requirepass holds every one of those special characters and prove that the
 * runtime authenticates with it both ways it gets a token: inside SESSION_REDIS_URL
 * (percent-encoded by formatRedisUrl, as one writes it for a local run) and from the auth secret
 * (SESSION_REDIS_AUTH_SECRET_ARN, as deployed). A hand-written URL with a bare `#` fails with a
 * message that says what to do and does not print the token.
 */
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { createApp } from '../../lambda/app/app';
import { parseSessionEnv } from '../../lambda/session/env';
import { redisStoreFactory } from '../../lambda/session/entries/redis';
import { createSessionRuntime, type SessionRuntime } from '../../lambda/session/from-env';
import { formatRedisUrl, parseRedisUrl } from '../../lambda/session/stores/redis-client';
import { TEST_SECRET } from '../support/app-backends';
import { Client, httpApiSend } from '../support/app-client';
import { startSecretsStandIn, type SecretsStandIn } from '../support/app-secrets';
import { RedisServer } from '../support/redis-server';

/** 64 characters, every special character ElastiCache allows, `#` and `&` twice. */
const TOKEN = 'Ab3!&#$^<>-' + 'x7Y#&'.repeat(10) + 'Zz0';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-token-AbCdEf';
const quiet = { warn: () => undefined };

let redis: RedisServer;
let sm: SecretsStandIn;
const runtimes: SessionRuntime[] = [];
beforeAll(async () => {
  expect(TOKEN).toHaveLength(64);
  redis = await RedisServer.start({ password: TOKEN });
  // The server really requires exactly this token (redis-server's config parser took it whole).
  expect((await redis.cli('CONFIG', 'GET', 'requirepass')).split('\n')).toContain(TOKEN);
  sm = await startSecretsStandIn();
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await sm?.close();
  await redis?.dispose();
});

/** Logs in and reads the session back through the app on a runtime built from `vars`. */
async function loginAndRead(vars: Record<string, string>): Promise<void> {
  const env = parseSessionEnv({ SESSION_STORE: 'redis', SESSION_COOKIE_SECRET: TEST_SECRET, SESSION_COOKIE_SECURE: 'false', SESSION_STORE_TIMEOUT_MS: '2000', ...vars });
  const rt = await createSessionRuntime(env, { stores: [redisStoreFactory], secretsManager: sm.client(), logger: quiet });
  runtimes.push(rt);
  const c = new Client(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'token' })));
  expect((await c.post('/login', { user: 'tok' })).status).toBe(200);
  expect((await c.get('/session')).json).toMatchObject({ user: 'tok' });
}

test('formatRedisUrl percent-encodes every AUTH token character and parseRedisUrl gives the exact token back', () => {
  const url = formatRedisUrl({ host: '127.0.0.1', port: 6380, tls: true, credentials: { password: TOKEN } });
  expect(url.startsWith('rediss://:')).toBe(true);
  expect(url.split('@')[0]).not.toMatch(/[#&^<>$!]/);
  expect(parseRedisUrl(url)).toEqual({ host: '127.0.0.1', port: 6380, tls: true, credentials: { username: undefined, password: TOKEN } });
});

test('a redis-server whose requirepass holds ! & # $ ^ < > - accepts the runtime with the token in SESSION_REDIS_URL', async () => {
  await loginAndRead({ SESSION_REDIS_URL: formatRedisUrl({ host: '127.0.0.1', port: redis.port, credentials: { password: TOKEN } }) });
});

test('the same server accepts the runtime with the token from the auth secret (SESSION_REDIS_AUTH_SECRET_ARN), as deployed', async () => {
  sm.secrets.set(ARN, TOKEN);
  await loginAndRead({ SESSION_REDIS_URL: `redis://127.0.0.1:${redis.port}`, SESSION_REDIS_AUTH_SECRET_ARN: ARN });
});

test('a hand-written URL with a bare # in the token fails with "percent-encode" and without printing the token', () => {
  const bad = `redis://:${TOKEN}@127.0.0.1:${redis.port}`;
  let message = '';
  try {
    parseRedisUrl(bad);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/percent-encode the password/);
  expect(message).not.toContain('x7Y#&');
});
