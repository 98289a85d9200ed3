import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeGuard, acknowledgeLogGroupDefaults } from '../core/guard';

/**
 * Where a construct places its compute: the `vpc` / `vpcProps` / `vpcSubnets` trio of every
 * construct of this library that runs instances or VPC-attached functions.
 */
export interface SessionVpcProps {
  /**
   * The VPC to run in. A VPC you pass in stays yours: the topologies add no VPC endpoint to it
   * unless asked (`addVpcEndpoints`); an `InstanceFleet` never adds one. It needs public subnets
   * for the load balancer and private ones for the instances.
   * @default - a new VPC shaped by `vpcProps`
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Shape of the new VPC. Not allowed together with `vpc`.
   * @default - 2 AZs, public + private-with-egress subnets, one NAT gateway, flow logs to CloudWatch Logs
   */
  readonly vpcProps?: ec2.VpcProps;
  /**
   * The subnets the instances and the VPC-attached function run in (never public ones; the load
   * balancer always takes the public subnets). Isolated subnets need VPC endpoints for everything
   * the instances reach: S3 (dnf repositories and the server bundle), Secrets Manager,
   * CloudFormation (the boot signal), and the store's own API.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Problems with a {@link SessionVpcProps} (the VPC itself is checked by {@link selectComputeSubnets}). */
export function validateVpcChoice(c: SessionVpcProps): string[] {
  return c.vpc && c.vpcProps ? ['vpc and vpcProps are mutually exclusive: give one or neither'] : [];
}

/** The default of `vpcSubnets`: private with egress, else isolated, else none (a problem). */
export function defaultComputeSubnets(vpc: ec2.IVpc): ec2.SubnetSelection | undefined {
  if (vpc.privateSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  if (vpc.isolatedSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  return undefined;
}

/**
 * The subnets compute runs in: `selection`, or {@link defaultComputeSubnets}. Collects a problem
 * (instead of CDK's bare error) when the VPC has no private subnets, when the selection fails or
 * selects none, or when it selects public subnets. Returns the selection to pass on.
 */
export function selectComputeSubnets(problems: string[], vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined): ec2.SubnetSelection {
  const chosen = selection ?? defaultComputeSubnets(vpc);
  if (chosen === undefined) {
    problems.push(`${vpc.node.path} has no private subnets (with egress or isolated): instances and functions never run in public subnets; give a VPC with private subnets`);
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
  try {
    const subnets = vpc.selectSubnets(chosen).subnets;
    const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
    if (subnets.length === 0) problems.push('vpcSubnets selects no subnets');
    if (subnets.some((s) => publicIds.has(s.subnetId))) problems.push('vpcSubnets must select private subnets only, not public ones');
  } catch (e) {
    problems.push(`vpcSubnets cannot be selected in ${vpc.node.path}: ${(e as Error).message}`);
  }
  return chosen;
}

/**
 * A VPC for session workloads: 2 AZs, public subnets for the load balancer (no public IPs
 * assigned on launch there: only the load balancer and the NAT gateway live in them, each with its
 * own addresses), private subnets with egress (one NAT gateway by default) for instances and
 * VPC-attached functions, and flow logs of all traffic to a CloudWatch log group kept for 3 months.
 */
export function createSessionVpc(scope: Construct, id: string, vpcProps: ec2.VpcProps = {}, removalPolicy: RemovalPolicy = RemovalPolicy.DESTROY): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, id, {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    ...vpcProps,
  });
  const retention = logs.RetentionDays.THREE_MONTHS;
  const logGroup = new logs.LogGroup(vpc, 'FlowLogsLogGroup', { retention, removalPolicy: removalPolicy === RemovalPolicy.SNAPSHOT ? RemovalPolicy.RETAIN : removalPolicy });
  acknowledgeLogGroupDefaults(logGroup, retention, 'the VPC flow logs (bring a VPC with `vpc` to keep them longer)');
  vpc.addFlowLog('FlowLogs', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  // CDK's own provider that empties the default security group (@aws-cdk/aws-ec2:restrictDefaultSecurityGroup).
  const restrictDefaultSg = Stack.of(vpc).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  if (restrictDefaultSg) {
    acknowledgeGuard(
      restrictDefaultSg,
      'lambda_inside_vpc_check',
      "aws-cdk-lib's provider that removes the default security group's rules at deploy time: it only calls the EC2 " +
        'API (RevokeSecurityGroupIngress/Egress on that one group), holds no data and reaches nothing inside the VPC.',
    );
  }
  return vpc;
}

/** `vpc`, or a new VPC (see {@link createSessionVpc}). */
export function resolveVpc(scope: Construct, id: string, c: SessionVpcProps, removalPolicy?: RemovalPolicy): ec2.IVpc {
  return c.vpc ?? createSessionVpc(scope, id, c.vpcProps, removalPolicy);
}
