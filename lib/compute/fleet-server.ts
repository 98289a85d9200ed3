import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, ILocalBundling, Token } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { buildServerBundle, bundleInstanceServer, INSTANCE_SERVER_FILE, NODE_TARGET } from './runtime-assets';

/** What {@link FleetServer.bind} hands the fleet. */
export interface FleetServerConfig {
  /** The server's files as an S3 asset (a zip), unpacked on each instance into the app directory. */
  readonly asset: s3assets.Asset;
  /**
   * The command that starts the server, run by `/bin/sh` in the app directory as the
   * unprivileged `sessions` user, with `node` (the instances' Node.js) first on PATH and the
   * session environment (store, cookie secret ARN, timeouts, `PORT`) set.
   */
  readonly startCommand: string;
}

/** Options of {@link FleetServer.bind}. */
export interface FleetServerBindOptions {
  /**
   * The store kind the fleet is bound to (`SESSION_STORE`), e.g. `redis`, or `memory`.
   */
  readonly storeKind: string;
}

/** Options of {@link FleetServer.fromEntry}. */
export interface FleetServerEntryOptions {
  /**
   * Node.js version esbuild targets; must not be newer than the Node.js the instances run.
   * @default 'node24' (the instances run Amazon Linux 2023's nodejs24)
   */
  readonly nodeTarget?: string;
  /**
   * Extra arguments for `node` before the bundle, e.g. `--max-old-space-size=1024`.
   * @default - only `--enable-source-maps`
   */
  readonly nodeArguments?: string[];
}

/** Options of {@link FleetServer.fromAsset}. */
export interface FleetServerAssetOptions {
  /**
   * The command that starts your server, one line, run by `/bin/sh` in the directory's copy on
   * the instance (`exec` is prepended, so the server gets systemd's SIGTERM directly). `node` is
   * the instances' Node.js 24. The server must listen on `PORT` (the fleet's `port`) and answer
   * the health check path with 200.
   *
   * @example 'node dist/server.js'
   */
  readonly startCommand: string;
  /**
   * Glob patterns of files in the directory to leave out of the asset.
   * @default - none
   */
  readonly exclude?: string[];
}

/**
 * The web server an {@link InstanceFleet} runs on each instance: this library's reference
 * server (the default), your own Node.js entry point bundled at synth, or a prebuilt directory
 * with its start command.
 *
 * Whichever it is, systemd runs it as the unprivileged `sessions` user, restarts it when it
 * exits, and gives it the session environment (`SESSION_STORE`, the cookie secret ARN, cookie
 * name, timeouts, `PORT`...) from an environment file, which `cdk-sessions/runtime` reads.
 */
export abstract class FleetServer {
  /**
   * The reference server of this package (`lambda/instance/main.ts`): the session routes of the
   * reference app, bundled with only the bound store's client.
   */
  public static reference(): FleetServer {
    return new ReferenceServer();
  }

  /**
   * Your own server's entry point (`.ts` or `.js`), bundled with its dependencies into one file
   * by esbuild at synth time. esbuild must be installed in your CDK app (`npm i -D esbuild`);
   * without it, prebuild your server and use {@link FleetServer.fromAsset}.
   *
   * @param entry path of the entry file
   */
  public static fromEntry(entry: string, options: FleetServerEntryOptions = {}): FleetServer {
    return new EntryServer(entry, options);
  }

  /**
   * A directory you built yourself (server code plus its `node_modules`, if any), copied to every
   * instance as it is and started with `startCommand`. Needs no esbuild and no Docker.
   *
   * @param directory path of the directory
   */
  public static fromAsset(directory: string, options: FleetServerAssetOptions): FleetServer {
    return new AssetServer(directory, options);
  }

  /** Makes the server's asset in `scope` (the fleet) and says how to start it. */
  public abstract bind(scope: Construct, options: FleetServerBindOptions): FleetServerConfig;

