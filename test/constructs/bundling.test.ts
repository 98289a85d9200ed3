import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { bundleInstanceServer, INSTANCE_SERVER_FILE, SessionApi } from '../../lib/compute';
import { freePort, waitForPort } from '../support/ports';
import { FakeStore } from './compute/fake-store';

/** Budgets, minified: the handler leaves the AWS SDK to the Lambda runtime; the server bundles it. */
const HANDLER_BUDGET_BYTES = 250 * 1024;
const SERVER_BUDGET_BYTES = 1536 * 1024;

describe('real esbuild bundling (local, no Docker)', () => {
  let handlerDir = '';
  let serverDir = '';
  const root = path.join(__dirname, '..', '..');

  beforeAll(() => {
    const app = new App(); // no 'aws:cdk:bundling-stacks' override: bundling really runs
    const stack = new Stack(app, 'Bundles');
    // Redis is the heaviest store client; the bundle keeps only the bound store's code.
    new SessionApi(stack, 'Api', { store: new FakeStore(stack, 'Store', { kind: 'redis' }) });
    bundleInstanceServer(stack, 'Server');
    const assembly = app.synth();
    const assetDirs = fs
      .readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(assembly.directory, d));
    const withFile = (name: string) => {
      const found = assetDirs.filter((d) => fs.existsSync(path.join(d, name)));
      expect(found).toHaveLength(1);
      return found[0];
    };
    handlerDir = withFile('index.js');
    serverDir = withFile(INSTANCE_SERVER_FILE);
  }, 120_000);

  test(`HTTP API handler bundle exists, exports handler, and stays under ${HANDLER_BUDGET_BYTES / 1024} KB`, () => {
    const file = path.join(handlerDir, 'index.js');
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(`${file}.map`)).toBe(true);
    const size = fs.statSync(file).size;
    expect(size).toBeLessThan(HANDLER_BUDGET_BYTES);
    // Only the bound store (redis) is in it: no PostgreSQL sweep SQL, no DynamoDB condition handling.
    const code = fs.readFileSync(file, 'utf8');
    expect(code).toContain('getex');
    expect(code).not.toContain('SKIP LOCKED');
    expect(code).not.toContain('ConditionalCheckFailed');
    // The Lambda runtime supplies @aws-sdk/*: emulate that with this repo's node_modules.
    const probe = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m.handler)`], {
      env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toBe('function');
  });

  test(`instance server bundle exists, stays under ${SERVER_BUDGET_BYTES / 1024} KB, and serves /healthz from its own bundle`, async () => {
    const file = path.join(serverDir, INSTANCE_SERVER_FILE);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).size).toBeLessThan(SERVER_BUDGET_BYTES);
    // Run it with no node_modules in reach: everything it needs must be in the bundle.
    const port = await freePort();
    const child = spawn(process.execPath, [file], {
      cwd: serverDir,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        SESSION_STORE: 'memory',
        SESSION_COOKIE_SECRET: 'x'.repeat(32),
        SESSION_COOKIE_SECURE: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await waitForPort(port, 15_000);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(stderr).not.toMatch(/Cannot find module/);
  });
});
