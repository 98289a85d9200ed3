/**
 * A store outage behind haproxy, under load: the instances answer 503 (their health check is
 * liveness, so they stay in the balancer; test/e2e/outage-long.test.ts holds them to that), no
 * append is answered 200 unless it persisted, and once the store is back every session and
 * every acknowledged line is there.
 * Redis is frozen (SIGSTOP: a hung node, the harder case for timeouts); dynalite is stopped
 * (connections refused) and restarted on the same port with its data.
 */
import { runScenario, type LabSizes } from '../../lab/scenarios';
import { TOPOLOGIES } from '../../lab/topologies';
import { removeInstanceBundle } from '../support/app-instance';

const SIZES: LabSizes = { users: 6, durationMs: 3000, wide: 10, outageMs: 3000, thinkMs: 10 };

afterAll(() => removeInstanceBundle());

test.each(['redis', 'dynamodb'])('%s outage: 503s while it is down, no 200 for an append that did not persist, nothing lost after recovery', async (name) => {
  const t = TOPOLOGIES.find((x) => x.name === name)!;
  const store = await t.start();
  try {
    const r = await runScenario('outage', { topology: t, store, sizes: SIZES });
    expect(r.skipped).toBeUndefined();
    expect(r.status503).toBeGreaterThan(0);
    // Every failure was a 503 (the app's or haproxy's), never a crash or a hang-up.
    expect(r.failed).toBe(r.status503);
    expect(r.linesAcked).toBeGreaterThan(0);
    // An append answered 200 is in the cart read after recovery: no 200 for an unpersisted write.
    expect(r.linesLost).toBe(0);
    expect(r.sessionsLost).toBe(0);
  } finally {
    await store.stop();
  }
});
