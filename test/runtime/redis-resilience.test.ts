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
import { eventually, itSurvivesProcessOutages, SCHEDULING_SLACK_MS } from '../support/outage';
import { RedisServer } from '../support/redis-server';

const BOUND_MS = 500;
const SLACK_MS = SCHEDULING_SLACK_MS;
const SECRET = 'resilience-test-secret-0123456789abcdef';
const quiet = { warn: () => undefined }; // connection warnings are the expected outcome here

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

  itSurvivesProcessOutages(
    () => ({ server, store, m, lateStore: () => new RedisStore({ url: server.url(), commandTimeoutMs: BOUND_MS, logger: quiet }) }),
    { boundMs: BOUND_MS, slackMs: SLACK_MS },
  );

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
