/**
 * RedisStore against real redis-server processes: the shared conformance suite on a plain
 * server, on a TLS-only server with requirepass, and with an ACL user; plus the TLS and AUTH
 * checks that show the security settings are really applied, and a write lost in a replica
 * promotion that must not let an old copy overwrite a later write.
 */
import { Redis } from 'ioredis';
import { SessionTooLargeError, StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { RedisStore } from '../../lambda/session/stores/redis';
import { newWriteToken } from '../../lambda/session/write-token';
import { describeStoreConformance, nextWrite } from '../support/conformance';
import { RedisServer } from '../support/redis-server';
import { TcpProxy } from '../../lab/tcp-proxy';

const quiet = { warn: () => undefined }; // reconnect warnings are expected where a test refuses a connection
const PASSWORD = 'test-auth-token-0123456789abcdef';

describe('redis store on a plain redis-server', () => {
  let server: RedisServer;
  /** For the tests after the conformance suite: one store, and a client that looks at the keys. */
  let store: RedisStore;
  let admin: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    store = new RedisStore({ url: server.url() });
    admin = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await store?.close();
    admin?.disconnect();
    await server?.dispose();
  });

  describeStoreConformance('redis (plain)', () => ({ makeStore: async () => new RedisStore({ url: server.url() }) }));

  describe('modify from what the manager wrote last: the store still decides', () => {
    const SECRET = 'modify-test-secret-0123456789abcdef0123';

    it('past the absolute timeout the remembered session is not written: no session, and the key is deleted', async () => {
      let clock = Date.now();
      const m = new SessionManager({ store, secrets: [SECRET], secure: false, idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 120, now: () => clock });
      const s = await m.create({ cart: [] });
      const cookie = m.setCookie(s).split(';')[0];
      expect(await m.modify(cookie, (d) => ({ ...d, cart: ['A'] }))).toMatchObject({ version: 2 });
      clock += 121_000;
      expect(await m.modify(cookie, (d) => ({ ...d, cart: ['B'] }))).toBeUndefined();
      expect(await admin.exists(store.keyOf(s.id))).toBe(0);
    });

    it('a result too large on the remembered data is judged on the stored data (shrunk elsewhere), and refused with it intact when that is too large too', async () => {
      const m = new SessionManager({ store, secrets: [SECRET], secure: false, maxSessionBytes: 100 });
      const other = new SessionManager({ store, secrets: [SECRET], secure: false, maxSessionBytes: 100 });
      const s = await m.create({ blob: 'x'.repeat(70) });
      const cookie = m.setCookie(s).split(';')[0];
      await other.update((await other.loadById(s.id))!, () => ({ blob: '' }));
      const grow = (d: Record<string, unknown>) => ({ blob: `${d.blob as string}${'y'.repeat(30)}` });
      expect(await m.modify(cookie, grow)).toMatchObject({ version: 3, data: { blob: 'y'.repeat(30) } });
      await other.update((await other.loadById(s.id))!, () => ({ blob: 'z'.repeat(70) }));
      await expect(m.modify(cookie, grow)).rejects.toBeInstanceOf(SessionTooLargeError);
      expect(await other.loadById(s.id)).toMatchObject({ version: 4, data: { blob: 'z'.repeat(70) } });
    });
  });

  it('commands sent in one event-loop turn leave in one write (corked until setImmediate), and the next turn writes again', async () => {
    await store.ping();
    const stream = (store as unknown as { client: Redis }).client.stream;
    const writev = jest.spyOn(stream, '_writev');
    const write = jest.spyOn(stream, '_write');
    try {
      const opts = { now: Date.now(), idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 120 };
      const ids = Array.from({ length: 10 }, (_, i) => `cork-${i}`.padEnd(26, '0'));
      await store.create({ id: ids[0], version: 1, token: newWriteToken(), data: { n: 1 }, createdAt: opts.now, expiresAt: opts.now + 60_000 });
      writev.mockClear();
      write.mockClear();
      const loads = await Promise.all(ids.map((id) => store.load(id, opts)));
      expect(loads.map((s) => s?.data ?? null)).toEqual([{ n: 1 }, ...Array(9).fill(null)]);
      expect(write).not.toHaveBeenCalled();
      expect(writev).toHaveBeenCalledTimes(1);
      expect(writev.mock.calls[0][0]).toHaveLength(10); // ten GETEX, one write(2)
      await store.load(ids[0], opts);
      expect(write.mock.calls.length + writev.mock.calls.length).toBe(2);
    } finally {
      writev.mockRestore();
      write.mockRestore();
    }
  });

  describe('compareAndSetOrLoad (what lets modify write from the version it wrote last)', () => {
    const HOUR = { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 7200 };
    const session = (id: string, version: number, data: Record<string, unknown>, createdAt = Date.now()) => ({ id, version, token: newWriteToken(), data, createdAt, expiresAt: createdAt + 60_000 });

    it('writes when the stored version and write token are the expected ones', async () => {
      const v1 = session('casload-match-000000000000', 1, { n: 1 });
      await store.create(v1);
      const v2 = nextWrite(v1, { data: { n: 2 } });
      expect(await store.compareAndSetOrLoad(v2, v1, JSON.stringify(v2.data), { now: Date.now(), ...HOUR })).toBe(true);
      expect(await store.load(v2.id, { now: Date.now(), ...HOUR })).toMatchObject({ version: 2, token: v2.token, data: { n: 2 } });
    });

    it('on a stale version writes nothing and answers with the stored session, its idle expiry slid as a read slides it', async () => {
      const stored = session('casload-stale-000000000000', 1, { n: 'stored' });
      await store.create(stored);
      const newer = nextWrite(stored, { data: { n: 'newer' } });
      await store.compareAndSet(newer, stored);
      await admin.pexpire(store.keyOf(stored.id), 5000);
      const stale = nextWrite(stored, { data: { n: 'from-a-stale-base' } });
      const now = Date.now();
      const answer = await store.compareAndSetOrLoad(stale, stored, JSON.stringify(stale.data), { now, ...HOUR });
      expect(answer).toEqual({ id: stored.id, version: 2, token: newer.token, data: { n: 'newer' }, createdAt: stored.createdAt, expiresAt: now + 3600_000 });
      expect(await admin.pttl(store.keyOf(stored.id))).toBeGreaterThan(3000_000);
      expect((await store.load(stored.id, { now: Date.now(), ...HOUR }))?.data).toEqual({ n: 'newer' });
    });

    it('answers undefined for a session that is gone, and creates nothing', async () => {
      const gone = session('casload-gone-0000000000000', 2, { n: 2 });
      expect(await store.compareAndSetOrLoad(gone, { version: 1, token: newWriteToken() }, JSON.stringify(gone.data), { now: Date.now(), ...HOUR })).toBeUndefined();
      expect(await admin.exists(store.keyOf(gone.id))).toBe(0);
    });

    it('answers undefined for a stale write to a session past its absolute timeout, and deletes it', async () => {
      const old = session('casload-old-00000000000000', 1, { n: 1 }, Date.now() - 7300_000);
      await store.create({ ...old, expiresAt: Date.now() + 60_000 });
      await store.compareAndSet(nextWrite(old, { expiresAt: Date.now() + 60_000 }), old);
      const stale = nextWrite(old, { data: { n: 'late' } });
      expect(await store.compareAndSetOrLoad(stale, old, JSON.stringify(stale.data), { now: Date.now(), ...HOUR })).toBeUndefined();
      expect(await admin.exists(store.keyOf(old.id))).toBe(0);
    });

    it('a session stored before write tokens (`{"v":…,"c":…}`) reads with the empty token, is written from it once, and not again from the same copy', async () => {
      const id = 'casload-legacy-00000000000';
      const createdAt = Date.now();
      await admin.set(store.keyOf(id), `{"v":3,"c":${createdAt},"e":${createdAt + 60_000},"d":{"n":3}}`, 'PX', 60_000);
      const legacy = await store.load(id, { now: Date.now(), ...HOUR });
      expect(legacy).toMatchObject({ version: 3, token: '', data: { n: 3 } });
      const v4 = nextWrite(legacy!, { data: { n: 4 } });
      expect(await store.compareAndSet(v4, legacy!)).toBe(true);
      expect(await store.compareAndSet(nextWrite(legacy!, { data: { n: 'again' } }), legacy!)).toBe(false);
      expect(await store.load(id, { now: Date.now(), ...HOUR })).toMatchObject({ version: 4, token: v4.token, data: { n: 4 } });
    });
  });
});

