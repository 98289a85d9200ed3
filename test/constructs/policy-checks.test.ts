/*
 * The policy checks `npx cdk synth` runs on every reference stack, in one synthesis of the
 * reference app (cfn-guard runs once per app, over all templates):
 * - cdk-nag's AwsSolutions pack,
 * - cfn-guard with the AWS Control Tower proactive-control rules (@cdklabs/cdk-validator-cfnguard),
 * - aws-cdk-lib's built-in CloudFormation rules (@aws/cloudformation-validate: resource schemas,
 *   cfn-lint-style checks), errors because cdk.json sets @aws-cdk/core:validateAgainstDefaultRules.
 * Each suite has a control that shows the check really runs and really fails.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { VALIDATE_AGAINST_DEFAULT_RULES } from 'aws-cdk-lib/cx-api';
import { addGuardChecks, addNagChecks, addReferenceStacks, ReferenceStacks } from '../../bin/nag';
import { FleetServer, RedisSessions, SessionConsumer } from '../../lib';
import { GUARD_PLUGIN } from '../../lib/core/guard';
import { cdkJsonContext, newApp } from './helpers';

type Resource = { constructPath?: string; cloudFormationResource?: { templatePath?: string; logicalId?: string } };
type Violation = { ruleName: string; severity: string; description: string; violatingConstructs?: Resource[] };
type Suppressed = Violation & { acknowledgedId: string; acknowledgedAt: string };
type PluginReport = { pluginName: string; conclusion: string; violations: Violation[]; suppressedViolations?: Suppressed[] };
type Report = { pluginReports: PluginReport[] };

const NAG = /AwsSolutions/i;
const CFN_VALIDATE = 'CloudFormation Validate';

/** Synthesizes; returns the thrown message (report included in test mode) and the report file. */
function synthWithReport(app: App): { error?: string; report: Report } {
  let error: string | undefined;
  try {
    app.synth({ force: true });
  } catch (e) {
    error = (e as Error).message;
  }
  const file = path.join(app.outdir, 'validation-report.json');
  const report: Report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { pluginReports: [] };
  return { error, report };
}

function pluginReports(report: Report, name: string | RegExp): PluginReport[] {
  return report.pluginReports.filter((p) => (typeof name === 'string' ? p.pluginName === name : name.test(p.pluginName)));
}

/** One line per violating resource: `rule: construct path (template logical id)`, so a new finding reads in the diff. */
function findings(report: Report, plugin: string | RegExp): string[] {
  return pluginReports(report, plugin)
    .flatMap((p) => p.violations)
    .flatMap((v) =>
      (v.violatingConstructs ?? [{}]).map(
        (c) => `${v.ruleName}: ${c.constructPath || '?'} (${c.cloudFormationResource?.templatePath ?? '?'} ${c.cloudFormationResource?.logicalId ?? '?'})`,
      ),
    )
    .sort();
}

/** Every acknowledgment of a rule in `namespace` recorded in the tree, as `rule @ construct path`. */
function acknowledgments(app: App, prefix: string): { id: string; path: string; node: unknown }[] {
  return app.node.findAll().flatMap((node) =>
    node.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Record<string, string>))
      .filter((id) => id.startsWith(prefix))
      .map((id) => ({ id, path: node.node.path, node })),
  );
}

describe('policy checks on the reference app (one synthesis, every reference stack)', () => {
  let app: App;
  let stacks: ReferenceStacks;
  let result: { error?: string; report: Report };

  beforeAll(() => {
    app = newApp({ flags: true });
    stacks = addReferenceStacks(app);
    addNagChecks(app);
    addGuardChecks(app);
    result = synthWithReport(app);
  });

  test('the reference app synthesizes all seven stacks with the checks on', () => {
    expect(result.error).toBeUndefined();
    expect(Object.values(stacks).map((s) => s.stackName).sort()).toEqual([
      'CdkSessions-DynamoDb',
      'CdkSessions-Jwt',
      'CdkSessions-Memcached',
      'CdkSessions-Rds',
      'CdkSessions-Redis',
      'CdkSessions-S3',
      'CdkSessions-Sticky',
    ]);
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding, error or warning', () => {
    expect(findings(result.report, NAG)).toEqual([]);
  });

  test('cfn-guard Control Tower rules: no unacknowledged finding on any stack', () => {
    expect(findings(result.report, GUARD_PLUGIN)).toEqual([]);
  });

  test('CloudFormation default rules: enforced as errors in this app, and no finding of any severity', () => {
    // The same context as `cdk synth` (cdk.json): without it, findings would only be warnings.
    expect(cdkJsonContext()[VALIDATE_AGAINST_DEFAULT_RULES]).toBe(true);
    expect(app.node.tryGetContext(VALIDATE_AGAINST_DEFAULT_RULES)).toBe(true);
    expect(process.env.CDK_VALIDATION).not.toBe('false');
    expect(findings(result.report, CFN_VALIDATE)).toEqual([]);
  });

  test('every cfn-guard acknowledgment still covers a finding (none is left over after a fix)', () => {
    const used = new Set(
      pluginReports(result.report, GUARD_PLUGIN)
        .flatMap((p) => p.suppressedViolations ?? [])
        .map((s) => `${s.acknowledgedId} @ ${s.acknowledgedAt}`),
    );
    const stale = acknowledgments(app, `${GUARD_PLUGIN}::`)
      .map((a) => `${a.id} @ ${a.path}`)
      .filter((a) => !used.has(a));
    expect(used.size).toBeGreaterThan(0);
    expect(stale).toEqual([]);
  });

  test('acknowledgments (cdk-nag and cfn-guard) sit on exact constructs, never on a stack or the app', () => {
    const all = [...acknowledgments(app, 'AwsSolutions-'), ...acknowledgments(app, `${GUARD_PLUGIN}::`)];
    const offenders = all.filter((a) => a.node === app || Object.values(stacks).includes(a.node as Stack)).map((a) => `${a.path}: ${a.id}`);
    // CDK itself acknowledges CloudFormation-Validate::W3010 on stacks; that is not ours.
    expect(all.length).toBeGreaterThan(0);
    expect(offenders).toEqual([]);
  });
});

