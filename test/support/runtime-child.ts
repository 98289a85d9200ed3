/**
 * The session runtime built from the environment (createSessionRuntime(parseSessionEnv(env), { stores: every store })),
 * run in a child process: for what only takes effect at process start, such as a test CA given
 * through NODE_EXTRA_CA_CERTS (the runtime trusts the system's CAs, as ElastiCache needs).
 * The entry is bundled once with esbuild; each `run` is a fresh `node` with the given env.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = resolve(__dirname, '../..');

export class RuntimeChild {
  /**
   * `body` is the body of an async function of `rt` (the runtime) whose return value the child
   * prints as JSON; a thrown error prints `{"error": <its name>}`.
   */
  static bundle(body: string): RuntimeChild {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-runtime-child-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { parseSessionEnv } from ${JSON.stringify(join(ROOT, 'lambda/session/env'))};
       import { createSessionRuntime } from ${JSON.stringify(join(ROOT, 'lambda/session/from-env'))};
       import { bundledStoreFactories } from ${JSON.stringify(join(ROOT, 'lambda/session/bundled-stores'))};
       (async () => {
         const rt = await createSessionRuntime(parseSessionEnv(process.env), { stores: bundledStoreFactories() });
         try {
           const result = await (async (rt: any) => { ${body} })(rt);
           process.stdout.write(JSON.stringify(result));
         } finally { await rt.close(); }
       })().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e && e.name) })); process.exitCode = 1; });`,
    );
    const file = join(dir, 'entry.js');
    buildSync({ entryPoints: [entry], bundle: true, platform: 'node', outfile: file, logLevel: 'silent' });
    return new RuntimeChild(dir, file);
  }

  private constructor(
    private readonly dir: string,
    private readonly file: string,
  ) {}

  /** Runs the child with PATH and `env` only; returns what it printed, parsed. */
  run(env: Record<string, string>): unknown {
    try {
      return JSON.parse(
        execFileSync(process.execPath, [this.file], {
          env: { PATH: process.env.PATH, ...env },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'], // the runtime's reconnect warnings stay out of the test output
          timeout: 20_000,
        }),
      );
    } catch (err) {
      return JSON.parse((err as { stdout: string }).stdout);
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
