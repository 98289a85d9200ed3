/**
 * The failover drill (lab/drill.ts) needs a deployed stack and AWS credentials; without them it
 * must stop at once with a message that says what is missing, never hang on the SDK's
 * credential chain.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

test('npm run drill with an empty environment (no credentials, empty HOME) exits non-zero and says no AWS credentials were found', () => {
  const home = mkdtempSync(join(tmpdir(), 'drill-home-'));
  try {
    const out = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', 'lab/drill.ts', '--stack', 'RedisSessions'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: home },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.error).toBeUndefined();
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('no AWS credentials found');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
