import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeGuard, acknowledgeLogGroupDefaults } from '../core/guard';

/** The `existingVpc` / `vpcProps` pair every construct that may create a VPC accepts. */
export interface VpcChoice {
  /**
   * A VPC to use.
   * @default - a new VPC from `vpcProps`
   */
  readonly existingVpc?: ec2.IVpc;
  /**
   * Shape of the new VPC. Not allowed together with `existingVpc`.
   * @default - 2 AZs, public + private-with-egress subnets, one NAT gateway, flow logs to CloudWatch Logs
   */
  readonly vpcProps?: ec2.VpcProps;
}

/** Problems with a {@link VpcChoice}. */
export function validateVpcChoice(c: VpcChoice): string[] {
  return c.existingVpc && c.vpcProps ? ['existingVpc and vpcProps are mutually exclusive: give one or neither'] : [];
}

/**
 * A VPC for session workloads: 2 AZs, public subnets for the load balancer (no public IPs
 * assigned on launch there: only the load balancer and the NAT gateway live in them, each with its
 * own addresses), private subnets with egress (one NAT gateway by default) for instances and
 * VPC-attached functions, and flow logs of all traffic to a CloudWatch log group kept for 3 months.
 */
export function createSessionVpc(scope: Construct, id: string, vpcProps: ec2.VpcProps = {}): ec2.Vpc {
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
  const logGroup = new logs.LogGroup(vpc, 'FlowLogsLogGroup', { retention, removalPolicy: RemovalPolicy.DESTROY });
  acknowledgeLogGroupDefaults(logGroup, retention, 'the VPC flow logs (bring a VPC with existingVpc to keep them longer)');
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

/** `existingVpc`, or a new VPC (see {@link createSessionVpc}). */
export function resolveVpc(scope: Construct, id: string, c: VpcChoice): ec2.IVpc {
  return c.existingVpc ?? createSessionVpc(scope, id, c.vpcProps);
}
