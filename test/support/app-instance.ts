/**
 * Instance servers as real child processes, as on ASG instances: lambda/instance/main.ts is
 * bundled once with esbuild (a few hundred ms, instead of ts-node per process), then each
 * server is `node main.js` with its own environment. Stdout (Powertools JSON lines) is kept so
 * tests can read what was logged. Children still alive when the test process exits are killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { freePort, waitForPort } from './ports';

const ROOT = resolve(__dirname, '../..');
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'cdk-sessions-test');
let bundled: string | undefined;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
  if (bundled) rmSync(bundled, { force: true });
});

/** Bundles lambda/instance/main.ts (dependencies stay in node_modules) and returns the file. */
export function instanceBundle(): string {
  if (bundled) return bundled;
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, `instance-main-${process.pid}.js`);
  buildSync({ entryPoints: [join(ROOT, 'lambda/instance/main.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', outfile, logLevel: 'error' });
  bundled = outfile;
  return outfile;
}

/** Removes this process's bundle (call from afterAll; jest workers may not run exit handlers). */
export function removeInstanceBundle(): void {
  if (bundled) rmSync(bundled, { force: true });
  bundled = undefined;
}

export interface InstanceProcess {
  readonly port: number;
  readonly proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL if still running, and wait for it. */
  dispose(): Promise<void>;
}

export async function startInstance(env: Record<string, string>, port?: number): Promise<InstanceProcess> {
  const file = instanceBundle();
  const p = port ?? (await freePort());
  const proc = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(p) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    }),
  );
  const inst: InstanceProcess = {
    port: p,
    proc,
    output: () => out,
    exited,
    signal: (sig) => {
      proc.kill(sig);
    },
    dispose: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  const failed = exited.then((e) => {
    throw new Error(`instance exited while starting (${JSON.stringify(e)}):\n${out}`);
  });
  failed.catch(() => undefined);
  await Promise.race([waitForPort(p, 15000), failed]);
  // waitForPort succeeds once the socket listens; the app is ready once "listening" was logged.
  while (!out.includes('"listening"')) {
    if (proc.exitCode !== null) throw new Error(`instance exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return inst;
}
