/**
 * The instance server as it runs on ASG instances: real child processes (`node main.js`) that
 * share one real redis-server. Proves shared sessions across instances, surviving an instance
 * crash, graceful SIGTERM (the ALB deregistration delay's contract), outage behaviour (503,
 * nothing persisted) and the limits enforced while reading a request.
 */
import { connect } from 'node:net';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { startBackend, type Backend } from '../support/app-backends';
import { Client, httpSend } from '../support/app-client';
import { removeInstanceBundle, startInstance, type InstanceProcess } from '../support/app-instance';

let backend: Backend;
const instances: InstanceProcess[] = [];
const start = async (name: string, extra: Record<string, string> = {}) => {
  const i = await startInstance({ ...backend.env, SESSION_SERVED_BY: name, ...extra });
  instances.push(i);
  return i;
};

beforeAll(async () => {
  // Persistence on (AOF, fsync always) so a stopped and restarted redis-server keeps its data,
  // which lets the outage test prove that a write answered with 503 did not land.
  backend = await startBackend('redis', ['--appendonly', 'yes', '--appendfsync', 'always']);
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.dispose()));
  await backend?.stop();
  removeInstanceBundle();
});

const sidOf = (c: Client) => c.jar.get('sid')!.split('.')[0];

test('two instance processes sharing one redis-server serve the same session; servedBy names each; logs carry only a hash of the id', async () => {
  const [a, b] = await Promise.all([start('instance-a'), start('instance-b')]);
  const viaA = new Client(httpSend(a.port));
  expect((await viaA.post('/login', { user: 'ann' })).status).toBe(200);
  const viaB = new Client(httpSend(b.port));
  viaB.jar.set('sid', viaA.jar.get('sid')!);
  expect((await viaB.post('/cart/items', { sku: 'from-b', qty: 1 })).status).toBe(200);
  expect((await viaA.post('/cart/items', { sku: 'from-a', qty: 2 })).status).toBe(200);
  const ra = await viaA.get('/session');
  const rb = await viaB.get('/session');
  expect(ra.json).toEqual({ user: 'ann', cart: [{ sku: 'from-b', qty: 1 }, { sku: 'from-a', qty: 2 }], prefs: {}, servedBy: 'instance-a' });
  expect(rb.json).toEqual({ ...ra.json, servedBy: 'instance-b' });

  const id = sidOf(viaA);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 12);
  // Request lines are written in batches, at most 50 ms after they are logged (lambda/instance/log.ts).
  for (const until = Date.now() + 2000; !(a.output() + b.output()).includes(`"session":"${hash}"`) && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const logs = a.output() + b.output();
  expect(logs).toContain(`"session":"${hash}"`);
  expect(logs).not.toContain(id);
  expect(logs).not.toContain(viaA.jar.get('sid')!.split('.')[1]);
});

test('SIGKILL of the instance that created a session loses nothing: the other instance serves it in full', async () => {
  const [a, b] = await Promise.all([start('kill-a'), start('kill-b')]);
  const viaA = new Client(httpSend(a.port));
  await viaA.post('/login', { user: 'bo' });
  await viaA.post('/cart/items', { sku: 'x1', qty: 3 });
  await viaA.put('/prefs', { theme: 'dark' });
  a.signal('SIGKILL');
  expect((await a.exited).signal).toBe('SIGKILL');
  const viaB = new Client(httpSend(b.port));
  viaB.jar.set('sid', viaA.jar.get('sid')!);
  const r = await viaB.get('/session');
  expect(r.status).toBe(200);
  expect(r.json).toEqual({ user: 'bo', cart: [{ sku: 'x1', qty: 3 }], prefs: { theme: 'dark' }, servedBy: 'kill-b' });
});

