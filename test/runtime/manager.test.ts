import { ConflictError, SessionGoneError, SessionTooLargeError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import { MemoryStore } from '../../lambda/session/stores/memory';

const secrets = ['m'.repeat(32)];

describe('SessionManager', () => {
  it('gives up with ConflictError once its compare-and-set attempts are used up, leaving the winner intact', async () => {
    const m = new SessionManager({ store: new MemoryStore(), secrets, maxAttempts: 1 });
    const s = await m.create({ n: 0 });
    const [a, b] = await Promise.allSettled([m.update(s, (d) => ({ ...d, n: 1 })), m.update(s, (d) => ({ ...d, n: 2 }))]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(ConflictError);
    expect((await m.loadById(s.id))?.data).toEqual({ n: 1 });
  });

  it('re-applies the update function to fresh data after a conflict instead of overwriting it', async () => {
    const m = new SessionManager({ store: new MemoryStore(), secrets });
    const s = await m.create({ cart: [] as string[] });
    await m.update(s, (d) => void (d.cart as string[]).push('first'));
    const calls: unknown[] = [];
    const u = await m.update(s, (d) => {
      calls.push(structuredClone(d));
      (d.cart as string[]).push('second');
    });
    expect(calls).toEqual([{ cart: [] }, { cart: ['first'] }]); // stale copy, then the re-read one
    expect(u.data).toEqual({ cart: ['first', 'second'] });
    expect(u.version).toBe(3);
  });

  it('reports SessionGone when the session is deleted while an update is retrying', async () => {
    const m = new SessionManager({ store: new MemoryStore(), secrets });
    const s = await m.create({ n: 0 });
    await m.update(s, (d) => ({ ...d, n: 1 }));
    await m.destroy(s);
    await expect(m.update(s, (d) => ({ ...d, n: 2 }))).rejects.toBeInstanceOf(SessionGoneError);
  });

  it("applies the app's own size limit below the store's, before any write", async () => {
    const store = new MemoryStore();
    const m = new SessionManager({ store, secrets, maxSessionBytes: 100 });
    await expect(m.create({ blob: 'x'.repeat(200) })).rejects.toBeInstanceOf(SessionTooLargeError);
    expect(store.size).toBe(0);
  });

  it('refuses short or missing cookie secrets and an absolute timeout below the idle timeout', () => {
    const store = new MemoryStore();
    expect(() => new SessionManager({ store, secrets: [] })).toThrow(/at least one cookie secret/);
    expect(() => new SessionManager({ store, secrets: ['short'] })).toThrow(/at least 32 bytes/);
    expect(() => new SessionManager({ store, secrets, idleTimeoutSeconds: 100, absoluteTimeoutSeconds: 10 })).toThrow(/absoluteTimeoutSeconds/);
  });

  it('uses a plain cookie name only when not secure (local HTTP runs)', () => {
    expect(new SessionManager({ store: new MemoryStore(), secrets, secure: false }).cookieName).toBe('sid');
    expect(new SessionManager({ store: new MemoryStore(), secrets }).cookieName).toBe('__Host-sid');
  });

  describe('cookie verification, with verified values remembered', () => {
    const cookieOf = (setCookie: string) => setCookie.split(';')[0];

    it('a remembered cookie stops verifying as soon as its secret is rotated out', async () => {
      const m = new SessionManager({ store: new MemoryStore(), secrets, secure: false });
      const s = await m.create({ user: 'ada' });
      const cookie = cookieOf(m.setCookie(s));
      expect(m.idFromCookies(cookie)).toBe(s.id);
      expect(m.idFromCookies(cookie)).toBe(s.id); // the second time from memory
      m.setSecrets(['n'.repeat(32), secrets[0]]); // new secret first: old cookies still verify
      expect(m.idFromCookies(cookie)).toBe(s.id);
      m.setSecrets(['n'.repeat(32)]); // old secret retired
      expect(m.idFromCookies(cookie)).toBeUndefined();
      expect(await m.load(cookie)).toBeUndefined();
    });

    it('a tampered value never verifies, whatever was verified before', async () => {
      const m = new SessionManager({ store: new MemoryStore(), secrets, secure: false });
      const s = await m.create({ user: 'ada' });
      const cookie = cookieOf(m.setCookie(s));
      expect(m.idFromCookies(cookie)).toBe(s.id);
      const other = await m.create({ user: 'eve' });
      const sig = cookie.slice(cookie.lastIndexOf('.'));
      expect(m.idFromCookies(`sid=${other.id}${sig}`)).toBeUndefined(); // ada's signature on eve's id
      const flipped = cookie.slice(0, -2) + (cookie.at(-2) === 'A' ? 'B' : 'A') + cookie.at(-1);
      expect(m.idFromCookies(flipped)).toBeUndefined();
      expect(m.idFromCookies(cookie)).toBe(s.id);
    });

    it('stays correct past the number of values it remembers', async () => {
      const m = new SessionManager({ store: new MemoryStore(), secrets, secure: false });
      const sessions = await Promise.all(Array.from({ length: 10_050 }, () => m.create({})));
      const cookies = sessions.map((x) => cookieOf(m.setCookie(x)));
      for (const [i, c] of cookies.entries()) expect(m.idFromCookies(c)).toBe(sessions[i].id);
      // The first ones were forgotten to make room: they verify again, by their signature.
      expect(m.idFromCookies(cookies[0])).toBe(sessions[0].id);
      expect(m.idFromCookies(`${cookies[0].slice(0, -1)}x`)).toBeUndefined();
    });
  });
});
