/**
 * The runtime's own metrics (lambda/session/metrics.ts) as an instance server writes them: EMF
 * lines on stdout, one per flush interval. Against a real redis-server frozen with SIGSTOP (a hung
 * node), the StoreErrors and Responses503 counts rise in the interval of the outage and fall back
 * to none once it is resumed, while StoreCalls goes on. Without SESSION_METRICS=on nothing is written.
 */
import { baseEnv } from '../support/app-backends';
import { Client, httpSend } from '../support/app-client';
import { removeInstanceBundle, startInstance, type InstanceProcess } from '../support/app-instance';
import { emfLines, metricValue, type Emf } from '../support/emf';
import { RedisServer } from '../support/redis-server';

const STORE_TIMEOUT_MS = 300;
const FLUSH_SECONDS = 1;

/** Waits for the EMF lines after the first `from` to include one `pred` accepts; bounded by a few flush intervals. */
async function waitForLine(inst: InstanceProcess, from: number, pred: (e: Emf) => boolean): Promise<Emf> {
  const deadline = Date.now() + FLUSH_SECONDS * 1000 * 10 + 5000;
  for (;;) {
    const hit = emfLines(inst.output()).slice(from).find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no such EMF line; output:\n${inst.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const n = metricValue;

let redis: RedisServer;
let inst: InstanceProcess | undefined;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  redis.resume();
  await inst?.dispose();
  inst = undefined;
});
afterAll(async () => {
  await redis?.dispose();
  removeInstanceBundle();
});

function env(extra: Record<string, string>): Record<string, string> {
  return baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url(), SESSION_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS), POWERTOOLS_SERVICE_NAME: 'metrics-test', ...extra });
}

test('store errors rise in the EMF lines while redis is frozen (the 503s) and fall back to none after it resumes', async () => {
  inst = await startInstance(env({ SESSION_METRICS: 'on', SESSION_METRICS_INTERVAL_SECONDS: String(FLUSH_SECONDS), SESSION_METRICS_NAMESPACE: 'TestSessions' }));
  const c = new Client(httpSend(inst.port));
  expect((await c.post('/login', { user: 'm' })).status).toBe(200);
  expect((await c.post('/cart/items', { sku: 'a', qty: 1 })).status).toBe(200);
  expect((await c.get('/session')).status).toBe(200);

  // Healthy: store calls timed, no errors; the line is EMF with our namespace and the service dimension.
  const healthy = await waitForLine(inst, 0, (e) => n(e, 'StoreCalls') > 0);
  expect(healthy._aws.CloudWatchMetrics[0].Namespace).toBe('TestSessions');
  expect(healthy._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  expect(healthy.service).toBe('metrics-test');
  expect(Math.abs(healthy._aws.Timestamp - Date.now())).toBeLessThan(60_000); // when it was flushed: the lab buckets lines by it
  expect(n(healthy, 'StoreErrors')).toBe(0);
  expect(n(healthy, 'SessionsCreated')).toBe(1);
  expect(healthy.StoreLatency).toBeDefined();
  expect(healthy._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'StoreLatency', Unit: 'Milliseconds' });

  // Outage: every request that needs the store is a 503 within the store's bound.
  await redis.pause();
  const before = emfLines(inst.output()).length;
  const failed = 3;
  for (let i = 0; i < failed; i++) expect((await c.get('/session')).status).toBe(503);
  let errors = 0;
  let responses503 = 0;
  let timeouts = 0;
  await waitForLine(inst, before, () => {
    const lines = emfLines(inst!.output()).slice(before);
    errors = lines.reduce((a, e) => a + n(e, 'StoreErrors'), 0);
    responses503 = lines.reduce((a, e) => a + n(e, 'Responses503'), 0);
    timeouts = lines.reduce((a, e) => a + n(e, 'StoreTimeouts'), 0);
    return errors >= failed && responses503 >= failed;
  });
  expect(errors).toBeGreaterThanOrEqual(failed);
  expect(responses503).toBe(failed);
  expect(timeouts).toBeGreaterThan(0); // a frozen node answers nothing: the bound is what fails

  // Recovery: requests succeed again, and an interval with store calls has no errors.
  redis.resume();
  const deadline = Date.now() + 20_000;
  while ((await c.get('/session')).status !== 200) {
    if (Date.now() > deadline) throw new Error('redis did not come back');
    await new Promise((r) => setTimeout(r, 100));
  }
  const afterOutage = emfLines(inst.output()).length;
  for (let i = 0; i < 5; i++) expect((await c.get('/session')).status).toBe(200);
  const recovered = await waitForLine(inst, afterOutage, (e) => n(e, 'StoreCalls') > 0 && n(e, 'StoreErrors') === 0 && n(e, 'Requests') > 0);
  expect(n(recovered, 'Responses503')).toBe(0);
}, 90_000);

test('oversize bodies count as Responses413, and the last counts are written at shutdown (SIGTERM)', async () => {
  inst = await startInstance(env({ SESSION_METRICS: 'on', SESSION_METRICS_INTERVAL_SECONDS: '3600' }));
  const c = new Client(httpSend(inst.port));
  expect((await c.post('/login', { user: 'big' })).status).toBe(200);
  expect((await c.post('/cart/items', { sku: 'x'.repeat(20_000), qty: 1 })).status).toBe(413); // over the 16 KiB body cap: the server's own 413
  expect(emfLines(inst.output())).toEqual([]); // nothing before the (hour-long) interval
  inst.signal('SIGTERM');
  expect((await inst.exited).code).toBe(0);
  const lines = emfLines(inst.output());
  expect(lines).toHaveLength(1);
  expect(lines[0]._aws.CloudWatchMetrics[0].Namespace).toBe('CdkSessions');
  expect(n(lines[0], 'Responses413')).toBe(1);
  expect(n(lines[0], 'SessionsCreated')).toBe(1);
}, 60_000);

test('without SESSION_METRICS=on no EMF line is written', async () => {
  inst = await startInstance(env({ SESSION_METRICS_INTERVAL_SECONDS: String(FLUSH_SECONDS) }));
  const c = new Client(httpSend(inst.port));
  expect((await c.post('/login', { user: 'off' })).status).toBe(200);
  inst.signal('SIGTERM');
  expect((await inst.exited).code).toBe(0);
  expect(inst.output()).toContain('"stopped"');
  expect(emfLines(inst.output())).toEqual([]);
}, 60_000);
