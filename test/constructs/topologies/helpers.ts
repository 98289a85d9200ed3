import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** The feature flags the reference app runs with (cdk.json), so tests see what `cdk synth` makes. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

/** An app with cdk.json's flags that skips bundling (unit tests). */
export function unitApp(): App {
  return new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
}

export function stackIn(app: App = unitApp()): Stack {
  return new Stack(app, 'Test');
}

export function tgAttributes(template: Template): Record<string, string> {
  const tgs = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
  expect(tgs).toHaveLength(1);
  const attrs = (tgs[0].Properties.TargetGroupAttributes ?? []) as { Key: string; Value: string }[];
  return Object.fromEntries(attrs.map((a) => [a.Key, a.Value]));
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Every statement of every inline policy in the template. */
export function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Fails on `"*"` actions, `service:*` actions, or `"*"` resources in inline policies. */
export function expectNoServiceWideWildcards(template: Template): void {
  for (const s of policyStatements(template)) {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    for (const a of actions) expect(a).not.toMatch(/^\*$|^[a-z0-9-]+:\*$/);
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const r of resources) expect(r).not.toEqual('*');
  }
}

export function actionsOf(template: Template): string[] {
  return policyStatements(template).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
