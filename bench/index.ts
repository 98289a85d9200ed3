/**
 * `npm run bench`: every benchmark, each printing what it measured in this run beside its
 * named baseline. Benchmarks are not tests: they print numbers, they do not pass or fail on them.
 * Pick some with `npm run bench -- redis bundles synth`; `npm run bench -- cost` prints what a
 * session request costs on AWS per store (and writes bench/results/cost.md; with `--readme` it
 * also rewrites README.md's generated cost blocks).
 */
import { main as bundles } from './bundles';
import { main as cost } from './cost';
import { main as http } from './http';
import { main as jwt } from './jwt';
import { main as memory } from './memory';
import { main as login } from './login';
import { main as redis } from './redis-commands';
import { main as stores } from './stores';
import { main as synth } from './synth';

const SUITES: Record<string, () => Promise<unknown> | unknown> = { redis, stores, bundles, synth, jwt, http, memory, login, cost };

async function run(): Promise<void> {
  // Flags (`--readme`) are read by the suites themselves.
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !(w in SUITES));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  console.log(`# cdk-sessions benchmarks — ${new Date().toISOString()} — node ${process.version}, ${require('node:os').cpus().length} cores`);
  for (const name of wanted.length > 0 ? wanted : Object.keys(SUITES)) await SUITES[name]();
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
