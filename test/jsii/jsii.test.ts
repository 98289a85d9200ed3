/**
 * The construct half under jsii (issue 16), on a copy of the package in a temporary directory (so
 * that a build or a pack test running beside it never sees a half-written dist/ or .jsii):
 *
 * - `jsii` compiles lib/ with zero errors and no warning outside the ones listed here;
 * - the assembly (.jsii) holds every topology and every store, each with its props, and every
 *   property of every props/options struct is documented, with `@default` when it is optional;
 * - `jsii-pacmak --code-only` writes the Python sources (RedisSessions among them);
 * - API.md (jsii-docgen, as Construct Hub renders it) is the one the assembly makes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, run } from '../support/consumer-app';
import { PUBLIC_API } from '../package/public-api';

const BIN = (pkg: string, file: string) => path.join(REPO_ROOT, 'node_modules', pkg, 'bin', file);
const ENV = { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', npm_config_ignore_scripts: 'true', npm_config_loglevel: 'error' };

/**
 * Warnings jsii may print, and why each is accepted. Any other warning fails the test.
 * - JSII6 (x2): jsii asks for a devDependency on the lowest peer version (aws-cdk-lib 2.269.0,
 *   constructs 10.5.0); the repository tests with the current ones, and the pack test installs
 *   the lowest aws-cdk-lib in a consumer app instead.
 */
const ACCEPTED_WARNINGS = [/^warning JSII6: A "peerDependency" on "aws-cdk-lib"/, /^warning JSII6: A "peerDependency" on "constructs"/];

interface Docs {
  readonly summary?: string;
  readonly default?: string;
}
interface Property {
  readonly name: string;
  readonly optional?: boolean;
  readonly docs?: Docs;
  readonly type: unknown;
}
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly name: string;
  readonly datatype?: boolean;
  readonly docs?: Docs;
  readonly interfaces?: string[];
  readonly properties?: Property[];
  readonly initializer?: { readonly parameters?: { readonly name: string; readonly type: { readonly fqn?: string }; readonly optional?: boolean }[] };
}
interface Assembly {
  readonly name: string;
  readonly types: { [fqn: string]: JsiiType };
  readonly targets: { [language: string]: unknown };
}

let dir: string;
let compile: { status: number | null; output: string; seconds: number };
let assembly: Assembly;

