/**
 * The Redis commands each session operation issues, read from INFO commandstats of the test's
 * own redis-server (CONFIG RESETSTAT before each operation): what design.md promises.
 * commandstats also counts the commands a Lua script calls, so a compare-and-set shows as
 * EVALSHA (the one round trip) plus the GET and SET it runs inside Redis.
 */
import { Redis } from 'ioredis';
import { SessionTooLargeError } from '../../lambda/session/errors';
import { SessionManager, type Session } from '../../lambda/session/manager';
import { RedisStore } from '../../lambda/session/stores/redis';
import { nextWrite } from '../support/conformance';
import { RedisServer } from '../support/redis-server';

/** Calls per command since the last reset, without the admin client's own INFO and CONFIG (Redis 7 names subcommands `config|resetstat`). */
async function commandCounts(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const counts: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(info|config)(\||$)/.test(m[1])) counts[m[1]] = Number(m[2]);
  }
  return counts;
}

describe('redis store: commands per operation (INFO commandstats on its own server)', () => {
  let server: RedisServer;
  let admin: Redis;
  let store: RedisStore;
  let m: SessionManager;
  const cookie = (s: { id: string; createdAt: number }) => m.setCookie({ ...s, data: {}, version: 1, token: '', expiresAt: 0 }).split(';')[0];
  const counted = async (op: () => Promise<unknown>): Promise<Record<string, number>> => {
    await admin.config('RESETSTAT');
    await op();
    return commandCounts(admin);
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    admin = new Redis({ port: server.port, host: '127.0.0.1' });
    store = new RedisStore({ url: server.url(), maxSessionBytes: 1024 });
    m = new SessionManager({ store, secrets: ['commands-test-secret-0123456789abcdef'], secure: false });
    // Warm up: the first compare-and-set loads the script (EVALSHA → NOSCRIPT → EVAL) once per server.
    const warm = await m.create({});
    await m.update(warm, (d) => ({ ...d, warm: true }));
    await m.modify(cookie(warm), (d) => ({ ...d, warm: 'again' }));
  });
  afterAll(async () => {
    await store?.close();
    admin?.disconnect();
    await server?.dispose();
  });

  it('create is one SET … PXAT … NX', async () => {
    expect(await counted(() => m.create({ user: 'ada' }))).toEqual({ set: 1 });
  });

  it('a read is one GETEX (which also slides the idle expiry)', async () => {
    const s = await m.create({ user: 'ada' });
    expect(await counted(() => m.loadById(s.id))).toEqual({ getex: 1 });
    const ttl = await admin.pttl(store.keyOf(s.id));
    expect(ttl).toBeGreaterThan(m.idleTimeoutSeconds * 1000 - 5000);
    expect(ttl).toBeLessThanOrEqual(m.idleTimeoutSeconds * 1000);
  });

  it('a modify is one EVALSHA round trip (running GET + SET inside Redis) after the read', async () => {
    const s = await m.create({ cart: [] });
    const loaded = (await m.loadById(s.id))!;
    expect(await counted(() => m.update(loaded, (d) => ({ ...d, cart: ['A'] })))).toEqual({ evalsha: 1, get: 1, set: 1 });
  });

  it('an unchanged session (update with a no-op function) issues no command at all', async () => {
    const s = await m.create({ prefs: { theme: 'dark' } });
    expect(await counted(() => m.update(s, (d) => d))).toEqual({});
    expect(await counted(() => m.update(s, () => ({ prefs: { theme: 'dark' } })))).toEqual({});
  });

  it('a session over maxSessionBytes is refused before any command is sent', async () => {
    const s = await m.create({ blob: '' });
    const big = nextWrite(s, { data: { blob: 'x'.repeat(2000) } });
    let outcome: unknown;
    expect(await counted(() => store.compareAndSet(big, s).catch((e: unknown) => (outcome = e)))).toEqual({});
    expect(outcome).toBeInstanceOf(SessionTooLargeError);
    await expect(store.create({ ...big, id: 'another-session-id-0000000' })).rejects.toBeInstanceOf(SessionTooLargeError);
  });

  it('logout is one UNLINK', async () => {
    const s = await m.create({ user: 'ada' });
    expect(await counted(() => m.destroy(s))).toEqual({ unlink: 1 });
    expect(await admin.exists(store.keyOf(s.id))).toBe(0);
  });

  it('a modify (the cart route) of a session this server wrote last is one EVALSHA, with no read before it', async () => {
    const s = await m.create({ cart: [] });
    expect(await counted(() => m.modify(cookie(s), (d) => ({ ...d, cart: ['A'] })))).toEqual({ evalsha: 1, get: 1, set: 1 });
    expect(await counted(() => m.modify(cookie(s), (d) => ({ ...d, cart: ['A', 'B'] })))).toEqual({ evalsha: 1, get: 1, set: 1 });
    expect((await m.loadById(s.id))?.data).toEqual({ cart: ['A', 'B'] });
  });

  it('a modify after another server wrote the session: the EVALSHA answers with it (and slides it), then one more EVALSHA writes', async () => {
    const other = new SessionManager({ store, secrets: ['commands-test-secret-0123456789abcdef'], secure: false });
    const s = await m.create({ cart: [] });
    await other.update((await other.loadById(s.id))!, (d) => ({ ...d, cart: ['other'] }));
    expect(await counted(() => m.modify(cookie(s), (d) => ({ ...d, cart: [...(d.cart as string[]), 'mine'] })))).toEqual({ evalsha: 2, get: 2, pexpire: 1, set: 1 });
    expect((await m.loadById(s.id))?.data).toEqual({ cart: ['other', 'mine'] });
  });

  it('a modify of a session this server has not written is a GETEX and an EVALSHA, as before', async () => {
    const other = new SessionManager({ store, secrets: ['commands-test-secret-0123456789abcdef'], secure: false });
    const s = await other.create({ cart: [] });
    expect(await counted(() => m.modify(cookie(s), (d) => ({ ...d, cart: ['A'] })))).toEqual({ getex: 1, evalsha: 1, get: 1, set: 1 });
  });

  it('past writtenCacheChars the sessions written longest ago are read first again', async () => {
    const small = new SessionManager({ store, secrets: ['commands-test-secret-0123456789abcdef'], secure: false, writtenCacheChars: 19 * (20 + 128) });
    const sessions: Session[] = [];
    for (let i = 0; i < 30; i++) sessions.push(await small.create({ n: `session-${String(i).padStart(4, '0')}` })); // {"n":"session-0000"}: 20 characters
    const cookieOf = (s: Session) => small.setCookie(s).split(';')[0];
    const shout = (d: Record<string, unknown>) => ({ n: String(d.n).toUpperCase() }); // the same 20 characters
    // Each session costs its 20 characters of data + 128: the budget holds 19, so the 11 written first were forgotten.
    expect(await counted(() => small.modify(cookieOf(sessions[29]), shout))).toEqual({ evalsha: 1, get: 1, set: 1 });
    expect(await counted(() => small.modify(cookieOf(sessions[11]), shout))).toEqual({ evalsha: 1, get: 1, set: 1 });
    expect(await counted(() => small.modify(cookieOf(sessions[10]), shout))).toEqual({ getex: 1, evalsha: 1, get: 1, set: 1 });
    expect((await small.loadById(sessions[10].id))?.data).toEqual({ n: 'SESSION-0010' });
  });
});
