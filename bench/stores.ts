/**
 * Every store behind the same SessionManager, on this machine, in one run: latency of one
 * request's session work (read = load + slide the expiry; modify = load + compare-and-set an
 * appended cart line) one at a time, and reads per second 10 at a time. Each figure is also
 * given as a ratio to the Redis store measured in the same run (the named baseline: the seed's
 * recommended store).
 *
 * Servers: redis-server and memcached on their own loopback ports, the machine's PostgreSQL
 * (a throwaway database), dynalite and s3rver in this process. The emulators are not DynamoDB
 * or S3: their rows show the shape of the cost on this machine (and share the bench's event loop),
 * not AWS latency.
 *
 * Run: npm run bench -- stores
 */
import { performance } from 'node:perf_hooks';
import { SessionManager } from '../lambda/session/manager';
import { DynamoDbStore } from '../lambda/session/stores/dynamodb';
import { MemcachedStore } from '../lambda/session/stores/memcached';
import { MemoryStore } from '../lambda/session/stores/memory';
import { PostgresStore } from '../lambda/session/stores/postgres';
import { RedisStore } from '../lambda/session/stores/redis';
import { S3Store } from '../lambda/session/stores/s3';
import type { SessionStore } from '../lambda/session/types';
import { startDynalite } from '../test/support/dynalite';
import { MemcachedServer } from '../test/support/memcached-server';
import { ThrowawayDatabase } from '../test/support/postgres';
import { RedisServer } from '../test/support/redis-server';
import { startS3rver } from '../test/support/s3rver';
import { quantile } from './stats';

const SECRET = 'bench-stores-secret-bench-stores-secret';
const SEQUENTIAL = Number(process.env.BENCH_STORES_N ?? 1000);
const WIDE = 10;
const WIDE_MS = 2000;

/** One store under test: how to start its server and build a store on it. */
interface Target {
  readonly name: string;
  readonly note?: string;
  start(): Promise<{ store: SessionStore; stop(): Promise<void> }>;
}

const TARGETS: Target[] = [
  { name: 'memory (sticky: one instance only)', start: async () => ({ store: new MemoryStore(), stop: async () => undefined }) },
  {
    name: 'redis',
    start: async () => {
      const server = await RedisServer.start();
      return { store: new RedisStore({ url: server.url() }), stop: () => server.stop() };
    },
  },
  {
    name: 'memcached',
    start: async () => {
      const server = await MemcachedServer.start();
      return { store: new MemcachedStore({ servers: [server.address] }), stop: () => server.stop() };
    },
  },
  {
    name: 'postgres',
    note: "the machine's PostgreSQL, a throwaway database",
    start: async () => {
      const db = await ThrowawayDatabase.create('bench');
      const store = new PostgresStore({ connectionString: db.url, maxConnections: WIDE });
      await store.ensureSchema();
      return { store, stop: () => db.drop() };
    },
  },
  {
    name: 'dynamodb',
    note: 'dynalite, in this process: an emulator, not DynamoDB latency',
    start: async () => {
      const dyn = await startDynalite();
      const client = dyn.client();
      return {
        store: new DynamoDbStore({ table: dyn.table, client }),
        stop: async () => {
          client.destroy();
          await dyn.close();
        },
      };
    },
  },
  {
    name: 's3',
    note: 's3rver, in this process, one request at a time: an emulator, not S3 latency',
    start: async () => {
      const s3 = await startS3rver(['bench-sessions']);
      const client = s3.client();
      return {
        store: new S3Store({ bucket: 'bench-sessions', client }),
        stop: async () => {
          client.destroy();
          await s3.close();
        },
      };
    },
  },
];

export interface StoreFigures {
  readonly name: string;
  readonly note?: string;
  readonly readP50Ms: number;
  readonly readP99Ms: number;
  readonly modifyP50Ms: number;
  readonly modifyP99Ms: number;
  readonly readsPerS: number;
}


async function timeEach(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

async function measure(t: Target): Promise<StoreFigures> {
  const { store, stop } = await t.start();
  try {
    const m = new SessionManager({ store, secrets: [SECRET], secure: false });
    const readers = await Promise.all(Array.from({ length: WIDE }, (_, i) => m.create({ user: `u${i}`, cart: [] })));
    const one = readers[0].id;
    const load = async (id: string) => {
      const s = await m.loadById(id);
      if (!s) throw new Error(`${t.name}: session ${id} vanished`);
      return s;
    };
    await timeEach(50, () => load(one)); // warm connections and JIT
    const reads = await timeEach(SEQUENTIAL, () => load(one));
    const writer = await m.create({ user: 'w', cart: [] });
    const modifies = await timeEach(Math.min(SEQUENTIAL, 300), async (i) => {
      const s = await load(writer.id);
      await m.update(s, (d) => {
        (d.cart as number[]).push(i);
      });
    });
    let count = 0;
    const until = performance.now() + WIDE_MS;
    await Promise.all(
      readers.map(async (r) => {
        while (performance.now() < until) {
          await load(r.id);
          count++;
        }
      }),
    );
    const final = await load(writer.id);
    if ((final.data.cart as number[]).length !== modifies.length) throw new Error(`${t.name}: ${(final.data.cart as number[]).length} of ${modifies.length} appends landed`);
    return {
      name: t.name,
      note: t.note,
      readP50Ms: quantile(reads, 0.5),
      readP99Ms: quantile(reads, 0.99),
      modifyP50Ms: quantile(modifies, 0.5),
      modifyP99Ms: quantile(modifies, 0.99),
      readsPerS: Math.round(count / (WIDE_MS / 1000)),
    };
  } finally {
    await store.close();
    await stop();
  }
}

export function renderStoresTable(rows: readonly StoreFigures[]): string {
  const base = rows.find((r) => r.name === 'redis');
  const f = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(2));
  const ratio = (n: number, b: number | undefined) => (b ? `${(n / b).toFixed(2)}×` : '—');
  const lines = [
    `| store | read p50 / p99 ms | read p50 ÷ redis | modify p50 / p99 ms | modify p50 ÷ redis | reads/s (${WIDE} wide) | reads/s ÷ redis | note |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${f(r.readP50Ms)} / ${f(r.readP99Ms)} | ${ratio(r.readP50Ms, base?.readP50Ms)} | ${f(r.modifyP50Ms)} / ${f(r.modifyP99Ms)} | ${ratio(r.modifyP50Ms, base?.modifyP50Ms)} | ${r.readsPerS} | ${ratio(r.readsPerS, base?.readsPerS)} | ${r.note ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

export async function main(): Promise<StoreFigures[]> {
  console.log(`\nStores behind one SessionManager: ${SEQUENTIAL} sequential reads, ${Math.min(SEQUENTIAL, 300)} sequential modifies, reads ${WIDE} wide for ${WIDE_MS / 1000} s; baseline: the Redis store in this run`);
  const rows: StoreFigures[] = [];
  for (const t of TARGETS) rows.push(await measure(t));
  console.log(renderStoresTable(rows));
  return rows;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
