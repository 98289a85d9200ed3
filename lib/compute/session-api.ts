import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeGuard, acknowledgeLogGroupDefaults } from '../core/guard';
import { ISessionStore } from '../core/session-store';
import { runtimeMetric } from '../core/runtime-metrics';
import { createCookieSecret, runtimeEnvironment, runtimeServiceName, SessionRuntimeOptions, throwIfProblems, validateRuntimeOptions } from './common';
import { addVpcAccess, createFunctionRole, FUNCTION_RUNTIME, runtimeFunction, runtimeFunctionProps } from './functions';
import { nonSnapshot, resolveLoginPool } from './login';
import { runtimeEntry } from './runtime-assets';
import { selectComputeSubnets } from './vpc';

/** The knobs of a {@link SessionApi} a topology passes through as they are. */
export interface ApiOptions {
  /**
   * Handler entry point (exports `handler` for API Gateway HTTP API payload v2), bundled at
   * synth time by NodejsFunction: needs esbuild in the CDK app (or Docker).
   * @default - the package's handler (lambda/handlers/http-api.ts), prebuilt for the store's kind
   */
  readonly entry?: string;
  /**
   * Memory of the function, MiB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Function timeout; API Gateway gives up after 30 s anyway.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency, a cap that also protects the store from a flood.
   * @default - none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's and the API's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Stage throttling: steady requests per second.
   * @default 1000
   */
  readonly throttleRateLimit?: number;
  /**
   * Stage throttling: burst.
   * @default 2000
   */
  readonly throttleBurstLimit?: number;
}

/** Props of {@link SessionApi}. */
export interface SessionApiProps extends SessionRuntimeOptions, ApiOptions {
  /**
   * The session store; bound to the function. When it has a `vpc`, the function runs in that
   * VPC (in `vpcSubnets`).
   */
  readonly store: ISessionStore;
  /**
   * With a VPC store: the subnets the function runs in (never public ones).
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * With a VPC store: add a DynamoDB gateway endpoint and a Secrets Manager interface endpoint
   * (private DNS) to the store's VPC so that those calls stay off the NAT. The interface endpoint
   * answers every Secrets Manager call in the VPC and admits only the function and whom
   * {@link SessionApi.allowEndpointAccessFrom} lets in: leave it off in a VPC where other
   * workloads call Secrets Manager, or admit them too.
   * @default false (the store's VPC is yours; the topologies turn it on in a VPC they create)
   */
  readonly addVpcEndpoints?: boolean;
  /**
   * What happens to the function's and the API's log groups, and to the user pool this API
   * creates, when they leave the stack. SNAPSHOT means RETAIN for them.
   * @default - DESTROY for the log groups, RETAIN for the user pool (deletion-protected)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The newest Node.js Lambda runtime this aws-cdk-lib knows. */
export const SESSION_API_RUNTIME = FUNCTION_RUNTIME;

/**
 * The session runtime as a Lambda function (ARM64, esbuild-bundled, X-Ray traced) behind an
 * API Gateway HTTP API on its `$default` stage: HTTPS on the execute-api domain, access logs
 * in CloudWatch Logs.
 */
export class SessionApi extends Construct implements ec2.IConnectable {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the function calls InitiateAuth through (no IAM grant needed: it is an unauthenticated API). */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The store's VPC, when the function runs in one. */
  public readonly vpc?: ec2.IVpc;
  /** The function's security group, when it runs in a VPC. */
  public readonly securityGroup?: ec2.SecurityGroup;
  /** The subnets the function runs in, when it runs in a VPC. */
  public readonly vpcSubnets?: ec2.SubnetSelection;
  /** Endpoints added to the store's VPC (empty without a VPC or without `addVpcEndpoints`). */
  public readonly vpcEndpoints: ec2.IVpcEndpoint[] = [];
  /** The environment of the function (tokens resolve at deploy time). */
  public readonly environment: { [key: string]: string };
  /** `https://<id>.execute-api.<region>.amazonaws.com/` */
  public readonly url: string;
  /** The function's security group in the store's VPC; none (no network identity) when the store has no VPC. */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: SessionApiProps) {
    super(scope, id);
    const problems = validateApiProps(props);
    if (props.vpcSubnets !== undefined && props.store?.vpc === undefined) problems.push('vpcSubnets needs a store in a VPC (the function runs in no VPC otherwise)');
    if (props.store?.vpc) this.vpcSubnets = selectComputeSubnets(problems, props.store.vpc, props.vpcSubnets);
    throwIfProblems('SessionApi', problems);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = nonSnapshot(props.removalPolicy ?? RemovalPolicy.DESTROY);
    this.cookieSecret = props.cookieSecret ?? createCookieSecret(this, 'CookieSecret');
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = resolveLoginPool(this, props, props.removalPolicy));
    this.vpc = props.store.vpc;

