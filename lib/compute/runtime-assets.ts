import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, ILocalBundling } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { findPrebuiltBundle, INSTANCE_SERVER_FILE, NODE_MAJOR, NODE_TARGET, packageEntryName, prebuiltBundleDir } from './bundles';

/**
 * Finds a runtime entry point (`lambda/<relative>`), whether this library runs from source
 * (`lib/compute/*.ts`) or compiled (`dist/lib/compute/*.js`). The `.ts` source wins. An entry
 * the package ships prebuilt (see `bundles.ts`) is deployed from its bundle, not bundled again.
 *
 * @param relative path below `lambda/` without extension, e.g. `handlers/http-api`
 */
export function runtimeEntry(relative: string): string {
  const roots = [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')];
  const candidates: string[] = [];
  for (const ext of ['.ts', '.js']) {
    for (const root of roots) candidates.push(path.join(root, 'lambda', `${relative}${ext}`));
  }
  const found = candidates.find((c) => fs.existsSync(c));
  // Not found (yet): return the canonical source path so that the error names the file to add.
  return found ?? candidates[0];
}

/** The package root that holds `lambda/` and `package-lock.json` next to it. */
export function runtimeRoot(entry: string): string {
  return path.resolve(path.dirname(entry), '..', '..');
}

/** The nearest directory at or above `entry`'s that holds a package.json (the project to bundle from); else `entry`'s own. */
function projectRoot(entry: string): string {
  const start = path.dirname(path.resolve(entry));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

export { INSTANCE_SERVER_FILE, NODE_MAJOR, NODE_TARGET } from './bundles';

/** Options of {@link bundleInstanceServer}. */
export interface InstanceServerBundleOptions {
  /**
   * The server's entry point, bundled with esbuild at synth time (esbuild in the CDK app, or
   * Docker as the fallback).
   * @default - the reference server (lambda/instance/main.ts), prebuilt in the package for `store`
   */
  readonly entry?: string;
  /**
   * Node version esbuild targets for `entry`; must not be newer than the Node.js the instances run.
   * @default 'node24' (the instances run AL2023's nodejs24; the prebuilt server targets it)
   */
  readonly target?: string;
  /**
   * The store kind the fleet is bound to: the bundle keeps only that store's code.
   * @default - 'memory' for the prebuilt server; every store for `entry`
   */
  readonly store?: string;
}

/**
 * esbuild on this machine: no Docker. Runs esbuild's JS API synchronously and writes one
 * minified CommonJS file plus its source map. The AWS SDK v3 is bundled: a plain instance has
 * no SDK on its Node path.
 */
class EsbuildLocalBundling implements ILocalBundling {
  constructor(
    private readonly entry: string,
    private readonly target: string,
    private readonly define: Record<string, string>,
  ) {}

  public tryBundle(outputDir: string): boolean {
    let esbuild: typeof import('esbuild');
    try {
      // esbuild is a build-time tool of the CDK app, not a runtime dependency of the library.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      esbuild = require('esbuild');
    } catch {
      return false; // falls back to the Docker image below
    }
    if (!fs.existsSync(this.entry)) {
      throw new Error(`Instance server entry point not found: ${this.entry}`);
    }
    buildServerBundle(esbuild, this.entry, outputDir, this.target, this.define);
    return true;
  }
}


/**
 * Bundles a server entry into `outputDir/server.js` (+ source map) the way every instance server
 * is bundled: one minified CommonJS file for Node on `target`, no sources in the map.
 */
export function buildServerBundle(esbuild: typeof import('esbuild'), entry: string, outputDir: string, target: string, define: Record<string, string> = {}): void {
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: path.join(outputDir, INSTANCE_SERVER_FILE),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'error',
    define,
  });
}

/**
 * An S3 asset holding the instance server as one bundle (`server.js` + source map). Without
 * `entry`, the reference server prebuilt in the package for `store`: no esbuild, no Docker. With
 * `entry`, bundled at synth time: locally with esbuild, Docker only when esbuild is not installed.
 */
export function bundleInstanceServer(scope: Construct, id: string, options: InstanceServerBundleOptions = {}): s3assets.Asset {
  const ours = options.entry === undefined ? 'instance/main' : packageEntryName(options.entry);
  if (ours !== undefined && options.target === undefined) {
    const store = options.store ?? 'memory';
    const prebuilt = findPrebuiltBundle(ours, store);
    if (prebuilt === undefined || prebuilt.store !== store) throw new Error(`bundleInstanceServer: the package has no prebuilt ${ours} for store "${store}"`);
    // The asset hash is the prebuilt directory's content: same sources, same bundle, same hash.
    return new s3assets.Asset(scope, id, { path: prebuiltBundleDir(prebuilt) });
  }
  const entry = options.entry ?? runtimeEntry('instance/main');
  const target = options.target ?? NODE_TARGET;
  const root = projectRoot(entry);
  const define: Record<string, string> = options.store === undefined ? {} : { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(options.store) };
  const defineFlags = Object.entries(define).map(([k, v]) => ` '--define:${k}=${v}'`).join('');
  return new s3assets.Asset(scope, id, {
    // The hash covers the bundle, not the sources: edits anywhere in the project or in
    // node_modules that change the output give a new asset, nothing else does.
    path: root,
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new EsbuildLocalBundling(entry, target, define),
      image: DockerImage.fromRegistry(`public.ecr.aws/sam/build-nodejs${NODE_MAJOR}.x`),
      command: [
        'bash',
        '-c',
        `npx --yes esbuild@0 /asset-input/${path.relative(root, entry).split(path.sep).join('/')} --bundle --platform=node --format=cjs --target=${target} --minify --sourcemap${defineFlags} --outfile=/asset-output/${INSTANCE_SERVER_FILE}`,
      ],
    },
  });
}
