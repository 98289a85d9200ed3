/**
 * The runtime's JWT counters (lambda/session/metrics.ts) through the JWT-mode app: a token the
 * denylist refuses after logout counts as JwtRevoked, a token that fails verification (a forged
 * signature) as JwtRejected, a good one as neither; the denylist is real (dynalite). The denylist
 * is the JWT topology's store: its calls count as StoreCalls, and a stopped table as StoreErrors
 * with the 503s (what the StoreErrors alarm watches).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { App } from '../../lambda/app/app';
import { createJwtApp } from '../../lambda/app/jwt-app';
import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { parseSessionEnv } from '../../lambda/session/env';
import { createJwtRuntime, type JwtRuntime } from '../../lambda/session/jwt/from-env';
import { LocalKeySigner } from '../../lambda/session/jwt/keys';
import { runtimeMetrics } from '../../lambda/session/metrics';
import { Client, httpApiSend } from '../support/app-client';
import type { Dynalite } from '../support/dynalite';
import { jwtEnv } from '../support/jwt-app';
import { startDenylistDynalite } from '../support/jwt-denylist';

let dyn: Dynalite;
let runtime: JwtRuntime;
let app: App;
let env: Record<string, string>;
const saved = { ...process.env };

beforeAll(async () => {
  dyn = await startDenylistDynalite();
  env = jwtEnv(await LocalKeySigner.generate(), dyn, { SESSION_AUTH: 'open' });
  Object.assign(process.env, env); // the SDK's endpoint and credential chains read process.env
  runtime = await createJwtRuntime(parseSessionEnv(env));
  app = createJwtApp({ sessions: runtime.sessions, servedBy: 'jwt-metrics', authenticator: new OpenAuthenticator() });
});
afterAll(async () => {
  runtimeMetrics.disable();
  await runtime?.close();
  await dyn?.close();
  for (const k of Object.keys(env ?? {})) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});
beforeEach(() => runtimeMetrics.enable(new Metrics({ namespace: 'Test', serviceName: 'jwt' })));
afterEach(() => runtimeMetrics.disable());

test('a revoked token counts JwtRevoked, a forged one JwtRejected, a good one neither', async () => {
  const c = new Client(httpApiSend(app));
  expect((await c.post('/login', { user: 'mia' })).status).toBe(200);
  const token = c.jar.get('sid')!;
  expect((await c.get('/session')).status).toBe(200);
  let counts = runtimeMetrics.snapshot().counts;
  expect([counts.JwtRevoked, counts.JwtRejected]).toEqual([0, 0]);

  expect((await c.post('/logout', {})).status).toBe(204);
  const replay = new Client(httpApiSend(app));
  expect((await replay.get('/session', { cookie: `sid=${token}` })).status).toBe(401);
  counts = runtimeMetrics.snapshot().counts;
  expect(counts.JwtRevoked).toBe(1);

  const [h, p, sig] = token.split('.');
  const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  expect((await replay.get('/session', { cookie: `sid=${forged}` })).status).toBe(401);
  counts = runtimeMetrics.snapshot().counts;
  expect([counts.JwtRevoked, counts.JwtRejected]).toEqual([1, 1]);
  expect(counts.Requests).toBe(5); // login, read, logout and the two refused reads
});

test('denylist calls count as store calls, and a stopped denylist table as store errors with the 503s', async () => {
  const c = new Client(httpApiSend(app));
  expect((await c.post('/login', { user: 'noor' })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 1100)); // past SESSION_REVOCATION_CACHE_MS's default: the next read asks the table
  runtimeMetrics.flush();
  expect((await c.get('/session')).status).toBe(200);
  let counts = runtimeMetrics.snapshot().counts;
  expect(counts.StoreCalls).toBe(1); // one BatchGetItem
  expect(counts.StoreErrors).toBe(0);

  await dyn.stop();
  try {
    await new Promise((r) => setTimeout(r, 1100));
    expect((await c.get('/session')).status).toBe(503);
  } finally {
    await dyn.restart();
  }
  counts = runtimeMetrics.snapshot().counts;
  expect(counts.StoreErrors).toBe(1);
  expect(counts.Responses503).toBe(1);
  expect((await c.get('/session')).status).toBe(200);
}, 30_000);
