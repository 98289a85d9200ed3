/**
 * A store outage behind haproxy, under load: the instances answer 503 (their health check is
 * liveness, so they stay in the balancer; test/e2e/outage-long.test.ts holds them to that), no
 * append is answered 200 unless it persisted, and once the store is back every session and
 * every acknowledged line is there.
 * Redis is frozen (SIGSTOP: a hung node, the harder case for timeouts); dynalite is stopped
 * (connections refused) and restarted on the same port with its data.
 * The instances run with their runtime metrics on (1 s EMF flushes): the StoreErrors the lab reads
 * back from their stdout are none before the outage, rise while the store is away, and are none
 * again in the last seconds after it is back.
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

    const curve = r.storeErrorCurve!;
    expect(curve.instances).toBe(3);
    const phase = (p: string) => curve.points.filter((x) => x.phase === p);
    const errors = (ps: typeof curve.points) => ps.reduce((n, x) => n + x.storeErrors, 0);
    expect(phase('before').reduce((n, x) => n + x.storeCalls, 0)).toBeGreaterThan(0); // load before the outage, and no errors in it
    expect(errors(phase('before'))).toBe(0);
    // While the store is away the errors are counted, and the app's 503s with them.
    expect(errors(phase('outage'))).toBeGreaterThan(0);
    expect(phase('outage').reduce((n, x) => n + x.responses503, 0)).toBeGreaterThan(0);
    // The last second with store calls (the final reads after recovery) has no errors.
    const after = phase('after').filter((x) => x.storeCalls > 0);
    expect(after.length).toBeGreaterThan(0);
    expect(after[after.length - 1].storeErrors).toBe(0);
  } finally {
    await store.stop();
  }
});
