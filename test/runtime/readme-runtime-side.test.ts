/**
 * The README's "Add sessions to your app", runtime side (the ```ts block after
 * `<!-- example: runtime-side -->` in README.md itself), and every other `runtime-*` example there, type-checks against the BUILT package,
 * resolved through its `exports` as an installed package is, with strict settings and Node 16+
 * module resolution.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { buildPackage, type BuiltPackage } from '../../bench/user-bundles';
import { readmeExample, readmeExamples } from '../support/readme';

/** tsc diagnostics of `source` compiled as `<pkg.dir>/<name>.ts`, formatted; [] when it compiles. */
function compile(pkg: BuiltPackage, name: string, source: string, resolution: 'node16' | 'node10' = 'node16'): string[] {
  const file = join(pkg.dir, `${name}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    // node10 (TypeScript's old `node` resolution) ignores `exports`: typesVersions must map the subpaths.
    module: resolution === 'node16' ? ts.ModuleKind.Node16 : ts.ModuleKind.CommonJS,
    moduleResolution: resolution === 'node16' ? ts.ModuleResolutionKind.Node16 : ts.ModuleResolutionKind.Node10,
    ignoreDeprecations: '6.0',
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(pkg.dir, 'node_modules', '@types')],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('README runtime-side example', () => {
  let pkg: BuiltPackage;
  beforeAll(() => {
    pkg = buildPackage();
  }, 120_000);
  afterAll(() => pkg?.dispose());

  it('compiles against the built package (cdk-sessions/runtime + cdk-sessions/runtime/redis)', () => {
    const source = readmeExample('runtime-side');
    expect(source).toMatch(/from 'cdk-sessions\/runtime\/redis'/);
    expect(compile(pkg, 'readme-runtime-side', source)).toEqual([]);
  }, 60_000);

  it("every other runtime example of the README (marked runtime-*) compiles too", () => {
    const others = [...readmeExamples()].filter(([name]) => name.startsWith('runtime-') && name !== 'runtime-side');
    expect(others.map(([name]) => name)).toContain('runtime-manager');
    for (const [name, source] of others) expect({ name, diagnostics: compile(pkg, `readme-${name}`, source) }).toEqual({ name, diagnostics: [] });
  }, 60_000);

  it('a project on the older node10 resolution finds every runtime subpath\'s types through typesVersions', () => {
    const source = [
      `import { SessionManager } from 'cdk-sessions/runtime';`,
      ...['redis', 'dynamodb', 's3', 'memcached', 'postgres'].map((s) => `import * as ${s} from 'cdk-sessions/runtime/${s}';`),
      `import { createJwtRuntime } from 'cdk-sessions/runtime/jwt';`,
      `import { createApp } from 'cdk-sessions/runtime/app';`,
      `export const all: unknown[] = [SessionManager, redis.redisStoreFactory, dynamodb.dynamoDbStoreFactory, s3.s3StoreFactory, memcached.memcachedStoreFactory, postgres.postgresStoreFactory, createJwtRuntime, createApp];`,
    ].join('\n');
    expect(compile(pkg, 'node10', source, 'node10')).toEqual([]);
  }, 60_000);

  it('and the check can fail: a store class the core no longer exports is a compile error', () => {
    expect(compile(pkg, 'wrong', `import { RedisStore } from 'cdk-sessions/runtime';\nexport const s: unknown = RedisStore;\n`).join('\n')).toMatch(/RedisStore/);
  }, 60_000);
});
