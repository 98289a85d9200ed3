/**
 * Store outages seen through the app (in-process, over the HTTP API adapter): a stopped
 * DynamoDB stand-in (dynalite keeps its data across stop/restart) and a hung redis-server
 * (SIGSTOP: connections open, nothing answers). Writes must answer 503 within a bound, never
 * 200, the app must keep serving (its liveness check /healthz stays 200 while /readyz says 503),
 * and once the store is back the session is as it was.
 */
import { createApp } from '../../lambda/app/app';
import { parseSessionEnv } from '../../lambda/session/env';
import { dynamoDbStoreFactory } from '../../lambda/session/entries/dynamodb';
import { redisStoreFactory } from '../../lambda/session/entries/redis';
import { createSessionRuntime, type SessionRuntime } from '../../lambda/session/from-env';
import { baseEnv, LOCAL_AWS_ENV, waitForActiveTable } from '../support/app-backends';
import { Client, httpApiSend } from '../support/app-client';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { RedisServer } from '../support/redis-server';
import { OpenAuthenticator } from '../../lambda/session/auth/open';

const quiet = { warn: () => undefined };
const BOUND_MS = 10_000; // a bound, not a benchmark: the request must come back, with the store's timeout set to 500 ms

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const v = await fn();
  return [v, Date.now() - t];
}

async function waitReady(c: Client): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await c.get('/readyz')).status !== 200) {
    if (Date.now() > deadline) throw new Error('store did not come back');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dynamodb (dynalite) stopped', () => {
  let dyn: Dynalite;
  let rt: SessionRuntime;
  beforeAll(async () => {
    dyn = await startDynalite('outage');
    await waitForActiveTable(dyn);
    Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint });
    rt = await createSessionRuntime(parseSessionEnv(baseEnv({ SESSION_STORE: 'dynamodb', SESSION_TABLE: dyn.table, SESSION_STORE_TIMEOUT_MS: '500' })), { logger: quiet, stores: [dynamoDbStoreFactory] });
  });
  afterAll(async () => {
    await rt?.close();
    await dyn?.close();
  });

  test('writes, reads and /readyz answer 503 store_unavailable within a bound, /healthz (liveness) stays 200; after restart the failed write is absent', async () => {
    const c = new Client(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'o' })));
    await c.post('/login', { user: 'dy' });
    await c.post('/cart/items', { sku: 'kept', qty: 1 });
    await dyn.stop();
    const [w, ms] = await timed(() => c.post('/cart/items', { sku: 'lost', qty: 1 }));
    expect(w.status).toBe(503);
    expect(w.json.error.code).toBe('store_unavailable');
    expect(ms).toBeLessThan(BOUND_MS);
    expect((await c.put('/prefs', { a: 'b' })).status).toBe(503);
    expect((await c.get('/session')).status).toBe(503);
    expect((await c.post('/logout')).status).toBe(503);
    const ready = await c.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json.error.code).toBe('store_unavailable');
    expect((await c.get('/healthz')).status).toBe(200);
    await dyn.restart();
    await waitReady(c);
    expect((await c.get('/session')).json).toMatchObject({ user: 'dy', cart: [{ sku: 'kept', qty: 1 }], prefs: {} });
  });
});

describe('redis-server hung (SIGSTOP)', () => {
  let redis: RedisServer;
  let rt: SessionRuntime;
  beforeAll(async () => {
    redis = await RedisServer.start();
    rt = await createSessionRuntime(parseSessionEnv(baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url(), SESSION_STORE_TIMEOUT_MS: '500' })), { logger: quiet, stores: [redisStoreFactory] });
  });
  afterAll(async () => {
    await rt?.close();
    await redis?.dispose();
  });

  test('writes, reads and /readyz answer 503 within a bound while Redis hangs, /healthz (liveness) stays 200; after SIGCONT the session is served again', async () => {
    const c = new Client(httpApiSend(createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'o' })));
    await c.post('/login', { user: 'hung' });
    await c.post('/cart/items', { sku: 'kept', qty: 1 });
    await redis.pause();
    try {
      const [w, ms] = await timed(() => c.post('/cart/items', { sku: 'maybe', qty: 1 }));
      expect(w.status).toBe(503);
      expect(ms).toBeLessThan(BOUND_MS);
      const [g, ms2] = await timed(() => c.get('/session'));
      expect(g.status).toBe(503);
      expect(ms2).toBeLessThan(BOUND_MS);
      const [ready, ms3] = await timed(() => c.get('/readyz'));
      expect(ready.status).toBe(503);
      expect(ms3).toBeLessThan(BOUND_MS);
      expect((await c.get('/healthz')).status).toBe(200);
    } finally {
      redis.resume();
    }
    await waitReady(c);
    const s = await c.get('/session');
    expect(s.status).toBe(200);
    // A command already on the wire when Redis froze may still run after SIGCONT; the 503 said
    // "not known to be written", which is all a timeout can honestly say. The kept line is there.
    expect(s.json.cart[0]).toEqual({ sku: 'kept', qty: 1 });
  });
});
