/**
 * POST /login with a real credential check (SESSION_AUTH=cognito) against cognito-local, a real
 * Cognito user pool emulator, through HTTP on the instance server (a child process, with
 * NODE_ENV=production) and through the Lambda HTTP API adapter (the app built from the same
 * environment in this process), in store mode (on a real redis-server) and in JWT mode.
 * Also: the start-up rules of SESSION_AUTH (production refuses `open` and a missing value).
 */
import { decodeJwt } from 'jose';
import type { App } from '../../lambda/app/app';
import { createAppFromEnv, type RuntimeApp } from '../../lambda/app/from-env';
import { parseSessionEnv } from '../../lambda/session/env';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { baseEnv, LOCAL_AWS_ENV, startBackend, type Backend } from '../support/app-backends';
import { Client, httpApiSend, httpSend, type Reply } from '../support/app-client';
import { removeInstanceBundle, startInstance, type InstanceProcess } from '../support/app-instance';
import { CognitoLocal, type CognitoPool } from '../support/cognito';
import type { Dynalite } from '../support/dynalite';
import { jwtEnv } from '../support/jwt-app';
import { startDenylistDynalite } from '../support/jwt-denylist';

const ALICE_PASSWORD = 'Correct-Horse-Battery-1';
const BOB_PASSWORD = 'Another-Good-Secret-2';
const AUTH_TIMEOUT_MS = 1000;
/** A bound, not a benchmark: an outage answer must come back, with SESSION_AUTH_TIMEOUT_MS at 1 s. */
const OUTAGE_BOUND_MS = 10 * AUTH_TIMEOUT_MS;
const silent = { info: () => undefined, warn: () => undefined, error: (m: string, a: Record<string, unknown>) => console.error(m, a) };

let cognito: CognitoLocal;
let pool: CognitoPool;
let aliceSub: string;
const saved = { ...process.env };

