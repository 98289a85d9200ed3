/**
 * The one conformance suite every SessionStore passes, run against a real server by each
 * store's own test file (which starts and stops that server).
 */
import { SessionTooLargeError } from '../../lambda/session/errors';
import { SessionManager, type Session } from '../../lambda/session/manager';
import type { SessionData, SessionStore, StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';

export interface ConformanceTarget {
  /** A new store (its own client) for the running server; two stores act as two servers. */
  makeStore(): Promise<SessionStore>;
  /** false only where the server stand-in ignores compare-and-set (s3rver). @default true */
  readonly enforcesCompareAndSet?: boolean;
}

const SECRET = 'conformance-secret-conformance-secret!';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));

/** The write that follows `s` (next version, a new write token), with `over` applied: what compareAndSet(nextWrite(s), s) stores. */
export function nextWrite(s: StoredSession, over: Partial<StoredSession> = {}): StoredSession {
  return { ...s, version: s.version + 1, token: newWriteToken(), ...over };
}

/** Runs `total` tasks with at most `width` in flight; resolves with every task's outcome. */
export async function runWide<T>(total: number, width: number, task: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(total);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      results[i] = await task(i).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** One request's worth of work: read the session by id, then append `line` to its cart. */
async function appendLine(m: SessionManager, id: string, line: number): Promise<Session> {
  const s = await m.loadById(id);
  if (s === undefined) throw new Error(`session ${id} vanished`);
  return m.update(s, (d) => {
    (d.cart as number[]).push(line);
  });
}

/** The Cookie header a browser sends back for `s`. */
function cookieOf(m: SessionManager, s: Session): string {
  return m.setCookie(s).split(';')[0];
}

/** One request's worth of work through `modify`, as the app's cart route does it. */
async function appendLineByCookie(m: SessionManager, cookie: string, line: number | string): Promise<Session> {
  const s = await m.modify(cookie, (d) => {
    (d.cart as unknown[]).push(line);
  });
  if (s === undefined) throw new Error('session vanished');
  return s;
}

export function describeStoreConformance(name: string, target: () => ConformanceTarget): void {
  describe(`${name}: SessionStore conformance`, () => {
    const stores: SessionStore[] = [];
    // Read at definition time: tests a stand-in cannot support are not registered at all
    // (the store's own test file says what it asserts instead), rather than passing vacuously.
    const cas = target().enforcesCompareAndSet ?? true;
    const casIt = (title: string, fn: () => Promise<void>) => (cas ? it(title, fn) : undefined);
    const store = async () => {
      const s = await target().makeStore();
      stores.push(s);
      return s;
    };
    const manager = (s: SessionStore, idle = 60, absolute = 600) =>
      new SessionManager({ store: s, secrets: [SECRET], idleTimeoutSeconds: idle, absoluteTimeoutSeconds: absolute, maxSessionBytes: Number.MAX_SAFE_INTEGER });

    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    it('creates, reads back, updates with a new version, and deletes a session', async () => {
      const m = manager(await store());
      const s = await m.create({ user: 'ada', cart: [] });
      expect(s.version).toBe(1);
      expect(await m.loadById(s.id)).toMatchObject({ id: s.id, version: 1, data: { user: 'ada', cart: [] } });
      const u = await m.update(s, (d) => {
        (d.cart as unknown[]).push({ sku: 'A', qty: 1 });
      });
      expect(u.version).toBe(2);
      expect((await m.loadById(s.id))?.data).toEqual({ user: 'ada', cart: [{ sku: 'A', qty: 1 }] });
      await m.destroy(u);
      expect(await m.loadById(s.id)).toBeUndefined();
    });

    it('reads a session through a second store instance (another server)', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ user: 'grace' });
      expect((await b.loadById(s.id))?.data).toEqual({ user: 'grace' });
    });

    it('never writes an unchanged session (version stays, no compare-and-set issued)', async () => {
      const st = await store();
      const m = manager(st);
      const s = await m.create({ user: 'x', prefs: { a: '1' } });
      const cas0 = st.compareAndSet.bind(st);
      let casCalls = 0;
      st.compareAndSet = (...args) => {
        casCalls++;
        return cas0(...args);
      };
      try {
        const same = await m.update(s, (d) => {
          (d.prefs as Record<string, string>).a = '1';
        });
        expect(same.version).toBe(1);
        expect(casCalls).toBe(0);
      } finally {
        st.compareAndSet = cas0;
      }
      expect((await m.loadById(s.id))?.version).toBe(1);
    });

    casIt('create refuses an id that already exists', async () => {
      const st = await store();
      const m = manager(st);
      const s = await m.create({ n: 1 });
      expect(await st.create({ ...s, data: { n: 2 } })).toBe(false);
      expect((await m.loadById(s.id))?.data).toEqual({ n: 1 });
    });

    casIt('compare-and-set with a stale version or on a missing session changes nothing', async () => {
      const st = await store();
      const m = manager(st);
      const s = await m.create({ n: 1 });
      const v2 = await m.update(s, (d) => ({ ...d, n: 2 }));
      expect(await st.compareAndSet(nextWrite(s, { data: { n: 99 } }), s)).toBe(false);
      expect((await m.loadById(s.id))?.data).toEqual({ n: 2 });
      expect(await st.compareAndSet(nextWrite(v2, { id: 'missing-session-id-000000000' }), v2)).toBe(false);
      expect(await m.loadById('missing-session-id-000000000')).toBeUndefined();
    });

    // Each step waits until a moment measured from the session's own createdAt, so a slow create
    // or a late timer on a loaded machine shifts nothing; every check keeps >= 0.4 s of margin.
    it('idle timeout: a session unused for longer than the idle timeout is gone, and reading slides it', async () => {
      const m = manager(await store(), 2, 60);
      const idle = await m.create({ user: 'idle' });
      const used = await m.create({ user: 'used' });
      await sleepUntil(used.createdAt + 1200);
      expect(await m.loadById(used.id)).toBeDefined(); // slides `used` to >= createdAt + 3.2 s
      await sleepUntil(used.createdAt + 2400); // `idle` is >= 2.4 s old, `used` was read ~1.2 s ago
      expect(await m.loadById(idle.id)).toBeUndefined();
      expect((await m.loadById(used.id))?.data).toEqual({ user: 'used' });
    });

    it('absolute timeout: a session in constant use still ends at createdAt + absolute timeout', async () => {
      const m = manager(await store(), 2, 3);
      const s = await m.create({ user: 'busy' });
      await sleepUntil(s.createdAt + 1300);
      expect(await m.loadById(s.id)).toBeDefined(); // slides the idle expiry to the absolute deadline (3 s) …
      await sleepUntil(s.createdAt + 2300);
      expect(await m.loadById(s.id)).toBeDefined(); // … so it outlives its first idle deadline (2 s)
      await sleepUntil(s.createdAt + 3400);
      expect(await m.loadById(s.id)).toBeUndefined(); // … but not the absolute deadline (3 s)
    });

    it('regenerate (login) gives a new id carrying the data and deletes the old id', async () => {
      const m = manager(await store());
      const anon = await m.create({ cart: [{ sku: 'A', qty: 1 }] });
      const fresh = await m.regenerate(anon, (d) => ({ ...d, user: 'ada' }));
      expect(fresh.id).not.toBe(anon.id);
      expect(fresh.id.length).toBeGreaterThanOrEqual(22);
      expect((await m.loadById(fresh.id))?.data).toEqual({ cart: [{ sku: 'A', qty: 1 }], user: 'ada' });
      expect(await m.loadById(anon.id)).toBeUndefined();
    });

    it('a session over the store limit is refused with SessionTooLarge and the stored data stays intact', async () => {
      const st = await store();
      const m = manager(st);
      const s = await m.create({ user: 'big', blob: 'small' });
      const huge = 'x'.repeat(st.maxSessionBytes + 1);
      await expect(m.update(s, (d) => ({ ...d, blob: huge }))).rejects.toBeInstanceOf(SessionTooLargeError);
      await expect(st.compareAndSet(nextWrite(s, { data: { blob: huge } }), s)).rejects.toBeInstanceOf(SessionTooLargeError);
      const after = await m.loadById(s.id);
      expect(after?.data).toEqual({ user: 'big', blob: 'small' });
      expect(after?.version).toBe(1);
    });

    // modify writes from the version the manager wrote last when the store can compare-and-set-or-load
    // (Redis): with two servers taking turns, each one's last write is nearly always stale.
    casIt('modify: 200 cart appends 10 at a time through two servers taking turns, keep 200 of 200', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ cart: [] });
      const cookie = cookieOf(a, s);
      const results = await runWide(200, 10, (i) => appendLineByCookie(i % 2 === 0 ? a : b, cookie, i));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const stored = await b.loadById(s.id);
      expect([...(stored?.data.cart as number[])].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(stored?.version).toBe(201);
    });

    // Issue 14 item 4. A failover that loses an acknowledged write is played back through the
    // store's own API: the session is put back as it was before the write (delete, then create
    // the earlier copy), as a promoted replica that never got the write holds it. Then another
    // server writes the same version number with other data. test/runtime/redis-store.test.ts
    // plays the same story on a real replica promotion.
    for (const way of ['modify (from the copy it remembers, one round trip where the store can)', 'update (from the copy it holds: every store\'s compareAndSet)']) {
      casIt(`failover: a write lost by the store, then another server's write of the same version; the loser's next ${way} keeps that write`, async () => {
        const st = await store();
        const a = manager(st);
        const b = manager(await store());
        const v1 = await a.create({ cart: ['first'] });
        const cookie = cookieOf(a, v1);
        const lost = await appendLineByCookie(a, cookie, 'a-lost'); // acknowledged, and a remembers it
        expect(lost.version).toBe(2);
        await st.delete(v1.id); // the failover: the store holds v1 again
        expect(await st.create(v1)).toBe(true);
        const fromB = await appendLineByCookie(b, cookie, 'from-b');
        expect(fromB).toMatchObject({ version: 2, data: { cart: ['first', 'from-b'] } }); // acknowledged, with the version number of a's lost write
        const push = (d: SessionData) => {
          (d.cart as string[]).push('a-next');
        };
        const next = way.startsWith('modify') ? await a.modify(cookie, push) : await a.update(lost, push);
        expect(next).toMatchObject({ version: 3, data: { cart: ['first', 'from-b', 'a-next'] } });
        expect(await b.loadById(v1.id)).toMatchObject({ version: 3, data: { cart: ['first', 'from-b', 'a-next'] } });
      });
    }

    it('modify: a tampered cookie is no session; a session destroyed on another server is no session, and is not written back', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ cart: [] });
      const cookie = cookieOf(a, s);
      await appendLineByCookie(a, cookie, 1); // a wrote it last: a knows its version
      const [idPart, sig] = cookie.split('.');
      const tampered = `${idPart}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`; // the signature's first character changed
      expect(await a.modify(tampered, (d) => ({ ...d, cart: [3] }))).toBeUndefined();
      expect(await b.loadById(s.id)).toMatchObject({ version: 2, data: { cart: [1] } });
      await b.destroy(s.id);
      expect(await a.modify(cookie, (d) => ({ ...d, cart: [1, 2] }))).toBeUndefined();
      expect(await b.loadById(s.id)).toBeUndefined();
    });

    it('modify: an unchanged result is not written, and a change made elsewhere is the base of the next one', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ user: 'ada', cart: [] });
      const cookie = cookieOf(a, s);
      const same = await a.modify(cookie, (d) => ({ ...d }));
      expect(same).toMatchObject({ id: s.id, version: 1 });
      const loaded = await b.loadById(s.id);
      await b.update(loaded!, (d) => ({ ...d, cart: ['from-b'] })); // version 2, unknown to a
      const next = await a.modify(cookie, (d) => {
        (d.cart as string[]).push('from-a');
      });
      expect(next).toMatchObject({ version: 3, data: { user: 'ada', cart: ['from-b', 'from-a'] } });
      expect((await b.loadById(s.id))?.data).toEqual({ user: 'ada', cart: ['from-b', 'from-a'] });
    });

    it('modify: a function that refuses the data this server wrote is judged on the stored data, and its error stands when that refuses too', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ n: 0 });
      const cookie = cookieOf(a, s);
      await a.modify(cookie, () => ({ n: 5 })); // a remembers n = 5
      await b.update((await b.loadById(s.id))!, () => ({ n: 1 })); // stored: n = 1
      const capped = (d: Record<string, unknown>) => {
        if ((d.n as number) >= 5) throw new RangeError('n is at its cap');
        return { n: (d.n as number) + 1 };
      };
      expect(await a.modify(cookie, capped)).toMatchObject({ version: 4, data: { n: 2 } });
      await b.update((await b.loadById(s.id))!, () => ({ n: 5 }));
      await expect(a.modify(cookie, capped)).rejects.toThrow('n is at its cap');
      expect(await b.loadById(s.id)).toMatchObject({ version: 5, data: { n: 5 } });
    });

    for (const width of [2, 10]) {
      const title = `lost updates: 200 cart appends, ${width} at a time through two servers`;
      it(cas ? `${title}, keep 200 of 200` : title, async () => {
        const a = manager(await store());
        const b = manager(await store());
        const s = await a.create({ cart: [] });
        const results = await runWide(200, width, (i) => appendLine(i % 2 === 0 ? a : b, s.id, i));
        const failed = results.filter((r) => r.status === 'rejected');
        const cart = (await a.loadById(s.id))?.data.cart as number[];
        expect(new Set(cart).size).toBe(cart.length); // no line applied twice
        if (cas) {
          expect(failed).toEqual([]);
          expect([...cart].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
        } else {
          // Without conditional writes a concurrent read-modify-write can overwrite another's
          // change; this stand-in cannot show the guarantee, only that nothing crashed.
          expect(failed).toEqual([]);
          expect(cart.length).toBeLessThanOrEqual(200);
        }
      });
    }
  });
}