test('SIGTERM while a slow request is in flight: new connections are refused, that request completes and persists, then exit 0', async () => {
  const inst = await start('term-a');
  const c = new Client(httpSend(inst.port));
  await c.post('/login', { user: 'cy' });
  const cookie = c.cookieHeader;
  const body = Buffer.from(JSON.stringify({ sku: 'slow-one', qty: 7 }));

  // A request whose body trickles in: headers and half the body now, the rest after SIGTERM.
  const reply = new Promise<{ status: number; text: string; connection?: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: inst.port, method: 'POST', path: '/cart/items', headers: { 'content-type': 'application/json', 'content-length': body.length, cookie } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, 10));
    setTimeout(() => {
      inst.signal('SIGTERM');
      setTimeout(async () => {
        const refused = await new Promise<boolean>((r) => {
          const s = connect(inst.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), r(false)));
          s.once('error', () => r(true));
        });
        if (!refused) reject(new Error('a new connection was accepted after SIGTERM'));
        req.end(body.subarray(10));
      }, 500);
    }, 200);
  });
  const r = await reply;
  expect(r.status).toBe(200);
  expect(JSON.parse(r.text)).toEqual({ cart: [{ sku: 'slow-one', qty: 7 }] });
  expect(r.connection).toBe('close');
  expect(await inst.exited).toEqual({ code: 0, signal: null });
  expect(inst.output()).toContain('"stopped"');

  const other = await start('term-b');
  const check = new Client(httpSend(other.port));
  expect((await check.get('/session', { cookie })).json.cart).toEqual([{ sku: 'slow-one', qty: 7 }]);
});

test('redis-server stopped: writes, reads and /readyz answer 503 within a bound, /healthz (liveness) stays 200, the process stays up; after restart the failed write is absent', async () => {
  const inst = await start('outage-a', { SESSION_STORE_TIMEOUT_MS: '500' });
  const c = new Client(httpSend(inst.port));
  await c.post('/login', { user: 'di' });
  await c.post('/cart/items', { sku: 'kept', qty: 1 });
  await backend.redis!.stop();

  const startedAt = Date.now();
  const w = await c.post('/cart/items', { sku: 'lost', qty: 1 });
  const elapsed = Date.now() - startedAt;
  expect(w.status).toBe(503);
  expect(w.json.error.code).toBe('store_unavailable');
  expect(elapsed).toBeLessThan(10_000); // a bound, not a benchmark: the request must not hang
  expect((await c.get('/session')).status).toBe(503);
  expect((await c.put('/prefs', { a: 'b' })).status).toBe(503);
  expect((await c.post('/login', { user: 'di2' })).status).toBe(503);
  expect((await c.get('/readyz')).status).toBe(503);
  expect((await c.get('/healthz')).json).toMatchObject({ status: 'ok' });

  await backend.redis!.restart();
  const deadline = Date.now() + 15_000;
  while ((await c.get('/readyz')).status !== 200) {
    if (Date.now() > deadline) throw new Error('store did not come back');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await c.get('/session')).json).toMatchObject({ user: 'di', cart: [{ sku: 'kept', qty: 1 }] });
  expect(inst.proc.exitCode).toBeNull();
});

test('a body streamed past 16 KiB gets 413 before the client finishes sending; oversized headers get 431; the server stays up', async () => {
  const inst = await start('limits-a');
  const early = await new Promise<{ status: number; sentWhenAnswered: number }>((resolve, reject) => {
    let sent = 0;
    let done = false;
    const req = request({ host: '127.0.0.1', port: inst.port, method: 'POST', path: '/login', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      done = true;
      resolve({ status: res.statusCode ?? 0, sentWhenAnswered: sent });
      res.resume();
      req.destroy();
    });
    req.on('error', (e) => (done ? undefined : reject(e)));
    const chunk = Buffer.alloc(4096, 'a');
    const pump = (): void => {
      if (done || sent > 4 * 1024 * 1024) {
        req.end();
        return;
      }
      sent += chunk.length;
      req.write(chunk);
      setTimeout(pump, 5);
    };
    pump();
  });
  expect(early.status).toBe(413);
  expect(early.sentWhenAnswered).toBeLessThan(1024 * 1024); // answered long before the 4 MiB the client meant to send

  const bigHeader = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: inst.port, path: '/healthz', headers: { 'x-big': 'h'.repeat(20_000) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(bigHeader).toBe(431);
  expect((await new Client(httpSend(inst.port)).get('/healthz')).status).toBe(200);
});

test('without SESSION_SERVED_BY an instance reports servedBy as hostname:port', async () => {
  const env = { ...backend.env };
  const inst = await startInstance(env);
  instances.push(inst);
  const c = new Client(httpSend(inst.port));
  await c.post('/login', { user: 'eve' });
  expect((await c.get('/session')).json.servedBy).toBe(`${hostname()}:${inst.port}`);
});