    this.logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention, removalPolicy });
    acknowledgeLogGroupDefaults(this.logGroup, retention, "the function's logs (prop logRetention)");
    this.role = createFunctionRole(this, 'FunctionRole', 'Session API handler: its log group, its session store, its cookie secret', this.logGroup);
    if (this.vpc) {
      addVpcAccess(this.role, "to attach to the store's VPC");
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: 'Session API function: egress to its store and AWS APIs',
        allowAllOutbound: true,
      });
    }

    this.function = runtimeFunction(this, 'Handler', {
      // The package's handler prebuilt for the bound store (only its code in the bundle); a user's entry is bundled at synth.
      ...runtimeFunctionProps(props.entry ?? runtimeEntry('handlers/http-api'), { store: props.store.kind }),
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      vpc: this.vpc,
      vpcSubnets: this.vpcSubnets,
      securityGroups: this.securityGroup ? [this.securityGroup] : undefined,
    });
    if (!this.vpc) {
      acknowledgeGuard(
        this.function,
        'lambda_inside_vpc_check',
        `The ${props.store.kind} store has no VPC: the function reaches it through its regional AWS API over TLS with ` +
          'IAM-signed requests, as it would from a VPC through a NAT gateway or endpoint, and has no other network path to guard.',
      );
    }
    // Active X-Ray tracing. Not through `tracing: Tracing.ACTIVE`: that puts xray:* on "*" into the
    // role's default policy, where an IAM5 acknowledgment would also hide any other wildcard.
    // The AWS-managed daemon policy keeps the one exception named and separate.
    (this.function.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
    this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AWSXRayDaemonWriteAccess'));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSXRayDaemonWriteAccess]',
      reason:
        'X-Ray trace upload (xray:PutTraceSegments, PutTelemetryRecords, sampling rule reads) supports no ' +
        'resource-level permissions; the AWS-maintained write-only policy is the least privilege for active tracing.',
    });
    this.connections = this.securityGroup
      ? this.function.connections
      : new ec2.Connections(); // no network identity outside a VPC

    const storeEnv = props.store.bind(this.function).environment;
    this.cookieSecret.grantRead(this.role);
    this.environment = {
      ...(props.environment ?? {}),
      ...storeEnv,
      ...runtimeEnvironment(props, this.cookieSecret, true, this, runtimeServiceName(this)),
    };
    for (const [k, v] of Object.entries(this.environment)) this.function.addEnvironment(k, v);

    if (this.vpc && props.addVpcEndpoints === true) this.addEndpoints(this.vpc, this.vpcSubnets!);

    // ---- HTTP API -------------------------------------------------------------------------
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Session reference app (HTTP API payload v2 -> Lambda)',
      defaultIntegration: new HttpLambdaIntegration('Handler', this.function, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      createDefaultStage: false,
    });
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy });
    acknowledgeLogGroupDefaults(this.accessLogGroup, retention, "the API's access logs (prop logRetention)");
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit ?? 1000, burstLimit: props.throttleBurstLimit ?? 2000 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup) },
    });
    const defaultRoute = this.httpApi.node.tryFindChild('DefaultRoute');
    if (defaultRoute) {
      Validations.of(defaultRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'The web app authenticates users itself: POST /login checks the password against the Cognito user pool ' +
          '(InitiateAuth) before it starts a session, and every other route checks the signed session cookie (or JWT) ' +
          'and answers 401 without one. An API Gateway authorizer cannot guard the login itself, and the session ' +
          'cookie is not a token an authorizer could check.',
      });
      acknowledgeGuard(
        defaultRoute,
        'api_gw_v2_authorization_type_configured_check',
        'The public web app authenticates users itself (POST /login, then the signed session cookie or JWT on every ' +
          'other route, 401 without one); an IAM, JWT or Lambda authorizer would also sit in front of login.',
      );
      // The integration's permission: only apigateway.amazonaws.com, only with SourceArn = this API's
      // execute-api ARN. CT.LAMBDA.PR.2 accepts a SourceArn only as a literal or a Ref/GetAtt, not the
      // Fn::Join that builds an execute-api ARN.
      for (const permission of defaultRoute.node.children.filter((c): c is lambda.CfnPermission => c instanceof lambda.CfnPermission)) {
        acknowledgeGuard(
          permission,
          'lambda_function_public_access_prohibited_check',
          'Only apigateway.amazonaws.com may invoke, and only with SourceArn = this HTTP API\'s execute-api ARN ' +
            '(arn:<partition>:execute-api:<region>:<account>:<api id>/*/*), built with Fn::Join, which the rule cannot read.',
        );
      }
    }
    this.url = this.stage.url;
  }

  /**
   * Lets `peer` through the interface endpoints this API added to the VPC (Secrets Manager, with
   * private DNS: inside the VPC every Secrets Manager call goes to it). Nothing without endpoints.
   */
  public allowEndpointAccessFrom(peer: ec2.IConnectable): void {
    for (const endpoint of this.vpcEndpoints) {
      if (endpoint instanceof ec2.InterfaceVpcEndpoint) endpoint.connections.allowDefaultPortFrom(peer, `Session consumer to ${endpoint.node.id}`);
    }
  }

  /** Invocations of the function (Sum over 5 minutes). */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricInvocations(props);
  }

  /** Invocations that failed (Sum over 5 minutes): the handler answers store trouble with a 503, so these are crashes and timeouts. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors(props);
  }

  /** Run time of the function (Average over 5 minutes). */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricDuration(props);
  }

  /** Invocations refused for lack of concurrency (Sum over 5 minutes). */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricThrottles(props);
  }

  /** Requests the API answered with a 5xx (Sum over 5 minutes). */
  public metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricServerError(props);
  }

  /**
   * A metric the session runtime on the function writes itself (CloudWatch EMF, lambda/session/metrics.ts):
   * namespace CdkSessions, dimension `service` = its POWERTOOLS_SERVICE_NAME (in `environment`). Counts (Sum over 5
   * minutes): Requests, Responses5xx, Responses503, Responses413, StoreCalls, StoreErrors,
   * StoreTimeouts, CasConflicts, CasRetries, CasExhausted, SessionsCreated, SessionsDestroyed,
   * SessionsExpired, JwtRejected, JwtRevoked; StoreLatency in milliseconds (p99 over 5 minutes).
   */
  public metricRuntime(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return runtimeMetric(this.environment, metricName, props);
  }

  /** Store calls that failed or timed out, as the runtime counted them: each one is a 503 (Sum over 5 minutes). */
  public metricStoreErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricRuntime('StoreErrors', props);
  }

  /** Store round trips in milliseconds, as the runtime timed them (p99 over 5 minutes). */
  public metricStoreLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricRuntime('StoreLatency', props);
  }

  /** Requests the runtime answered 503 because the store did not answer (Sum over 5 minutes). */
  public metricResponses503(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricRuntime('Responses503', props);
  }

  private addEndpoints(vpc: ec2.IVpc, subnets: ec2.SubnetSelection): void {
    this.vpcEndpoints.push(
      new ec2.GatewayVpcEndpoint(this, 'DynamoDbEndpoint', { vpc, service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [subnets] }),
    );
    const secrets = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets,
      privateDnsEnabled: true,
      open: false,
    });
    secrets.connections.allowDefaultPortFrom(this.function, 'Session API function to Secrets Manager');
    this.vpcEndpoints.push(secrets);
  }
}

