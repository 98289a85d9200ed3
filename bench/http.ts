/**
 * HTTP throughput of a session read and a session write, against what people use today, on
 * this machine in one run (`npm run bench -- http`):
 *
 *  (a) bare node:http answering the same JSON, no session — the ceiling;
 *  (b) our instance server (lambda/instance/main.ts) on the Redis store;
 *  (c) express 5 + express-session + connect-redis 9 on the same redis-server — the baseline;
 *  (d) node:http + one Redis GET — the least a Redis-backed read can cost;
 * then our DynamoDB store vs express-session + connect-dynamodb, both on dynalite.
 *
 * Every server is a child process; autocannon runs in this process. On 2 cores that is one core
 * for the load generator and one for the server (redis-server / dynalite share them). Our server
 * logs a JSON line per request; like on an instance, that goes to a file, not through a pipe into
 * this process (the load generator would spend its core reading and keeping our log).
 * Read = GET /session, modify = POST /cart/items, each with a session cookie taken round-robin
 * from a pool of logged-in sessions. Lost updates: N concurrent appends to one session, then
 * count its cart lines. Targets are printed as met/missed, never asserted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { instanceBundle, removeInstanceBundle } from '../test/support/app-instance';
import { baseEnv, LOCAL_AWS_ENV } from '../test/support/app-backends';
import { freePort, waitForPort } from '../test/support/ports';
import { RedisServer } from '../test/support/redis-server';

// autocannon ships no type declarations; this is the call the bench makes.
const autocannon: (opts: Record<string, unknown>, cb: (err: Error | null, result: any) => void) => unknown = require('autocannon');

const ROOT = join(__dirname, '..');
const DURATION_S = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10);
const POOL = 200;
const LOST_SESSIONS = 30;

interface Server {
  readonly port: number;
  stop(): Promise<void>;
}

async function child(kind: string, target = ''): Promise<Server & { proc: ChildProcess }> {
  const port = kind === 'dynalite' ? 0 : await freePort();
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'http-servers.ts'), kind, String(port), target], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...LOCAL_AWS_ENV },
  });
  const ready = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  return {
    port: ready,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

/**
 * Our instance server (the bundled lambda/instance/main.ts, as test/support/app-instance runs it),
 * with its stdout and stderr in a log file instead of a pipe into the load generator.
 */
