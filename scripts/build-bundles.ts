/**
 * Builds the prebuilt bundles the package ships (lib/compute/bundles.ts lists them) into
 * `bundles/<name>/` with esbuild's JS API: minified CommonJS for Node 24, source maps without
 * sources content, no legal comments, the AWS SDK left to the Lambda runtime in handler bundles
 * and bundled into the instance server, one store per bundle (SESSION_BUNDLE_STORE).
 *
 * Run: npm run build:bundles (part of npm run build, so of npm pack). `--stale` rebuilds only
 * bundles that are missing or older than a file they were built from; the library does that by
 * itself when it runs from this repository's sources.
 *
 * Beside each bundle directory, `<name>.inputs.json` lists the files it was built from (not
 * shipped; the staleness check reads it). Files are written to a temporary name and renamed into
 * place, so a process that reads a bundle while another rebuilds it sees whole files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { bundlesDir, NODE_TARGET, packageRoot, PREBUILT_BUNDLES, PrebuiltBundle } from '../lib/compute/bundles';

/** Files that change every bundle without being bundled: this script, the bundle list, the installed dependency tree. */
function toolInputs(root: string): string[] {
  return [
    __filename,
    path.join(root, 'lib', 'compute', `bundles${path.extname(__filename)}`),
    // npm rewrites it on every install; installed files keep their packages' old mtimes.
    path.join(root, 'node_modules', '.package-lock.json'),
  ].filter((f) => fs.existsSync(f));
}

function inputsFile(bundle: PrebuiltBundle): string {
  return path.join(bundlesDir(), `${bundle.name}.inputs.json`);
}

/** Missing, or older than one of the files it was built from (or one of those is gone). */
export function isStale(bundle: PrebuiltBundle): boolean {
  const root = packageRoot();
  const out = path.join(bundlesDir(), bundle.name, bundle.file);
  if (!fs.existsSync(out) || !fs.existsSync(`${out}.map`) || !fs.existsSync(inputsFile(bundle))) return true;
  const built = fs.statSync(out).mtimeMs;
  let inputs: string[];
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile(bundle), 'utf8'));
  } catch {
    return true;
  }
  for (const input of [...inputs.map((i) => path.resolve(root, i)), ...toolInputs(root)]) {
    let mtime: number;
    try {
      mtime = fs.statSync(input).mtimeMs;
    } catch {
      return true;
    }
    if (mtime > built) return true;
  }
  return false;
}

/**
 * Builds one bundle into `<outDir>/<name>/` and records its inputs; returns the size of its code
 * file in bytes. Another `outDir` at the same depth as `bundles/` gives byte-identical files.
 */
export function buildBundle(bundle: PrebuiltBundle, outDir: string = bundlesDir()): number {
  const root = packageRoot();
  const dir = path.join(outDir, bundle.name);
  const outfile = path.join(dir, bundle.file);
  const entry = path.join(root, 'lambda', `${bundle.entry}.ts`);
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: NODE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'error',
    // Paths as seen from the package root (a symlinked node_modules, as in a git worktree, gives
    // the same bundle, source map and asset hash as a real one).
    preserveSymlinks: true,
    external: [...bundle.external],
    // Keeps only this store's code: lambda/session/from-env.ts folds the other stores' branches away.
    define: bundle.store === undefined ? {} : { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(bundle.store) },
  });
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(outDir, '.tmp-'));
  try {
    // The source map first: the code file names it, and its arrival marks the bundle whole.
    const isCode = (f: { path: string }) => Number(!f.path.endsWith('.map'));
    const files = [...result.outputFiles!].sort((a, b) => isCode(a) - isCode(b));
    const inputs = Object.keys(result.metafile!.inputs).sort();
    const writes: [string, string | Uint8Array][] = [
      ...files.map((f): [string, Uint8Array] => [f.path, f.contents]),
      [path.join(outDir, `${bundle.name}.inputs.json`), `${JSON.stringify(inputs, null, 1)}\n`],
    ];
    for (const [target, contents] of writes) {
      const staged = path.join(tmp, path.basename(target));
      fs.writeFileSync(staged, contents);
      fs.renameSync(staged, target);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return fs.statSync(outfile).size;
}

/** Options of {@link buildBundles}. */
export interface BuildBundlesOptions {
  /** Names of the bundles to build. Default: all. */
  readonly only?: readonly string[];
  /** Build only bundles that are missing or stale. Default: false (build all). */
  readonly staleOnly?: boolean;
}

/** Builds the bundles asked for; returns the names built. */
export function buildBundles(options: BuildBundlesOptions = {}): string[] {
  const built: string[] = [];
  for (const bundle of PREBUILT_BUNDLES) {
    if (options.only && !options.only.includes(bundle.name)) continue;
    if (options.staleOnly && !isStale(bundle)) continue;
    buildBundle(bundle);
    built.push(bundle.name);
  }
  return built;
}

if (require.main === module) {
  const staleOnly = process.argv.includes('--stale');
  const t0 = Date.now();
  const names = buildBundles({ staleOnly });
  for (const name of names) {
    const bundle = PREBUILT_BUNDLES.find((b) => b.name === name)!;
    const size = fs.statSync(path.join(bundlesDir(), name, bundle.file)).size;
    console.log(`${name.padEnd(28)} ${(size / 1024).toFixed(0).padStart(6)} KB`);
  }
  console.log(`${names.length} bundle(s) built in ${Date.now() - t0} ms into ${path.relative(process.cwd(), bundlesDir()) || '.'}`);
}
