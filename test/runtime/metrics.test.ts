/**
 * The runtime's counters as the SessionManager feeds them (lambda/session/metrics.ts): compare-and-set
 * conflicts, retries and the 409 after the last attempt, sessions created, destroyed and refused as
 * expired, and store calls timed through the metered store. Real memory store, no mocks.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ConflictError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { meteredStore, metricsEnabledIn, runtimeMetrics } from '../../lambda/session/metrics';
import { MemoryStore } from '../../lambda/session/stores/memory';

const secrets = ['metrics-test-secret-0123456789abcdef0123'];

beforeEach(() => runtimeMetrics.enable(new Metrics({ namespace: 'Test', serviceName: 'unit' })));
afterEach(() => runtimeMetrics.disable());

test('a stale write counts a conflict and a retry; running out of attempts counts CasExhausted (the 409)', async () => {
  const m = new SessionManager({ store: new MemoryStore(), secrets, maxAttempts: 2 });
  const s = await m.create({ n: 0 });
  await m.update(s, (d) => void (d.n = 1));
  await m.update(s, (d) => void (d.n = 2)); // s is stale: conflict, re-read, applied
  let c = runtimeMetrics.snapshot().counts;
  expect([c.SessionsCreated, c.CasConflicts, c.CasRetries, c.CasExhausted]).toEqual([1, 1, 1, 0]);

  // With one attempt, a stale write is not retried: the 409.
  const once = new SessionManager({ store: m.store, secrets, maxAttempts: 1 });
  await expect(once.update(s, (d) => void (d.n = 3))).rejects.toBeInstanceOf(ConflictError);
  c = runtimeMetrics.snapshot().counts;
  expect([c.CasConflicts, c.CasRetries, c.CasExhausted]).toEqual([2, 1, 1]);
});

test('sessions destroyed and refused as expired (past the absolute timeout) are counted; the metered store counts its calls and samples their latency', async () => {
  let now = Date.now();
  const store = meteredStore(new MemoryStore());
  const m = new SessionManager({ store, secrets, idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 20, now: () => now });
  const a = await m.create();
  const b = await m.create();
  await m.destroy(a);
  now += 9_000;
  expect(await m.loadById(b.id)).toBeDefined(); // slides the idle expiry in the store
  now += 9_000;
  expect(await m.loadById(b.id)).toBeDefined();
  now += 3_000; // idle expiry still ahead in the store, absolute deadline passed
  expect(await m.loadById(b.id)).toBeUndefined();
  const { counts, latencies } = runtimeMetrics.snapshot();
  expect(counts.SessionsCreated).toBe(2);
  expect(counts.SessionsDestroyed).toBe(1);
  expect(counts.SessionsExpired).toBe(1);
  expect(counts.StoreCalls).toBe(7); // create ×2, delete, load ×3, and the expired one's delete
  expect(counts.StoreErrors).toBe(0);
  expect(latencies).toHaveLength(7);
});

test('SESSION_METRICS: on/off, unset is off, anything else is refused; off leaves the store unwrapped', () => {
  expect(metricsEnabledIn({ SESSION_METRICS: 'on' })).toBe(true);
  expect(metricsEnabledIn({ SESSION_METRICS: 'off' })).toBe(false);
  expect(metricsEnabledIn({})).toBe(false);
  expect(() => metricsEnabledIn({ SESSION_METRICS: 'yes please' })).toThrow(RangeError);
  runtimeMetrics.disable();
  const s = new MemoryStore();
  expect(meteredStore(s)).toBe(s);
});
