/**
 * Redis behind haproxy: concurrent writes to one session and a rolling deployment.
 */
import { runScenario, type LabSizes } from '../../lab/scenarios';
import { TOPOLOGIES } from '../../lab/topologies';
import { removeInstanceBundle } from '../support/app-instance';

const redis = TOPOLOGIES.find((t) => t.name === 'redis')!;
afterAll(() => removeInstanceBundle());

test('redis: 10 concurrent cart appends per user, round after round, through 3 instances lose no line', async () => {
  const store = await redis.start();
  try {
    const sizes: LabSizes = { users: 6, durationMs: 2000, wide: 10, outageMs: 0, thinkMs: 0 };
    const r = await runScenario('concurrent', { topology: redis, store, sizes });
    expect(r.skipped).toBeUndefined();
    expect(r.linesAcked).toBeGreaterThanOrEqual(sizes.users * sizes.wide);
    expect(r.linesLost).toBe(0);
    expect(r.sessionsLost).toBe(0);
    expect(r.failed).toBe(0);
  } finally {
    await store.stop();
  }
});

test('redis: rolling restart of every instance with SIGTERM (deregister, drain, replace) under load loses no session and fails no request', async () => {
  const store = await redis.start();
  try {
    const sizes: LabSizes = { users: 8, durationMs: 2500, wide: 10, outageMs: 0, thinkMs: 10 };
    const r = await runScenario('rolling', { topology: redis, store, sizes });
    expect(r.skipped).toBeUndefined();
    expect(r.requests).toBeGreaterThan(100);
    expect(r.sessions).toBe(sizes.users);
    expect(r.sessionsLost).toBe(0);
    expect(r.linesLost).toBe(0);
    expect(r.failed).toBe(0);
    expect(r.conflicts).toBe(0);
  } finally {
    await store.stop();
  }
});
