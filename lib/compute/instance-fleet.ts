import { Annotations, Aws, CfnResource, ContextProvider, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { Construct } from 'constructs';
import { RUNTIME_DEFAULTS, SessionEnvVars } from '../core/session-env';
import { acknowledgeGuard, acknowledgeLogGroupDefaults } from '../core/guard';
import { runtimeMetric } from '../core/runtime-metrics';
import { ISessionStore } from '../core/session-store';
import { validateProps } from '../core/validate';
import {
  createCookieSecret,
  runtimeEnvironment,
  runtimeServiceName,
  SessionRuntimeOptions,
  validateRuntimeOptions,
  wireCookieName,
} from './common';
import { FleetServer } from './fleet-server';
import { INSTANCE_BOOT_TIMEOUT_SECONDS, INSTANCE_HEALTH_CHECK, LOCAL_HEALTH_WAIT_SECONDS } from './health-check';
import { nonSnapshot, resolveLoginPool } from './login';
import { NODE_MAJOR } from './runtime-assets';
import { resolveVpc, selectComputeSubnets, SessionVpcProps, validateVpcChoice } from './vpc';

/** How the load balancer pins a client to one instance. */
export enum StickinessType {
  /** The ALB issues its own `AWSALB` cookie. */
  LOAD_BALANCER_COOKIE = 'lb_cookie',
  /** The ALB follows the application's session cookie with an `AWSALBAPP-*` cookie of its own. */
  APPLICATION_COOKIE = 'app_cookie',
}

/** Load balancer stickiness (session affinity) of the fleet's target group. */
export interface StickinessOptions {
  /** Which cookie pins the client: the ALB's own, or the application's session cookie. */
  readonly cookieType: StickinessType;
  /**
   * How long the ALB keeps a client on one target. From 1 second to 7 days.
   * @default Duration.days(1)
   */
  readonly duration?: Duration;
  /**
   * `APPLICATION_COOKIE` only: the application cookie the ALB follows. Must not start with AWSALB.
   * @default - the session cookie as sent: `__Host-<cookieName>` over HTTPS, `<cookieName>` over HTTP
   */
  readonly cookieName?: string;
}

/**
 * What every fleet (an {@link InstanceFleet} or a topology with one) takes at the top level, as
 * aws-cdk-lib's `ecs-patterns` do: the entry point (certificate, domain), the instances (server,
 * image, type, capacity, extra user data) and the health check.
 */
export interface FleetCommonProps {
  /**
   * Certificate for an HTTPS listener on 443 (plain HTTP on 80 then only redirects to it).
   * @default - HTTP only on port 80, with a warning: cookies are then not Secure and travel in clear text
   */
  readonly certificate?: acm.ICertificate;
  /**
   * TLS policy of the HTTPS listener (needs `certificate`).
   * @default elbv2.SslPolicy.RECOMMENDED_TLS
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * Domain name of the fleet: a Route 53 alias record to the load balancer in `domainZone`, and
   * the host of `url`. The certificate, if any, must cover it.
   * @default - none: `url` is the load balancer's own DNS name
   */
  readonly domainName?: string;
  /**
   * The hosted zone `domainName` lives in. Required with `domainName`.
   * @default - none
   */
  readonly domainZone?: route53.IHostedZone;
  /**
   * The web server the instances run.
   * @default FleetServer.reference(): this package's reference server
   */
  readonly server?: FleetServer;
  /**
   * Shell commands (bash, as root) user data runs after the server is unpacked and its
   * environment file written, before the server starts: install a package, fetch a file. A
   * failing command fails the instance's boot signal and so the deploy.
   * @default - none
   */
  readonly userDataCommands?: string[];
  /**
   * Instance type; its architecture (ARM64 or x86_64) picks the default AMI.
   * @default t4g.small (Graviton)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * The instances' image: an Amazon Linux 2023 image (user data installs `nodejs24` and
   * `aws-cfn-bootstrap` with dnf) of the instance type's architecture.
   * @default - the latest AL2023 image of the instance type's architecture, pinned at synth: in a
   * stack with a concrete account and region, looked up once and cached in `cdk.context.json`
   * (refresh on purpose with `cdk context --reset`); in an environment-agnostic stack, resolved
   * by EC2 from the public SSM parameter at each instance launch, so deploys never change it
   */
  readonly machineImage?: ec2.IMachineImage;
  /**
   * Fewest instances.
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Most instances.
   * @default 4
   */
  readonly maxCapacity?: number;
  /**
   * Instances at deploy time; leave unset so deploys do not reset what scaling chose.
   * @default - minCapacity
   */
  readonly desiredCapacity?: number;
  /**
   * Path of the target group's health check. With ELB health checks on the Auto Scaling group,
   * an instance that fails it is replaced: point it only at a liveness route that does not
   * depend on the session store, or a store outage replaces the whole fleet.
   * @default '/healthz' (liveness of the reference server)
   */
  readonly healthCheckPath?: string;
  /**
   * Port the server listens on (given to it as `PORT`).
   * @default 8080
   */
  readonly port?: number;
}

/** The rarer knobs of a fleet: scaling target, draining, disk, access-log bucket, log retention. */
export interface FleetOptions {
  /**
   * How long CloudWatch Logs keeps the instances' server log (`logGroup`): the request and error
   * lines and the runtime's metrics (EMF), shipped by the CloudWatch agent.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Target of the request-count scaling policy: ALB requests per instance per minute.
   * @default 1000
   */
  readonly targetRequestsPerMinute?: number;
  /**
   * Time the load balancer lets in-flight requests finish on a deregistering instance.
   * From 0 to 3600 seconds.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Size of the encrypted gp3 root volume, GiB (AL2023 images need at least 8).
   * @default 8
   */
  readonly rootVolumeSize?: number;
  /**
   * Bucket for the load balancer's access logs, in the stack's region; must use SSE-S3 (the
   * load balancer cannot write to an SSE-KMS bucket). Its policy gets one statement: the ELB
   * log-delivery service may put objects under `alb/AWSLogs/<this account>/`.
   * @default - a new encrypted, TLS-only, private bucket whose logs expire after 90 days
   */
  readonly accessLogsBucket?: s3.IBucket;
}

/** Props of {@link InstanceFleet}. */
export interface InstanceFleetProps extends SessionRuntimeOptions, SessionVpcProps, FleetCommonProps, FleetOptions {
  /**
   * The session store the instances use; bound to the Auto Scaling group (IAM + security group).
   * @default - none: each instance keeps sessions in memory (`SESSION_STORE=memory`), only sane with stickiness
   */
  readonly store?: ISessionStore;
  /**
   * Load balancer stickiness.
   * @default - none: requests are spread over all healthy instances
   */
  readonly stickiness?: StickinessOptions;
  /**
   * What happens to what this fleet creates that holds data when it leaves the stack: the
   * access-log bucket (one that still holds logs fails to delete; empty it first), the user pool,
   * the new VPC's flow-log group. SNAPSHOT means RETAIN for them.
   * @default - each its own: RETAIN for the bucket and the user pool (deletion-protected), DESTROY for the flow logs
   */
  readonly removalPolicy?: RemovalPolicy;
}

const MAX_STICKINESS_SECONDS = 7 * 24 * 3600;

/** Where AL2023's `nodejs24` package puts its namespaced executable (no `alternatives` needed). */
const NODE_BIN = `/usr/bin/node-${NODE_MAJOR}`;

const INSTANCE_BOOT_TIMEOUT = Duration.seconds(INSTANCE_BOOT_TIMEOUT_SECONDS);

/** The server's stdout and stderr on an instance, shipped to `InstanceFleet.logGroup`. */
const SERVER_LOG = '/var/log/cdk-sessions/server.log';

/**
 * An internet-facing Application Load Balancer in front of an Auto Scaling group of
 * Amazon Linux 2023 instances that run a web server on the session runtime: this package's
 * reference server, or yours ({@link FleetServer}).
 *
 * The server is an S3 asset, downloaded by user data and run by systemd as an unprivileged user,
 * with the bound store's environment in an EnvironmentFile. `connections` are the instances'.
 */
export class InstanceFleet extends Construct implements ec2.IConnectable {
  public readonly vpc: ec2.IVpc;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards to the fleet (HTTPS when a certificate is given, else HTTP). */
  public readonly listener: elbv2.ApplicationListener;
  /** The HTTP listener that redirects to HTTPS, when a certificate is given. */
  public readonly redirectListener?: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly role: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly accessLogsBucket: s3.IBucket;
  /**
   * The instances' server log in CloudWatch Logs, one stream per instance id: request lines (the
   * session id's hash, never the id), errors, and the runtime's EMF metrics, which CloudWatch
   * turns into the `CdkSessions` metrics. Shipped by the CloudWatch agent from the server's log file.
   */
  public readonly logGroup: logs.LogGroup;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the instances call InitiateAuth through (no IAM grant needed: it is an unauthenticated API). */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The server the instances run, as an S3 asset. */
  public readonly serverAsset: s3assets.Asset;
  /** The subnets the instances run in. */
  public readonly vpcSubnets: ec2.SubnetSelection;
  /** The Route 53 alias record of `domainName`, when given. */
  public readonly aliasRecord?: route53.ARecord;
  /** The environment written to the instances' EnvironmentFile (tokens resolve at deploy time). */
  public readonly environment: { [key: string]: string };
  /** The cookie the ALB follows for `app_cookie` stickiness, if any. */
  public readonly stickinessCookieName?: string;
  /** `http://` or `https://` URL of the fleet: its `domainName`, else the load balancer's DNS name. */
  public readonly url: string;
  /** The instances' security group: open a path with `fleet.connections.allowTo(database, port)`. */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: InstanceFleetProps = {}) {
    super(scope, id);
    const secure = props.certificate !== undefined;
    const stickinessCookieName =
      props.stickiness?.cookieType === StickinessType.APPLICATION_COOKIE ? (props.stickiness.cookieName ?? wireCookieName(props, secure)) : undefined;
    const problems = validateFleetProps(props, stickinessCookieName);
    const port = props.port ?? RUNTIME_DEFAULTS.port;
    this.vpc = resolveVpc(this, 'Vpc', props, props.removalPolicy);
    this.vpcSubnets = selectComputeSubnets(problems, this.vpc, props.vpcSubnets);
    if (this.vpc.publicSubnets.length === 0) problems.push(`${this.vpc.node.path} has no public subnets: the internet-facing load balancer needs them`);
    validateProps(this, problems);
    this.cookieSecret = props.cookieSecret ?? createCookieSecret(this, 'CookieSecret');
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = resolveLoginPool(this, props, props.removalPolicy));
    this.stickinessCookieName = stickinessCookieName;

    // ---- load balancer ------------------------------------------------------------------
    this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket(nonSnapshot(props.removalPolicy ?? RemovalPolicy.RETAIN));
    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Internet-facing session ALB: listener ports only',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    this.enableAccessLogs(this.accessLogsBucket, 'alb');
    Validations.of(albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'Security group of the internet-facing load balancer, the public entry point of the web app: it admits ' +
        'only the listener ports (80, and 443 with a certificate) from anywhere; instances accept traffic only from this group.',
    });

    if (props.certificate) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [props.certificate],
        sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
        open: true,
      });
      this.redirectListener = this.loadBalancer.addRedirect({
        sourcePort: 80,
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        targetPort: 443,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: true });
      Annotations.of(this).addWarningV2(
        'cdk-sessions:InstanceFleet.plainHttp',
        'No certificate given: the load balancer listens on plain HTTP, so session cookies cannot be Secure ' +
          '(SESSION_COOKIE_SECURE=false, no __Host- prefix) and travel in clear text, open to theft on the network. ' +
          'Fine for a review or a test stack; pass `certificate` for anything real.',
      );
    }
    if (props.domainName !== undefined && props.domainZone !== undefined) {
      this.aliasRecord = new route53.ARecord(this, 'DnsRecord', {
        zone: props.domainZone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }
    this.url = `${secure ? 'https' : 'http'}://${props.domainName ?? this.loadBalancer.loadBalancerDnsName}`;

    // ---- instances --------------------------------------------------------------------
    this.securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'Session instance servers: app port from the load balancer only',
      allowAllOutbound: true,
    });
    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Session instance server: Session Manager, its bundle, its session store',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH ' +
        '(no key pair, no port 22); AWS updates it when the agent needs new actions.',
    });

    // The server's log, shipped by the CloudWatch agent: one stream per instance, written only
    // (no CreateLogGroup, no retention change: the group and its retention are this stack's).
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.logGroup = new logs.LogGroup(this, 'ServerLogs', { retention: logRetention, removalPolicy: nonSnapshot(props.removalPolicy ?? RemovalPolicy.DESTROY) });
    acknowledgeLogGroupDefaults(this.logGroup, logRetention, "the instance servers' logs (prop logRetention)");
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
    const userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      machineImage: props.machineImage ?? pinnedAmazonLinux2023(this, instanceType),
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: false,
      detailedMonitoring: false,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeSize ?? 8, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const minCapacity = props.minCapacity ?? 2;
    const maxCapacity = props.maxCapacity ?? 4;
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: this.vpc,
      vpcSubnets: this.vpcSubnets,
      launchTemplate: this.launchTemplate,
      minCapacity,
      maxCapacity,
      desiredCapacity: props.desiredCapacity,
      // ELB checks replace an instance whose server stopped answering; they are safe because the
      // target group asks a liveness route that never depends on the session store.
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: INSTANCE_BOOT_TIMEOUT,
      }),
      // Every new instance signals once its server answers locally (see writeUserData):
      // CloudFormation waits for all of them on create and on each rolling-update batch, and a
      // failure signal or a timeout fails the deploy and rolls back to the previous launch template.
      // (A group created empty has nothing to wait for.)
      signals: (props.desiredCapacity ?? minCapacity) > 0 ? autoscaling.Signals.waitForAll({ timeout: INSTANCE_BOOT_TIMEOUT }) : undefined,
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        // CloudFormation requires it below MaxSize.
        minInstancesInService: Math.min(Math.max(1, minCapacity - 1), maxCapacity - 1),
        waitOnResourceSignals: true,
        pauseTime: INSTANCE_BOOT_TIMEOUT,
      }),
    });
    // First boot installs packages and downloads the bundle through the private subnets' NAT
    // routes: CloudFormation must not launch instances before those routes exist.
    this.autoScalingGroup.node.addDependency(this.vpc.selectSubnets(this.vpcSubnets).internetConnectivityEstablished);
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Scaling events are recorded in the group activity history and CloudTrail; the library has no subscriber to ' +
        'notify. Add a notification topic with autoScalingGroup.addNotification() where an operator listens.',
    });
    this.connections = this.autoScalingGroup.connections;
    this.acknowledgeControlTowerFindings();

    // ---- load balancing ---------------------------------------------------------------
    this.targetGroup = this.listener.addTargets('Fleet', {
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.autoScalingGroup],
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
      healthCheck: {
        path: props.healthCheckPath ?? INSTANCE_HEALTH_CHECK.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(INSTANCE_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(INSTANCE_HEALTH_CHECK.timeoutSeconds),
        healthyThresholdCount: INSTANCE_HEALTH_CHECK.healthyThresholdCount,
        unhealthyThresholdCount: INSTANCE_HEALTH_CHECK.unhealthyThresholdCount,
      },
    });
    if (props.stickiness) {
      const duration = props.stickiness.duration ?? Duration.days(1);
      // The target group's own API: lb_cookie without a name, app_cookie with the app's cookie.
      this.targetGroup.enableCookieStickiness(duration, stickinessCookieName);
    }
    this.autoScalingGroup.scaleOnRequestCount('RequestCountScaling', {
      targetRequestsPerMinute: props.targetRequestsPerMinute ?? 1000,
    });

    // ---- store and environment --------------------------------------------------------
    const storeEnv = props.store
      ? props.store.bind(this.autoScalingGroup).environment
      : { [SessionEnvVars.STORE]: 'memory' };
    this.cookieSecret.grantRead(this.role);
    const server = (props.server ?? FleetServer.reference()).bind(this, { storeKind: props.store?.kind ?? 'memory' });
    this.serverAsset = server.asset;
    // s3:GetObject on exactly this bundle object (Asset.grantRead would give GetObject*/List* on the
    // whole bootstrap bucket).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.serverAsset.bucket.arnForObjects(this.serverAsset.s3ObjectKey)],
      }),
    );
    this.environment = {
      ...(props.environment ?? {}),
      ...storeEnv,
      ...runtimeEnvironment(props, this.cookieSecret, secure, this, runtimeServiceName(this)),
      [SessionEnvVars.PORT]: String(port),
      AWS_REGION: Stack.of(this).region,
      NODE_ENV: 'production',
    };
    this.writeUserData(userData, port, props.healthCheckPath ?? INSTANCE_HEALTH_CHECK.path, server.startCommand, props.userDataCommands ?? []);
  }

  /** ALB requests routed to the instances (Sum over 5 minutes). */
  public metricRequestCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.requestCount(props);
  }

  /** Seconds from the request leaving the load balancer until the instance's response (Average over 5 minutes). */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.targetResponseTime(props);
  }

  /** Responses of the instances with the given class of HTTP status (Sum over 5 minutes), e.g. `HttpCodeTarget.TARGET_5XX_COUNT`. */
  public metricHttpCodeTarget(code: elbv2.HttpCodeTarget, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.httpCodeTarget(code, props);
  }

  /** Responses the load balancer made itself (no healthy target, timeouts...) with the given class of HTTP status (Sum over 5 minutes). */
  public metricHttpCodeElb(code: elbv2.HttpCodeElb, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeElb(code, props);
  }

  /** Instances failing the health check (Average over 5 minutes). */
  public metricUnhealthyHostCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.unhealthyHostCount(props);
  }

  /**
   * A metric the session runtime on the instances writes itself (CloudWatch EMF, lambda/session/metrics.ts):
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

  /**
   * ALB access logs with the bucket policy AWS documents for every region ("Enable access logs
   * for your Application Load Balancer", step 2): the `logdelivery.elasticloadbalancing.amazonaws.com`
   * service principal may put objects under `<prefix>/AWSLogs/<this account>/`, nothing else.
   * Not `loadBalancer.logAccessLogs()`: that needs a concrete region and picks the legacy
   * per-region ELB account where one exists, a region-keyed lookup that fails in every region its
   * table lacks; AWS keeps the legacy account policy only for compatibility.
   */
  private enableAccessLogs(bucket: s3.IBucket, prefix: string): void {
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
        resources: [bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`)],
      }),
    );
    // The load balancer checks that it may write (a test object) when logging is turned on.
    const lb = this.loadBalancer.node.defaultChild as CfnResource;
    const policy = bucket.policy?.node.defaultChild;
    if (policy && CfnResource.isCfnResource(policy)) lb.addResourceDependency(policy);
  }

  /** The Control Tower proactive controls the load balancer, launch template and group do not meet, each with its reason. */
  private acknowledgeControlTowerFindings(): void {
    acknowledgeGuard(
      this.loadBalancer,
      'elbv2_deletion_protection_enabled_check',
      'The load balancer holds no data and a deploy recreates it; deletion protection would make `cdk destroy` of the ' +
        'stack fail. Turn it on with loadBalancer.setAttribute("deletion_protection.enabled", "true") where a DNS name must survive.',
    );
    acknowledgeGuard(
      this.launchTemplate,
      'ec2_launch_template_monitoring_enabled_check',
      'The group scales on the load balancer\'s request count per target, not on EC2 metrics; 1-minute EC2 metrics ' +
        'would be billed per instance with nothing reading them. Set detailed monitoring where alarms need them.',
    );
    acknowledgeGuard(
      this.autoScalingGroup,
      'autoscaling_multiple_az_check',
      'The group spans the private subnets of every AZ of the VPC (two by default) through VPCZoneIdentifier; ' +
        'the rule reads only the AvailabilityZones property, which CloudFormation takes instead of subnets.',
    );
    acknowledgeGuard(
      this.autoScalingGroup,
      'autoscaling_mixed_instances_policy_multiple_instance_types_check',
      'One instanceType on purpose: its architecture picks the AMI and the bundle, and equal instances keep the ' +
        'request-count target meaningful; AZ capacity shortages are covered by two AZs and at least two instances.',
    );
  }

  private createAccessLogsBucket(removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is itself the access-log destination of the load balancer; logging its own access would need a ' +
        'further log bucket with the same question. Writes come only from the ELB log-delivery service principal.',
    });
    acknowledgeGuard(
      bucket,
      's3_bucket_logging_enabled_check',
      'This bucket is the load balancer\'s access-log destination; logging access to it would need another log bucket with the same question.',
    );
    acknowledgeGuard(bucket, 's3_bucket_default_encryption_kms_check', 'ALB access log delivery supports SSE-S3 only, not SSE-KMS.');
    acknowledgeGuard(
      bucket,
      's3_bucket_versioning_enabled_check',
      'Log objects are written once by ELB log delivery and expire after 90 days; versions would only keep expired logs longer.',
    );
    acknowledgeGuard(bucket, 's3_event_notifications_enabled_check', 'Nothing reacts to new log objects; they are read on demand (Athena, download).');
    acknowledgeGuard(
      bucket,
      's3_bucket_object_lock_enabled_check',
      'Operational logs with a 90-day lifecycle; Object Lock would stop that expiry and keep `cdk destroy` leftovers undeletable. ' +
        'Write-once retention is an account-level choice (a locked archive bucket passed as accessLogsBucket).',
    );
    return bucket;
  }

  /**
   * First boot: packages, bundle, environment, systemd unit; then the server must answer its own
   * health check on loopback. The script's exit code goes to CloudFormation (cfn-signal in an EXIT
   * trap), so any failing step, or a server that never answers, fails the deploy.
   */
  /**
   * The CloudWatch agent (AL2023 package) tailing the server's log file into `logGroup`, one
   * stream per instance id, and logrotate every 10 minutes past 100 MB (copytruncate: the server
   * keeps its file open; the agent notices the truncation), so a busy instance never fills its disk.
   */
  private logShippingCommands(): string[] {
    const config = {
      agent: { run_as_user: 'cwagent' },
      logs: { logs_collected: { files: { collect_list: [{ file_path: SERVER_LOG, log_group_name: this.logGroup.logGroupName, log_stream_name: '{instance_id}', timezone: 'UTC' }] } } },
    };
    const configFile = '/opt/aws/amazon-cloudwatch-agent/etc/cdk-sessions.json';
    return [
      `cat > ${configFile} <<'CWAGENT'`,
      JSON.stringify(config),
      'CWAGENT',
      `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${configFile}`,
      "cat > /etc/logrotate.d/cdk-sessions <<'ROTATE'",
      `${SERVER_LOG} {`,
      '  maxsize 100M',
      '  rotate 1',
      '  copytruncate',
      '  missingok',
      '  notifempty',
      '}',
      'ROTATE',
      'mkdir -p /etc/systemd/system/logrotate.timer.d',
      "printf '[Timer]\\nOnCalendar=\\nOnCalendar=*:0/10\\n' > /etc/systemd/system/logrotate.timer.d/cdk-sessions.conf",
      'systemctl daemon-reload',
      'systemctl enable --now logrotate.timer',
    ];
  }

  private writeUserData(userData: ec2.UserData, port: number, healthPath: string, startCommand: string, extraCommands: string[]): void {
    const dir = '/opt/cdk-sessions';
    const envFile = '/etc/cdk-sessions.env';
    // Rendered before every other line: on exit, signal the script's exit code (needs no
    // credentials; CloudFormation checks that the instance belongs to the stack).
    userData.addSignalOnExitCommand(this.autoScalingGroup);
    userData.addCommands(
      'set -euo pipefail',
      // cfn-signal first, on its own: a later failure (e.g. no nodejs24 in an old image's
      // repository) then reaches CloudFormation at once instead of after the timeout.
      'dnf install -y -q aws-cfn-bootstrap unzip amazon-cloudwatch-agent logrotate',
      `# Node.js ${NODE_MAJOR} from the Amazon Linux 2023 repository, nothing older`,
      `dnf install -y -q nodejs${NODE_MAJOR}`,
      `${NODE_BIN} --version`,
      'id -u sessions >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin sessions',
      `mkdir -p ${dir}/app`,
    );
    const zip = userData.addS3DownloadCommand({
      bucket: this.serverAsset.bucket,
      bucketKey: this.serverAsset.s3ObjectKey,
      localFile: `${dir}/server.zip`,
      region: Stack.of(this).region,
    });
    const envLines = Object.entries(this.environment).map(([k, v]) => `${k}=${v}`);
    userData.addCommands(
      `unzip -o -q ${zip} -d ${dir}/app`,
      // servedBy = instance id, read through IMDSv2 (a session token first).
      'IMDS_TOKEN="$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")"',
      'INSTANCE_ID="$(curl -sS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/instance-id)"',
      `install -m 0640 -o root -g sessions /dev/null ${envFile}`,
      `cat > ${envFile} <<'SESSION_ENV'`,
      ...envLines,
      'SESSION_ENV',
      `echo "${SessionEnvVars.SERVED_BY}=$INSTANCE_ID" >> ${envFile}`,
      // `node` on the server's PATH is AL2023's namespaced Node.js; the start script runs the
      // server's command (quoted heredoc: written as given, no expansion here).
      `install -d -m 0755 ${dir}/bin`,
      `ln -sfn ${NODE_BIN} ${dir}/bin/node`,
      `cat > ${dir}/start.sh <<'SESSION_START'`,
      '#!/bin/sh',
      `exec ${startCommand}`,
      'SESSION_START',
      `chmod 0755 ${dir}/start.sh`,
      ...extraCommands,
      'cat > /etc/systemd/system/cdk-sessions.service <<UNIT',
      '[Unit]',
      'Description=cdk-sessions web server',
      'After=network-online.target',
      'Wants=network-online.target',
      '[Service]',
      'User=sessions',
      `EnvironmentFile=${envFile}`,
      `Environment=PATH=${dir}/bin:/usr/local/bin:/usr/bin:/bin`,
      `WorkingDirectory=${dir}/app`,
      `ExecStart=/bin/sh ${dir}/start.sh`,
      // A writable directory of the server's own (/var/lib/cdk-sessions); the rest of the disk is read-only to it.
      'StateDirectory=cdk-sessions',
      // stdout and stderr to a file the CloudWatch agent ships (below); logrotate keeps it small.
      'LogsDirectory=cdk-sessions',
      'LogsDirectoryMode=0755',
      `StandardOutput=append:${SERVER_LOG}`,
      'StandardError=inherit',
      'Restart=always',
      'RestartSec=2',
      // SIGTERM first: the server drains (SHUTDOWN_GRACE_MS, 25 s) within the ALB's deregistration delay.
      'TimeoutStopSec=40',
      'NoNewPrivileges=true',
      'ProtectSystem=strict',
      'ProtectHome=true',
      'PrivateTmp=true',
      '[Install]',
      'WantedBy=multi-user.target',
      'UNIT',
      ...this.logShippingCommands(),
      'systemctl daemon-reload',
      'systemctl enable --now cdk-sessions.service',
      // The same route the target group asks, on loopback; bounded, so a broken bundle fails fast.
      `deadline=$((SECONDS + ${LOCAL_HEALTH_WAIT_SECONDS}))`,
      `until curl -fsS -o /dev/null --max-time ${INSTANCE_HEALTH_CHECK.timeoutSeconds} 'http://127.0.0.1:${port}${healthPath}'; do`,
      '  if [ "$SECONDS" -ge "$deadline" ]; then',
      `    echo 'cdk-sessions: no answer on ${healthPath} within ${LOCAL_HEALTH_WAIT_SECONDS} s' >&2`,
      '    journalctl -u cdk-sessions.service --no-pager -n 20 >&2 || true',
      `    tail -n 50 ${SERVER_LOG} >&2 || true`,
      '    exit 1',
      '  fi',
      '  sleep 2',
      'done',
      `echo 'cdk-sessions: server answers on ${healthPath}'`,
    );
  }
}

