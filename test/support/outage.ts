/**
 * What the store tests share for a real server that is down, hung or back: a retry until the
 * store has reconnected, every session operation failing with StoreUnavailableError within the
 * store's bound, the outage tests themselves, and the check that no promise rejection was left
 * unhandled. The elapsed-time checks are a correctness bound (the store's timeout plus
 * scheduling slack), not a benchmark.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { StoreUnavailableError } from '../../lambda/session/errors';
import { SessionManager } from '../../lambda/session/manager';
import type { SessionStore, StoredSession } from '../../lambda/session/types';
import { newWriteToken } from '../../lambda/session/write-token';
import { freePort } from './ports';
import type { ServerProcess } from './server-process';

/** Retries `fn` until it resolves or `ms` pass (the store reconnects on its next command or in the background). */
export async function eventually<T>(fn: () => Promise<T>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Slack on top of a store's timeout before a failing call counts as unbounded. Generous on
 * purpose: CI runs on 2 shared cores with other suites beside, where a timer can fire a few
 * hundred ms late; what the checks catch is a call that hangs for the client's own defaults
 * (seconds to forever), not a late timer.
 */
export const SCHEDULING_SLACK_MS = 1000;

/** How long a call may take to fail: the store's timeout, plus slack for scheduling. */
export interface Bound {
  readonly boundMs: number;
  readonly slackMs: number;
}

/** Named calls, each expected to fail with StoreUnavailableError. */
export type StoreCalls = Record<string, () => Promise<unknown>>;

/**
 * Every session operation, through the manager where it has one (load, create) and on the store
 * otherwise. A frozen server runs the queued commands when it wakes up: they aim at an id no test uses.
 */
export function everySessionCall(store: SessionStore, m: SessionManager): StoreCalls {
  const id = 'no-such-session-0000000000000000';
  return {
    load: () => m.loadById(id),
    create: () => m.create({ n: 1 }),
    compareAndSet: () => store.compareAndSet({ id, data: { n: 2 }, version: 2, token: newWriteToken(), createdAt: Date.now(), expiresAt: Date.now() + 60000 }, { version: 1, token: newWriteToken() }),
    delete: () => store.delete(id),
    ping: () => store.ping(),
  };
}

/** Each call fails with StoreUnavailableError, and within the bound; a failure names the call. */
export async function expectAllUnavailableWithinBound(calls: StoreCalls, bound: Bound): Promise<void> {
  for (const [name, call] of Object.entries(calls)) {
    const t0 = performance.now();
    const outcome = await call().then(
      () => `${name} succeeded`,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - t0;
    expect({ name, outcome }).toEqual({ name, outcome: expect.any(StoreUnavailableError) });
    expect({ name, withinBound: elapsed <= bound.boundMs + bound.slackMs }).toEqual({ name, withinBound: true });
  }
}

/** A server a test takes down and brings back on the same port. */
export interface Restartable {
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** A server and a way to make a new store on it with the bound; read when the test runs (after beforeAll). */
export interface LateStoreTarget {
  readonly server: Restartable;
  /** A new store on the same server with the same bound; the test closes it. */
  lateStore(): SessionStore;
}

/** What the outage tests of a store on a server process act on; read when a test runs (after beforeAll). */
export interface OutageTarget extends LateStoreTarget {
  readonly server: ServerProcess;
  /** The store the tests share (its timeout is the bound), and a manager on it. */
  readonly store: SessionStore;
  readonly m: SessionManager;
}

/**
 * The test that a store made while its server is stopped fails within the bound, and reaches the
 * server once it is back (the server is restarted even when the first check fails).
 */
export function itConnectsAStoreCreatedWhileDown(target: () => LateStoreTarget, bound: Bound, reconnectMs?: number): void {
  it('a store created while the server is down fails within the bound and connects once the server is up', async () => {
    const { server, lateStore } = target();
    await server.stop();
    const late = lateStore();
    try {
      try {
        await expectAllUnavailableWithinBound({ ping: () => late.ping() }, bound);
      } finally {
        await server.restart();
      }
      await eventually(() => late.ping(), reconnectMs);
    } finally {
      await late.close();
    }
  });
}

/**
 * The outage tests for a store on a server that keeps nothing across a restart (redis-server
 * without persistence, memcached): killed, hung (SIGSTOP), and a store created while it is down.
 */
export function itSurvivesProcessOutages(target: () => OutageTarget, bound: Bound): void {
  it('server killed: every call fails with StoreUnavailableError within the bound; the same store works after a restart', async () => {
    const { server, store, m } = target();
    const before = await m.create({ user: 'ada' });
    await server.kill();
    await expectAllUnavailableWithinBound(everySessionCall(store, m), bound);
    await server.restart();
    await eventually(() => store.ping());
    // No persistence on the test server: the old session is gone, new ones work on the same store.
    expect(await m.loadById(before.id)).toBeUndefined();
    const after = await m.create({ user: 'grace' });
    expect((await m.loadById(after.id))?.data).toEqual({ user: 'grace' });
  });

  it('server hung (SIGSTOP, connection open, no replies): every call fails within the bound; works again after SIGCONT', async () => {
    const { server, store, m } = target();
    const s = await m.create({ n: 0 });
    await server.pause();
    try {
      await expectAllUnavailableWithinBound(everySessionCall(store, m), bound);
    } finally {
      server.resume();
    }
    const loaded = await eventually(() => m.loadById(s.id));
    expect(loaded).toMatchObject({ version: 1, data: { n: 0 } });
    await m.update(loaded!, (d) => ({ ...d, n: 1 }));
    expect(await m.loadById(s.id)).toMatchObject({ version: 2, data: { n: 1 } });
  });

  itConnectsAStoreCreatedWhileDown(target, bound);
}

/**
 * The last test of a file whose tests take servers down. Jest 30 itself fails the test that left
 * a promise rejection unhandled (a listener of the test's own never sees one: jest owns the
 * process's 'unhandledRejection'), but only while the file still runs: a rejection that comes
 * after the file's last test is printed and the file passes. This test keeps the file running
 * for `settleMs`, long enough for work the outage tests left behind (timed-out requests,
 * reconnects) to settle, so a late rejection fails the file instead of going by.
 */
export function itLeavesNoUnhandledRejection(settleMs = 1000): void {
  it('no unhandled promise rejection happened in this file (one fails the test that left it; this test waits for late ones)', async () => {
    await new Promise((r) => setTimeout(r, settleMs));
  });
}

/** A TCP endpoint on 127.0.0.1 that accepts connections and never answers: a hung service. */
export interface Blackhole {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Drops the connections it holds and stops listening. */
  close(): Promise<void>;
}

export async function startBlackhole(): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** What the endpoint outage tests of an AWS SDK store (DynamoDB, S3) act on. */
export interface EndpointStoreTarget {
  /** How the store's errors start: `<errorPrefix> <operation> failed: …` (the store's kind). */
  readonly errorPrefix: string;
  /** The stand-in's name (dynalite, s3rver). */
  readonly serverName: string;
  /** The running stand-in, stopped and restarted by the last test. */
  server(): Restartable;
  /** A new store on the stand-in, or on `endpoint` when given, with the test's timeout. */
  makeStore(opts: { endpoint?: string; timeoutMs: number }): SessionStore;
  /** A cookie secret for the manager. */
  readonly secret: string;
}

/**
 * `when the store is down` for a store that talks HTTP to an endpoint: a closed port, an
 * endpoint that accepts connections and never answers, and the stand-in stopped and restarted.
 */
export function describeEndpointStoreDown(t: EndpointStoreTarget): void {
  const LOAD = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 600 };
  const session = (id: string): StoredSession => {
    const now = Date.now();
    return { id, data: {}, version: 1, token: newWriteToken(), createdAt: now, expiresAt: now + 60_000 };
  };
  const ops = (store: SessionStore, s: StoredSession) => ({
    load: () => store.load(s.id, { now: Date.now(), ...LOAD }),
    create: () => store.create(s),
    compareAndSet: () => store.compareAndSet({ ...s, version: 2, token: newWriteToken() }, s),
    delete: () => store.delete(s.id),
    ping: () => store.ping(),
  });

  describe('when the store is down', () => {
    it('an endpoint on a closed port gives StoreUnavailableError for every operation', async () => {
      const store = t.makeStore({ endpoint: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1000 });
      for (const op of Object.values(ops(store, session('closed-port-000000000000000')))) {
        const err = await op().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect((err as Error).message).toMatch(new RegExp(`^${t.errorPrefix} \\w+ failed: .*ECONNREFUSED`));
      }
    });

    it('an endpoint that accepts connections but never answers gives StoreUnavailableError at the bound instead of hanging', async () => {
      const blackhole = await startBlackhole();
      try {
        const store = t.makeStore({ endpoint: blackhole.endpoint, timeoutMs: 300 });
        for (const op of Object.values(ops(store, session('blackhole-0000000000000000')))) {
          await expect(op()).rejects.toBeInstanceOf(StoreUnavailableError);
        }
      } finally {
        await blackhole.close();
      }
    }, 10_000); // every call bounded at 300 ms; without the bound the SDK would wait forever

    it(`${t.serverName} stopped → StoreUnavailableError; restarted on the same port → the same store and manager work again, data intact`, async () => {
      const server = t.server();
      const store = t.makeStore({ timeoutMs: 1000 });
      const m = new SessionManager({ store, secrets: [t.secret] });
      const s = await m.create({ user: 'ada' });
      await server.stop();
      try {
        await expect(m.loadById(s.id)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(m.update(s, (d) => ({ ...d, user: 'lost' }))).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await server.restart();
      }
      await store.ping();
      expect((await m.loadById(s.id))?.data).toEqual({ user: 'ada' });
      const u = await m.update(s, (d) => ({ ...d, user: 'grace' }));
      expect(u.version).toBe(2);
      expect((await m.loadById(s.id))?.data).toEqual({ user: 'grace' });
    });

    itLeavesNoUnhandledRejection();
  });
}
