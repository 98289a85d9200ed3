/**
 * How much heap the in-memory store (sticky topology) holds at its limits. Sessions are made by
 * the SessionManager as a login makes them (a random id, `{user}`, plus cart lines for the
 * larger shapes), 1.5 times as many as the bound allows, so the store is full and evicting; the
 * figure is the V8 heap used after a full GC, minus the same before the store existed.
 *
 * Baseline: the default bounds (MEMORY_DEFAULT_MAX_SESSIONS sessions, MEMORY_DEFAULT_MAX_BYTES of
 * JSON) against the V8 heap limit of this process, which Node sizes from the machine's memory (on a
 * 2 GiB t4g.small, about a quarter of it).
 *
 * Run: npm run bench -- memory
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SessionManager } from '../lambda/session/manager';
import { MEMORY_DEFAULT_MAX_BYTES, MEMORY_DEFAULT_MAX_SESSIONS, MemoryStore } from '../lambda/session/stores/memory';

const SECRET = 'bench-memory-secret-bench-memory-secret';

/** A full GC, without asking for --expose-gc on the command line. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  (runInNewContext('gc') as () => void)();
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** `lines` cart lines of about 60 bytes each. */
function cart(lines: number): { sku: string; qty: number; title: string }[] {
  return Array.from({ length: lines }, (_, i) => ({ sku: `sku-${100000 + i}`, qty: 1 + (i % 3), title: `Item number ${i} in the cart` }));
}

interface Shape {
  readonly name: string;
  readonly data: (i: number) => Record<string, unknown>;
  readonly maxSessions: number;
  readonly maxBytes: number;
}

const SHAPES: Shape[] = [
  { name: 'login only {user}, default bounds', data: (i) => ({ user: `user-${i}@example.com` }), maxSessions: MEMORY_DEFAULT_MAX_SESSIONS, maxBytes: MEMORY_DEFAULT_MAX_BYTES },
  { name: '{user} + 10 cart lines, default bounds', data: (i) => ({ user: `user-${i}@example.com`, cart: cart(10), prefs: { theme: 'dark' } }), maxSessions: MEMORY_DEFAULT_MAX_SESSIONS, maxBytes: MEMORY_DEFAULT_MAX_BYTES },
  { name: '{user} + 60 cart lines (~4 KiB), default bounds', data: (i) => ({ user: `user-${i}@example.com`, cart: cart(60) }), maxSessions: MEMORY_DEFAULT_MAX_SESSIONS, maxBytes: MEMORY_DEFAULT_MAX_BYTES },
];

export async function main(): Promise<Record<string, unknown>> {
  console.log('\n## memory — heap the in-memory store holds at its bounds');
  console.log(`process V8 heap limit: ${mib(getHeapStatistics().heap_size_limit)}; defaults: ${MEMORY_DEFAULT_MAX_SESSIONS} sessions, ${mib(MEMORY_DEFAULT_MAX_BYTES)} of JSON`);
  console.log('shape | inserted | held | bound hit | JSON held | heap used by the store | per session beyond its JSON | evictions');
  const results: Record<string, unknown> = {};
  for (const shape of SHAPES) {
    const before = heapUsed();
    const store = new MemoryStore({ maxSessions: shape.maxSessions, maxBytes: shape.maxBytes, maxSessionBytes: 64 * 1024 });
    const manager = new SessionManager({ store, secrets: [SECRET], writtenCacheChars: 0 });
    const sample = Buffer.byteLength(JSON.stringify(shape.data(0)));
    const toFill = Math.ceil(1.5 * Math.min(shape.maxSessions, shape.maxBytes / sample));
    for (let i = 0; i < toFill; i++) await manager.create(shape.data(i));
    const used = heapUsed() - before;
    const bound = store.size >= shape.maxSessions ? 'count' : 'bytes';
    const perSession = (used - store.bytes) / store.size;
    console.log(`${shape.name} | ${toFill} | ${store.size} | ${bound} | ${mib(store.bytes)} | ${mib(used)} | ${perSession.toFixed(0)} B | ${store.evictions}`);
    results[shape.name] = { inserted: toFill, held: store.size, bound, jsonBytes: store.bytes, heapUsed: used, perSessionOverhead: perSession, evictions: store.evictions };
    await store.close();
  }
  return results;
}
