import { buildSync } from 'esbuild';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** Every file the entry point pulls in, as esbuild's bundler resolves it. */
function inputsOf(entry: string): string[] {
  const r = buildSync({ entryPoints: [resolve(ROOT, entry)], bundle: true, platform: 'node', write: false, metafile: true, logLevel: 'silent', outdir: '/tmp/unused' });
  return Object.keys(r.metafile.inputs);
}

describe('package entry points', () => {
  it('cdk-sessions/runtime never loads aws-cdk-lib or constructs', () => {
    const inputs = inputsOf('lambda/session/index.ts');
    expect(inputs.some((f) => f.includes('lambda/session/manager.ts'))).toBe(true);
    expect(inputs.filter((f) => /node_modules\/(aws-cdk-lib|constructs|@aws-cdk)\//.test(f))).toEqual([]);
  });

  it('package.json maps cdk-sessions to the constructs and cdk-sessions/runtime to the runtime', () => {
    const pkg = require(resolve(ROOT, 'package.json'));
    expect(pkg.name).toBe('cdk-sessions');
    expect(pkg.exports['.'].default).toBe('./dist/lib/index.js');
    expect(pkg.exports['./runtime'].default).toBe('./dist/lambda/session/index.js');
  });
});