beforeAll(async () => {
  cognito = await CognitoLocal.start();
  pool = await cognito.createPool();
  aliceSub = await cognito.createUser(pool, 'alice', ALICE_PASSWORD);
  await cognito.createUser(pool, 'bob', BOB_PASSWORD);
  // Created by an administrator with a temporary password only: the first login must set a new one.
  await cognito.createUser(pool, 'newbie', undefined, 'Temporary-Pass-1');
  // The in-process runtime's SDK reads its endpoint (and region chain) from process.env.
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint });
});
afterAll(async () => {
  await cognito?.dispose();
  removeInstanceBundle();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** What two answers must share to be indistinguishable: status, body and every header but Date. */
function visible(r: Reply): unknown {
  const { date: _date, ...headers } = r.headers;
  return { status: r.status, text: r.text, headers, setCookies: r.setCookies };
}

describe.each(['instance server over HTTP', 'Lambda HTTP API adapter'] as const)('store mode (redis-server), SESSION_AUTH=cognito, %s', (transport) => {
  let backend: Backend;
  let instance: InstanceProcess | undefined;
  let runtime: RuntimeApp | undefined;
  let client: () => Client;

  beforeAll(async () => {
    backend = await startBackend('redis');
    const env = {
      ...backend.env,
      ...cognito.env(pool),
      SESSION_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS),
      AWS_REGION: 'us-east-1',
      NODE_ENV: 'production',
    };
    if (transport === 'instance server over HTTP') {
      instance = await startInstance(env);
      client = () => new Client(httpSend(instance!.port));
    } else {
      runtime = await createAppFromEnv(parseSessionEnv(env), { logger: silent, servedBy: 'fn' });
      const app: App = runtime.app;
      client = () => new Client(httpApiSend(app));
    }
  });
  afterAll(async () => {
    await instance?.dispose();
    await runtime?.close();
    await backend?.stop();
  });

  const keyCount = async () => Number((await backend.redis!.cli('DBSIZE')).trim());

  test('the right password: 200 with the user, a session cookie, and one session in the store', async () => {
    const before = await keyCount();
    const c = client();
    const r = await c.post('/login', { user: 'alice', password: ALICE_PASSWORD });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: 'alice' });
    expect(r.setCookies).toHaveLength(1);
    expect((await c.get('/session')).json).toMatchObject({ user: 'alice', cart: [] });
    expect(await keyCount()).toBe(before + 1);
  });

  test('a wrong password and an unknown user get the identical 401 (status, body, headers), no cookie, nothing in the store', async () => {
    const before = await keyCount();
    const wrong = await client().post('/login', { user: 'alice', password: 'Wrong-Password-9' });
    const unknown = await client().post('/login', { user: 'mallory', password: 'Wrong-Password-9' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: { code: 'login_failed', message: 'wrong user name or password' } });
    expect(wrong.setCookies).toEqual([]);
    // cognito-local answers these two differently (InvalidPasswordException / NotAuthorizedException): the app must not.
    expect(visible(unknown)).toEqual(visible(wrong));
    expect(await keyCount()).toBe(before);
  });

  test('a refused login leaves the caller logged in as before: no cookie set or cleared, the old session intact', async () => {
    const c = client();
    await c.post('/login', { user: 'bob', password: BOB_PASSWORD });
    await c.post('/cart/items', { sku: 'kept', qty: 1 });
    const before = await keyCount();
    const r = await c.post('/login', { user: 'alice', password: 'Wrong-Password-9' });
    expect(r.status).toBe(401);
    expect(r.setCookies).toEqual([]);
    expect((await c.get('/session')).json).toMatchObject({ user: 'bob', cart: [{ sku: 'kept', qty: 1 }] });
    expect(await keyCount()).toBe(before);
  });

  test("the session's user is the pool's name for the user, not what the caller typed (here: alice's sub)", async () => {
    const c = client();
    const r = await c.post('/login', { user: aliceSub, password: ALICE_PASSWORD });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: 'alice' });
    expect((await c.get('/session')).json.user).toBe('alice');
  });

  test('NEW_PASSWORD_REQUIRED (right temporary password) is a 403 login_challenge: no cookie, no session', async () => {
    const before = await keyCount();
    const r = await client().post('/login', { user: 'newbie', password: 'Temporary-Pass-1' });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('login_challenge');
    expect(r.setCookies).toEqual([]);
    expect(await keyCount()).toBe(before);
  });

  test('no password, or a bad one, is a 400 that never repeats the password', async () => {
    const none = await client().post('/login', { user: 'alice' });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toMatch(/"password" is required/);
    const typed = await client().post('/login', { user: 'alice', password: 12345 });
    expect(typed.status).toBe(400);
    const long = await client().post('/login', { user: 'alice', password: `secret-${'x'.repeat(300)}` });
    expect(long.status).toBe(400);
    expect(long.text).not.toContain('secret-');
    expect(none.setCookies.concat(typed.setCookies, long.setCookies)).toEqual([]);
  });

  test('Cognito hung (SIGSTOP): the login answers 503 auth_unavailable within a bound, sets no cookie; logins work again after', async () => {
    const before = await keyCount();
    await cognito.pause();
    let r: Reply;
    const t = Date.now();
    try {
      r = await client().post('/login', { user: 'alice', password: ALICE_PASSWORD });
    } finally {
      cognito.resume();
    }
    expect(Date.now() - t).toBeLessThan(OUTAGE_BOUND_MS);
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('auth_unavailable');
    expect(r.setCookies).toEqual([]);
    expect(await keyCount()).toBe(before);
    expect((await client().post('/login', { user: 'alice', password: ALICE_PASSWORD })).status).toBe(200);
  });
});

