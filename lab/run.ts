/**
 * `npm run lab`: every topology (lab/topologies.ts) behind haproxy, every failure scenario
 * (lab/scenarios.ts), one markdown table, also written to lab/RESULTS.md with the date and the
 * machine. Sizes are flags:
 *
 *   npm run lab -- --users 24 --seconds 6 --wide 10 --outage-seconds 5 --node-down-seconds 1.5 --think-ms 10 \
 *                  --only redis,dynamodb --scenarios kill,outage --out lab/RESULTS.md [--no-bench]
 *
 * A partial run (--only or --scenarios) without --out writes to the temp directory, never over
 * lab/RESULTS.md.
 *
 * After the lab it runs the HTTP benchmarks (bench/http.ts) and adds their tables to the file,
 * unless --no-bench.
 * `--only` matches topology names by substring. Topologies whose runtime code or server is
 * missing are listed as not run, with the reason.
 *
 * The whole lab (no --only, --scenarios or --out) also rewrites README.md's generated blocks
 * from the same run: `<!-- lab:seed:begin -->` (the seed's table), `lab:outage-long`,
 * `lab:metrics` (the outage in the instances' own metrics) and, with the benchmarks, `lab:http`.
 *
 * `npm run lab -- --screenshots [--only …]` runs no scenario: it opens the session page (GET /)
 * in chromium per topology, before and after an instance kill, and writes the PNGs to
 * lab/screenshots/ (lab/screenshots.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTANCE_HEALTH_CHECK, UNHEALTHY_AFTER_SECONDS } from '../lib/compute/health-check';
import { removeInstanceBundle } from '../test/support/app-instance';
import { labHealthCheck } from '../test/support/haproxy';
import { README, replaceReadmeBlock } from '../test/support/readme';
import { machineLine, renderOutageLongTable, renderResults, renderSeedTable, renderStoreErrorCurves, renderStoreErrorSummary, sizesLine } from './report';
import { DEFAULT_SIZES, runScenario, SCENARIO_NAMES, type LabSizes, type ScenarioName, type ScenarioResult } from './scenarios';
import { TOPOLOGIES } from './topologies';

interface Flags {
  sizes: LabSizes;
  only?: string[];
  scenarios: ScenarioName[];
  out: string;
  /** The whole lab: README's generated blocks are rewritten too. */
  whole: boolean;
  bench: boolean;
  /** Take the session page's screenshots instead of running the scenarios. */
  screenshots: boolean;
}

