/**
 * Handler bundles: minified size of each entry point as SessionApi builds it (esbuild, the AWS
 * SDK left to the Lambda runtime, only the bound store kept via SESSION_BUNDLE_STORE), beside
 * two named baselines: the same entry with every store in it, and with tree-shaking off. Cold
 * init — a new Node process from spawn to its first answered event — for both bundles.
 *
 * Then a team's own handler on `cdk-sessions/runtime` + one store entry, bundled from the built
 * package as a user bundles it (./user-bundles), against the 250 KB budget, PASS or FAIL.
 *
 * Run: npx ts-node --transpile-only bench/bundles.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { buildPackage, bundleUserHandler, USER_BUNDLE_BUDGET_BYTES } from './user-bundles';

const ROOT = resolve(__dirname, '..');
/**
 * Lambda handlers leave the AWS SDK v3 out, as NodejsFunction does by default (the Lambda Node
 * runtime ships it); the instance server carries everything it needs (instances have no SDK).
 */
const ENTRIES: Record<string, { entry: string; external: string[]; budgetKb?: number; store?: string }> = {
  ...Object.fromEntries(
    ['memory', 'redis', 'dynamodb', 's3', 'memcached', 'postgres', 'jwt'].map((store) => [
      `http-api handler, ${store}`,
      { entry: 'lambda/handlers/http-api.ts', external: ['@aws-sdk/*'], budgetKb: 250, store },
    ]),
  ),
  'http-api handler, every store': { entry: 'lambda/handlers/http-api.ts', external: ['@aws-sdk/*'], budgetKb: 250 },
  'alb handler, redis': { entry: 'lambda/handlers/alb.ts', external: ['@aws-sdk/*'], budgetKb: 250, store: 'redis' },
  'instance server, redis': { entry: 'lambda/instance/main.ts', external: [], store: 'redis' },
};
const COLD_RUNS = 5;

function bundle(entry: string, external: string[], store: string | undefined, outfile: string, treeShaking: boolean): number {
  buildSync({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    minify: true,
    treeShaking,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
    define: store === undefined ? {} : { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(store) },
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/** Median ms from spawning `node` to the first answered GET /healthz event, memory store. */
function coldInit(bundlePath: string): number {
  const probe = `
    const t = process.hrtime.bigint();
    const { handler } = require(${JSON.stringify(bundlePath)});
    handler({ version: '2.0', rawPath: '/healthz', headers: {}, requestContext: { http: { method: 'GET', path: '/healthz' }, stage: '$default', requestId: 'r' }, isBase64Encoded: false })
      .then((r) => { process.stdout.write(String(r.statusCode)); });`;
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, SESSION_AUTH: 'open', SESSION_STORE: 'memory', SESSION_COOKIE_SECRET: 'b'.repeat(32), POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    if (r.stdout !== '200') throw new Error(`cold init probe failed: ${r.stdout} ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

export function main(): void {
  // Inside the repository so the external AWS SDK resolves from node_modules, as the Lambda runtime provides it.
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.bench-bundles-'));
  try {
    console.log('\n## Handler bundles (esbuild, minified)\n');
    console.log('| entry | tree-shaken | without tree-shaking | ratio | budget |');
    console.log('| --- | ---: | ---: | ---: | --- |');
    for (const [name, { entry, external, budgetKb, store }] of Object.entries(ENTRIES)) {
      const shaken = bundle(entry, external, store, join(dir, `${name}.min.js`), true);
      const whole = bundle(entry, external, store, join(dir, `${name}.whole.js`), false);
      const verdict = budgetKb === undefined ? 'none (carries the AWS SDK)' : `${budgetKb} KB: ${shaken <= budgetKb * 1024 ? 'within' : 'OVER'}`;
      console.log(`| ${name} | ${(shaken / 1024).toFixed(0)} KB | ${(whole / 1024).toFixed(0)} KB | ${(shaken / whole).toFixed(2)} | ${verdict} |`);
    }
    const a = coldInit(join(dir, 'http-api handler, memory.min.js'));
    const b = coldInit(join(dir, 'http-api handler, every store.min.js'));
    console.log(`\nCold init of the http-api handler on the memory store (new process → first answered event, median of ${COLD_RUNS}):`);
    console.log(`memory-only bundle ${a.toFixed(0)} ms, every-store bundle ${b.toFixed(0)} ms, ratio ${(a / b).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  userBundles();
}

/** A user's handler per store entry, bundled from the built package (esbuild, minified, CJS, node24, AWS SDK external). */
function userBundles(): void {
  const pkg = buildPackage();
  try {
    const budget = USER_BUNDLE_BUDGET_BYTES;
    console.log(`\n## A user's handler on cdk-sessions/runtime + one store entry (built package; esbuild minified, cjs, node24, @aws-sdk/* external)\n`);
    console.log('| imports | size | budget | verdict |');
    console.log('| --- | ---: | ---: | --- |');
    for (const store of ['memory', 'redis', 'dynamodb', 's3', 'memcached', 'postgres', 'jwt']) {
      const b = bundleUserHandler(pkg, store);
      const imports = store === 'memory' ? 'cdk-sessions/runtime (memory store)' : `cdk-sessions/runtime + cdk-sessions/runtime/${store}`;
      console.log(`| ${imports} | ${(b.bytes / 1024).toFixed(0)} KB | ${budget / 1024} KB | ${b.bytes <= budget ? 'PASS' : 'FAIL'} |`);
    }
  } finally {
    pkg.dispose();
  }
}

if (require.main === module) main();
