/** Shared fixtures of the construct tests: apps and stacks, VPC and consumer, template queries, props errors, cdk-nag findings. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../../lib/core/session-store';
import { PropsValidationError } from '../../lib/core/validate';

// ---- apps and stacks ------------------------------------------------------------------------

export const ENV = { account: '111111111111', region: 'eu-west-1' };

/** The feature flags the reference app runs with (cdk.json), so tests see what `cdk synth` makes. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

/**
 * An app that skips bundling (unit tests); with `flags`, with cdk.json's feature flags too; with
 * `nag`, with the AwsSolutions pack as a validation plugin.
 */
export function newApp(opts: { flags?: boolean; nag?: boolean } = {}): App {
  const app = new App({ context: { ...(opts.flags ? cdkJsonContext() : {}), 'aws:cdk:bundling-stacks': [] } });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** A stack in a fixed account and region. */
export function newStack(app: App = newApp(), id = 'Test'): Stack {
  return new Stack(app, id, { env: ENV });
}

/** An environment-agnostic stack `Test`, like the reference stacks. */
export function agnosticStack(app: App = newApp()): Stack {
  return new Stack(app, 'Test');
}

/** An environment-agnostic stack in an app with cdk.json's feature flags: what `cdk synth` makes of a topology. */
export function topologyStack(): Stack {
  return agnosticStack(newApp({ flags: true }));
}

/** A topology made by `make` in a {@link topologyStack}, with that stack and its template. */
export function synthTopology<T>(make: (stack: Stack) => T): { stack: Stack; topology: T; template: Template } {
  const stack = topologyStack();
  const topology = make(stack);
  return { stack, topology, template: Template.fromStack(stack) };
}

// ---- VPC, consumer, bound store ---------------------------------------------------------------

/** A two-AZ VPC with public, private-with-egress and isolated subnets (one NAT gateway). */
export function newVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  Validations.of(vpc).acknowledge({
    id: 'AwsSolutions-VPC7',
    reason: 'Test fixture VPC: flow logs belong to whoever owns the VPC; the stores only place resources in it.',
  });
  return vpc;
}

/** A consumer made of a role and, when a VPC is given, a security group in it. */
export function newConsumer(stack: Stack, id: string, vpc?: ec2.IVpc): ISessionStoreConsumer & { role: iam.Role; securityGroup?: ec2.SecurityGroup } {
  const role = new iam.Role(stack, `${id}Role`, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const securityGroup = vpc ? new ec2.SecurityGroup(stack, `${id}Sg`, { vpc, allowAllOutbound: false }) : undefined;
  return {
    role,
    securityGroup,
    grantPrincipal: role,
    connections: securityGroup ? new ec2.Connections({ securityGroups: [securityGroup] }) : undefined,
  };
}

/** A store bound to consumer `App`, in a new stack (and VPC, for a store inside one), with the template. */
export interface BoundStore<S extends ISessionStore> {
  readonly stack: Stack;
  readonly store: S;
  readonly consumer: ReturnType<typeof newConsumer>;
  readonly binding: SessionStoreBinding;
  readonly template: Template;
}

/** {@link BoundStore} for a store reached through its AWS API: the consumer has no VPC. */
export function boundStore<S extends ISessionStore>(make: (stack: Stack) => S): BoundStore<S> {
  const stack = newStack();
  const store = make(stack);
  const consumer = newConsumer(stack, 'App');
  const binding = store.bind(consumer);
  return { stack, store, consumer, binding, template: Template.fromStack(stack) };
}

/** {@link BoundStore} for a store inside a VPC ({@link newVpc}); the consumer runs in it. */
export function boundVpcStore<S extends ISessionStore>(make: (stack: Stack, vpc: ec2.Vpc) => S): BoundStore<S> & { vpc: ec2.Vpc } {
  const stack = newStack();
  const vpc = newVpc(stack);
  const store = make(stack, vpc);
  const consumer = newConsumer(stack, 'App', vpc);
  const binding = store.bind(consumer);
  return { stack, vpc, store, consumer, binding, template: Template.fromStack(stack) };
}

// ---- template queries -------------------------------------------------------------------------

/** Every IAM policy statement in the template, flattened, with multi-action lists sorted. */
export function policyStatements(template: { findResources(type: string): Record<string, any> }): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((r: any) => r.Properties.PolicyDocument.Statement)
    .map((s: any) => (Array.isArray(s.Action) ? { ...s, Action: [...s.Action].sort() } : s));
}

