/**
 * MemcachedStore against real memcached processes: the conformance suite on one server and on
 * two (keys hashed across the list), memcached's own compare-and-set seen directly, expiry done
 * by memcached itself (and memcached's 30-day exptime rule), the item size limit, and the
 * server killed, frozen and restarted. The elapsed-time checks in the outage tests are a
 * correctness bound (timeoutMs plus scheduling slack), not a benchmark.
 */
import { SessionTooLargeError, StoreUnavailableError } from '../../lambda/session/errors';
import { parseSessionEnv } from '../../lambda/session/env';
import { memcachedStoreFactory } from '../../lambda/session/entries/memcached';
import { createSessionRuntime } from '../../lambda/session/from-env';
import { SessionManager } from '../../lambda/session/manager';
import { MemcachedStore, memcachedExptime, type MemcachedStoreOptions } from '../../lambda/session/stores/memcached';
import type { StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { describeStoreConformance, nextWrite } from '../support/conformance';
import { MemcachedServer } from '../support/memcached-server';
import { RuntimeChild } from '../support/runtime-child';
import { itLeavesNoUnhandledRejection, itSurvivesProcessOutages, SCHEDULING_SLACK_MS } from '../support/outage';

const SECRET = 'memcached-store-test-secret-0123456789';
const LOAD = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const opened: MemcachedStore[] = [];
function makeStore(opts: MemcachedStoreOptions): MemcachedStore {
  const s = new MemcachedStore(opts);
  opened.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

let n = 0;
function session(data: Record<string, unknown>, over: Partial<StoredSession> = {}): StoredSession {
  const now = Date.now();
  return { id: `mc-test-${process.pid}-${++n}-aaaaaaaaaaaa`, data, version: 1, token: newWriteToken(), createdAt: now, expiresAt: now + 60_000, ...over };
}

/** Two memcached servers, started before the enclosing describe block's tests and stopped after them. */
function twoServers(): readonly MemcachedServer[] {
  const servers: MemcachedServer[] = [];
  beforeAll(async () => {
    servers.push(...(await Promise.all([MemcachedServer.start(), MemcachedServer.start()])));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  return servers;
}

describe('memcachedExptime follows memcached\'s rule and never ends an item early', () => {
  it('relative seconds (rounded up, plus one) up to 30 days; an absolute unix time beyond; -1 for the past', () => {
    const now = 1_700_000_000_000;
    expect(memcachedExptime(now + 1500, now)).toBe(3);
    expect(memcachedExptime(now + 30 * 24 * 3600 * 1000 - 1000, now)).toBe(30 * 24 * 3600);
    expect(memcachedExptime(now + 40 * 24 * 3600 * 1000, now)).toBe(Math.ceil((now + 40 * 24 * 3600 * 1000) / 1000) + 1);
    expect(memcachedExptime(now, now)).toBe(-1);
  });
});

describe('MemcachedStore on one memcached', () => {
  let server: MemcachedServer;
  beforeAll(async () => {
    server = await MemcachedServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describeStoreConformance('memcached (one server)', () => ({ makeStore: async () => makeStore({ servers: [server.address] }) }));

  it('cas conflict: a second client\'s write makes the first client\'s compare-and-set fail, and its data stays', async () => {
    const a = makeStore({ servers: [server.address] });
    const b = makeStore({ servers: [server.address] });
    const s = session({ n: 0 });
    expect(await a.create(s)).toBe(true);
    const readByA = await a.load(s.id, { now: Date.now(), ...LOAD }); // A remembers the cas token of version 1
    const readByB = await b.load(s.id, { now: Date.now(), ...LOAD });
    const casBefore = /^VALUE \S+ \d+ \d+ (\d+)/m.exec(await server.raw(`gets ${a.keyOf(s.id)}`))![1];
    expect(await b.compareAndSet(nextWrite(readByB!, { data: { n: 'b' } }), readByB!)).toBe(true);
    const casAfter = /^VALUE \S+ \d+ \d+ (\d+)/m.exec(await server.raw(`gets ${a.keyOf(s.id)}`))![1];
    expect(casAfter).not.toBe(casBefore); // memcached itself gave the item a new cas unique
    expect(await a.compareAndSet(nextWrite(readByA!, { data: { n: 'a' } }), readByA!)).toBe(false);
    expect(await a.load(s.id, { now: Date.now(), ...LOAD })).toMatchObject({ version: 2, data: { n: 'b' } });
  });

  it('a stale cas token whose version is still current (only the expiry was slid elsewhere) still writes', async () => {
    const a = makeStore({ servers: [server.address] });
    const b = makeStore({ servers: [server.address] });
    const now = Date.now();
    // Idle timeout 60 s. A reads with 40 s left (no slide; A keeps the cas token). B reads 20 s
    // later with 20 s left, under half the idle timeout: it slides by rewriting version 1.
    const s = session({ n: 0 }, { createdAt: now, expiresAt: now + 40_000 });
    expect(await a.create(s)).toBe(true);
    const readByA = await a.load(s.id, { now, ...LOAD });
    const slid = await b.load(s.id, { now: now + 20_000, ...LOAD });
    expect(slid!.expiresAt).toBeGreaterThan(readByA!.expiresAt);
    expect(await a.compareAndSet(nextWrite(readByA!, { data: { n: 1 } }), readByA!)).toBe(true);
    expect(await b.load(s.id, { now: Date.now(), ...LOAD })).toMatchObject({ version: 2, data: { n: 1 } });
  });

  it('expiry is done by memcached itself: the item is gone from memcached shortly after expiresAt, and hidden from load at once', async () => {
    const store = makeStore({ servers: [server.address] });
    const s = session({ user: 'brief' }, { expiresAt: Date.now() + 1000 });
    expect(await store.create(s)).toBe(true);
    const key = store.keyOf(s.id);
    expect(await server.raw(`get ${key}`)).toMatch(/^VALUE /);
    await sleep(1100);
    expect(await store.load(s.id, { now: Date.now(), ...LOAD })).toBeUndefined(); // filtered to the ms
    await sleep(2500); // exptime was 1 s rounded up + 1 s; memcached's clock ticks in whole seconds
    expect(await server.raw(`get ${key}`)).toBe('END\r\n');
  });

  it('a 40-day expiry is sent as an absolute unix time (memcached\'s 30-day rule) and memcached keeps it ~40 days', async () => {
    const store = makeStore({ servers: [server.address] });
    const day = 24 * 3600;
    const long = session({ user: 'long' }, { expiresAt: Date.now() + 40 * day * 1000 });
    const ten = session({ user: 'ten' }, { expiresAt: Date.now() + 10 * day * 1000 });
    expect(await store.create(long)).toBe(true);
    expect(await store.create(ten)).toBe(true);
    // `mg <key> t` answers the TTL memcached holds, in seconds (a relative 3456000 would have been
    // read as a 1970 unix time and the item would be gone already).
    const ttl = async (id: string) => Number(/ t(-?\d+)/.exec(await server.raw(`mg ${store.keyOf(id)} t`))?.[1]);
    expect(Math.abs((await ttl(long.id)) - 40 * day)).toBeLessThanOrEqual(5);
    expect(Math.abs((await ttl(ten.id)) - 10 * day)).toBeLessThanOrEqual(5);
  });

  it('an expired leftover that memcached still holds does not block create with the same id', async () => {
    const store = makeStore({ servers: [server.address] });
    const past = Date.now() - 5000;
    const old = session({ user: 'old' }, { createdAt: past - 1000, expiresAt: past });
    const value = JSON.stringify({ version: 7, createdAt: old.createdAt, expiresAt: old.expiresAt, data: old.data });
    // Written straight into memcached with a 60 s TTL: the session inside it expired 5 s ago.
    expect(await server.raw(`set ${store.keyOf(old.id)} 0 60 ${Buffer.byteLength(value)}\r\n${value}`)).toBe('STORED\r\n');
    expect(await store.load(old.id, { now: Date.now(), ...LOAD })).toBeUndefined();
    const fresh = session({ user: 'new' }, { id: old.id });
    expect(await store.create(fresh)).toBe(true);
    expect(await store.load(old.id, { now: Date.now(), ...LOAD })).toMatchObject({ version: 1, data: { user: 'new' } });
    // A live session with the id still blocks.
    expect(await store.create({ ...fresh, data: { user: 'third' } })).toBe(false);
  });

  it('a session just under the store limit (1 MiB − 1 KiB) is accepted by a memcached with the default 1 MiB item limit', async () => {
    const store = makeStore({ servers: [server.address] });
    const s = session({ blob: '' });
    const envelope = Buffer.byteLength(JSON.stringify({ version: 1, token: s.token, createdAt: s.createdAt, expiresAt: s.expiresAt, data: { blob: '' } }));
    const big = { ...s, data: { blob: 'x'.repeat(store.maxSessionBytes - envelope) } };
    expect(await store.create(big)).toBe(true);
    expect((await store.load(s.id, { now: Date.now(), ...LOAD }))?.data.blob).toHaveLength(store.maxSessionBytes - envelope);
    await expect(store.create({ ...big, id: `${s.id}-2`, data: { blob: `${big.data.blob}y` } })).rejects.toBeInstanceOf(SessionTooLargeError);
  });
});

describe('MemcachedStore on two memcached servers (keys hashed across the list)', () => {
  const servers = twoServers();

  describeStoreConformance('memcached (two servers)', () => ({ makeStore: async () => makeStore({ servers: servers.map((s) => s.address) }) }));

  it('spreads sessions over both servers, each session on exactly the server serverOf names, the same from every store', async () => {
    const list = servers.map((s) => s.address);
    const a = makeStore({ servers: list });
    const b = makeStore({ servers: [...list] });
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const s = session({ i });
      expect(await a.create(s)).toBe(true);
      const home = a.serverOf(s.id);
      expect(b.serverOf(s.id)).toBe(home);
      counts.set(home, (counts.get(home) ?? 0) + 1);
      for (const srv of servers) {
        const there = (await srv.raw(`get ${a.keyOf(s.id)}`)).startsWith('VALUE ');
        expect({ server: srv.address, there }).toEqual({ server: srv.address, there: srv.address === home });
      }
    }
    expect([...counts.keys()].sort()).toEqual([...list].sort());
  });
});

describe('SESSION_STORE=memcached builds the runtime on the listed servers', () => {
  const servers = twoServers();

  it('a session created through the runtime is stored on the server its id hashes to', async () => {
    const env = parseSessionEnv({
      SESSION_STORE: 'memcached',
      SESSION_MEMCACHED_SERVERS: servers.map((s) => s.address).join(','),
      SESSION_COOKIE_SECRET: SECRET,
    });
    const rt = await createSessionRuntime(env, { stores: [memcachedStoreFactory] });
    try {
      expect(rt.store).toBeInstanceOf(MemcachedStore);
      const store = rt.store as MemcachedStore;
      const s = await rt.manager.create({ user: 'ada' });
      expect((await rt.manager.loadById(s.id))?.data).toEqual({ user: 'ada' });
      const home = servers.find((x) => x.address === store.serverOf(s.id))!;
      expect(await home.raw(`get ${store.keyOf(s.id)}`)).toMatch(/^VALUE /);
    } finally {
      await rt.close();
    }
  });
});

describe('MemcachedStore with a server whose item limit (-I 64k) is below the store\'s limit', () => {
  let server: MemcachedServer;
  beforeAll(async () => {
    server = await MemcachedServer.start({ itemSizeLimitKiB: 64 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('memcached\'s "object too large" becomes SessionTooLargeError and the stored session stays intact', async () => {
    const store = makeStore({ servers: [server.address] });
    const m = new SessionManager({ store, secrets: [SECRET], secure: false, maxSessionBytes: Number.MAX_SAFE_INTEGER });
    const s = await m.create({ user: 'ada', blob: 'small' });
    await expect(m.update(s, (d) => ({ ...d, blob: 'x'.repeat(200 * 1024) }))).rejects.toBeInstanceOf(SessionTooLargeError);
    expect(await m.loadById(s.id)).toMatchObject({ version: 1, data: { user: 'ada', blob: 'small' } });
  });
});

describe('MemcachedStore when memcached is down, hung, back', () => {
  const BOUND_MS = 500;
  const SLACK_MS = SCHEDULING_SLACK_MS;
  let server: MemcachedServer;
  let store: MemcachedStore;
  let m: SessionManager;

  beforeAll(async () => {
    server = await MemcachedServer.start();
    store = makeStore({ servers: [server.address], timeoutMs: BOUND_MS });
    m = new SessionManager({ store, secrets: [SECRET], secure: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  itSurvivesProcessOutages(
    () => ({ server, store, m, lateStore: () => new MemcachedStore({ servers: [server.address], timeoutMs: BOUND_MS }) }),
    { boundMs: BOUND_MS, slackMs: SLACK_MS },
  );

  itLeavesNoUnhandledRejection();
});

describe('MemcachedStore over TLS (memcached -Z with a self-signed CA, as ElastiCache in-transit encryption)', () => {
  let server: MemcachedServer;
  beforeAll(async () => {
    server = await MemcachedServer.start({ tls: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describeStoreConformance('memcached (TLS)', () => ({ makeStore: async () => makeStore({ servers: [server.address], tls: { ca: server.certificates!.ca } }) }));

  it('a plain-TCP client gets StoreUnavailableError from the TLS-only server, within its bound', async () => {
    const timeoutMs = 500;
    const plain = makeStore({ servers: [server.address], timeoutMs });
    const started = Date.now();
    await expect(plain.create(session({ plain: true }))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 2 * SCHEDULING_SLACK_MS);
  });

  it('a TLS client that does not trust the certificate is refused (the server is verified, not just encrypted)', async () => {
    const untrusting = makeStore({ servers: [server.address], tls: {}, timeoutMs: 1000 });
    await expect(untrusting.create(session({ trust: false }))).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('SESSION_MEMCACHED_TLS=true makes the runtime from env connect with TLS, trusting the system CAs (here NODE_EXTRA_CA_CERTS)', () => {
    // A test CA can only join the system's CAs at process start: the runtime runs in a child process.
    const child = RuntimeChild.bundle(`
      const s = await rt.manager.create({ user: 'ada' });
      const back = await rt.manager.loadById(s.id);
      return { data: back && back.data };`);
    const run = (tlsVar: string) =>
      child.run({
        NODE_EXTRA_CA_CERTS: server.certificates!.caFile,
        SESSION_STORE: 'memcached',
        SESSION_MEMCACHED_SERVERS: server.address,
        SESSION_MEMCACHED_TLS: tlsVar,
        SESSION_COOKIE_SECRET: SECRET,
        SESSION_STORE_TIMEOUT_MS: '500',
      });
    try {
      expect(run('true')).toEqual({ data: { user: 'ada' } });
      expect(run('false')).toEqual({ error: 'StoreUnavailableError' });
    } finally {
      child.dispose();
    }
  });
});