describe('redis store through a replica promotion that loses an acknowledged write (issue 14 item 4)', () => {
  // A primary and a replica; clients reach the primary through a TCP proxy standing in for the
  // primary endpoint's DNS name (lab/tcp-proxy.ts). The replica is promoted first (REPLICAOF NO
  // ONE: a partition in which the replica was given the primary's role) while server A, still
  // connected to the old primary, writes version 2 there and gets it acknowledged. Then the old
  // primary dies and the endpoint moves to the promoted replica, which never got that write.
  // Server B writes its own version 2. A's next request starts from the version 2 it remembers.
  const SECRET = 'failover-test-secret-0123456789abcdef0';
  let primary: RedisServer;
  let replica: RedisServer;
  let proxy: TcpProxy;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    proxy = await TcpProxy.start(primary.port);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await proxy?.close();
    await replica?.dispose();
    await primary?.dispose();
  });

  /** Polls `check` every 50 ms until it holds; fails after `ms`. */
  const until = async (what: string, check: () => Promise<boolean>, ms = 10_000) => {
    for (const deadline = Date.now() + ms; !(await check().catch(() => false)); ) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('B\'s acknowledged version 2 on the promoted replica survives A\'s next modify from the version 2 the old primary lost', async () => {
    await until('replica linked', async () => /master_link_status:up/.test(await replica.cli('INFO', 'replication')));
    const storeOf = () => {
      const st = new RedisStore({ url: `redis://127.0.0.1:${proxy.port}`, logger: quiet });
      stores.push(st);
      return st;
    };
    const [storeA, storeB] = [storeOf(), storeOf()];
    const a = new SessionManager({ store: storeA, secrets: [SECRET], secure: false });
    const b = new SessionManager({ store: storeB, secrets: [SECRET], secure: false });
    const push = (line: string) => (d: Record<string, unknown>) => {
      (d.cart as string[]).push(line);
    };

    const v1 = await a.create({ cart: ['first'] });
    const cookie = a.setCookie(v1).split(';')[0];
    const key = storeA.keyOf(v1.id);
    await until('v1 replicated', async () => (await replica.cli('EXISTS', key)).trim() === '1');

    await replica.cli('REPLICAOF', 'NO', 'ONE');
    await until('replica promoted', async () => /role:master/.test(await replica.cli('INFO', 'replication')));
    const lost = await a.modify(cookie, push('a-lost'));
    expect(lost).toMatchObject({ version: 2, data: { cart: ['first', 'a-lost'] } }); // acknowledged by the old primary …
    expect(await replica.cli('GET', key)).toMatch(/^\{"v":1,/); // … and never on the replica

    await primary.kill();
    proxy.switchTo(replica.port);
    await until('clients reconnected', async () => (await Promise.all([storeA.ping(), storeB.ping()]), true));

    const fromB = await b.modify(cookie, push('from-b'));
    expect(fromB).toMatchObject({ version: 2, data: { cart: ['first', 'from-b'] } }); // acknowledged: the same version number as the lost write

    const next = await a.modify(cookie, push('a-next'));
    expect(next?.data.cart).toEqual(['first', 'from-b', 'a-next']);
    expect((await b.loadById(v1.id))?.data.cart).toEqual(['first', 'from-b', 'a-next']);
  });
});

