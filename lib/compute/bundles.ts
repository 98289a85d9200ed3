/*
 * The code this library deploys, prebuilt: one esbuild bundle per entry point and store kind,
 * written to `bundles/` at package build time (`npm run build:bundles`, part of `npm run build`,
 * so of `npm pack`). Constructs take it with `lambda.Code.fromAsset` or an S3 asset, as
 * aws-cdk-lib ships its own custom resource handlers: a user's CDK app needs neither esbuild
 * nor Docker to synthesize. Not exported from the package.
 *
 * Running from this repository's TypeScript sources (ts-node, ts-jest), a bundle that is missing
 * or older than any file it was built from is rebuilt first (scripts/build-bundles.ts, esbuild
 * is a devDependency here), so tests and `cdk synth` use the same prebuilt path users get.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STORE_KINDS, SessionStoreKind } from '../core/session-env';

/**
 * The Node.js major version deployed code runs on: Lambda's `nodejs24.x` and the instances'
 * AL2023 `nodejs24` package. esbuild targets it for every bundle.
 */
export const NODE_MAJOR = 24;

/** esbuild's target for {@link NODE_MAJOR}. */
export const NODE_TARGET = `node${NODE_MAJOR}`;

/** Name of the bundled server file inside the instance server's asset. */
export const INSTANCE_SERVER_FILE = 'server.js';

/** File name of a Lambda handler bundle; its handler is `index.handler`. */
export const HANDLER_FILE = 'index.js';

/** One prebuilt bundle: `bundles/<name>/<file>` plus its source map. */
export interface PrebuiltBundle {
  /** Directory name below `bundles/`. */
  readonly name: string;
  /** Entry point below `lambda/`, without extension (as `runtimeEntry` takes it). */
  readonly entry: string;
  /** File the bundle is written to inside its directory. */
  readonly file: string;
  /** The store kind kept in the bundle (esbuild define `process.env.SESSION_BUNDLE_STORE`); undefined: not store-specific. */
  readonly store?: SessionStoreKind;
  /** Modules left out of the bundle. */
  readonly external: readonly string[];
}

/**
 * The Lambda runtime ships AWS SDK v3 (with its `@smithy/*` packages): left out of Lambda
 * bundles, as NodejsFunction does with `bundleAwsSDK: false` and the
 * `sdkV3ExcludeSmithyPackages` flag. Instances have no SDK: their server bundles it.
 */
const LAMBDA_EXTERNAL = ['@aws-sdk/*', '@smithy/*'];

/** Every bundle the package ships. */
export const PREBUILT_BUNDLES: readonly PrebuiltBundle[] = [
  ...STORE_KINDS.map((store) => ({ name: `http-api-${store}`, entry: 'handlers/http-api', file: HANDLER_FILE, store, external: LAMBDA_EXTERNAL })),
  ...STORE_KINDS.map((store) => ({ name: `instance-server-${store}`, entry: 'instance/main', file: INSTANCE_SERVER_FILE, store, external: [] })),
  // pg's optional native binding is loaded inside a try/catch; it is never installed.
  { name: 'postgres-schema', entry: 'handlers/postgres-schema', file: HANDLER_FILE, external: [...LAMBDA_EXTERNAL, 'pg-native'] },
];

/**
 * The package root: the directory with `package.json`, `lambda/` and `bundles/`, from
 * `lib/compute/` (sources) or `dist/lib/compute/` (compiled).
 */
export function packageRoot(): string {
  const source = path.join(__dirname, '..', '..');
  return fs.existsSync(path.join(source, 'package.json')) ? source : path.join(__dirname, '..', '..', '..');
}

/** `bundles/` of the package. */
export function bundlesDir(): string {
  return path.join(packageRoot(), 'bundles');
}

/**
 * The name below `lambda/` (no extension) of an entry point of this package, as
 * {@link runtimeEntry} takes it; undefined for any other file (a user's own entry).
 */
export function packageEntryName(entry: string): string | undefined {
  // lambda/ sources beside lib/, or compiled ones in dist/lambda/ beside dist/lib/.
  for (const root of [packageRoot(), path.join(packageRoot(), 'dist')]) {
    const rel = path.relative(path.join(root, 'lambda'), path.resolve(entry));
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.replace(/\.(ts|js)$/, '').split(path.sep).join('/');
  }
  return undefined;
}

/** True when this module runs from the repository's TypeScript sources, where esbuild is installed. */
function runningFromSource(): boolean {
  return path.extname(__filename) === '.ts';
}

/**
 * The prebuilt bundle of `entry` (below `lambda/`, no extension) for `store`: the store-specific
 * bundle when there is one, else the entry's only bundle; undefined when the package ships none.
 */
export function findPrebuiltBundle(entry: string, store?: string): PrebuiltBundle | undefined {
  const candidates = PREBUILT_BUNDLES.filter((b) => b.entry === entry);
  return candidates.find((b) => b.store !== undefined && b.store === store) ?? candidates.find((b) => b.store === undefined);
}

/** What scripts/build-bundles.ts exports (typed here so that the compiled library does not pull the script in). */
interface BundleBuilder {
  buildBundles(options: { readonly only?: readonly string[]; readonly staleOnly?: boolean }): string[];
}

const checked = new Set<string>();

/**
 * The directory of a prebuilt bundle, ready to be an asset. From sources it is (re)built first
 * when missing or stale (once per process); in an installed package a missing bundle is an error.
 */
export function prebuiltBundleDir(bundle: PrebuiltBundle): string {
  const dir = path.join(bundlesDir(), bundle.name);
  if (runningFromSource() && !checked.has(bundle.name)) {
    // Loaded only here: the builder imports esbuild, a devDependency of this repository.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const builder: BundleBuilder = require(path.join(packageRoot(), 'scripts', 'build-bundles'));
    builder.buildBundles({ only: [bundle.name], staleOnly: true });
    checked.add(bundle.name);
  }
  if (!fs.existsSync(path.join(dir, bundle.file))) {
    throw new Error(
      `cdk-sessions: the prebuilt bundle ${path.join(dir, bundle.file)} is missing. The package ships it in bundles/; ` +
        'reinstall cdk-sessions, or, in a checkout of its repository, run `npm run build` (or `npm run build:bundles`).',
    );
  }
  return dir;
}