/**
 * The latest AL2023 image for `instanceType`'s architecture, fixed until changed on purpose: a
 * context lookup cached in `cdk.context.json` where the stack has a concrete account and region;
 * otherwise (no lookup possible) resolved by EC2 at each launch, which keeps the launch template,
 * and so the fleet, unchanged across deploys. Never a CloudFormation SSM parameter resolved at
 * every deploy, which replaces the fleet whenever AWS publishes a new image.
 */
function pinnedAmazonLinux2023(scope: Construct, instanceType: ec2.InstanceType): ec2.IMachineImage {
  const cpuType =
    instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64;
  // AWS's default kernel for AL2023 (MachineImage.latestAmazonLinux2023() would pin CDK's pick).
  const parameterName = ec2.AmazonLinux2023ImageSsmParameter.ssmParameterName({ cpuType, kernel: ec2.AmazonLinux2023Kernel.DEFAULT });
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
    return ec2.MachineImage.resolveSsmParameterAtLaunch(parameterName, { os: ec2.OperatingSystemType.LINUX });
  }
  // The lookup MachineImage.fromSsmParameter({ cachedInContext: true }) makes (same context key),
  // but with a stand-in shaped like an image id: the CLI's first run, before the lookup, must pass
  // template validation (@aws-cdk/core:validateAgainstDefaultRules) or it never gets to look up.
  const imageId = ContextProvider.getValue(scope, {
    provider: cxschema.ContextProvider.SSM_PARAMETER_PROVIDER,
    props: { parameterName },
    dummyValue: 'ami-00000000000000000',
  }).value as string;
  return ec2.MachineImage.genericLinux({ [stack.region]: imageId });
}

