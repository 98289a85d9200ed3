/*
 * What every Lambda function of this library shares: its code comes from this package's
 * `lambda/` sources, prebuilt per store (bundles.ts), and its role writes only its own log group.
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
import { findPrebuiltBundle, NODE_TARGET, packageEntryName, prebuiltBundleDir } from './bundles';
import { runtimeRoot } from './runtime-assets';

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
   * The store kind the function is bound to: its prebuilt bundle keeps only that store's code
   * (a user's entry is bundled with the same `SESSION_BUNDLE_STORE` define).
   * @default - the entry's store-independent bundle (a user's entry: every store)
   */
  readonly store?: string;
  /**
   * esbuild options besides the shared ones (they win over those); used only for an entry that
   * is bundled at synth time (a user's own), not for the package's prebuilt bundles.
   * @default - none
   */
  readonly bundling?: nodejs.BundlingOptions;
}

/**
 * Props of a function from {@link runtimeFunctionProps}: `code` is set for a prebuilt bundle
 * (a plain `lambda.Function`), `entry` for a file bundled at synth time (a `NodejsFunction`).
 */
export type RuntimeFunctionProps = lambda.FunctionProps | nodejs.NodejsFunctionProps;

/** The settings every function of this library shares: Node.js 24 on ARM64, JSON logs, source maps on. */
function sharedFunctionProps(options: RuntimeFunctionOptions) {
  return {
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    // Stack traces through the minified bundle.
    environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
  };
}

/**
 * The props of a function whose code is `entry` (see `runtimeEntry`): handler `handler`,
 * Node.js 24 on ARM64, JSON logs, source maps on, one minified CommonJS bundle without the AWS
 * SDK v3 the Lambda runtime ships.
 *
 * An entry of this package is taken prebuilt from its `bundles/` (`lambda.Code.fromAsset`: no
 * esbuild, no Docker at synth). Any other entry (a user's own handler) is bundled at synth time
 * by NodejsFunction, which needs esbuild in the CDK app (or Docker).
 */
export function runtimeFunctionProps(entry: string, options: RuntimeFunctionOptions = {}): RuntimeFunctionProps {
  const name = packageEntryName(entry);
  const prebuilt = name === undefined ? undefined : findPrebuiltBundle(name, options.store);
  if (prebuilt) {
    return {
      ...sharedFunctionProps(options),
      code: lambda.Code.fromAsset(prebuiltBundleDir(prebuilt)),
      handler: `${path.basename(prebuilt.file, '.js')}.handler`,
    };
  }
  const root = runtimeRoot(entry);
  const lockFile = path.join(root, 'package-lock.json');
  const hasLock = name !== undefined && fs.existsSync(lockFile);
  const define = options.store === undefined ? {} : { 'process.env.SESSION_BUNDLE_STORE': JSON.stringify(options.store) };
  return {
    ...sharedFunctionProps(options),
    entry,
    handler: 'handler',
    projectRoot: hasLock ? root : undefined,
    depsLockFilePath: hasLock ? lockFile : undefined,
    // SDK v3 reuses connections by itself; the env var is for SDK v2 only.
    awsSdkConnectionReuse: false,
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
      define: { ...define, ...options.bundling?.define },
    } as nodejs.BundlingOptions,
  };
}

/** A `lambda.Function` of prebuilt code, or a `NodejsFunction` for an entry bundled at synth time (see {@link runtimeFunctionProps}). */
export function runtimeFunction(scope: Construct, id: string, props: RuntimeFunctionProps): lambda.Function {
  return 'code' in props && props.code !== undefined
    ? new lambda.Function(scope, id, props as lambda.FunctionProps)
    : new nodejs.NodejsFunction(scope, id, props as nodejs.NodejsFunctionProps);
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