function validateApiProps(props: SessionApiProps): string[] {
  const problems = validateRuntimeOptions(props);
  if (!props.store) problems.push('store is required');
  if (props.memorySize !== undefined && (!Number.isInteger(props.memorySize) || props.memorySize < 128 || props.memorySize > 10240)) {
    problems.push(`memorySize must be a whole number of MiB from 128 to 10240, got ${props.memorySize}`);
  }
  const t = props.timeout;
  if (t && !t.isUnresolved() && (t.toSeconds({ integral: false }) < 1 || t.toSeconds({ integral: false }) > 29)) {
    problems.push(`timeout must be from 1 to 29 seconds (API Gateway's integration limit), got ${t.toSeconds({ integral: false })} s`);
  }
  const rc = props.reservedConcurrentExecutions;
  if (rc !== undefined && (!Number.isInteger(rc) || rc < 1)) problems.push(`reservedConcurrentExecutions must be a whole number >= 1, got ${rc}`);
  if (props.throttleRateLimit !== undefined && !(props.throttleRateLimit > 0)) problems.push(`throttleRateLimit must be > 0, got ${props.throttleRateLimit}`);
  if (props.throttleBurstLimit !== undefined && !(Number.isInteger(props.throttleBurstLimit) && props.throttleBurstLimit > 0)) {
    problems.push(`throttleBurstLimit must be a whole number > 0, got ${props.throttleBurstLimit}`);
  }
  if (props.entry !== undefined && !/\.(ts|js|mjs|cjs|mts|cts)$/.test(props.entry)) problems.push(`entry must be a .ts or .js file, got "${props.entry}"`);
  return problems;
}