/** A copy of what jsii reads: package.json, its tsconfig, README.md and lib/; node_modules linked. */
function stageProject(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sessions-jsii-'));
  for (const f of ['package.json', 'tsconfig.jsii.json', 'README.md']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(d, f));
  fs.cpSync(path.join(REPO_ROOT, 'lib'), path.join(d, 'lib'), { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(d, 'node_modules'), 'dir');
  return d;
}

beforeAll(() => {
  dir = stageProject();
  const started = Date.now();
  const r = require('node:child_process').spawnSync(process.execPath, [BIN('jsii', 'jsii')], { cwd: dir, env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  compile = { status: r.status, output: `${r.stdout}\n${r.stderr}`, seconds: (Date.now() - started) / 1000 };
  if (r.status === 0) assembly = JSON.parse(fs.readFileSync(path.join(dir, '.jsii'), 'utf8'));
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('jsii compiles the construct half', () => {
  test('with zero errors', () => {
    const errors = compile.output.split('\n').filter((l) => / - error JSII\d+|^error JSII|\[ERROR\]/.test(l));
    expect(errors).toEqual([]);
    expect(compile.status).toBe(0);
  });

  test('with no warning but the accepted ones (no reserved word in any target language)', () => {
    const warnings = compile.output.split('\n').filter((l) => /warning JSII\d+/.test(l));
    expect(warnings.filter((w) => !ACCEPTED_WARNINGS.some((a) => a.test(w)))).toEqual([]);
  });

  test('for Python, Java, .NET and Go, with the module names of package.json', () => {
    expect(assembly.targets).toEqual({
      js: { npm: 'cdk-sessions' },
      python: { module: 'cdk_sessions', distName: 'cdk-sessions' },
      java: { package: 'io.github.cdksessions', maven: { groupId: 'io.github.cdk-sessions', artifactId: 'cdk-sessions' } },
      dotnet: { namespace: 'CdkSessions', packageId: 'CdkSessions' },
      go: { moduleName: 'github.com/cdk-sessions/cdk-sessions-go' },
    });
  });
});

describe('the assembly', () => {
  const TOPOLOGIES = Object.keys(PUBLIC_API).filter((n) => PUBLIC_API[n] === 'class' && n.endsWith('Sessions'));
  const STORES = Object.keys(PUBLIC_API).filter((n) => PUBLIC_API[n] === 'class' && (n.endsWith('SessionStore') || n === 'JwtSessionKeys'));

  test('the lists are the seven topologies and six stores of the public API', () => {
    expect(TOPOLOGIES.sort()).toEqual(['DynamoDbSessions', 'JwtSessions', 'MemcachedSessions', 'RdsSessions', 'RedisSessions', 'S3Sessions', 'StickySessions']);
    expect(STORES.sort()).toEqual(['DynamoDbSessionStore', 'JwtSessionKeys', 'MemcachedSessionStore', 'PostgresSessionStore', 'RedisSessionStore', 'S3SessionStore']);
  });

  test('holds every public class, interface and enum of lib/index.ts, and nothing else', () => {
    const expected = Object.keys(PUBLIC_API).filter((n) => PUBLIC_API[n] !== 'constant');
    expect(Object.values(assembly.types).map((t) => t.name).sort()).toEqual(expected.sort());
  });

  test.each([...TOPOLOGIES, ...STORES])('%s is a documented construct whose props are its own documented struct', (name) => {
    const type = assembly.types[`cdk-sessions.${name}`];
    expect(type?.kind).toBe('class');
    expect(type.docs?.summary).toBeTruthy();
    const props = type.initializer?.parameters?.find((p) => p.name === 'props');
    expect(props?.type.fqn).toBe(`cdk-sessions.${name}Props`);
    const struct = assembly.types[props!.type.fqn!];
    expect([struct.fqn, struct.datatype]).toEqual([props!.type.fqn, true]);
    expect(undocumented(struct)).toEqual([]);
  });

  test('every property of every struct (props, options, attributes) is documented, with @default when optional', () => {
    const structs = Object.values(assembly.types).filter((t) => t.datatype);
    expect(structs.length).toBeGreaterThan(30);
    expect(structs.flatMap(undocumented)).toEqual([]);
  });

  test('SessionEnvVars and SessionStoreKind carry the seam to every language', () => {
    const vars = assembly.types['cdk-sessions.SessionEnvVars'];
    const redisUrl = vars.properties?.find((p) => p.name === 'REDIS_URL') as Property & { const?: boolean; static?: boolean };
    expect([redisUrl?.static, redisUrl?.const, redisUrl?.docs?.summary]).toEqual([true, true, expect.stringMatching(/redis:\/\//)]);
    const kinds = assembly.types['cdk-sessions.SessionStoreKind'] as JsiiType & { members: { name: string }[] };
    expect(kinds.members.map((m) => m.name)).toEqual(['MEMORY', 'REDIS', 'DYNAMODB', 'S3', 'MEMCACHED', 'POSTGRES', 'JWT']);
  });
});

/** `<struct>.<prop>: <what is missing>` for each property of `struct` or the structs it extends. */
function undocumented(struct: JsiiType): string[] {
  const missing: string[] = [];
  for (const p of struct.properties ?? []) {
    if (!p.docs?.summary) missing.push(`${struct.name}.${p.name}: no docs`);
    if (p.optional && p.docs?.default === undefined) missing.push(`${struct.name}.${p.name}: optional without @default`);
  }
  for (const parent of struct.interfaces ?? []) {
    if (parent.startsWith('cdk-sessions.')) missing.push(...undocumented(assembly.types[parent]));
  }
  return [...new Set(missing)];
}

describe('jsii-pacmak --code-only', () => {
  let out: string;
  beforeAll(() => {
    out = path.join(dir, 'dist-jsii');
    run(process.execPath, [BIN('jsii-pacmak', 'jsii-pacmak'), '--code-only', '--no-npmignore', '--targets', 'python', 'java', 'dotnet', 'go', '-o', out], { cwd: dir, env: ENV });
  }, 300_000);

  test('writes the Python sources: a module cdk_sessions with RedisSessions and RedisSessionStore', () => {
    const init = fs.readFileSync(path.join(out, 'python', 'src', 'cdk_sessions', '__init__.py'), 'utf8');
    expect(init).toMatch(/^class RedisSessions\(\s*SharedSessionTopology,\s*metaclass=jsii\.JSIIMeta,\s*jsii_type="cdk-sessions\.RedisSessions"/m);
    expect(init).toMatch(/^class SessionTopology\(\s*_constructs_\w+\.Construct,/m);
    expect(init).toMatch(/^class RedisSessionStore\(\s*_constructs_\w+\.Construct,/m);
    expect(init).toMatch(/^class RedisSessionsProps\(VpcStoreTopologyProps\):/m);
    expect(init).toMatch(/^class SessionStoreKind\(enum\.Enum\):/m);
    expect(fs.readdirSync(path.join(out, 'python', 'src', 'cdk_sessions', '_jsii'))).toContain(`cdk-sessions@${assemblyVersion()}.jsii.tgz`);
  });

  test('writes the Java, .NET and Go sources of RedisSessions under the configured names', () => {
    expect(fs.readFileSync(path.join(out, 'java', 'src', 'main', 'java', 'io', 'github', 'cdksessions', 'RedisSessions.java'), 'utf8')).toMatch(/^public class RedisSessions extends io\.github\.cdksessions\.SharedSessionTopology/m);
    expect(fs.readFileSync(path.join(out, 'dotnet', 'CdkSessions', 'CdkSessions', 'RedisSessions.cs'), 'utf8')).toMatch(/^namespace CdkSessions$/m);
    expect(fs.readFileSync(path.join(out, 'go', 'cdksessions', 'go.mod'), 'utf8')).toMatch(/^module github\.com\/cdk-sessions\/cdk-sessions-go\/cdksessions$/m);
    expect(fs.existsSync(path.join(out, 'go', 'cdksessions', 'RedisSessions.go'))).toBe(true);
  });
});

function assemblyVersion(): string {
  return (assembly as unknown as { version: string }).version;
}

describe('API.md', () => {
  test('is what jsii-docgen makes of the assembly (run npm run jsii && npm run docgen)', () => {
    run(process.execPath, [BIN('jsii-docgen', 'jsii-docgen'), '-o', 'API.md'], { cwd: dir, env: ENV });
    const made = fs.readFileSync(path.join(dir, 'API.md'), 'utf8');
    const committed = fs.readFileSync(path.join(REPO_ROOT, 'API.md'), 'utf8');
    expect(made === committed).toBe(true);
  }, 120_000);
});
