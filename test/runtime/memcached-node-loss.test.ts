/**
 * One of two real memcached nodes lost: memcached does not replicate, so exactly the sessions
 * hashed to the dead node become unavailable (StoreUnavailableError, within the bound) while the
 * rest keep working — and the store's ping, which the instances' /healthz uses, stays healthy
 * while any node answers, so one node cannot take every instance out of the load balancer.
 *
 * The store runs with the runtime's default timeout (SESSION_STORE_TIMEOUT_MS), so an operation
 * on a live node is never cut short on a busy machine; a call to the dead node must fail within
 * that timeout plus scheduling slack (a bound derived from the setting, not a benchmark).
 */
import { DEFAULTS } from '../../lambda/session/env';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { MemcachedStore } from '../../lambda/session/stores/memcached';
import { MemcachedServer } from '../support/memcached-server';
import { SCHEDULING_SLACK_MS } from '../support/outage';

const TIMEOUT_MS = DEFAULTS.storeTimeoutMs;
const BOUND_MS = TIMEOUT_MS + SCHEDULING_SLACK_MS;

let servers: MemcachedServer[];
let store: MemcachedStore;
beforeAll(async () => {
  servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
  store = new MemcachedStore({ servers: servers.map((s) => s.address), timeoutMs: TIMEOUT_MS });
});
afterAll(async () => {
  await store?.close();
  await Promise.all((servers ?? []).map((s) => s.stop()));
});

test('a dead node: its sessions fail with StoreUnavailableError within the store timeout, the other node\'s sessions work, ping stays healthy; with no node left ping fails', async () => {
  const m = new SessionManager({ store, secrets: ['memcached-node-loss-secret-0123456789'], secure: false });
  const sessions = await Promise.all(Array.from({ length: 16 }, (_, i) => m.create({ i })));
  const [dead, alive] = servers;
  const onDead = sessions.filter((s) => store.serverOf(s.id) === dead.address);
  const onAlive = sessions.filter((s) => store.serverOf(s.id) === alive.address);
  expect(onDead.length).toBeGreaterThan(0); // 16 random ids all on one node: 2 in 65536
  expect(onAlive.length).toBeGreaterThan(0);

  await dead.kill();
  try {
    await expect(store.ping()).resolves.toBeUndefined();
    for (const s of onAlive) expect((await m.loadById(s.id))?.data).toEqual(s.data);
    for (const s of onDead) {
      const t0 = performance.now();
      await expect(m.loadById(s.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - t0).toBeLessThan(BOUND_MS);
    }

    await alive.kill();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  } finally {
    await dead.restart();
    await alive.restart();
  }
  // Both came back empty, as replaced nodes do: every session is gone, none is half there.
  for (const s of sessions) expect(await m.loadById(s.id)).toBeUndefined();
});
