import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * Flattens a resolved CloudFormation value the way cdk-nag names IAM5 findings
 * (`<Logical.Attr>` for Fn::GetAtt, `<Logical>` for Ref, Fn::Join joined). Kept here so that the
 * library does not depend on cdk-nag at run time.
 */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return (items as unknown[]).map(flatten).join(delimiter);
  }
  if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
  if (o['Fn::GetAtt']) return `<${flatten(o['Fn::GetAtt'][0])}.${flatten(o['Fn::GetAtt'][1])}>`;
  if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
  if (o.Ref) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * Acknowledges the cdk-nag `AwsSolutions-IAM5[Resource::…]` finding that a store's grant of a
 * key-prefix wildcard (`<bucket>/sessions/*`) raises on the grantee's policy: on that policy
 * (the role's DefaultPolicy) only, for that one resource string only, with the reason.
 * Does nothing when the grantee is not a construct or the ARN has no wildcard.
 */
export function acknowledgePrefixWildcard(grantee: iam.IGrantable, resourceArn: string, reason: string): void {
  const principal = grantee.grantPrincipal as unknown;
  if (!Construct.isConstruct(principal as IConstruct)) return;
  const construct = principal as IConstruct;
  const target = construct.node.tryFindChild('DefaultPolicy') ?? construct;
  const rendered = flatten(Stack.of(target).resolve(resourceArn));
  if (!rendered.includes('*')) return;
  Validations.of(target).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}
