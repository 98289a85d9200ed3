/**
 * What Memcached gives up: a node-based cluster has no replication. One of 2 memcached nodes is
 * SIGKILLed under load behind haproxy and replaced, empty, on the same port (as ElastiCache
 * replaces a failed node at the same endpoint). The sessions that lived on it are lost — exactly
 * those — and the sessions on the other node keep every acknowledged cart line. While the node
 * is down nothing is answered 200 for a session it held, every failure is a 503 for a session on
 * the dead node, and the instances stay healthy for the rest.
 */
import { runScenario, type LabSizes } from '../../lab/scenarios';
import { TOPOLOGIES } from '../../lab/topologies';
import { removeInstanceBundle } from '../support/app-instance';

// 16 users: the chance that rendezvous hashing puts every session on one node is 2 in 65536.
const SIZES: LabSizes = { users: 16, durationMs: 2500, wide: 10, outageMs: 0, thinkMs: 10, nodeDownMs: 1000 };

afterAll(() => removeInstanceBundle());

test('memcached: losing 1 of 2 nodes (SIGKILL, replaced empty) loses exactly the sessions hashed to it, nothing on the other node, and fails only with 503', async () => {
  const t = TOPOLOGIES.find((x) => x.name === 'memcached')!;
  const store = await t.start();
  try {
    expect(store.memcached).toHaveLength(2);
    const r = await runScenario('nodeloss', { topology: t, store, sizes: SIZES });
    expect(r.skipped).toBeUndefined();
    const d = r.nodeLoss!;
    expect(d.sessionsAtKill).toBe(SIZES.users);
    // Every session was on the node the runtime's hashing names, and on no other.
    expect(d.placementMismatches).toBe(0);
    // Keys are spread: some sessions on each node.
    expect(d.onLostNode.length).toBeGreaterThan(0);
    expect(d.onLostNode.length).toBeLessThan(SIZES.users);
    // Lost: exactly the users whose session was on the killed node, each once.
    expect(new Set(d.lostUsers)).toEqual(new Set(d.onLostNode));
    expect(r.sessionsLost).toBe(d.onLostNode.length);
    expect(r.sessions).toBe(SIZES.users + d.onLostNode.length); // each of them logged in again
    // Sessions on the surviving node keep every acknowledged line; the lost ones lost theirs.
    expect(d.linesLostOnSurvivors).toBe(0);
    expect(r.linesLost).toBeGreaterThan(0);
    // No 200 for an append to a session whose node was dead (it could not have persisted).
    expect(d.ackedWhileDown).toBe(0);
    // Failures: 503s, all inside the window, never a crash or a hang-up.
    expect(d.windowFailed).toBeGreaterThan(0);
    expect(d.window503).toBe(d.windowFailed);
    expect(r.failed).toBe(r.status503);
    expect(r.failed).toBe(d.windowFailed);
    expect(d.downMs).toBeGreaterThanOrEqual(SIZES.nodeDownMs!);
    // /healthz is liveness (it never asks the store): no instance leaves the balancer, and the
    // sessions on the surviving node are served throughout.
    expect(d.maxInstancesDown).toBe(0);
    expect(d.windowFailedOnSurvivors).toBe(0);
  } finally {
    await store.stop();
  }
});
