/**
 * Redis work per request kind — create, read, modify — for
 *  (a) this project's SessionManager + RedisStore, called as the app's routes call it (a modify
 *      is `modify(cookie, fn)`, as POST /cart/items does), and
 *  (b) express + express-session + connect-redis (v9, node-redis client) over real HTTP,
 * both on the same redis-server that this script starts on a free port.
 *
 * Two honest counts per request:
 *  - round trips: commands clients sent, seen through MONITOR (commands a Lua script runs
 *    inside Redis are tagged `lua` there and not counted);
 *  - commandstats: INFO commandstats calls (CONFIG RESETSTAT between phases), which also
 *    counts the commands run inside a script — so one EVALSHA that runs GET+SET counts 3.
 *
 * Run: npx ts-node --transpile-only bench/redis-commands.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type { Server } from 'node:http';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { SessionManager, type Session } from '../lambda/session/manager';
import { RedisStore } from '../lambda/session/stores/redis';
import { RedisServer } from '../test/support/redis-server';

const REQUESTS = 200;
const KINDS = ['create', 'read', 'modify', 'modify-elsewhere'] as const;
type Kind = (typeof KINDS)[number];

/** Per-request counts for one request kind. */
export interface Counts {
  readonly roundTrips: number;
  readonly commandstats: number;
  /** commandstats by command, per request. */
  readonly byCommand: Readonly<Record<string, number>>;
}
export type Results = Record<'ours' | 'expressSession', Record<Kind, Counts>>;

const isAdmin = (cmd: string) => /^(info|config|monitor)(\||$)/i.test(cmd);

/** Counts what `phase` makes Redis do, divided by `requests`. */
class Counter {
  private clientCommands = 0;
  constructor(
    private readonly admin: Redis,
    monitor: ChildProcess,
  ) {
    // `redis-cli monitor` prints one line per command: <time> [<db> <client addr | lua>] "CMD" …
    createInterface({ input: monitor.stdout! }).on('line', (line) => {
      const m = /^\d+\.\d+ \[\d+ (\S+)\] "([^"]+)"/.exec(line);
      if (m && m[1] !== 'lua' && !isAdmin(m[2])) this.clientCommands++;
    });
  }

  async measure(requests: number, phase: () => Promise<void>): Promise<Counts> {
    await this.settle();
    await this.admin.config('RESETSTAT');
    this.clientCommands = 0;
    await phase();
    await this.settle();
    const info = await this.admin.info('commandstats');
    const byCommand: Record<string, number> = {};
    let total = 0;
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (isAdmin(m[1])) continue;
      byCommand[m[1]] = Number(m[2]) / requests;
      total += Number(m[2]);
    }
    return { roundTrips: this.clientCommands / requests, commandstats: total / requests, byCommand };
  }

  /** MONITOR lines arrive through another process; give them time to arrive. */
  private async settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measureOurs(url: string, counter: Counter): Promise<Record<Kind, Counts>> {
  const store = new RedisStore({ url });
  const m = new SessionManager({ store, secrets: ['bench-secret-0123456789abcdef0123456789'], secure: false });
  const other = new SessionManager({ store, secrets: ['bench-secret-0123456789abcdef0123456789'], secure: false });
  try {
    // Load the Lua script once (EVALSHA → NOSCRIPT → EVAL happens once per server, not per request).
    const warm = await m.create({});
    await m.update(warm, (d) => ({ ...d, warm: true }));
    await m.modify(m.setCookie(warm).split(';')[0], (d) => ({ ...d, warm: 'again' }));
    const sessions: Session[] = [];
    const create = await counter.measure(REQUESTS, async () => {
      for (let i = 0; i < REQUESTS; i++) sessions.push(await m.create({ user: `u${i}`, cart: [] }));
    });
    const read = await counter.measure(REQUESTS, async () => {
      for (const x of sessions) if ((await m.loadById(x.id)) === undefined) throw new Error('session vanished');
    });
    const cookies = sessions.map((x) => m.setCookie(x).split(';')[0]);
    const append = (d: Record<string, unknown>) => {
      (d.cart as string[]).push('sku-1');
    };
    const modify = await counter.measure(REQUESTS, async () => {
      for (const c of cookies) if ((await m.modify(c, append)) === undefined) throw new Error('session vanished');
    });
    // Another instance wrote each session last (no stickiness): what this manager remembers is stale.
    for (const x of sessions) await other.update((await other.loadById(x.id))!, append);
    const modifyElsewhere = await counter.measure(REQUESTS, async () => {
      for (const c of cookies) if ((await m.modify(c, append)) === undefined) throw new Error('session vanished');
    });
    return { create, read, modify, 'modify-elsewhere': modifyElsewhere };
  } finally {
    await store.close();
  }
}