describe("a team's own app: checks on what the library adds to it", () => {
  test('RedisSessions in the team VPC with certificate, domain, its own server and two connected consumers: no finding on the topology', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'team-server-'));
    fs.writeFileSync(path.join(dir, 'index.js'), 'require("node:http").createServer((q, s) => s.end()).listen(process.env.PORT);\n');
    try {
      const app = newApp({ flags: true });
      const stack = new Stack(app, 'Team');
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      const sessions = new RedisSessions(stack, 'Sessions', {
        vpc,
        certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc'),
        domainName: 'shop.example.com',
        domainZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }),
        server: FleetServer.fromAsset(dir, { startCommand: 'node index.js' }),
        addVpcEndpoints: true,
      });
      const fn = new lambda.Function(stack, 'Orders', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'), vpc });
      sessions.connect(SessionConsumer.fromFunction(fn));
      const td = new ecs.FargateTaskDefinition(stack, 'Task');
      td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24') });
      sessions.connect(SessionConsumer.fromFargateService(new ecs.FargateService(stack, 'Web', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc }), taskDefinition: td })));
      addNagChecks(app);
      addGuardChecks(app);
      const { report } = synthWithReport(app);
      const all = [...findings(report, NAG), ...findings(report, GUARD_PLUGIN)];
      // The team's own VPC, function and service have findings of their own: a control that the checks ran.
      expect(all.some((f) => f.includes('Team/Orders') || f.includes('Team/Vpc'))).toBe(true);
      expect(all.filter((f) => f.includes('Team/Sessions/'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('controls: each check runs and fails synthesis on a finding', () => {
  test('cdk-nag: a bucket that allows plain HTTP is an AwsSolutions-S10 finding', () => {
    const app = newApp({ flags: true });
    const stack = new Stack(app, 'Control');
    new s3.Bucket(stack, 'Plain', { enforceSSL: false });
    addNagChecks(app);
    const { error, report } = synthWithReport(app);
    expect(error ?? '').toMatch(/AwsSolutions-S10/);
    expect(findings(report, NAG)).toContainEqual(expect.stringMatching(/^AwsSolutions-S10: Control\/Plain\/Resource/));
  });

  test('cfn-guard: a bucket without KMS encryption fails synthesis, also when another finding is acknowledged; the acknowledgment clears only its rule on its bucket', () => {
    const app = newApp({ flags: true });
    const stack = new Stack(app, 'Control');
    new s3.Bucket(stack, 'Plain', { encryption: s3.BucketEncryption.S3_MANAGED });
    const acked = new s3.Bucket(stack, 'Acked', { encryption: s3.BucketEncryption.S3_MANAGED });
    Validations.of(acked).acknowledge({ id: `${GUARD_PLUGIN}::s3_bucket_default_encryption_kms_check`, reason: 'control' });
    addGuardChecks(app);
    const { error, report } = synthWithReport(app);
    expect(error).toBeDefined();
    const found = findings(report, GUARD_PLUGIN);
    expect(found).toContainEqual(expect.stringMatching(/^s3_bucket_default_encryption_kms_check: Control\/Plain\/Resource/));
    expect(found).not.toContainEqual(expect.stringMatching(/^s3_bucket_default_encryption_kms_check: Control\/Acked\//));
    // Other rules still report the acknowledged bucket.
    expect(found).toContainEqual(expect.stringMatching(/^s3_bucket_versioning_enabled_check: Control\/Acked\/Resource/));
  });

  test('CloudFormation default rules: a property outside the resource schema fails synthesis with the flag, only warns without it', () => {
    const build = (context: Record<string, unknown>) => {
      const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
      new CfnResource(new Stack(app, 'Control'), 'Bad', { type: 'AWS::SQS::Queue', properties: { VisibilityTimeout: 30, NoSuchProperty: true } });
      return synthWithReport(app);
    };
    const enforced = build(cdkJsonContext());
    expect(enforced.error ?? '').toMatch(/NoSuchProperty/);
    expect(findings(enforced.report, CFN_VALIDATE)).toContainEqual(expect.stringMatching(/Control\/Bad/));

    const { [VALIDATE_AGAINST_DEFAULT_RULES]: _flag, ...withoutFlag } = cdkJsonContext();
    const lenient = build(withoutFlag);
    expect(lenient.error).toBeUndefined();
    expect(pluginReports(lenient.report, CFN_VALIDATE).flatMap((p) => p.violations.map((v) => v.severity))).toEqual(['warning']);
  });
});
