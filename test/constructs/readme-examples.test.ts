/**
 * The README's CDK examples, read from README.md itself:
 *
 * - "Add sessions to your app", CDK side (the ```ts block after `<!-- example: cdk-side -->`):
 *   type-checks, strict, with `cdk-sessions` resolved to this library (lib/index.ts) and
 *   aws-cdk-lib and constructs from this repository; and synthesizes: the test gives it what a
 *   team's stack has (its VPC, a certificate, a Lambda function and a Fargate service in that VPC)
 *   and checks what the README says `connect()` does.
 * - each topology's snippet (`cdk-*`): type-checks in a reader's stack (`stack`, `vpc`, … declared).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ts from 'typescript';
import { README, readmeExample, readmeExamples, replaceReadmeBlock } from '../support/readme';
import { newApp } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');

/** The last program: the next one reuses its unchanged files (the library, aws-cdk-lib), which halves the second check. */
let previous: ts.Program | undefined;

/** tsc diagnostics of each source as `<dir>/<name>.ts`, one program, `cdk-sessions` mapped to lib/; [] when they compile. */
function typecheck(dir: string, sources: { [name: string]: string }): string[] {
  const files = Object.entries(sources).map(([name, source]) => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, source);
    return file;
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noImplicitReturns: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    paths: { 'cdk-sessions': [path.join(ROOT, 'lib', 'index.ts')] },
  };
  const program = ts.createProgram(files, options, ts.createCompilerHost(options), previous);
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.relative(dir, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/**
 * What the README's short construct snippets (`cdk-*` besides `cdk-side`) take as given, as a
 * reader's stack has them: `stack`, `vpc`, `certificate`, and two Lambda functions.
 */
const SNIPPET_SCOPE = [
  "declare const stack: import('aws-cdk-lib').Stack;",
  "declare const vpc: import('aws-cdk-lib/aws-ec2').IVpc;",
  "declare const certificate: import('aws-cdk-lib/aws-certificatemanager').ICertificate;",
  "declare const loginFunction: import('aws-cdk-lib/aws-lambda').Function;",
  "declare const apiFunction: import('aws-cdk-lib/aws-lambda').Function;",
  'export {};',
  '',
].join('\n');

/** Runs the example as CommonJS in this process, `cdk-sessions` being this library; returns its exports. */
function load(source: string): Record<string, unknown> {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
  const module = { exports: {} as Record<string, unknown> };
  const requireShim = (id: string): unknown => (id === 'cdk-sessions' ? require('../../lib') : require(id));
  new Function('require', 'module', 'exports', js)(requireShim, module, module.exports);
  return module.exports;
}

describe('README: the CDK examples', () => {
  let dir: string;
  let cwd: string;
  beforeAll(() => {
    // The example's asset paths are relative, as in a CDK app: run it in a directory that has them.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-cdk-side-'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 'server', 'dist'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'server', 'dist', 'server.js'), 'require("node:http").createServer((q, s) => s.end("ok")).listen(process.env.PORT);\n');
    cwd = process.cwd();
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the README marks its examples, each once', () => {
    expect([...readmeExamples().keys()]).toEqual(expect.arrayContaining(['cdk-side', 'runtime-side']));
  });

  test('type-checks (strict) against the library', () => {
    expect(typecheck(dir, { 'cdk-side': readmeExample('cdk-side') })).toEqual([]);
  }, 120_000);

  test('and the check can fail: a prop the topology does not have is a compile error', () => {
    const broken = readmeExample('cdk-side').replace('certificate, //', 'existingVpc: vpc, certificate, //');
    expect(broken).not.toEqual(readmeExample('cdk-side'));
    expect(typecheck(dir, { broken }).join('\n')).toMatch(/existingVpc/);
  }, 120_000);

  test("every topology's snippet (marked cdk-*) type-checks in a reader's stack", () => {
    const snippets = Object.fromEntries([...readmeExamples()].filter(([name]) => name.startsWith('cdk-') && name !== 'cdk-side').map(([name, source]) => [name, SNIPPET_SCOPE + source]));
    expect(Object.keys(snippets).sort()).toEqual(['cdk-dynamodb', 'cdk-jwt', 'cdk-memcached', 'cdk-monitoring', 'cdk-postgres', 'cdk-redis', 'cdk-s3', 'cdk-sticky']);
    expect(typecheck(dir, snippets)).toEqual([]);
  }, 120_000);

  test("synthesizes in a team's stack: the function and the service get the environment, the grants and the cache port; the team's VPC gets no endpoint", () => {
    const { addSessions } = load(readmeExample('cdk-side')) as { addSessions: (scope: Stack, parts: object) => { url: string } };
    const app = newApp({ flags: true });
    const stack = new Stack(app, 'Shop');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc');
    const orders = new lambda.Function(stack, 'Orders', { vpc, runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    task.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24') });
    const web = new ecs.FargateService(stack, 'Web', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc }), taskDefinition: task });

    const sessions = addSessions(stack, { vpc, certificate, orders, web });
    const template = Template.fromStack(stack);

    // Environment: the same store, cookie secret and settings on the function and on the container.
    const session = {
      SESSION_STORE: 'redis',
      SESSION_REDIS_URL: Match.anyValue(),
      SESSION_REDIS_AUTH_SECRET_ARN: Match.anyValue(),
      SESSION_COOKIE_SECRET_ARN: Match.anyValue(),
      SESSION_COOKIE_NAME: 'sid',
      SESSION_COOKIE_SECURE: 'true',
      SESSION_IDLE_TIMEOUT: '1800',
      SESSION_ABSOLUTE_TIMEOUT: '43200',
      SESSION_AUTH: 'cognito',
      NODE_ENV: 'production',
    };
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((r) => JSON.stringify(r.Properties.Role).includes('OrdersServiceRole'));
    expect(fn?.Properties.Environment.Variables).toEqual(expect.objectContaining(Object.fromEntries(Object.entries(session).filter(([, v]) => typeof v === 'string'))));
    const fnSecret = JSON.stringify(fn?.Properties.Environment.Variables.SESSION_COOKIE_SECRET_ARN);
    const container = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
    const containerEnv = Object.fromEntries((container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(containerEnv).toEqual(expect.objectContaining({ SESSION_STORE: 'redis', SESSION_COOKIE_NAME: 'sid', SESSION_AUTH: 'cognito' }));
    // One cookie secret: the topology's (a session made on the fleet is valid in the function and the service).
    expect(JSON.stringify(containerEnv.SESSION_COOKIE_SECRET_ARN)).toEqual(fnSecret);
    expect(fnSecret).toMatch(/SessionsCookieSecret/);

    // Grants: both roles may read the cookie secret and the AUTH token's secret.
    for (const role of ['OrdersServiceRole', 'TaskTaskRole']) {
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const secretReads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')).map((s) => JSON.stringify(s.Resource));
      expect(secretReads.some((r) => r.includes('SessionsCookieSecret'))).toBe(true);
      expect(secretReads.some((r) => r.includes('SessionsStore'))).toBe(true);
    }

    // Network: the cache's port open to the function's and the service's security groups.
    const cachePort = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId).includes('SessionsStore') && p.FromPort === 6380)
      .map((p) => JSON.stringify(p.SourceSecurityGroupId));
    expect(cachePort.some((s) => s.includes('OrdersSecurityGroup'))).toBe(true);
    expect(cachePort.some((s) => s.includes('WebSecurityGroup'))).toBe(true);

    // The team's VPC stays theirs: no interface or gateway endpoint added to it.
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    // HTTPS with the certificate; the fleet runs the team's server directory.
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Certificates: [{ CertificateArn: certificate.certificateArn }] });
    expect(sessions.url).toMatch(/^https:\/\//);
  }, 120_000);
});

describe("README: the generated cost tables (npm run bench -- cost --readme)", () => {
  test('replaceReadmeBlock swaps only what is between its markers, and refuses missing or doubled markers', () => {
    const doc = 'a\n<!-- x:begin -->\nold\n<!-- x:end -->\nb\n';
    expect(replaceReadmeBlock(doc, 'x', '| new |\n')).toBe('a\n<!-- x:begin -->\n| new |\n<!-- x:end -->\nb\n');
    expect(() => replaceReadmeBlock(doc, 'y', 'z')).toThrow(/y:begin/);
    expect(() => replaceReadmeBlock(doc + doc, 'x', 'z')).toThrow(/expected one/);
  });

  test('README holds each cost block once, filled by the benchmark (its command, a table)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    for (const name of ['topologies', 'units']) {
      const block = readme.split(`<!-- cost:${name}:begin -->`);
      expect(block).toHaveLength(2);
      const body = block[1].split(`<!-- cost:${name}:end -->`)[0];
      expect(body).toMatch(/^`npm run bench -- cost --readme`, \d{4}-\d\d-\d\dT/m);
      expect(body).toMatch(/^\| .*\$\d/m);
    }
  });
});