export function parseFlags(argv: readonly string[]): Flags {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, fallback: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  };
  const scenarios = (get('scenarios')?.split(',') ?? [...SCENARIO_NAMES]) as ScenarioName[];
  const bad = scenarios.filter((s) => !SCENARIO_NAMES.includes(s));
  if (bad.length > 0) throw new Error(`unknown scenario(s) ${bad.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`);
  return {
    sizes: {
      users: Math.max(1, Math.round(num('users', DEFAULT_SIZES.users))),
      durationMs: num('seconds', DEFAULT_SIZES.durationMs / 1000) * 1000,
      wide: Math.max(1, Math.round(num('wide', DEFAULT_SIZES.wide))),
      outageMs: num('outage-seconds', DEFAULT_SIZES.outageMs / 1000) * 1000,
      thinkMs: num('think-ms', DEFAULT_SIZES.thinkMs),
      nodeDownMs: num('node-down-seconds', DEFAULT_SIZES.nodeDownMs! / 1000) * 1000,
    },
    only: get('only')?.split(','),
    scenarios,
    // Only the whole lab replaces lab/RESULTS.md.
    out: get('out') ?? (get('only') !== undefined || get('scenarios') !== undefined ? join(tmpdir(), 'cdk-sessions-lab-RESULTS.partial.md') : join(__dirname, 'RESULTS.md')),
    whole: get('only') === undefined && get('scenarios') === undefined && get('out') === undefined,
    bench: !argv.includes('--no-bench'),
    screenshots: argv.includes('--screenshots'),
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.screenshots) {
    const { takeScreenshots } = require('./screenshots') as typeof import('./screenshots');
    const files = await takeScreenshots(flags.only);
    removeInstanceBundle();
    console.log(`wrote ${files.length} screenshots:\n${files.map((f) => `  ${f}`).join('\n')}`);
    return;
  }
  const started = Date.now();
  const topologies = TOPOLOGIES.filter((t) => !flags.only || flags.only.some((o) => t.name.includes(o)));
  const rows: ScenarioResult[] = [];
  const notRun: string[] = [];
  console.log(`# topology lab — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(sizesLine(flags.sizes));
  for (const t of topologies) {
    const why = t.unavailable?.();
    if (why) {
      notRun.push(`- ${t.name}: ${why}`);
      console.log(`skip ${t.name}: ${why}`);
      continue;
    }
    const store = await t.start();
    try {
      for (const s of flags.scenarios) {
        const t0 = Date.now();
        const r = await runScenario(s, { topology: t, store, sizes: flags.sizes });
        rows.push(r);
        console.log(`${t.name} / ${s}: ${r.skipped ?? `${r.sessionsLost} sessions lost, ${r.linesLost}/${r.linesAcked} lines lost, ${r.failed}/${r.requests} failed`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    } finally {
      await store.stop();
    }
  }
  removeInstanceBundle();
  const labSeconds = ((Date.now() - started) / 1000).toFixed(0);
  let bench: string | undefined;
  if (flags.bench) {
    console.log('\nHTTP benchmarks (bench/http.ts) …');
    const { main: httpBench } = require('../bench/http') as typeof import('../bench/http');
    bench = await httpBench();
  }
  const table = renderResults(rows);
  const seed = renderSeedTable(rows, topologies);
  const curves = renderStoreErrorCurves(rows);
  const elapsed = ((Date.now() - started) / 1000).toFixed(0);
  const check = labHealthCheck();
  console.log(`\n${table}\n\n${seed}\n\n(lab took ${labSeconds} s, ${elapsed} s with the benchmarks)`);
  const md = [
    '# Topology lab results',
    '',
    `Generated by \`npm run lab ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString()}.`,
    '',
    `Machine: ${machineLine()}. Everything on 127.0.0.1: the load generator (this process, also hosting dynalite/s3rver in-process), 3 instance server processes per topology, haproxy, redis-server/memcached/PostgreSQL. The lab took ${labSeconds} s${bench ? `, ${elapsed} s with the benchmarks` : ''}.`,
    '',
    `Sizes: ${sizesLine(flags.sizes)}.`,
    '',
    '## The seed\'s decision table, measured',
    '',
    seed,
    '',
    '## Every topology × scenario',
    '',
    table,
    '',
    ...(notRun.length > 0 ? ['Not run:', '', ...notRun, ''] : []),
    ...(curves
      ? [
          "## The store outage in the runtime's own metrics",
          '',
          "In `outage` the instances run with `SESSION_METRICS=on` and a 1 s flush (`SESSION_METRICS_INTERVAL_SECONDS=1`; 60 s when deployed), writing CloudWatch Embedded Metric Format lines to stdout as they would to CloudWatch Logs. The lab reads those lines back and sums each counter per second over the instances (a line counts the second before its timestamp; column k holds the lines written k to k+1 s after the store went away, in bold while they count outage time). StoreErrors is what the `StoreErrors` alarm watches (lib/monitoring); Responses503 are the requests answered 503 because of it; StoreCalls shows the load going on. On AWS the same counts arrive per minute.",
          '',
          curves,
        ]
      : []),
    ...(bench ? ['## HTTP benchmarks against what people use today (bench/http.ts)', '', bench, ''] : []),
    '## How to read it',
    '',
    '- **sessions lost**: a logged-in user got 401 (its session was gone) — during the load or in the final read after recovery. The user then logs in again.',
    '- **cart lines lost / acked**: lines the app answered 200 for that a later read of the same session did not show (a lost session loses all its lines).',
    '- **failed**: answered 5xx (haproxy 502/503 or the app\'s 503) or not answered; **409**: conflict after the manager\'s bounded retries.',
    '- **p50/p99**: latency of every request of the scenario at the client, through haproxy. **bytes/req**: request + response bytes on the client↔balancer socket, headers and cookies included.',
    '- **revocation delay**: after the cookie was used on every instance and then POST /logout, how long the old cookie was still accepted (replayed through the balancer until every instance refused it; 2 s window).',
    `- haproxy stands in for the ALB: the target group's health check (lib/compute/health-check.ts: GET ${check.path}, fall ${check.fall}, rise ${check.rise}, timeout ${INSTANCE_HEALTH_CHECK.timeoutSeconds} s of a ${INSTANCE_HEALTH_CHECK.intervalSeconds} s interval) scaled in time to every ${check.intervalMs} ms with a ${check.timeoutMs} ms timeout; \`retries 2\` + \`option redispatch\` on connection failures only; stickiness \`cookie AWSALB insert indirect nocache\` (lb_cookie) or a stick table keyed on the app's \`sid\` cookie (app_cookie). See test/support/haproxy.ts.`,
    `- ${check.path} is liveness of the instance (the process serves), never the store: in \`outage\` and \`outage-long\` the instances stay UP and answer 503 themselves. \`outage-long\` hangs the store (SIGSTOP) for longer than haproxy's unhealthy threshold (fall × interval = ${check.unhealthyAfterMs / 1000} s here, ${UNHEALTHY_AFTER_SECONDS} s on the ALB): a check that asked the store would have taken every instance out, and on AWS the Auto Scaling group would have replaced them. /readyz is the deep check (the store answers) for operators.`,
    '- dynalite and s3rver run inside the lab process, on the same 2 cores as the load generator: the DynamoDB, S3 and JWT-denylist latencies, and any 503s in `concurrent` (the 1 s store timeout passed while conflicting writes re-read and retried on a busy emulator), describe the emulators on this machine, not AWS.',
    '- JWT lines lost in `concurrent` are the design: each append re-issues the token from the cart its request carried, so concurrent appends overwrite each other (the last Set-Cookie wins).',
    '- S3 lines lost in `concurrent`: s3rver ignores If-Match/If-None-Match, so the store\'s compare-and-set is not enforced there; real S3 enforces conditional writes.',
    '- S3 StoreErrors after the `outage`: s3rver stopped in the middle of a PUT leaves the object cut short (real S3 PUTs are atomic: an object is whole or absent). The store refuses a session object it cannot read as a store error, so the requests of that session answer 503 (never 500, never someone else\'s data) for as long as the object stays cut short; those 503s are in the outage row\'s failed count.',
    '- Redis `promote` lines lost are writes the old primary acknowledged after the replica stopped replicating from it (asynchronous replication): the window a real failover has too.',
    '- Memcached `nodeloss` is the cost of Memcached having no replication: a node-based ElastiCache Memcached cluster keeps each session on one node only (the runtime spreads them by rendezvous hashing over the fixed node list), and a failed node is replaced at the same endpoint, empty. The sessions on it are gone (their users get 401 and log in again, their cart lines with them); the sessions on the other node lose nothing. Redis with a replica loses none in `promote` (only writes inside the replication lag can go). While the node is down the instances answer 503 for its sessions (connection refused; a hung node would take the 1 s store timeout), never 200. /healthz (liveness) stays 200 throughout, so the instances stay in the balancer and the surviving node\'s sessions keep being served.',
    '- Store stand-ins: dynalite (DynamoDB), s3rver (S3; ignores conditional writes, so S3 rows show what the store sends, not what real S3 enforces), redis-server, memcached, a throwaway PostgreSQL cluster. The Redis failover moves clients through a TCP proxy standing in for the primary endpoint\'s DNS flip.',
    '',
  ].join('\n');
  writeFileSync(flags.out, md);
  console.log(`wrote ${flags.out}`);
  if (flags.whole) {
    const when = `${new Date(started).toISOString().slice(0, 16)}Z`;
    const run = `\`npm run lab\` of ${when} (${machineLine()}; ${sizesLine(flags.sizes)}; every table in [lab/RESULTS.md](lab/RESULTS.md))`;
    const blocks: Record<string, string> = {
      'lab:seed': `Measured by ${run}:\n\n${seed}`,
      'lab:outage-long': `From ${run}, store timeout ${(rows.find((r) => r.outageLong)?.outageLong?.storeTimeoutMs ?? NaN) / 1000} s, haproxy fall ${check.fall} × ${check.intervalMs} ms = ${check.unhealthyAfterMs / 1000} s:\n\n${renderOutageLongTable(rows)}`,
      'lab:metrics': `From ${run}; per second, in [lab/RESULTS.md](lab/RESULTS.md#the-store-outage-in-the-runtimes-own-metrics):\n\n${renderStoreErrorSummary(rows)}`,
    };
    if (bench) blocks['lab:http'] = `From ${run}, after the lab (\`bench/http.ts\`, the same as \`npm run bench -- http\`):\n\n${bench}`;
    let readme = readFileSync(README, 'utf8');
    for (const [name, content] of Object.entries(blocks)) readme = replaceReadmeBlock(readme, name, content);
    writeFileSync(README, readme);
    console.log(`README.md: rewrote ${Object.keys(blocks).join(', ')}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
