/**
 * RedisStore when Redis is down, hung, or rotates its AUTH token — on real redis-server
 * processes that the tests kill, freeze (SIGSTOP) and restart. The elapsed-time checks are a
 * correctness bound (commandTimeoutMs plus scheduling slack), not a benchmark.
 * An unhandled rejection or 'error' event during these outages fails the running test: jest 30
 * reports unhandled rejections as test failures itself (a listener of ours would never see them),
 * and an ioredis client without an 'error' listener prints "[ioredis] Unhandled error event",
 * which the last test of the first block looks for.
 */
import { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { RedisStore, type RedisCredentials } from '../../lambda/session/stores/redis';
import { RedisServer } from '../support/redis-server';

const BOUND_MS = 500;
const SLACK_MS = 300;
const SECRET = 'resilience-test-secret-0123456789abcdef';
const quiet = { warn: () => undefined }; // connection warnings are the expected outcome here

/** Retries `fn` until it resolves or `ms` pass (the store reconnects in the background). */
async function eventually<T>(fn: () => Promise<T>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Every session operation, each expected to fail with StoreUnavailableError within the bound. */
async function expectAllUnavailableWithinBound(store: RedisStore, m: SessionManager): Promise<void> {
  // A frozen server runs the queued commands when it wakes up: aim them at an id no test uses.
  const id = 'no-such-session-0000000000000000';
  const calls: Record<string, () => Promise<unknown>> = {
    load: () => m.loadById(id),
    create: () => m.create({ n: 1 }),
    compareAndSet: () => store.compareAndSet({ id, data: { n: 2 }, version: 2, createdAt: Date.now(), expiresAt: Date.now() + 60000 }, 1),
    delete: () => store.delete(id),
    ping: () => store.ping(),
  };
  for (const [name, call] of Object.entries(calls)) {
    const t0 = performance.now();
    const outcome = await call().then(
      () => `${name} succeeded`,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - t0;
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect({ name, elapsed: elapsed <= BOUND_MS + SLACK_MS }).toEqual({ name, elapsed: true });
  }
}

describe('redis store: server down, hung, back', () => {
  let server: RedisServer;
  let store: RedisStore;
  let m: SessionManager;
  let consoleError: jest.SpyInstance;

  beforeAll(async () => {
    consoleError = jest.spyOn(console, 'error');
    server = await RedisServer.start();
    store = new RedisStore({ url: server.url(), commandTimeoutMs: BOUND_MS, logger: quiet });
    m = new SessionManager({ store, secrets: [SECRET], secure: false });
  });
  afterAll(async () => {
    consoleError.mockRestore();
    await store?.close();
    await server?.dispose();
  });

  it('server killed: every call fails with StoreUnavailableError within the bound; the same store works after a restart', async () => {
    const before = await m.create({ user: 'ada' });
    await server.kill();
    await expectAllUnavailableWithinBound(store, m);
    await server.restart();
    await eventually(() => store.ping());
    // No persistence on the test server: the old session is gone, new ones work on the same store.
    expect(await m.loadById(before.id)).toBeUndefined();
    const after = await m.create({ user: 'grace' });
    expect((await m.loadById(after.id))?.data).toEqual({ user: 'grace' });
  });

  it('server hung (SIGSTOP, connection open, no replies): every call fails within the bound; works again after SIGCONT', async () => {
    const s = await m.create({ n: 0 });
    server.pause();
    try {
      await expectAllUnavailableWithinBound(store, m);
    } finally {
      server.resume();
    }
    const loaded = await eventually(() => m.loadById(s.id));
    expect(loaded).toMatchObject({ version: 1, data: { n: 0 } });
    await m.update(loaded!, (d) => ({ ...d, n: 1 }));
    expect(await m.loadById(s.id)).toMatchObject({ version: 2, data: { n: 1 } });
  });

  it('a store created while the server is down fails within the bound and connects once the server is up', async () => {
    await server.stop();
    const late = new RedisStore({ url: server.url(), commandTimeoutMs: BOUND_MS, logger: quiet });
    try {
      const t0 = performance.now();
      await expect(late.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - t0).toBeLessThanOrEqual(BOUND_MS + SLACK_MS);
      await server.restart();
      await eventually(() => late.ping());
    } finally {
      await late.close();
    }
  });

  it('no unhandled ioredis error event was reported during the outages above', () => {
    const unhandled = consoleError.mock.calls.filter((args) => String(args[0]).includes('Unhandled error event'));
    expect(unhandled).toEqual([]);
  });
});

describe('redis store: AUTH token rotation without a new store', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await RedisServer.start({ password: 'token-one-0123456789abcdef' });
    admin = new Redis({ host: '127.0.0.1', port: server.port, password: 'token-one-0123456789abcdef' });
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  it('after WRONGPASS the store fetches the current token through refreshCredentials and serves again', async () => {
    let current: RedisCredentials = { password: 'token-one-0123456789abcdef' };
    let fetched = 0;
    const store = new RedisStore({
      url: server.url(),
      credentials: current,
      commandTimeoutMs: BOUND_MS,
      credentialsRefreshIntervalMs: 200,
      refreshCredentials: async () => {
        fetched++;
        return current;
      },
      logger: quiet,
    });
    try {
      const m = new SessionManager({ store, secrets: [SECRET], secure: false });
      const s = await m.create({ user: 'ada' });
      // Rotate: the server takes only the new token, the secret holds it, old connections are dropped.
      await admin.config('SET', 'requirepass', 'token-two-0123456789abcdef');
      current = { password: 'token-two-0123456789abcdef' };
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const back = await eventually(() => m.loadById(s.id));
      expect(back?.data).toEqual({ user: 'ada' });
      expect(fetched).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
  });

  it('without refreshCredentials, setCredentials replaces the token by hand', async () => {
    const store = new RedisStore({ url: server.url(), credentials: { password: 'wrong-token' }, commandTimeoutMs: BOUND_MS, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await store.setCredentials({ password: 'token-two-0123456789abcdef' });
      await eventually(() => store.ping());
    } finally {
      await store.close();
    }
  });
});
