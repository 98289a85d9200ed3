/**
 * A user's CDK app in a temporary directory: the packed cdk-sessions tarball installed next to
 * aws-cdk-lib and constructs only (no esbuild, no elasticache alpha unless asked), as a team
 * would add the library to its own app. `docker` on its PATH is a stub that records every call,
 * so a test sees any attempt to bundle with Docker.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '..', '..');

/** The versions this repository builds and tests with (package-lock), used by the consumer apps. */
export function installedVersion(pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

/** Runs a command; throws with its output when it fails. */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`.slice(0, 20_000));
  }
  return r;
}

/**
 * `npm pack` of this repository into `dir` (prepack builds dist/ and bundles/ first); returns
 * the tarball's path.
 */
export function packRepository(dir: string): string {
  const r = run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: REPO_ROOT, env: { ...process.env, npm_config_loglevel: 'error' } });
  // npm prints the build scripts' output before the JSON (an array on lines of its own).
  const [{ filename }] = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n[') + 1)) as { filename: string }[];
  return path.join(dir, filename);
}

/** Options of {@link ConsumerApp.create}. */
export interface ConsumerAppOptions {
  /** The packed cdk-sessions tarball. */
  readonly tarball: string;
  /** aws-cdk-lib version. Default: the one this repository uses. */
  readonly awsCdkLib?: string;
  /** Extra dependencies (name → version), e.g. the elasticache alpha. */
  readonly dependencies?: { [name: string]: string };
}

/** Output of one process run in the app. */
export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class ConsumerApp {
  /** Creates the app directory under os.tmpdir() and runs `npm install` there (npm's cache first). */
  public static create(name: string, options: ConsumerAppOptions): ConsumerApp {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-sessions-${name}-`));
    const pkg = {
      name: `consumer-${name}`,
      private: true,
      version: '0.0.0',
      dependencies: {
        'aws-cdk-lib': options.awsCdkLib ?? installedVersion('aws-cdk-lib'),
        constructs: installedVersion('constructs'),
        'cdk-sessions': `file:${options.tarball}`,
        ...options.dependencies,
      },
    };
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
    const bin = path.join(dir, '.stub-bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\necho "$@" >> "${path.join(dir, 'docker-calls.log')}"\nexit 1\n`, { mode: 0o755 });
    return new ConsumerApp(dir, bin);
  }

  private constructor(
    public readonly dir: string,
    private readonly stubBin: string,
  ) {}

  /** Writes a file below the app directory. */
  public write(relative: string, content: string): string {
    const file = path.join(this.dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  /** Runs `node <file>` in the app directory: its own node_modules only, the docker stub first on PATH. */
  public node(relative: string, env: NodeJS.ProcessEnv = {}): RunResult {
    const r = spawnSync(process.execPath, [relative], {
      cwd: this.dir,
      env: { PATH: `${this.stubBin}${path.delimiter}${process.env.PATH}`, HOME: process.env.HOME, NODE_NO_WARNINGS: '1', ...env },
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * Type-checks the app's TypeScript with this repository's tsc and the compiler options of a
   * `cdk init app --language typescript` project (skipLibCheck as there unless overridden).
   */
  public typecheck(files: string[], compilerOptions: { [option: string]: unknown } = {}): RunResult {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['es2022'],
        strict: true,
        noImplicitReturns: true,
        skipLibCheck: true,
        noEmit: true,
        isolatedModules: true,
        types: [],
        ...compilerOptions,
      },
      files,
    };
    this.write('tsconfig.json', `${JSON.stringify(tsconfig, null, 2)}\n`);
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: this.dir,
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Whether `require.resolve(name)` succeeds from the app directory. */
  public resolves(name: string): boolean {
    return this.node(this.write('.resolve.js', `require.resolve(${JSON.stringify(name)});\n`)).status === 0;
  }

  /** What the docker stub was called with (empty: never). */
  public dockerCalls(): string {
    const log = path.join(this.dir, 'docker-calls.log');
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  }

  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One stack of a synthesized assembly, as the synth script below reports it. */
export interface SynthesizedStack {
  readonly name: string;
  readonly templateFile: string;
  readonly resourceTypes: string[];
  /** File assets: directory below the assembly and the files in it. */
  readonly assets: { readonly path: string; readonly files: string[] }[];
}

/**
 * A plain-JS CDK app that builds the given stacks and prints what `app.synth()` produced as
 * JSON on its last stdout line. `body` runs with `app`, `Stack`, `cs` (cdk-sessions) in scope.
 */
export function synthScript(outdir: string, body: string): string {
  return `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { App, Stack } = require('aws-cdk-lib');
const cs = require('cdk-sessions');
const app = new App({ outdir: ${JSON.stringify(outdir)} });
${body}
const assembly = app.synth();
const stacks = assembly.stacks.map((s) => ({
  name: s.stackName,
  templateFile: s.templateFullPath,
  resourceTypes: Object.values(s.template.Resources || {}).map((r) => r.Type),
  assets: fileAssets(s),
}));
// The stack's file assets, from the asset manifest the default synthesizer writes beside it.
function fileAssets(s) {
  const manifest = path.join(assembly.directory, s.id + '.assets.json');
  if (!fs.existsSync(manifest)) return [];
  return Object.values(JSON.parse(fs.readFileSync(manifest, 'utf8')).files || {})
    .filter((f) => f.source.packaging === 'zip' || f.source.packaging === 'file')
    .filter((f) => !f.source.path.endsWith('.template.json'))
    .map((f) => {
      const dir = path.join(assembly.directory, f.source.path);
      return { path: f.source.path, files: fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).sort() : [] };
    });
}
process.stdout.write('\\n' + JSON.stringify(stacks) + '\\n');
`;
}

/** The JSON line {@link synthScript} prints. */
export function parseSynth(stdout: string): SynthesizedStack[] {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as SynthesizedStack[];
}
