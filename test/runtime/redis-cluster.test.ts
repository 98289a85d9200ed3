/**
 * RedisStore in cluster mode (ioredis Cluster) on a real 3-master Redis Cluster made of
 * redis-server processes joined with `redis-cli --cluster create`.
 */
import { type Cluster, Redis } from 'ioredis';
import { SessionManager } from '../../lambda/session/manager';
import { RedisStore } from '../../lambda/session/stores/redis';
import { describeStoreConformance } from '../support/conformance';
import { RedisCluster } from '../support/redis-server';

describe('redis store on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterAll(async () => {
    await cluster?.dispose();
  });

  describeStoreConformance('redis (cluster mode)', () => ({ makeStore: async () => new RedisStore({ url: cluster.url, cluster: true }) }));

  it("a session's key hashes by its {id} tag to one slot, lives on the master owning that slot, and sessions spread over all masters", async () => {
    const store = new RedisStore({ url: cluster.url, cluster: true });
    const nodes = cluster.nodes.map((n) => new Redis({ host: '127.0.0.1', port: n.port }));
    try {
      const m = new SessionManager({ store, secrets: ['cluster-test-secret-0123456789abcdef'], secure: false });
      const holders = new Set<number>();
      for (let i = 0; i < 30; i++) {
        const s = await m.create({ i });
        const key = store.keyOf(s.id);
        const slot = await nodes[0].cluster('KEYSLOT', key);
        expect(await nodes[0].cluster('KEYSLOT', s.id)).toBe(slot); // the hash tag decides the slot
        // GETKEYSINSLOT lists only the keys a node holds itself (EXISTS would answer MOVED).
        const held = await Promise.all(nodes.map(async (n) => ((await n.cluster('GETKEYSINSLOT', slot, 100)) as string[]).includes(key)));
        expect(held.filter(Boolean)).toHaveLength(1); // exactly one master holds it
        holders.add(held.indexOf(true));
        await m.update(s, (d) => ({ ...d, seen: true })); // the Lua script runs on that master too
        expect((await m.loadById(s.id))?.data).toEqual({ i, seen: true });
      }
      expect(holders.size).toBe(3);
    } finally {
      nodes.forEach((n) => n.disconnect());
      await store.close();
    }
  });

  it('commands sent in one event-loop turn leave in one write per primary, and every answer is right', async () => {
    const store = new RedisStore({ url: cluster.url, cluster: true });
    const spies: jest.SpyInstance[] = [];
    try {
      const m = new SessionManager({ store, secrets: ['cluster-test-secret-0123456789abcdef'], secure: false });
      const sessions = [];
      for (let i = 0; i < 30; i++) sessions.push(await m.create({ i })); // one at a time: every primary gets connected
      const primaries = (store as unknown as { client: Cluster }).client.nodes('master');
      expect(primaries).toHaveLength(3);
      for (const n of primaries) spies.push(jest.spyOn(n.stream, '_write'), jest.spyOn(n.stream, '_writev'));
      const loaded = await Promise.all(sessions.map((s) => m.loadById(s.id)));
      expect(loaded.map((s) => s?.data)).toEqual(sessions.map((_, i) => ({ i })));
      // Thirty GETEX over the three primaries (each holds some of the sessions): one write(2) each.
      const writesPerPrimary = primaries.map((_, k) => spies[2 * k].mock.calls.length + spies[2 * k + 1].mock.calls.length);
      expect(writesPerPrimary).toEqual([1, 1, 1]);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      await store.close();
    }
  });
});