async function measureExpressSession(url: string, counter: Counter): Promise<Record<Kind, Counts>> {
  const client = createClient({ url });
  await client.connect();
  const app = express();
  app.use(
    session({
      store: new ConnectRedisStore({ client, prefix: 'es:' }),
      secret: 'bench-secret-0123456789abcdef0123456789',
      resave: false, // the README's recommended settings
      saveUninitialized: false,
    }),
  );
  const s = (req: express.Request) => req.session as unknown as { user?: string; cart?: string[] };
  app.post('/create', (req, res) => {
    s(req).user = 'u';
    s(req).cart = [];
    res.json({ ok: true });
  });
  app.get('/read', (req, res) => {
    if (s(req).user === undefined) res.status(401);
    res.json({ user: s(req).user });
  });
  app.post('/modify', (req, res) => {
    s(req).cart?.push('sku-1');
    res.json({ cart: s(req).cart });
  });
  const server: Server = await new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, cookie?: string): Promise<string | undefined> => {
    const res = await fetch(base + path, { method, headers: cookie ? { cookie } : {} });
    if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}`);
    await res.arrayBuffer();
    return res.headers.get('set-cookie')?.split(';')[0];
  };
  try {
    const cookies: string[] = [];
    const create = await counter.measure(REQUESTS, async () => {
      for (let i = 0; i < REQUESTS; i++) {
        const c = await call('POST', '/create');
        if (c === undefined) throw new Error('no session cookie');
        cookies.push(c);
      }
    });
    const read = await counter.measure(REQUESTS, async () => {
      for (const c of cookies) await call('GET', '/read', c);
    });
    const modify = await counter.measure(REQUESTS, async () => {
      for (const c of cookies) await call('POST', '/modify', c);
    });
    // express-session keeps nothing between requests: which instance wrote last changes nothing.
    const modifyElsewhere = await counter.measure(REQUESTS, async () => {
      for (const c of cookies) await call('POST', '/modify', c);
    });
    return { create, read, modify, 'modify-elsewhere': modifyElsewhere };
  } finally {
    await new Promise((r) => server.close(r));
    await client.quit();
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** The markdown table of `r`. */
export function renderTable(r: Results): string {
  const cmds = (c: Counts) =>
    Object.entries(c.byCommand)
      .map(([k, v]) => `${k.toUpperCase()}×${fmt(v)}`)
      .join(' ');
  const lines = [
    `Redis work per request (${REQUESTS} requests per kind, MONITOR round trips / INFO commandstats calls)`,
    '',
    '| request | ours: round trips | ours: commandstats | express-session: round trips | express-session: commandstats | round trips ours ÷ theirs |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of KINDS) {
    const a = r.ours[k];
    const b = r.expressSession[k];
    lines.push(
      `| ${k} | ${fmt(a.roundTrips)} | ${fmt(a.commandstats)} (${cmds(a)}) | ${fmt(b.roundTrips)} | ${fmt(b.commandstats)} (${cmds(b)}) | ${fmt(a.roundTrips / b.roundTrips)} |`,
    );
  }
  lines.push(
    '',
    'ours "modify" = the cart route on a session this instance wrote last (every request of a sticky session): one EVALSHA whose GET and SET run inside Redis, no read before it. ' +
      '"modify-elsewhere" = another instance wrote it last (no stickiness): the EVALSHA finds another version and answers with the session (GET + PEXPIRE inside), then one more EVALSHA writes; a session this instance never wrote is a GETEX + one EVALSHA. ' +
      'express-session "read" = GET + EXPIRE (touch), its "modify" = GET + a blind SET (last writer wins, no version check).',
  );
  return lines.join('\n');
}

/** Starts a redis-server, measures both stacks, prints and returns the table. */
export async function main(): Promise<{ results: Results; table: string }> {
  const server = await RedisServer.start();
  const admin = new Redis({ host: '127.0.0.1', port: server.port });
  const monitor = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), 'monitor'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((r) => setTimeout(r, 300)); // let MONITOR start
    const counter = new Counter(admin, monitor);
    const results: Results = {
      ours: await measureOurs(server.url(), counter),
      expressSession: await measureExpressSession(server.url(), counter),
    };
    const table = renderTable(results);
    console.log(table);
    return { results, table };
  } finally {
    monitor.kill();
    admin.disconnect();
    await server.dispose();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