function validateFleetProps(props: InstanceFleetProps, stickinessCookieName: string | undefined): string[] {
  const problems = [...validateVpcChoice(props), ...validateRuntimeOptions(props), ...(props.server?._problems() ?? [])];
  if (props.domainName !== undefined && props.domainZone === undefined) problems.push('domainName needs domainZone (the hosted zone its alias record goes in)');
  if (props.domainZone !== undefined && props.domainName === undefined) problems.push('domainZone needs domainName');
  for (const [i, c] of (props.userDataCommands ?? []).entries()) {
    if (typeof c !== 'string' || /[\0]/.test(c)) problems.push(`userDataCommands[${i}] must be a string without NUL characters`);
  }
  const num = (v: number | undefined): v is number => v !== undefined && !Number.isNaN(v);
  const min = props.minCapacity ?? 2;
  const max = props.maxCapacity ?? 4;
  if (num(props.minCapacity) && (!Number.isInteger(min) || min < 0)) problems.push(`minCapacity must be a whole number >= 0, got ${min}`);
  if (num(props.maxCapacity) && (!Number.isInteger(max) || max < 1)) problems.push(`maxCapacity must be a whole number >= 1, got ${max}`);
  if (min > max) problems.push(`minCapacity (${min}) must not exceed maxCapacity (${max})`);
  if (num(props.desiredCapacity) && (props.desiredCapacity < min || props.desiredCapacity > max)) {
    problems.push(`desiredCapacity (${props.desiredCapacity}) must be between minCapacity (${min}) and maxCapacity (${max})`);
  }
  if (num(props.targetRequestsPerMinute) && !(props.targetRequestsPerMinute >= 1)) {
    problems.push(`targetRequestsPerMinute must be >= 1, got ${props.targetRequestsPerMinute}`);
  }
  const dereg = props.deregistrationDelay;
  if (dereg && !dereg.isUnresolved() && (dereg.toSeconds() < 0 || dereg.toSeconds() > 3600)) {
    problems.push(`deregistrationDelay must be from 0 to 3600 seconds, got ${dereg.toSeconds()} s`);
  }
  // URL path characters without quotes or spaces (user data passes it to curl in single quotes); ALB allows 1024.
  if (props.healthCheckPath !== undefined && !/^\/[A-Za-z0-9\-._~%!$&()*+,;=:@/?]{0,1023}$/.test(props.healthCheckPath)) {
    problems.push(`healthCheckPath must start with "/", be at most 1024 characters and contain only URL path characters (no spaces or quotes), got "${props.healthCheckPath}"`);
  }
  if (props.port !== undefined && (!Number.isInteger(props.port) || props.port < 1024 || props.port > 65535)) {
    problems.push(`port must be a whole number from 1024 to 65535 (the server runs unprivileged), got ${props.port}`);
  }
  if (props.rootVolumeSize !== undefined && (!Number.isInteger(props.rootVolumeSize) || props.rootVolumeSize < 8 || props.rootVolumeSize > 16384)) {
    problems.push(`rootVolumeSize must be a whole number of GiB from 8 to 16384, got ${props.rootVolumeSize}`);
  }
  if (props.accessLogsBucket?.encryptionKey) {
    problems.push('accessLogsBucket must use SSE-S3 encryption: the load balancer cannot write access logs to a bucket encrypted with a KMS key');
  }
  if (props.sslPolicy !== undefined && props.certificate === undefined) problems.push('sslPolicy needs a certificate (it applies to the HTTPS listener)');
  const st = props.stickiness;
  if (st) {
    if (st.cookieType !== StickinessType.LOAD_BALANCER_COOKIE && st.cookieType !== StickinessType.APPLICATION_COOKIE) {
      problems.push(`stickiness.cookieType must be StickinessType.LOAD_BALANCER_COOKIE or APPLICATION_COOKIE, got "${st.cookieType as string}"`);
    }
    const d = st.duration;
    if (d && !d.isUnresolved()) {
      const s = d.toSeconds({ integral: false });
      if (!(s >= 1 && s <= MAX_STICKINESS_SECONDS && Number.isInteger(s))) {
        problems.push(`stickiness.duration must be a whole number of seconds from 1 second to 7 days, got ${s} s`);
      }
    }
    if (st.cookieType === StickinessType.LOAD_BALANCER_COOKIE && st.cookieName !== undefined) {
      problems.push('stickiness.cookieName applies to APPLICATION_COOKIE only (LOAD_BALANCER_COOKIE always uses AWSALB)');
    }
    if (st.cookieType === StickinessType.APPLICATION_COOKIE && stickinessCookieName !== undefined) {
      if (/^awsalb/i.test(stickinessCookieName)) {
        problems.push(`stickiness cookie name must not start with AWSALB (AWSALB, AWSALBAPP and AWSALBTG are reserved), got "${stickinessCookieName}"`);
      }
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(stickinessCookieName)) {
        problems.push(`stickiness cookie name must be 1-128 letters, digits, "_" or "-", got "${stickinessCookieName}"`);
      }
    }
  }
  return problems;
}
