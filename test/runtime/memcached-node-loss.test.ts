/**
 * One of two real memcached nodes lost: memcached does not replicate, so exactly the sessions
 * hashed to the dead node become unavailable (StoreUnavailableError, within the bound) while the
 * rest keep working — and the store's ping, which the instances' /healthz uses, stays healthy
 * while any node answers, so one node cannot take every instance out of the load balancer.
 */
import { StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { MemcachedStore } from '../../lambda/session/stores/memcached';
import { MemcachedServer } from '../support/memcached-server';

let servers: MemcachedServer[];
let store: MemcachedStore;
beforeAll(async () => {
  servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
  store = new MemcachedStore({ servers: servers.map((s) => s.address), timeoutMs: 500 });
});
afterAll(async () => {
  await store?.close();
  await Promise.all((servers ?? []).map((s) => s.stop()));
});

test('a dead node: its sessions fail with StoreUnavailableError, the other node\'s sessions work, ping stays healthy; with no node left ping fails', async () => {
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
    for (const s of onDead) await expect(m.loadById(s.id)).rejects.toBeInstanceOf(StoreUnavailableError);

    await alive.kill();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  } finally {
    await dead.restart();
    await alive.restart();
  }
  // Both came back empty, as replaced nodes do: every session is gone, none is half there.
  for (const s of sessions) expect(await m.loadById(s.id)).toBeUndefined();
});