  /**
   * Problems with this server's settings, for the fleet's props validation (all reported at once).
   * @internal
   */
  public _problems(): string[] {
    return [];
  }
}

const NODE_START = `node --enable-source-maps ${INSTANCE_SERVER_FILE}`;

class ReferenceServer extends FleetServer {
  public bind(scope: Construct, options: FleetServerBindOptions): FleetServerConfig {
    return { asset: bundleInstanceServer(scope, 'ServerBundle', { store: options.storeKind }), startCommand: NODE_START };
  }
}

class EntryServer extends FleetServer {
  constructor(
    private readonly entry: string,
    private readonly options: FleetServerEntryOptions,
  ) {
    super();
  }

  public _problems(): string[] {
    const problems: string[] = [];
    if (!/\.(ts|js|mjs|cjs|mts|cts|tsx|jsx)$/.test(this.entry)) problems.push(`server entry must be a .ts or .js file, got "${this.entry}"`);
    else if (!fs.existsSync(this.entry)) problems.push(`server entry not found: ${this.entry}`);
    for (const arg of this.options.nodeArguments ?? []) {
      if (!/^--?[A-Za-z0-9][A-Za-z0-9_=.,:/-]*$/.test(arg)) problems.push(`server nodeArguments must be node flags (letters, digits, "-_=.,:/"), got "${arg}"`);
    }
    return problems;
  }

  public bind(scope: Construct, options: FleetServerBindOptions): FleetServerConfig {
    const entry = path.resolve(this.entry);
    const define = { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(options.storeKind) };
    const asset = new s3assets.Asset(scope, 'ServerBundle', {
      path: path.dirname(entry),
      // The hash covers the bundle: only a change of what the server runs makes a new asset.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        local: new EntryBundling(entry, this.options.nodeTarget ?? NODE_TARGET, define),
        // Never used: EntryBundling bundles or throws (a user's app needs no Docker).
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox'),
      },
    });
    const args = ['node', '--enable-source-maps', ...(this.options.nodeArguments ?? []), INSTANCE_SERVER_FILE];
    return { asset, startCommand: args.join(' ') };
  }
}

/** esbuild's JS API on the synthesizing machine: one minified CommonJS file plus its source map, dependencies (AWS SDK too) included. */
class EntryBundling implements ILocalBundling {
  constructor(
    private readonly entry: string,
    private readonly target: string,
    private readonly define: Record<string, string>,
  ) {}

  public tryBundle(outputDir: string): boolean {
    let esbuild: typeof import('esbuild');
    try {
      // A build-time tool of the user's CDK app, not a dependency of this library.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      esbuild = require('esbuild');
    } catch {
      throw new Error(
        `FleetServer.fromEntry(${this.entry}) bundles with esbuild, which is not installed in this CDK app: ` +
          'run `npm install --save-dev esbuild`, or build the server yourself and use FleetServer.fromAsset(directory, { startCommand })',
      );
    }
    buildServerBundle(esbuild, this.entry, outputDir, this.target, this.define);
    return true;
  }
}

class AssetServer extends FleetServer {
  constructor(
    private readonly directory: string,
    private readonly options: FleetServerAssetOptions,
  ) {
    super();
  }

  public _problems(): string[] {
    const problems: string[] = [];
    if (!fs.existsSync(this.directory) || !fs.statSync(this.directory).isDirectory()) problems.push(`server asset directory not found: ${this.directory}`);
    const cmd = this.options.startCommand;
    if (typeof cmd !== 'string' || cmd.trim() === '') problems.push('server startCommand must not be empty');
    else if (!Token.isUnresolved(cmd) && /[\r\n\0]/.test(cmd)) problems.push('server startCommand must be one line (no line breaks)');
    return problems;
  }

  public bind(scope: Construct, _options: FleetServerBindOptions): FleetServerConfig {
    const asset = new s3assets.Asset(scope, 'ServerBundle', { path: this.directory, exclude: this.options.exclude });
    return { asset, startCommand: this.options.startCommand.trim() };
  }
}
