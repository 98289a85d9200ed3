/**
 * `cdk synth` of the whole reference app, timed from a fresh process with a fresh output
 * directory (what a reviewer runs). Target: ≤ 30 s on a 2-core machine.
 *
 * Run: npx ts-node --transpile-only bench/synth.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SynthResult {
  readonly seconds: number;
  readonly templates: number;
}

export function main(): SynthResult {
  const out = mkdtempSync(join(tmpdir(), 'cdk-sessions-synth-'));
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`cdk synth failed (${r.status}):\n${r.stderr}`);
    const templates = readdirSync(out).filter((f) => f.endsWith('.template.json')).length;
    console.log('\n## cdk synth of the reference app\n');
    console.log('| stacks | wall time | target | ratio to target |');
    console.log('| ---: | ---: | ---: | ---: |');
    console.log(`| ${templates} | ${seconds.toFixed(1)} s | 30 s | ${(seconds / 30).toFixed(2)} |`);
    return { seconds, templates };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (require.main === module) main();