/** Actions of a statement as an array. */
export function actionsOf(statement: any): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every action of every inline policy in the template. */
export function policyActions(template: Template): string[] {
  return policyStatements(template).flatMap(actionsOf);
}

/** Fails on `"*"` actions, `service:*` actions, or `"*"` resources in inline policies. */
export function expectNoServiceWideWildcards(template: Template): void {
  for (const s of policyStatements(template)) {
    for (const a of actionsOf(s)) expect(a).not.toMatch(/^\*$|^[a-z0-9-]+:\*$/);
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const r of resources) expect(r).not.toEqual('*');
  }
}

/** The attributes of the template's one target group, by key. */
export function tgAttributes(template: Template): Record<string, string> {
  const tgs = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
  expect(tgs).toHaveLength(1);
  const attrs = (tgs[0].Properties.TargetGroupAttributes ?? []) as { Key: string; Value: string }[];
  return Object.fromEntries(attrs.map((a) => [a.Key, a.Value]));
}

/** The properties of every security group ingress rule in the template. */
export function ingressRules(template: Template): any[] {
  return Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
}

/** The source security groups of `rules`, each as JSON (to match a logical id in it). */
export function ingressSources(rules: any[]): string[] {
  return rules.map((p) => JSON.stringify(p.SourceSecurityGroupId));
}

/** Expects a source named like each of `groups` (security group construct ids) among `sources`. */
export function expectSourcesFrom(sources: string[], groups: string[]): void {
  expect(sources).toEqual(expect.arrayContaining(groups.map((g) => expect.stringContaining(g))));
}

/** Sources admitted to the Secrets Manager interface endpoint (HTTPS). */
export function secretsEndpointSources(template: Template): string[] {
  return ingressSources(ingressRules(template).filter((p) => p.FromPort === 443 && JSON.stringify(p.GroupId).includes('SecretsManagerEndpoint')));
}

/** Instances as every fleet makes them: IMDSv2, encrypted root volume, /healthz target health check. */
export function expectHardenedInstances(template: Template): void {
  template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
    LaunchTemplateData: Match.objectLike({
      MetadataOptions: Match.objectLike({ HttpTokens: 'required' }),
      BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
    }),
  });
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/healthz' });
}

/** A topology with a store in a VPC: the template has one VPC, and store, fleet and function all use it. */
export function expectOneSharedVpc(template: Template, t: { vpc: ec2.IVpc; store: { vpc?: ec2.IVpc }; fleet: { vpc: ec2.IVpc }; api: { vpc?: ec2.IVpc } }): void {
  template.resourceCountIs('AWS::EC2::VPC', 1);
  expect(t.fleet.vpc).toBe(t.vpc);
  expect(t.store.vpc).toBe(t.vpc);
  expect(t.api.vpc).toBe(t.vpc);
}

// ---- props errors -----------------------------------------------------------------------------

/** The message of the error `fn` throws; '' when it throws none (so a `toContain` on it fails). */
export function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

/** Expects `fn` to throw one error whose message names every part. */
export function expectAllReported(fn: () => unknown, parts: string[]): void {
  const message = thrownMessage(fn);
  for (const part of parts) expect(message).toContain(part);
}

/**
 * Expects `fn` to throw one {@link PropsValidationError} whose problems are exactly `expected`:
 * each pattern matches a problem, and there are no others. Returns the error.
 */
export function expectProblems(fn: () => unknown, expected: RegExp[]): PropsValidationError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PropsValidationError);
  const problems = (error as PropsValidationError).problems;
  for (const re of expected) expect(problems).toContainEqual(expect.stringMatching(re));
  expect(problems).toHaveLength(expected.length);
  return error as PropsValidationError;
}

// ---- cdk-nag ----------------------------------------------------------------------------------

export interface NagFinding {
  readonly rule: string;
  readonly path: string;
  readonly severity: string;
}

/**
 * Synthesizes the app (which must carry the AwsSolutions plugin) and returns every finding the
 * policy-validation report lists. cdk-nag 3 fails the synth with the report as the message
 * when there are errors; warnings only show in the report, so the report file is what is read.
 */