describe('redis store on a TLS-only redis-server with requirepass (AUTH token)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ tls: true, password: PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  describeStoreConformance('redis (TLS + AUTH)', () => ({
    makeStore: async () => new RedisStore({ url: server.url(), credentials: { password: PASSWORD }, tls: { ca: server.certificates!.ca } }),
  }));

  it('refuses a server whose certificate is not signed by a trusted CA (no CA given → system CAs)', async () => {
    const store = new RedisStore({ url: server.url({ password: PASSWORD }), commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('refuses a client without the AUTH token (StoreUnavailableError, not a crash)', async () => {
    const store = new RedisStore({ url: server.url(), tls: { ca: server.certificates!.ca }, commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('takes the AUTH token from a rediss://:token@host URL', async () => {
    const store = new RedisStore({ url: server.url({ password: PASSWORD }), tls: { ca: server.certificates!.ca } });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('redis store with an ACL user (username + password)', () => {
  let server: RedisServer;
  const user = { username: 'sessions-app', password: 'acl-password-0123456789' };
  beforeAll(async () => {
    server = await RedisServer.start({ password: 'default-user-password-xyz', users: [user] });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  describeStoreConformance('redis (ACL user)', () => ({ makeStore: async () => new RedisStore({ url: server.url(), credentials: user }) }));

  it('a wrong ACL password is refused with StoreUnavailableError', async () => {
    const store = new RedisStore({ url: server.url(), credentials: { ...user, password: 'wrong' }, commandTimeoutMs: 1000, logger: quiet });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
