/**
 * RedisStore against real redis-server processes: the shared conformance suite on a plain
 * server, on a TLS-only server with requirepass, and with an ACL user; plus the TLS and AUTH
 * checks that show the security settings are really applied.
 */
import { Redis } from 'ioredis';
import { SessionTooLargeError, StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { RedisStore } from '../../lambda/session/stores/redis';
import { describeStoreConformance } from '../support/conformance';
import { RedisServer } from '../support/redis-server';

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
      await store.create({ id: ids[0], version: 1, data: { n: 1 }, createdAt: opts.now, expiresAt: opts.now + 60_000 });
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
    const session = (id: string, version: number, data: Record<string, unknown>, createdAt = Date.now()) => ({ id, version, data, createdAt, expiresAt: createdAt + 60_000 });

    it('writes when the stored version is the expected one', async () => {
      await store.create(session('casload-match-000000000000', 1, { n: 1 }));
      const v2 = session('casload-match-000000000000', 2, { n: 2 });
      expect(await store.compareAndSetOrLoad(v2, 1, JSON.stringify(v2.data), { now: Date.now(), ...HOUR })).toBe(true);
      expect(await store.load(v2.id, { now: Date.now(), ...HOUR })).toMatchObject({ version: 2, data: { n: 2 } });
    });

    it('on a stale version writes nothing and answers with the stored session, its idle expiry slid as a read slides it', async () => {
      const stored = session('casload-stale-000000000000', 1, { n: 'stored' });
      await store.create(stored);
      await store.compareAndSet(session(stored.id, 2, { n: 'newer' }, stored.createdAt), 1);
      await admin.pexpire(store.keyOf(stored.id), 5000);
      const stale = session(stored.id, 2, { n: 'from-a-stale-base' }, stored.createdAt);
      const now = Date.now();
      const answer = await store.compareAndSetOrLoad(stale, 1, JSON.stringify(stale.data), { now, ...HOUR });
      expect(answer).toEqual({ id: stored.id, version: 2, data: { n: 'newer' }, createdAt: stored.createdAt, expiresAt: now + 3600_000 });
      expect(await admin.pttl(store.keyOf(stored.id))).toBeGreaterThan(3000_000);
      expect((await store.load(stored.id, { now: Date.now(), ...HOUR }))?.data).toEqual({ n: 'newer' });
    });

    it('answers undefined for a session that is gone, and creates nothing', async () => {
      const gone = session('casload-gone-0000000000000', 2, { n: 2 });
      expect(await store.compareAndSetOrLoad(gone, 1, JSON.stringify(gone.data), { now: Date.now(), ...HOUR })).toBeUndefined();
      expect(await admin.exists(store.keyOf(gone.id))).toBe(0);
    });

    it('answers undefined for a stale write to a session past its absolute timeout, and deletes it', async () => {
      const old = session('casload-old-00000000000000', 1, { n: 1 }, Date.now() - 7300_000);
      await store.create({ ...old, expiresAt: Date.now() + 60_000 });
      await store.compareAndSet({ ...old, version: 2, expiresAt: Date.now() + 60_000 }, 1);
      const stale = { ...old, version: 2, data: { n: 'late' } };
      expect(await store.compareAndSetOrLoad(stale, 1, JSON.stringify(stale.data), { now: Date.now(), ...HOUR })).toBeUndefined();
      expect(await admin.exists(store.keyOf(old.id))).toBe(0);
    });
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
