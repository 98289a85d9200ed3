/** Shared fixtures of the store construct tests: app, VPC, consumer, and cdk-nag findings. */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ISessionStoreConsumer } from '../../../lib/core/session-store';

export const ENV = { account: '111111111111', region: 'eu-west-1' };

/** An app that skips bundling, optionally with the AwsSolutions pack as a validation plugin. */
export function newApp(opts: { nag?: boolean } = {}): App {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

export function newStack(app: App = newApp(), id = 'Test'): Stack {
  return new Stack(app, id, { env: ENV });
}

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
