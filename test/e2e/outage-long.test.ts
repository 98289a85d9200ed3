/**
 * A store outage longer than the load balancer's unhealthy threshold must not take the fleet out
 * (issue: with a health check that asked the store, an ElastiCache failover of more than
 * 3 × 15 s marked every instance unhealthy and the Auto Scaling group replaced them all).
 *
 * lab `outage-long` on Redis: redis-server is hung (SIGSTOP: connections open, nothing answers)
 * under load behind haproxy, whose health check is the target group's (INSTANCE_HEALTH_CHECK:
 * same path and fall/rise thresholds, timeout and interval scaled down together), for twice
 * haproxy's `fall × inter`. haproxy's own counters and a 50 ms sampler of its stats say whether
 * an instance was ever taken out.
 */
import { runScenario, type LabSizes } from '../../lab/scenarios';
import { TOPOLOGIES } from '../../lab/topologies';
import { removeInstanceBundle } from '../support/app-instance';
import { INSTANCE_HEALTH_CHECK } from '../../lib/compute/health-check';
import { haproxyConfig, labHealthCheck } from '../support/haproxy';
import { SCHEDULING_SLACK_MS } from '../support/outage';

const SIZES: LabSizes = { users: 6, durationMs: 3000, wide: 10, outageMs: 0, thinkMs: 10 };

afterAll(() => removeInstanceBundle());

test("the lab's haproxy checks what the target group checks: INSTANCE_HEALTH_CHECK's path and thresholds, its timeout/interval ratio at a shorter interval", () => {
  const hc = INSTANCE_HEALTH_CHECK;
  const cfg = haproxyConfig({ backends: [8080], checkIntervalMs: 900 }, 8000, '/tmp/admin.sock');
  expect(cfg).toContain(`option httpchk GET ${hc.path}\n`);
  expect(cfg).toContain(`timeout check ${(900 * hc.timeoutSeconds) / hc.intervalSeconds}ms\n`);
  expect(cfg).toContain(`inter 900ms fastinter 900ms downinter 900ms fall ${hc.unhealthyThresholdCount} rise ${hc.healthyThresholdCount}\n`);
  expect(labHealthCheck(900).unhealthyAfterMs).toBe(900 * hc.unhealthyThresholdCount);
});

test('redis hung past the health check threshold: every instance stays UP, requests get 503 within the store timeout, /readyz 503 and /healthz 200; afterwards the same processes serve every acknowledged line', async () => {
  const t = TOPOLOGIES.find((x) => x.name === 'redis')!;
  const store = await t.start();
  try {
    const r = await runScenario('outage-long', { topology: t, store, sizes: SIZES });
    expect(r.skipped).toBeUndefined();
    const d = r.outageLong!;
    // The store was hung for longer than it takes haproxy to take out an instance whose check fails.
    expect(d.unhealthyAfterMs).toBe(labHealthCheck().unhealthyAfterMs);
    expect(d.hungMs).toBeGreaterThan(d.unhealthyAfterMs);
    // No instance ever left the balancer: never sampled DOWN, no UP → DOWN transition in haproxy's counters.
    expect({ maxInstancesDown: d.maxInstancesDown, timesDown: d.timesDown }).toEqual({ maxInstancesDown: 0, timesDown: 0 });
    // Asked directly during the hang: liveness 200, readiness 503 (within the same bound as requests).
    // A bound, not a benchmark: the store's configured timeout plus generous scheduling slack on a shared machine.
    const boundMs = d.storeTimeoutMs + 2 * SCHEDULING_SLACK_MS;
    expect(d.probes).toHaveLength(3);
    for (const p of d.probes) expect({ healthz: p.healthz, readyz: p.readyz, readyzInBound: p.readyzMs <= boundMs }).toEqual({ healthz: 200, readyz: 503, readyzInBound: true });
    // Requests meanwhile reached the instances and got their 503, each within the bound.
    expect(d.hungRequests).toBeGreaterThan(0);
    expect(d.hung503).toBe(d.hungRequests);
    expect(d.hungSlowestMs).toBeLessThanOrEqual(boundMs);
    expect(r.failed).toBe(r.status503);
    // Recovered without a restart: the same processes, and no acknowledged write or session lost.
    expect(d.restarted).toBe(0);
    expect(r.linesAcked).toBeGreaterThan(0);
    expect(r.linesLost).toBe(0);
    expect(r.sessionsLost).toBe(0);
  } finally {
    await store.stop();
  }
});