describe('JWT mode (SESSION_STORE=jwt, denylist on dynalite), SESSION_AUTH=cognito, Lambda HTTP API adapter', () => {
  let dyn: Dynalite;
  let runtime: RuntimeApp;
  let client: () => Client;

  beforeAll(async () => {
    dyn = await startDenylistDynalite();
    const key = await LocalKeySigner.generate();
    const env = jwtEnv(key, dyn, { ...cognito.env(pool), SESSION_STORE_TIMEOUT_MS: '1000', NODE_ENV: 'production' });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dyn.endpoint;
    runtime = await createAppFromEnv(parseSessionEnv(env), { logger: silent, servedBy: 'fn' });
    client = () => new Client(httpApiSend(runtime.app));
  });
  afterAll(async () => {
    await runtime?.close();
    await dyn?.close();
  });

  test("the right password: a token whose sub is the pool's user name", async () => {
    const c = client();
    const r = await c.post('/login', { user: aliceSub, password: ALICE_PASSWORD });
    expect(r.status).toBe(200);
    expect(decodeJwt(c.jar.get('sid')!).sub).toBe('alice');
  });

  test('a wrong password and an unknown user get the identical 401 and no token', async () => {
    const wrong = await client().post('/login', { user: 'alice', password: 'Wrong-Password-9' });
    const unknown = await client().post('/login', { user: 'mallory', password: 'Wrong-Password-9' });
    expect(wrong.status).toBe(401);
    expect(wrong.setCookies).toEqual([]);
    expect(visible(unknown)).toEqual(visible(wrong));
  });

  test("POST /logout/everywhere ends only the caller's own tokens: bob's session lives on after alice's", async () => {
    const alice = client();
    const bob = client();
    expect((await alice.post('/login', { user: 'alice', password: ALICE_PASSWORD })).status).toBe(200);
    expect((await bob.post('/login', { user: 'bob', password: BOB_PASSWORD })).status).toBe(200);
    expect((await alice.post('/logout/everywhere', {})).status).toBe(204);
    expect((await client().get('/session', { cookie: `sid=${alice.jar.get('sid')}` })).status).toBe(401);
    expect((await bob.get('/session')).json.user).toBe('bob');
  });

  test("the reported attack fails: naming bob without his password gets no token, so bob's tokens cannot be revoked", async () => {
    const bob = client();
    expect((await bob.post('/login', { user: 'bob', password: BOB_PASSWORD })).status).toBe(200);
    const mallory = client();
    expect((await mallory.post('/login', { user: 'bob' })).status).toBe(400);
    expect((await mallory.post('/login', { user: 'bob', password: 'Guessed-Wrong-1' })).status).toBe(401);
    expect(mallory.jar.size).toBe(0);
    expect((await mallory.post('/logout/everywhere', {})).status).toBe(401);
    expect((await bob.get('/session')).status).toBe(200);
  });
});

describe('SESSION_AUTH at start-up (instance server child process)', () => {
  const started: InstanceProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((i) => i.dispose()));
  });
  const refusal = async (env: Record<string, string>): Promise<string> => {
    try {
      started.push(await startInstance(env));
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('the instance server started');
  };

  test('NODE_ENV=production without SESSION_AUTH: the server refuses to start and names the variable', async () => {
    const out = await refusal(baseEnv({ SESSION_STORE: 'memory', SESSION_AUTH: '', NODE_ENV: 'production' }));
    expect(out).toMatch(/SESSION_AUTH is required when NODE_ENV=production/);
  });

  test('NODE_ENV=production with SESSION_AUTH=open: the server refuses to start', async () => {
    const out = await refusal(baseEnv({ SESSION_STORE: 'memory', SESSION_AUTH: 'open', NODE_ENV: 'production' }));
    expect(out).toMatch(/SESSION_AUTH=open .* is refused when NODE_ENV=production/);
  });

  test('NODE_ENV=production with SESSION_AUTH=cognito but no pool: the server refuses to start and names both ids', async () => {
    const out = await refusal(baseEnv({ SESSION_STORE: 'memory', SESSION_AUTH: 'cognito', NODE_ENV: 'production' }));
    expect(out).toMatch(/SESSION_COGNITO_USER_POOL_ID is required/);
    expect(out).toMatch(/SESSION_COGNITO_CLIENT_ID is required/);
  });

  test('without NODE_ENV=production and without SESSION_AUTH: it starts as open, logs a warning naming SESSION_AUTH, and any name logs in', async () => {
    const inst = await startInstance(baseEnv({ SESSION_STORE: 'memory', SESSION_AUTH: '' }));
    started.push(inst);
    expect(inst.output()).toMatch(/SESSION_AUTH is not set: using open/);
    expect((await new Client(httpSend(inst.port)).post('/login', { user: 'anyone' })).status).toBe(200);
  });
});
