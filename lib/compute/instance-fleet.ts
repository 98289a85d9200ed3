import { Annotations, Aws, CfnCondition, CfnResource, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { DEFAULTS, SessionEnvVars } from '../../lambda/session/env';
import { acknowledgeGuard } from '../core/guard';
import { ISessionStore } from '../core/session-store';
import {
  createCookieSecret,
  runtimeEnvironment,
  SessionRuntimeOptions,
  throwIfProblems,
  validateRuntimeOptions,
  wireCookieName,
} from './common';
import { resolveLoginPool } from './login';
import { bundleInstanceServer, INSTANCE_SERVER_FILE } from './runtime-assets';
import { resolveVpc, validateVpcChoice } from './vpc';

/** Load balancer stickiness (session affinity) of the fleet's target group. */
export interface StickinessOptions {
  /**
   * `lb_cookie`: the ALB issues its own `AWSALB` cookie.
   * `app_cookie`: the ALB follows the application's session cookie with an `AWSALBAPP-*` cookie.
   */
  readonly type: 'lb_cookie' | 'app_cookie';
  /**
   * How long the ALB keeps a client on one target. From 1 second to 7 days.
   * @default Duration.days(1)
   */
  readonly duration?: Duration;
  /**
   * `app_cookie` only: the application cookie the ALB follows. Must not start with AWSALB.
   * @default - the session cookie as sent: `__Host-<cookieName>` over HTTPS, `<cookieName>` over HTTP
   */
  readonly cookieName?: string;
}

/** Props of {@link InstanceFleet}. */
export interface InstanceFleetProps extends SessionRuntimeOptions {
  /**
   * Where the fleet runs: needs public subnets (load balancer) and private subnets with egress (instances).
   * @default - a new VPC from `vpcProps`
   */
  readonly existingVpc?: ec2.IVpc;
  /**
   * Shape of the new VPC. Not allowed together with `existingVpc`.
   * @default - 2 AZs, public + private-with-egress subnets, one NAT gateway, flow logs to CloudWatch Logs
   */
  readonly vpcProps?: ec2.VpcProps;
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
   * Certificate for an HTTPS listener on 443 (plain HTTP on 80 then only redirects to it).
   * @default - HTTP only on port 80, with a warning: cookies are then not Secure and travel in clear text
   */
  readonly certificate?: acm.ICertificate;
  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.RECOMMENDED_TLS
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * Instance type; its architecture (ARM64 or x86_64) picks the AMI.
   * @default t4g.small (Graviton)
   */
  readonly instanceType?: ec2.InstanceType;
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
   * Path of the target group's health check (the runtime answers 200 when its store answers).
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;
  /**
   * Port the instance server listens on.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Size of the encrypted gp3 root volume, GiB (AL2023 images need at least 8).
   * @default 8
   */
  readonly rootVolumeSize?: number;
  /**
   * Bucket for the load balancer's access logs (must use SSE-S3 encryption).
   * @default - a new encrypted, TLS-only, private bucket whose logs expire after 90 days
   */
  readonly accessLogsBucket?: s3.IBucket;
}

const MAX_STICKINESS_SECONDS = 7 * 24 * 3600;

/**
 * An internet-facing Application Load Balancer in front of an Auto Scaling group of
 * Amazon Linux 2023 instances that run the session runtime's instance server.
 *
 * The instance server is bundled with esbuild into an S3 asset, downloaded by user data and run
 * by systemd as an unprivileged user, with the bound store's environment in an EnvironmentFile.
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
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the instances call InitiateAuth through (no IAM grant needed: it is an unauthenticated API). */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The bundled instance server. */
  public readonly serverAsset: s3assets.Asset;
  /** The environment written to the instances' EnvironmentFile (tokens resolve at deploy time). */
  public readonly environment: Readonly<Record<string, string>>;
  /** The cookie the ALB follows for `app_cookie` stickiness, if any. */
  public readonly stickinessCookieName?: string;
  /** `http://` or `https://` URL of the load balancer's DNS name. */
  public readonly url: string;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: InstanceFleetProps = {}) {
    super(scope, id);
    const secure = props.certificate !== undefined;
    const stickinessCookieName =
      props.stickiness?.type === 'app_cookie' ? (props.stickiness.cookieName ?? wireCookieName(props, secure)) : undefined;
    throwIfProblems('InstanceFleet', validateFleetProps(props, stickinessCookieName));

    const port = props.port ?? DEFAULTS.port;
    this.vpc = resolveVpc(this, 'Vpc', props);
    this.cookieSecret = props.cookieSecret ?? createCookieSecret(this, 'CookieSecret');
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = resolveLoginPool(this, props));
    this.stickinessCookieName = stickinessCookieName;

    // ---- load balancer ------------------------------------------------------------------
    this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket();
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
    this.url = `${secure ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;

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

    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
    const cpuType =
      instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64;
    const userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType }),
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
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity,
      maxCapacity: props.maxCapacity ?? 4,
      desiredCapacity: props.desiredCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(5),
      }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ minInstancesInService: Math.max(1, minCapacity - 1) }),
    });
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
        path: props.healthCheckPath ?? '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
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
    this.serverAsset = bundleInstanceServer(this, 'ServerBundle', { store: props.store?.kind ?? 'memory' });
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
      ...runtimeEnvironment(props, this.cookieSecret, secure, this),
      [SessionEnvVars.PORT]: String(port),
      AWS_REGION: Stack.of(this).region,
      NODE_ENV: 'production',
    };
    this.writeUserData(userData);
  }

  /**
   * ALB access logs that also work in an environment-agnostic stack, where
   * `loadBalancer.logAccessLogs()` refuses (it must know the region to pick the principal).
   * Regions from before August 2022 deliver as a regional ELB account, newer ones as the
   * `logdelivery.elasticloadbalancing.amazonaws.com` service principal: the policy admits both,
   * each only to `<prefix>/AWSLogs/<this account>/`.
   */
  private enableAccessLogs(bucket: s3.IBucket, prefix: string): void {
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.region)) {
      this.loadBalancer.logAccessLogs(bucket, prefix);
      return;
    }
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    const logObjects = bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
    // One CfnMapping per stack (Stack.regionalFact); 'NONE' for regions without an ELB account.
    const elbAccount = stack.regionalFact(FactName.ELBV2_ACCOUNT, 'NONE');
    const conditionId = 'SessionsRegionHasNoElbAccount';
    const noElbAccount =
      (stack.node.tryFindChild(conditionId) as CfnCondition | undefined) ??
      new CfnCondition(stack, conditionId, { expression: Fn.conditionEquals(elbAccount, 'NONE') });
    // In a region without an ELB account the statement names this account itself, which may
    // write its own bucket anyway: no access is added.
    const accountPrincipal = Fn.conditionIf(
      noElbAccount.logicalId,
      `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`,
      `arn:${Aws.PARTITION}:iam::${elbAccount}:root`,
    ).toString();
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        principals: [new iam.ArnPrincipal(accountPrincipal)],
        resources: [logObjects],
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
        resources: [logObjects],
      }),
    );
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

  private createAccessLogsBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is itself the access-log destination of the load balancer; logging its own access would need a ' +
        'further log bucket with the same question. Writes come only from the regional ELB log delivery principal.',
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

  private writeUserData(userData: ec2.UserData): void {
    const dir = '/opt/cdk-sessions';
    const envFile = '/etc/cdk-sessions.env';
    userData.addCommands(
      'set -euo pipefail',
      '# Node.js from the Amazon Linux 2023 repository (nodejs20; plain nodejs on older images)',
      'dnf install -y -q nodejs20 unzip || dnf install -y -q nodejs unzip',
      'NODE_BIN="$(command -v node-20 || command -v node)"',
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
      'cat > /etc/systemd/system/cdk-sessions.service <<UNIT',
      '[Unit]',
      'Description=cdk-sessions instance server',
      'After=network-online.target',
      'Wants=network-online.target',
      '[Service]',
      'User=sessions',
      `EnvironmentFile=${envFile}`,
      `ExecStart=$NODE_BIN --enable-source-maps ${dir}/app/${INSTANCE_SERVER_FILE}`,
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
      'systemctl daemon-reload',
      'systemctl enable --now cdk-sessions.service',
    );
  }
}

function validateFleetProps(props: InstanceFleetProps, stickinessCookieName: string | undefined): string[] {
  const problems = [...validateVpcChoice(props), ...validateRuntimeOptions(props)];
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
  if (props.healthCheckPath !== undefined && !/^\/[\x21-\x7e]*$/.test(props.healthCheckPath)) {
    problems.push(`healthCheckPath must start with "/" and contain no spaces, got "${props.healthCheckPath}"`);
  }
  if (props.port !== undefined && (!Number.isInteger(props.port) || props.port < 1024 || props.port > 65535)) {
    problems.push(`port must be a whole number from 1024 to 65535 (the server runs unprivileged), got ${props.port}`);
  }
  if (props.rootVolumeSize !== undefined && (!Number.isInteger(props.rootVolumeSize) || props.rootVolumeSize < 8 || props.rootVolumeSize > 16384)) {
    problems.push(`rootVolumeSize must be a whole number of GiB from 8 to 16384, got ${props.rootVolumeSize}`);
  }
  if (props.sslPolicy !== undefined && props.certificate === undefined) problems.push('sslPolicy needs a certificate (it applies to the HTTPS listener)');
  const st = props.stickiness;
  if (st) {
    if (st.type !== 'lb_cookie' && st.type !== 'app_cookie') problems.push(`stickiness.type must be "lb_cookie" or "app_cookie", got "${st.type as string}"`);
    const d = st.duration;
    if (d && !d.isUnresolved()) {
      const s = d.toSeconds({ integral: false });
      if (!(s >= 1 && s <= MAX_STICKINESS_SECONDS && Number.isInteger(s))) {
        problems.push(`stickiness.duration must be a whole number of seconds from 1 second to 7 days, got ${s} s`);
      }
    }
    if (st.type === 'lb_cookie' && st.cookieName !== undefined) problems.push('stickiness.cookieName applies to app_cookie only (lb_cookie always uses AWSALB)');
    if (st.type === 'app_cookie' && stickinessCookieName !== undefined) {
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
