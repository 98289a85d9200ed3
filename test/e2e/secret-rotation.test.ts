/**
 * A cookie secret rotation during a rolling deploy logs no one out.
 *
 * Two instance servers (child processes) share one redis-server behind haproxy round robin (no
 * stickiness, so every user's requests alternate between them). Their cookie secrets come from
 * one file (SESSION_COOKIE_SECRET_FILE), standing in for the Secrets Manager secret that both
 * would read in AWS: Secrets Manager itself is not emulated (there is no local emulator); the
 * runtime reads the file through the same reloader it uses for the secret's ARN.
 *
 * 1. Instance B starts with the file holding [old]; users log in and shop.
 * 2. The rotation: the file becomes [new, old] (B keeps [old] in memory: its periodic reload is
 *    minutes away), then instance A starts (reads [new, old], signs with new) and is registered.
 * 3. Traffic goes on, with new users logging in: A's cookies, signed with the new secret, reach B,
 *    which must learn the new secret from its source instead of clearing them.
 *
 * Every request must answer 200, no response may clear the session cookie, and every
 * acknowledged cart line must be in the user's cart at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifySignedSessionId } from '../../lambda/session/cookies';
import { baseEnv } from '../support/app-backends';
import { Client, httpSend, type Reply } from '../support/app-client';
import { removeInstanceBundle, startInstance, type InstanceProcess } from '../support/app-instance';
import { Haproxy } from '../support/haproxy';
import { RedisServer } from '../support/redis-server';

const OLD = 'rotation-old-secret-0123456789abcdef-old';
const NEW = 'rotation-new-secret-0123456789abcdef-new';

/** One simulated browser and what it was promised. */
interface User {
  readonly name: string;
  readonly client: Client;
  readonly agent: Agent;
  readonly acked: string[];
  loggedIn: boolean;
  seq: number;
}

/** Every answer the users got: status, whether it cleared the cookie, and for reads who served it with which secret's cookie. */
interface Seen {
  readonly what: string;
  readonly status: number;
  readonly cleared: boolean;
  readonly servedBy?: string;
  readonly signedWith?: 'new' | 'old';
}

afterAll(() => removeInstanceBundle());

test('cookie secret rotation under traffic (B on [old] learns a prepended secret from its source, A signs with it): every request 200, no cookie cleared, no cart line lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-rotation-'));
  const secretFile = join(dir, 'cookie-secret');
  writeFileSync(secretFile, OLD);
  const redis = await RedisServer.start();
  const instances: InstanceProcess[] = [];
  let lb: Haproxy | undefined;
  const users: User[] = [];
  const seen: Seen[] = [];
  try {
    const env = (name: string) => {
      const e = baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url(), SESSION_COOKIE_SECRET_FILE: secretFile, SESSION_SERVED_BY: name });
      delete e.SESSION_COOKIE_SECRET; // the file is the only source
      return e;
    };
    const b = await startInstance(env('B'));
    instances.push(b);
    lb = await Haproxy.start({ backends: [b.port], slots: 2, stickiness: { kind: 'none' } });
    const port = lb.port;

    const signedWith = (u: User): 'new' | 'old' | undefined => {
      const v = u.client.jar.get('sid');
      if (verifySignedSessionId(v, [NEW]) !== undefined) return 'new';
      if (verifySignedSessionId(v, [OLD]) !== undefined) return 'old';
      return undefined;
    };
    const note = (u: User, what: string, r: Reply, secret: 'new' | 'old' | undefined) =>
      seen.push({ what: `${u.name} ${what}`, status: r.status, cleared: r.setCookies.some((c) => /^sid=;/.test(c) || /max-age=0/i.test(c)), servedBy: r.json?.servedBy, signedWith: secret });
    const newUser = (): User => {
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      const u: User = { name: `r${users.length + 1}`, client: new Client(httpSend(port, agent)), agent, acked: [], loggedIn: false, seq: 0 };
      users.push(u);
      return u;
    };
    /** One step of a user: log in, or add a line, or read the cart back. */
    const step = async (u: User): Promise<void> => {
      if (!u.loggedIn) {
        const r = await u.client.post('/login', { user: u.name });
        note(u, 'login', r, undefined);
        u.loggedIn = r.status === 200;
        return;
      }
      const secret = signedWith(u);
      if (u.seq % 2 === 0) {
        const sku = `${u.name}-${++u.seq}`;
        const r = await u.client.post('/cart/items', { sku, qty: 1 });
        note(u, `add ${sku}`, r, secret);
        if (r.status === 200) u.acked.push(sku);
        if (r.status === 401) u.loggedIn = false; // logged out: a browser's user logs in again
      } else {
        u.seq++;
        const r = await u.client.get('/session', {});
        note(u, 'read', r, secret);
        if (r.status === 401) u.loggedIn = false;
      }
    };
    const stop = { now: false };
    const loop = async (u: User) => {
      while (!stop.now) {
        await step(u);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    // 1. B alone, on [old].
    const early = Array.from({ length: 6 }, newUser);
    const running = early.map(loop);
    await new Promise((r) => setTimeout(r, 500));

    // 2. The rotation: the source first, then the new instance, under traffic.
    writeFileSync(secretFile, `${NEW},${OLD}`);
    const a = await startInstance(env('A'));
    instances.push(a);
    await lb.setServer(1, a.port);
    await lb.waitUntil((s) => s.get('s2') === 'UP', 10_000);

    // 3. Traffic over both, new users logging in; until B has served requests carrying A's new cookies.
    const late = Array.from({ length: 6 }, newUser);
    running.push(...late.map(loop));
    const servedNewOnB = () => seen.filter((s) => s.servedBy === 'B' && s.signedWith === 'new').length;
    for (const deadline = Date.now() + 20_000; servedNewOnB() < 10 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    stop.now = true;
    await Promise.all(running);

    // Every answer 200 and none cleared the cookie: no one was logged out, nothing failed.
    expect(seen.filter((s) => s.status !== 200 || s.cleared)).toEqual([]);
    // The rotation really happened under traffic: each instance served cookies signed by the other's secret.
    expect(servedNewOnB()).toBeGreaterThanOrEqual(10);
    expect(seen.filter((s) => s.servedBy === 'A' && s.signedWith === 'old').length).toBeGreaterThan(0);
    // Every user ends with every line it was told was added.
    for (const u of users) {
      const r = await u.client.get('/session');
      expect({ user: u.name, status: r.status }).toEqual({ user: u.name, status: 200 });
      expect((r.json.cart as Array<{ sku: string }>).map((l) => l.sku)).toEqual(u.acked);
    }
    expect(instances.every((i) => i.proc.exitCode === null)).toBe(true);
  } finally {
    for (const u of users) u.agent.destroy();
    await lb?.stop();
    await Promise.all(instances.map((i) => i.dispose()));
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