export function nagFindings(app: App): NagFinding[] {
  let thrown: unknown;
  try {
    app.synth({ force: true });
  } catch (e) {
    thrown = e;
  }
  const file = path.join(app.outdir, 'validation-report.json');
  const report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { pluginReports: [] };
  const findings: NagFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const v of plugin.violations ?? []) {
      for (const c of v.violatingConstructs ?? []) findings.push({ rule: v.ruleName, path: c.constructPath, severity: v.severity });
    }
  }
  if (thrown && findings.length === 0) throw thrown;
  return findings;
}

/** The findings of {@link nagFindings} for what `build` makes in stack `Test` of an app with cdk-nag. */
export function nagFindingsOf(build: (stack: Stack) => void): NagFinding[] {
  const app = newApp({ nag: true });
  build(newStack(app));
  return nagFindings(app);
}

/** {@link nagFindingsOf} a store made by `make` in a VPC ({@link newVpc}) and bound to a consumer `App` in it. */
export function nagFindingsOfVpcStore(make: (stack: Stack, vpc: ec2.Vpc) => ISessionStore): NagFinding[] {
  return nagFindingsOf((stack) => {
    const vpc = newVpc(stack);
    make(stack, vpc).bind(newConsumer(stack, 'App', vpc));
  });
}

/** Ids of the rules acknowledged on `construct` itself (`Validations.of(construct).acknowledge`). */
export function acknowledgedRules(construct: { node: { metadata: { type: string; data: any }[] } }): string[] {
  return construct.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m) => Object.keys(m.data as Record<string, string>));
}

// ---- ElastiCache AUTH tokens ------------------------------------------------------------------

/**
 * What ElastiCache accepts in an AUTH token or RBAC password, as its documentation states it
 * (CreateReplicationGroup AuthToken): printable ASCII, 16-128 characters, and of the non
 * alphanumeric characters only ! & # $ ^ < > -. Written out here, not imported, so the test
 * checks the library against the documentation rather than against itself.
 */
export const ELASTICACHE_ALLOWED = new Set([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!&#$^<>-']);

/**
 * Fails unless every token a Secrets Manager GenerateSecretString can produce is a valid
 * ElastiCache AUTH token: the characters it may draw (printable ASCII, space only with
 * IncludeSpace, minus ExcludeCharacters and the Exclude* classes) are a subset of
 * {@link ELASTICACHE_ALLOWED}, and PasswordLength is within 16-128.
 */
export function expectElastiCacheSafeGenerator(gen: Record<string, unknown>): void {
  const excluded = new Set([...String(gen.ExcludeCharacters ?? '')]);
  const classes: Record<string, RegExp> = { ExcludeUppercase: /[A-Z]/, ExcludeLowercase: /[a-z]/, ExcludeNumbers: /[0-9]/, ExcludePunctuation: /[^A-Za-z0-9 ]/ };
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
  const drawable = printable.filter(
    (c) => !excluded.has(c) && (c !== ' ' || gen.IncludeSpace === true) && !Object.entries(classes).some(([k, re]) => gen[k] === true && re.test(c)),
  );
  expect(drawable.filter((c) => !ELASTICACHE_ALLOWED.has(c))).toEqual([]);
  expect(drawable.length).toBeGreaterThanOrEqual(62); // letters and digits at least: the token keeps its entropy
  const length = (gen.PasswordLength as number | undefined) ?? 32; // Secrets Manager's default length
  expect(length).toBeGreaterThanOrEqual(16);
  expect(length).toBeLessThanOrEqual(128);
}

// ---- a team's own consumers -------------------------------------------------------------------

/** A team's own Lambda function (inline code, nothing to bundle), in `vpc` when given. */
export function userFunction(stack: Stack, id: string, vpc?: ec2.IVpc): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    vpc,
  });
}

/** The environment variables of the function whose logical id starts with `logicalIdPrefix`. */
export function envOf(template: Template, logicalIdPrefix: string): Record<string, unknown> {
  const fns = template.findResources('AWS::Lambda::Function');
  const id = Object.keys(fns).find((k) => k.startsWith(logicalIdPrefix))!;
  return fns[id].Properties.Environment.Variables;
}
