import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { addNagChecks, addReferenceStacks } from '../../bin/nag';
import { newApp } from './helpers';

type Violation = { ruleName: string; severity: string; description: string; violatingResources?: unknown[]; violatingConstructs?: unknown[] };
type Report = { pluginReports: { pluginName: string; conclusion: string; violations: Violation[] }[] };

/** Synthesizes; returns the thrown message (report included in test mode) and the report file. */
function synthWithReport(app: App): { error?: string; report?: Report } {
  try {
    const assembly = app.synth();
    const file = path.join(assembly.directory, 'validation-report.json');
    return { report: fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function nagViolations(report: Report | undefined): Violation[] {
  return (report?.pluginReports ?? []).filter((p) => /AwsSolutions/i.test(p.pluginName)).flatMap((p) => p.violations);
}

describe('cdk-nag AwsSolutions on the reference app', () => {
  test('every reference stack synthesizes with no unacknowledged finding, error or warning', () => {
    const app = newApp({ flags: true });
    const stacks = addReferenceStacks(app);
    addNagChecks(app);
    const { error, report } = synthWithReport(app);
    expect(error).toBeUndefined();
    expect(nagViolations(report).map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources ?? v.violatingConstructs)}`)).toEqual([]);
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

  test('the check really runs: an unacknowledged finding fails synthesis (control)', () => {
    const app = newApp({ flags: true });
    const stack = new Stack(app, 'Control');
    new s3.Bucket(stack, 'Plain', { enforceSSL: false });
    addNagChecks(app);
    const { error, report } = synthWithReport(app);
    const found = error ?? JSON.stringify(nagViolations(report));
    expect(found).toMatch(/AwsSolutions-S10/);
  });

  test('AwsSolutions acknowledgments sit on exact constructs, never on a stack or the app', () => {
    const app = newApp({ flags: true });
    const stacks = addReferenceStacks(app);
    const offenders: string[] = [];
    let acknowledgedSomewhere = 0;
    for (const node of app.node.findAll()) {
      const ids = node.node.metadata
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.keys(m.data as Record<string, string>))
        .filter((id) => id.includes('AwsSolutions-'));
      acknowledgedSomewhere += ids.length;
      if (ids.length > 0 && (node === app || Object.values(stacks).includes(node as Stack))) offenders.push(`${node.node.path}: ${ids}`);
    }
    expect(offenders).toEqual([]);
    // CDK itself acknowledges CloudFormation-Validate::W3010 on stacks; that is not ours and not nag's.
    expect(acknowledgedSomewhere).toBeGreaterThan(0);
  });
});
