/**
 * RedisStore in cluster mode over TLS, ElastiCache's usual production setup (cluster mode
 * enabled + in-transit encryption), on a real 3-master Redis Cluster whose nodes serve TLS only,
 * with one shared test CA and the cluster bus and replication over TLS too.
 */
import { SessionManager } from '../../lambda/session/manager';
import { RedisStore } from '../../lambda/session/stores/redis';
import { describeStoreConformance } from '../support/conformance';
import { everySessionCall, expectAllUnavailableWithinBound, SCHEDULING_SLACK_MS } from '../support/outage';
import { RedisCluster } from '../support/redis-server';
import { RuntimeChild } from '../support/runtime-child';

const SECRET = 'cluster-tls-test-secret-0123456789abcdef';
const quiet = { warn: () => undefined }; // reconnect warnings are expected where a test refuses a connection

describe('redis store on a 3-master TLS-only Redis Cluster (cluster mode + in-transit encryption)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start(3, { tls: true });
  }, 60_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  describeStoreConformance('redis (cluster mode + TLS)', () => ({
    makeStore: async () => new RedisStore({ url: cluster.url, cluster: true, tls: { ca: cluster.certificates!.ca } }),
  }));

  it('every node serves TLS only with the bus over TLS, and sessions spread over all three masters', async () => {
    // What the other tests rely on: no plain port, bus and replication over TLS, one seed URL with rediss://.
    expect(cluster.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    for (const n of cluster.nodes) {
      const config = (await n.cli('CONFIG', 'GET', '*')).split('\n');
      const get = (name: string) => config[config.indexOf(name) + 1];
      expect({ port: get('port'), tlsPort: get('tls-port'), tlsCluster: get('tls-cluster'), tlsReplication: get('tls-replication') }).toEqual({
        port: '0',
        tlsPort: String(n.port),
        tlsCluster: 'yes',
        tlsReplication: 'yes',
      });
    }
    const store = new RedisStore({ url: cluster.url, cluster: true, tls: { ca: cluster.certificates!.ca } });
    try {
      const m = new SessionManager({ store, secrets: [SECRET], secure: false });
      const holders = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const s = await m.create({ i });
        // The slot's owner, asked over TLS; the store reached it through the slot map it learned.
        const slot = (await cluster.nodes[0].cli('CLUSTER', 'KEYSLOT', store.keyOf(s.id))).trim();
        const held = await Promise.all(cluster.nodes.map(async (n) => (await n.cli('CLUSTER', 'COUNTKEYSINSLOT', slot)).trim() !== '0'));
        expect(held.filter(Boolean)).toHaveLength(1);
        holders.add(String(held.indexOf(true)));
        expect((await m.loadById(s.id))?.data).toEqual({ i });
      }
      expect(holders.size).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('a plain-TCP (redis://) cluster client cannot use it: every call fails with StoreUnavailableError within the bound', async () => {
    const plainUrl = cluster.url.replace(/^rediss:/, 'redis:');
    const store = new RedisStore({ url: plainUrl, cluster: true, commandTimeoutMs: 1000, logger: quiet });
    try {
      const m = new SessionManager({ store, secrets: [SECRET], secure: false });
      await expectAllUnavailableWithinBound(everySessionCall(store, m), { boundMs: 1000, slackMs: SCHEDULING_SLACK_MS });
    } finally {
      await store.close();
    }
  });

  it('SESSION_REDIS_URL=rediss://… + SESSION_REDIS_CLUSTER=true make the runtime from env use the TLS cluster, trusting the system CAs (here NODE_EXTRA_CA_CERTS)', () => {
    // A test CA can only join the system's CAs at process start: the runtime runs in a child process.
    // Twelve sessions land on all three masters (all on one: 3 × (1/3)^12), so a client that
    // does not follow the slot map (MOVED) cannot pass.
    const child = RuntimeChild.bundle(`
      const data = [];
      for (let i = 0; i < 12; i++) {
        const s = await rt.manager.create({ i });
        const back = await rt.manager.loadById(s.id);
        data.push(back && back.data);
      }
      return { data };`);
    const run = (env: Record<string, string>) =>
      child.run({
        SESSION_STORE: 'redis',
        SESSION_REDIS_URL: cluster.url,
        SESSION_REDIS_CLUSTER: 'true',
        SESSION_COOKIE_SECRET: SECRET,
        SESSION_STORE_TIMEOUT_MS: '1000',
        ...env,
      });
    try {
      expect(run({ NODE_EXTRA_CA_CERTS: cluster.certificates!.caFile })).toEqual({ data: Array.from({ length: 12 }, (_, i) => ({ i })) });
      // Without the test CA the certificate is not trusted: TLS verification is really on.
      expect(run({})).toEqual({ error: 'StoreUnavailableError' });
    } finally {
      child.dispose();
    }
  }, 30_000);
});
