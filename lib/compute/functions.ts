/*
 * What every Lambda function of this library shares: its code comes from this package's
 * `lambda/` sources, bundled the same way, and its role writes only its own log group.
 * Not exported from the package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NODE_TARGET, runtimeRoot } from './runtime-assets';

/** The newest Node.js Lambda runtime this aws-cdk-lib knows. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** What differs between the functions of {@link runtimeFunctionProps}. */
export interface RuntimeFunctionOptions {
  /**
   * Environment variables besides NODE_OPTIONS.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * esbuild options besides the shared ones (they win over those).
   * @default - none
   */
  readonly bundling?: nodejs.BundlingOptions;
}

/**
 * The props of a function whose code is `entry` (a runtime entry point, see `runtimeEntry`):
 * handler `handler`, Node.js 24 on ARM64, JSON logs, source maps on, and one minified CommonJS
 * bundle without the AWS SDK v3 the Lambda runtime ships, built by esbuild on this machine
 * against the package's lock file.
 */
export function runtimeFunctionProps(entry: string, options: RuntimeFunctionOptions = {}): nodejs.NodejsFunctionProps {
  const root = runtimeRoot(entry);
  const lockFile = path.join(root, 'package-lock.json');
  const hasLock = fs.existsSync(lockFile);
  return {
    entry,
    handler: 'handler',
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    projectRoot: hasLock ? root : undefined,
    depsLockFilePath: hasLock ? lockFile : undefined,
    // SDK v3 reuses connections by itself; the env var is for SDK v2 only.
    awsSdkConnectionReuse: false,
    // Stack traces through the minified bundle.
    environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
    bundling: {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: NODE_TARGET,
      format: nodejs.OutputFormat.CJS,
      // The runtime ships AWS SDK v3: leave it out of the bundle (smaller, faster cold starts).
      bundleAwsSDK: false,
      forceDockerBundling: false,
      legalComments: 'none',
      logLevel: nodejs.LogLevel.ERROR,
      ...options.bundling,
    } as nodejs.BundlingOptions,
  };
}

/**
 * A role for a Lambda function that may write to `logGroup` and nothing else yet: an own role
 * instead of AWSLambdaBasicExecutionRole, whose log writes go to any log group.
 */
export function createFunctionRole(scope: Construct, id: string, description: string, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  return role;
}

/**
 * Lets a function's role attach the function to a VPC (AWSLambdaVPCAccessExecutionRole) and
 * acknowledges cdk-nag's IAM4 finding on that one managed policy, on that role only.
 *
 * @param purpose why the function is in the VPC, e.g. "to reach the database in its VPC"
 */
export function addVpcAccess(role: iam.Role, purpose: string): void {
  role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason:
      `Lambda needs ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface ${purpose}; ` +
      'these actions take no resource-level restriction and AWS maintains this minimal policy.',
  });
}