/** A store whose load reads without writing and slides the idle expiry at most once per half idle window. */
export interface SlidingReadTarget {
  /** A new store (its own client) for the running server; two stores act as two servers. */
  makeStore(): Promise<SessionStore>;
}

/**
 * The read path of a store that slides the idle expiry only when less than half the idle timeout
 * is left (DynamoDB, S3, Memcached): the idle and absolute timeouts hold exactly as the stored
 * expiry says, a write made through another server is read at once, and a compare-and-set from a
 * read that is no longer current fails however the reads slid in between. The managers run on a
 * clock the test moves (ms steps), so the bounds are exact instants, not sleeps.
 */
export function describeSlidingReadConformance(name: string, target: () => SlidingReadTarget): void {
  describe(`${name}: reads slide the idle expiry at most once per half idle window, timeouts exact`, () => {
    const stores: SessionStore[] = [];
    const store = async () => {
      const s = await target().makeStore();
      stores.push(s);
      return s;
    };
    const IDLE_S = 60;
    const ABSOLUTE_S = 300;
    // The test clock starts ahead of real time and only moves forward, so what a store checks
    // against its own Date.now() (a compare-and-set's "not expired") is never stricter than the test clock.
    let clock = Date.now() + 1000;
    const manager = (s: SessionStore) =>
      new SessionManager({ store: s, secrets: [SECRET], idleTimeoutSeconds: IDLE_S, absoluteTimeoutSeconds: ABSOLUTE_S, now: () => clock });

    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    it('a read in the first half of the idle window writes nothing: the stored expiry stays, and the session ends exactly there', async () => {
      const m = manager(await store());
      const s = await m.create({ user: 'ada' });
      clock = s.createdAt + (IDLE_S * 1000) / 2 - 1; // just over half the idle timeout left
      expect(await m.loadById(s.id)).toMatchObject({ version: 1, expiresAt: s.expiresAt });
      clock = s.expiresAt;
      expect(await m.loadById(s.id)).toBeUndefined(); // not a millisecond later than the stored expiry
    });

    it('a read with less than half the idle window left slides it to read time + idle timeout, seen by another server, and the session ends exactly there', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ user: 'ada' });
      const readAt = s.createdAt + (IDLE_S * 1000) / 2 + 1; // just under half left
      clock = readAt;
      expect((await a.loadById(s.id))?.expiresAt).toBe(readAt + IDLE_S * 1000);
      clock = readAt + (IDLE_S * 1000) / 2; // exactly half left: b reads without sliding
      expect(await b.loadById(s.id)).toMatchObject({ version: 1, data: { user: 'ada' }, expiresAt: readAt + IDLE_S * 1000 });
      clock = readAt + IDLE_S * 1000;
      expect(await b.loadById(s.id)).toBeUndefined();
    });

    it('absolute timeout: a session read every tenth of the idle timeout ends exactly at createdAt + absolute timeout', async () => {
      const m = manager(await store());
      const s = await m.create({ user: 'busy' });
      const deadline = s.createdAt + ABSOLUTE_S * 1000;
      for (clock = s.createdAt; clock < deadline; clock += (IDLE_S * 1000) / 10) expect(await m.loadById(s.id)).toBeDefined();
      clock = deadline - 1;
      expect((await m.loadById(s.id))?.expiresAt).toBeLessThanOrEqual(deadline);
      clock = deadline;
      expect(await m.loadById(s.id)).toBeUndefined();
    });

    it('a write made through another server is read at once, even by a server that read (and slid) the older write', async () => {
      const a = manager(await store());
      const b = manager(await store());
      const s = await a.create({ cart: [] });
      clock = s.createdAt + (IDLE_S * 1000) / 2 + 1;
      expect(await b.loadById(s.id)).toMatchObject({ version: 1 }); // b slides v1
      const v2 = await a.update((await a.loadById(s.id))!, (d) => ({ ...d, cart: ['from-a'] }));
      expect(await b.loadById(s.id)).toMatchObject({ version: 2, token: v2.token, data: { cart: ['from-a'] } });
    });

    it('compare-and-set from a read that is no longer current fails, a slide in between changes nothing of that, and the retry keeps both changes', async () => {
      const st = await store();
      const a = manager(st);
      const b = manager(await store());
      const s = await a.create({ cart: [] });
      const readByA = (await a.loadById(s.id))!;
      await b.update((await b.loadById(s.id))!, (d) => ({ ...d, cart: ['from-b'] }));
      clock += (IDLE_S * 1000) / 2 + 1;
      await b.loadById(s.id); // slides b's write; version and token stay
      expect(await st.compareAndSet(nextWrite(readByA, { data: { cart: ['stale'] } }), readByA)).toBe(false);
      const done = await a.update(readByA, (d) => {
        (d.cart as string[]).push('from-a');
      });
      expect(done).toMatchObject({ version: 3, data: { cart: ['from-b', 'from-a'] } });
      expect(await b.loadById(s.id)).toMatchObject({ version: 3, data: { cart: ['from-b', 'from-a'] } });
    });
  });
}
