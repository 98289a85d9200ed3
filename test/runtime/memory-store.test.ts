import { OpenAuthenticator } from '../../lambda/session/auth/open';
import { createApp } from '../../lambda/app/app';
import { parseSessionEnv } from '../../lambda/session/env';
import { createSessionRuntime } from '../../lambda/session/from-env';
import { MemoryStore } from '../../lambda/session/stores/memory';
import { SessionManager } from '../../lambda/session/manager';
import type { StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { baseEnv } from '../support/app-backends';
import { Client, httpApiSend } from '../support/app-client';
import { describeStoreConformance } from '../support/conformance';

// Instance-local: one process's Map. The suite's "two servers" share it here, as two managers
// in one process would; across real instances memory sessions are not shared (sticky topology).
const shared = new MemoryStore();
describeStoreConformance('memory', () => ({ makeStore: async () => shared }));

describe('memory store', () => {
  it('keeps sessions per process: a second store instance does not see them (why sticky sessions need the LB)', async () => {
    const secrets = ['memory-secret-memory-secret-memory!!'];
    const a = new SessionManager({ store: new MemoryStore(), secrets });
    const b = new SessionManager({ store: new MemoryStore(), secrets });
    const s = await a.create({ user: 'ada' });
    expect(await a.loadById(s.id)).toBeDefined();
    expect(await b.loadById(s.id)).toBeUndefined();
  });

  it('sweeps expired sessions so memory does not grow without bound', async () => {
    const store = new MemoryStore({ sweepEvery: 10 });
    const m = new SessionManager({ store, secrets: ['memory-secret-memory-secret-memory!!'], idleTimeoutSeconds: 0.05, absoluteTimeoutSeconds: 1 });
    for (let i = 0; i < 9; i++) await m.create({ i });
    await new Promise((r) => setTimeout(r, 80));
    await m.create({ i: 9 }); // 10th write triggers the sweep
    expect(store.size).toBe(1);
  });
});

describe('memory store bounds (LRU by count and bytes)', () => {
  const now = Date.now();
  const LOAD = { now, idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 7200 };
  const T1 = newWriteToken();
  const session = (id: string, data: Record<string, unknown> = {}): StoredSession => ({ id, data, version: 1, token: T1, createdAt: now, expiresAt: now + 3_600_000 });
  const jsonBytes = (s: StoredSession) => Buffer.byteLength(JSON.stringify(s));
  const held = async (store: MemoryStore, ids: string[]) => {
    const out: string[] = [];
    for (const id of ids) if ((await store.load(id, LOAD)) !== undefined) out.push(id);
    return out;
  };

  it('inserting past maxSessions evicts the least recently used first, one per insert', async () => {
    const store = new MemoryStore({ maxSessions: 3 });
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.create(session(id))).toBe(true);
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1);
    expect(await store.create(session('e'))).toBe(true);
    expect(await held(store, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
    expect(store.evictions).toBe(2);
  });

  it('a read refreshes recency: the session just read survives, the next oldest goes', async () => {
    const store = new MemoryStore({ maxSessions: 3 });
    for (const id of ['a', 'b', 'c']) await store.create(session(id));
    expect(await store.load('a', LOAD)).toBeDefined();
    await store.create(session('d'));
    expect(await held(store, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
  });

  it('a write refreshes recency too (compareAndSet of the oldest keeps it)', async () => {
    const store = new MemoryStore({ maxSessions: 2 });
    await store.create(session('a'));
    await store.create(session('b'));
    expect(await store.compareAndSet({ ...session('a', { n: 1 }), version: 2, token: newWriteToken() }, { version: 1, token: T1 })).toBe(true);
    await store.create(session('c'));
    expect(await held(store, ['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  it('the bytes bound counts session data: one large session evicts as many small ones as its size needs', async () => {
    const small = ['s1', 's2', 's3', 's4'].map((id) => session(id, { pad: 'x'.repeat(100) }));
    const big = session('big', { pad: 'y'.repeat(400) });
    const limit = small.reduce((n, s) => n + jsonBytes(s), 0); // room for exactly the four small ones
    const store = new MemoryStore({ maxSessions: 1000, maxBytes: limit, maxSessionBytes: limit });
    for (const s of small) await store.create(s);
    expect(store.bytes).toBe(limit);
    expect(store.evictions).toBe(0);
    expect(Math.ceil(jsonBytes(big) / jsonBytes(small[0]))).toBe(3); // its data needs the room of three small ones
    await store.create(big); // so the three oldest go
    expect(await held(store, ['s1', 's2', 's3', 's4', 'big'])).toEqual(['s4', 'big']);
    expect(store.bytes).toBe(jsonBytes(small[3]) + jsonBytes(big));
    expect(store.bytes).toBeLessThanOrEqual(limit);
  });

  it('bytes follow rewrites and deletes: a session that grows is counted at its new size, a deleted one not at all', async () => {
    const store = new MemoryStore();
    const a = session('a', { v: 'x' });
    await store.create(a);
    const grown = { ...session('a', { v: 'x'.repeat(500) }), version: 2, token: newWriteToken() };
    expect(await store.compareAndSet(grown, { version: 1, token: T1 })).toBe(true);
    expect(store.bytes).toBe(jsonBytes(grown));
    await store.delete('a');
    expect(store.bytes).toBe(0);
    expect(store.size).toBe(0);
  });

  it('bad bounds are refused with RangeError: maxSessions below 1, maxBytes below maxSessionBytes', () => {
    expect(() => new MemoryStore({ maxSessions: 0 })).toThrow(RangeError);
    expect(() => new MemoryStore({ maxSessionBytes: 2048, maxBytes: 1024 })).toThrow(/maxBytes must be a whole number >= maxSessionBytes \(2048\), got 1024/);
  });

  it('an evicted session is simply gone: its cookie gets 401 on read and on write, and the app keeps serving', async () => {
    const env = parseSessionEnv({ ...baseEnv({ SESSION_STORE: 'memory', SESSION_MEMORY_MAX_SESSIONS: '2' }) });
    const rt = await createSessionRuntime(env, { logger: { warn: () => undefined } });
    try {
      expect((rt.store as MemoryStore).maxSessions).toBe(2);
      const app = createApp({ manager: rt.manager, authenticator: new OpenAuthenticator(), servedBy: 'lru' });
      const [first, second, third] = [new Client(httpApiSend(app)), new Client(httpApiSend(app)), new Client(httpApiSend(app))];
      expect((await first.post('/login', { user: 'first' })).status).toBe(200);
      expect((await second.post('/login', { user: 'second' })).status).toBe(200);
      expect((await third.post('/login', { user: 'third' })).status).toBe(200);
      expect((await first.get('/session')).status).toBe(401);
      expect((await first.post('/cart/items', { sku: 'a', qty: 1 })).status).toBe(401);
      expect((await third.get('/session')).json).toMatchObject({ user: 'third' });
      expect((await second.get('/session')).json).toMatchObject({ user: 'second' });
    } finally {
      await rt.close();
    }
  });

  it('SESSION_MEMORY_MAX_BYTES below SESSION_MAX_BYTES, or not a number, is an environment error naming the variable', () => {
    expect(() => parseSessionEnv(baseEnv({ SESSION_STORE: 'memory', SESSION_MEMORY_MAX_BYTES: '4096' }))).toThrow(/SESSION_MEMORY_MAX_BYTES \(4096\) must not be smaller than SESSION_MAX_BYTES \(8192\)/);
    expect(() => parseSessionEnv(baseEnv({ SESSION_STORE: 'memory', SESSION_MEMORY_MAX_SESSIONS: 'lots' }))).toThrow(/SESSION_MEMORY_MAX_SESSIONS must be a whole number/);
  });
});