async function ours(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-bench-'));
  const log = join(dir, 'instance.log');
  const fd = openSync(log, 'w');
  const proc = spawn(process.execPath, [instanceBundle()], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, SESSION_MAX_BYTES: '262144', SESSION_SERVED_BY: 'ours', PORT: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 15000);
    // Listening is not ready: the app is ready once "listening" was logged.
    while (!readFileSync(log, 'utf8').includes('"listening"')) {
      if (proc.exitCode !== null) throw new Error(`instance server exited (${proc.exitCode}):\n${readFileSync(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}

/** Logs in `n` sessions; returns their Cookie headers. */
async function loginPool(port: number, n: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: `b${i}` }) });
    if (res.status !== 200) throw new Error(`login answered ${res.status}`);
    await res.arrayBuffer();
    cookies.push(res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '));
  }
  return cookies;
}

interface Run {
  readonly rps: number;
  readonly p99: number;
  readonly p50: number;
  readonly non2xx: number;
  readonly errors: number;
}

function cannon(port: number, method: 'GET' | 'POST', path: string, cookies: readonly string[]): Promise<Run> {
  let i = 0;
  let sku = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: DURATION_S,
        requests: [
          {
            method,
            path,
            headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
            setupRequest: (req: any) => {
              const headers = { ...req.headers };
              if (cookies.length > 0) headers.cookie = cookies[i++ % cookies.length];
              return { ...req, headers, body: method === 'POST' ? JSON.stringify({ sku: `s${++sku}`, qty: 1 }) : undefined };
            },
          },
        ],
      },
      (err: Error | null, r: any) => {
        if (err) reject(err);
        else resolve({ rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, non2xx: r.non2xx, errors: r.errors + r.timeouts });
      },
    );
  });
}

/** `wide` concurrent appends to each of `LOST_SESSIONS` fresh sessions; lines missing afterwards. */
async function lostUpdates(port: number, wide: number): Promise<{ lost: number; sent: number }> {
  const cookies = await loginPool(port, LOST_SESSIONS);
  let lost = 0;
  for (const cookie of cookies) {
    const codes = await Promise.all(
      Array.from({ length: wide }, async (_, k) => {
        const res = await fetch(`http://127.0.0.1:${port}/cart/items`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ sku: `w${k}`, qty: 1 }) });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    const res = await fetch(`http://127.0.0.1:${port}/session`, { headers: { cookie } });
    const cart = ((await res.json()) as { cart?: unknown[] }).cart ?? [];
    lost += codes.filter((c) => c === 200).length - cart.length;
  }
  return { lost, sent: LOST_SESSIONS * wide };
}

const f0 = (n: number) => n.toFixed(0);
const ratio = (a: number, b: number) => (b === 0 ? '—' : `${(a / b).toFixed(2)}×`);

interface Row {
  name: string;
  read: Run;
  modify?: Run;
  lost2?: { lost: number; sent: number };
  lost10?: { lost: number; sent: number };
}

function table(title: string, rows: Row[], baseline: string, ceiling?: string): string {
  const b = rows.find((r) => r.name === baseline)!;
  const c = ceiling ? rows.find((r) => r.name === ceiling) : undefined;
  const lines = [
    title,
    '',
    `| server | read req/s | read p50 / p99 ms | read ÷ ${baseline} | ${c ? `read ÷ ${ceiling} | ` : ''}modify req/s | modify p50 / p99 ms | modify ÷ ${baseline} | ${c ? `modify ÷ ${ceiling} | ` : ''}lost updates 2-wide | lost updates 10-wide | non-2xx / errors |`,
    `| --- | --- | --- | --- | ${c ? '--- | ' : ''}--- | --- | --- | ${c ? '--- | ' : ''}--- | --- | --- |`,
  ];
  for (const r of rows) {
    const m = r.modify;
    lines.push(
      `| ${r.name} | ${f0(r.read.rps)} | ${r.read.p50} / ${r.read.p99} | ${ratio(r.read.rps, b.read.rps)} | ${c ? `${ratio(r.read.rps, c.read.rps)} | ` : ''}${m ? f0(m.rps) : '—'} | ${m ? `${m.p50} / ${m.p99}` : '—'} | ${m && b.modify ? ratio(m.rps, b.modify.rps) : '—'} | ${c ? `${m && c.modify ? ratio(m.rps, c.modify.rps) : '—'} | ` : ''}${r.lost2 ? `${r.lost2.lost} of ${r.lost2.sent}` : '—'} | ${r.lost10 ? `${r.lost10.lost} of ${r.lost10.sent}` : '—'} | ${r.read.non2xx + (m?.non2xx ?? 0)} / ${r.read.errors + (m?.errors ?? 0)} |`,
    );
  }
  return lines.join('\n');
}

async function measure(name: string, server: Server, opts: { cookies: boolean; modify: boolean; lost: boolean }): Promise<Row> {
  try {
    const pool = opts.cookies ? await loginPool(server.port, POOL) : [];
    const read = await cannon(server.port, 'GET', '/session', pool);
    const modify = opts.modify ? await cannon(server.port, 'POST', '/cart/items', pool) : undefined;
    const lost2 = opts.lost ? await lostUpdates(server.port, 2) : undefined;
    const lost10 = opts.lost ? await lostUpdates(server.port, 10) : undefined;
    console.error(`  ${name}: read ${f0(read.rps)} req/s${modify ? `, modify ${f0(modify.rps)} req/s` : ''}`);
    return { name, read, modify, lost2, lost10 };
  } finally {
    await server.stop();
  }
}

export async function main(): Promise<string> {
  const redis = await RedisServer.start();
  const out: string[] = [];
  try {
    // (d) needs its keys in Redis: one JSON session per cookie k=<i>.
    const admin = new Redis(redis.url());
    const body = JSON.stringify({ user: 'u', cart: [], prefs: {}, servedBy: 'redis-get' });
    for (let i = 0; i < POOL; i++) await admin.set(`s:${i}`, body);
    admin.disconnect();
    const redisGetCookies = Array.from({ length: POOL }, (_, i) => `k=${i}`);

    const env = baseEnv({ SESSION_STORE: 'redis', SESSION_REDIS_URL: redis.url() });
    const rows: Row[] = [];
    rows.push(await measure('(a) bare node:http', await child('bare'), { cookies: false, modify: true, lost: false }));
    rows.push(await measure('(b) ours: instance server + RedisStore', await ours(env), { cookies: true, modify: true, lost: true }));
    rows.push(await measure('(c) express-session + connect-redis', await child('express-redis', redis.url()), { cookies: true, modify: true, lost: true }));
    {
      const s = await child('redis-get', redis.url());
      try {
        const read = await cannon(s.port, 'GET', '/session', redisGetCookies);
        rows.push({ name: '(d) node:http + one Redis GET', read });
      } finally {
        await s.stop();
      }
    }
    const t1 = table(
      `HTTP, Redis: ${CONNECTIONS} connections × ${DURATION_S} s per cell, autocannon in the bench process, each server a child process, redis-server ${redis.port}`,
      rows,
      '(c) express-session + connect-redis',
      '(a) bare node:http',
    );
    const b = rows[1];
    const c = rows[2];
    const a = rows[0];
    const verdict = (ok: boolean) => (ok ? 'target met' : 'target MISSED');
    const targets = [
      `- read ≥ 4× express-session+connect-redis: ${(b.read.rps / c.read.rps).toFixed(2)}× — ${verdict(b.read.rps >= 4 * c.read.rps)}`,
      `- read ≥ 50 % of bare node:http: ${((100 * b.read.rps) / a.read.rps).toFixed(0)} % — ${verdict(b.read.rps >= 0.5 * a.read.rps)}`,
      `- read p99 ≤ 2 ms: ${b.read.p99} ms — ${verdict(b.read.p99 <= 2)}`,
      `- modify ≥ 3× express-session+connect-redis: ${(b.modify!.rps / c.modify!.rps).toFixed(2)}× — ${verdict(b.modify!.rps >= 3 * c.modify!.rps)}`,
      `- 0 lost updates (2- and 10-wide): ${b.lost2!.lost + b.lost10!.lost} lost — ${verdict(b.lost2!.lost + b.lost10!.lost === 0)}`,
    ];
    out.push(t1, '', 'Targets (ours):', ...targets, '', 'Redis commands per request: `npm run bench -- redis` (bench/redis-commands.ts).');
  } finally {
    await redis.dispose();
  }

  // DynamoDB: dynalite in its own child process, shared by both servers (same table, different key prefixes).
  const dyn = await child('dynalite');
  try {
    const endpoint = `http://127.0.0.1:${dyn.port}`;
    const env = baseEnv({ SESSION_STORE: 'dynamodb', SESSION_TABLE: 'bench-sessions', AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...LOCAL_AWS_ENV });
    const rows: Row[] = [];
    rows.push(await measure('ours: instance server + DynamoDbStore', await ours(env), { cookies: true, modify: true, lost: true }));
    rows.push(await measure('express-session + connect-dynamodb', await child('express-dynamodb', endpoint), { cookies: true, modify: true, lost: true }));
    out.push(
      '',
      table(`HTTP, DynamoDB on dynalite (its own child process): ${CONNECTIONS} connections × ${DURATION_S} s per cell`, rows, 'express-session + connect-dynamodb'),
      '',
      'dynalite is a LevelDB-backed emulator, far slower than DynamoDB: these ratios compare the two clients on the same emulator, not DynamoDB latency.',
    );
  } finally {
    await dyn.stop();
    removeInstanceBundle();
  }
  const text = out.join('\n');
  console.log(text);
  return text;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
