import { Annotations, CustomResource, Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { SessionEnvVars, SessionStoreKind } from '../core/session-env';
import { addVpcAccess, createFunctionRole, runtimeFunction, runtimeFunctionProps } from '../compute/functions';
import { runtimeEntry } from '../compute/runtime-assets';
import { acknowledgeGuard, acknowledgeLogGroupDefaults } from '../core/guard';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkInt, validateProps } from '../core/validate';
import { allowConsumer, secretRemovalPolicy, selectPrivateSubnets, storeSubnetSelection } from './common';

/** The Aurora PostgreSQL version new stores get: the newest 17.x this aws-cdk-lib knows that RDS Proxy supports. */
export const DEFAULT_AURORA_POSTGRES_VERSION = rds.AuroraPostgresEngineVersion.VER_17_7;

/** RDS Proxy listens on 5432 for the PostgreSQL engine family; it cannot be changed. */
export const RDS_PROXY_POSTGRES_PORT = 5432;

/**
 * Properties of a {@link PostgresSessionStore} other than its VPC: the `storeProps` of a topology, which
 * places the store in its own VPC.
 */
export interface PostgresSessionStoreOptions {
  /**
   * Where the cluster, the proxy and the schema function go. Must select private subnets only,
   * in at least two AZs. The schema function calls Secrets Manager, so isolated subnets need a
   * Secrets Manager interface endpoint.
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Aurora PostgreSQL engine version.
   * @default DEFAULT_AURORA_POSTGRES_VERSION (17.7)
   */
  readonly engineVersion?: rds.AuroraPostgresEngineVersion;
  /**
   * Smallest Serverless v2 capacity of each instance, ACUs (0.5-256, half steps). Not 0:
   * the proxy's pooled connections would keep an auto-pausing instance awake anyway.
   * @default 0.5
   */
  readonly minCapacity?: number;
  /**
   * Largest Serverless v2 capacity of each instance, ACUs (1-256, half steps).
   * @default 4
   */
  readonly maxCapacity?: number;
  /**
   * Reader instances, 0-15, spread over the AZs after the writer's. One gives Multi-AZ: Aurora
   * promotes it when the writer's AZ fails (about 30 s; the proxy hides most of it).
   * Readers scale with the writer, so a failover lands on an instance as large as the writer.
   * @default 1
   */
  readonly readers?: number;
  /**
   * Database name.
   * @default 'sessions'
   */
  readonly databaseName?: string;
  /**
   * Master user name (the generated secret's `username`); with `existingSecret`, the user that
   * secret holds (the URL names it).
   * @default 'sessions_owner'
   */
  readonly username?: string;
  /**
   * Session table, optionally schema-qualified; the runtime's default is 'sessions'.
   * @default 'sessions'
   */
  readonly tableName?: string;
  /**
   * Customer-managed KMS key for storage and the credentials secret. Storage is always encrypted.
   * @default - the account's aws/rds key for storage, aws/secretsmanager for the secret
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * IAM database authentication on the cluster. It does not turn passwords off; it lets
   * operators sign in with IAM tokens instead of sharing the master password.
   * @default true
   */
  readonly iamAuthentication?: boolean;
  /**
   * IAM authentication REQUIRED on the proxy: every client must then sign in with an IAM token.
   * The bundled runtime signs in with the secret's password, so only for your own clients; with
   * it, `bind()` also grants `rds-db:connect` on the proxy for the master user.
   * @default false
   */
  readonly proxyIamAuth?: boolean;
  /**
   * Deletion protection. On by default: deleting or *replacing* the cluster (a CloudFormation
   * change of a replacement property) logs every user out and takes minutes; with protection
   * that change fails instead. Turn it off for throw-away stacks.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the cluster (and its instances) when it leaves the stack; when given, also to
   * the credentials secret (SNAPSHOT retains it: a secret has no snapshot).
   * @default - a final snapshot of the cluster (`RemovalPolicy.SNAPSHOT`); the secret keeps aws-cdk-lib's default
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * An Aurora PostgreSQL (or RDS PostgreSQL) cluster made elsewhere, in `vpc`: consumers connect to
   * it directly, unless `existingProxy` is given too. Needs `existingSecret`. The store then creates
   * no cluster, proxy or rotation; it still applies the session schema on deploy (to `databaseName`,
   * which must exist) and sweeps expired sessions. Not with the props that shape a new cluster.
   * @default - a new Aurora Serverless v2 cluster
   */
  readonly existingCluster?: rds.IDatabaseCluster;
  /**
   * An RDS Proxy made elsewhere, in `vpc`, that consumers connect through (port 5432). Needs
   * `existingSecret` and `existingProxySecurityGroups`.
   * @default - a new proxy in front of the new cluster
   */
  readonly existingProxy?: rds.IDatabaseProxy;
  /**
   * The security groups of `existingProxy`: `connect()` opens port 5432 on them to each consumer.
   * @default - none (required with existingProxy)
   */
  readonly existingProxySecurityGroups?: ec2.ISecurityGroup[];
  /**
   * The credentials of the session user of `existingCluster`/`existingProxy`: an RDS JSON secret
   * (`username`, `password`). The user needs CREATE on the database's schema for the schema step.
   * @default - none (required with existingCluster or existingProxy)
   */
  readonly existingSecret?: secretsmanager.ISecret;
  /**
   * Days of automated backups, 1-35 (point-in-time restore within them).
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /**
   * Rotate the master password with the Secrets Manager rotation application (single user).
   * The proxy and the runtime both re-read the secret, so live sessions survive a rotation.
   * @default Duration.days(30)
   */
  readonly rotationSchedule?: Duration;
  /**
   * Turn secret rotation off (e.g. when the VPC cannot reach the Serverless Application Repository).
   * @default false
   */
  readonly disableRotation?: boolean;
  /**
   * How long CloudWatch Logs keeps the PostgreSQL log Aurora exports (errors, slow statements,
   * connection failures: what an operator needs after a failover or a failed rotation).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How often expired sessions are deleted (PostgreSQL has no TTL; the runtime filters expired
   * rows on read, so this only bounds the table's size). The schema function runs on this
   * EventBridge schedule and deletes expired rows in batches of 1000. Whole minutes, 1 to 1440.
   * @default Duration.minutes(15)
   */
  readonly sweepSchedule?: Duration;
}

/** Properties of a {@link PostgresSessionStore}. */
export interface PostgresSessionStoreProps extends PostgresSessionStoreOptions {
  /** The VPC the database lives in; consumers must run in it (see `bind`). */
  readonly vpc: ec2.IVpc;
}

/**
 * A name unique per stack and construct path that RDS accepts as a cluster or proxy identifier:
 * a letter first, then letters, digits and single hyphens, no hyphen last.
 */
function rdsIdentifier(scope: Construct, maxLength: number): string {
  return Names.uniqueResourceName(scope, { maxLength, separator: '-' }).replace(/^[^A-Za-z]+/, '').replace(/-+/g, '-').replace(/-$/, '');
}

const DB_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/**
 * A PostgreSQL session store: Aurora PostgreSQL Serverless v2 (a writer and one reader in
 * another AZ by default), storage encrypted, generated master credentials in Secrets Manager
 * (rotated every 30 days), in private subnets behind its own security group, an RDS Proxy
 * (TLS required, SCRAM) that pools the connections of many Lambda functions and instances,
 * and the session table created on deploy by a custom resource.
 *
 * `bind(consumer)` opens the proxy port (5432) to the consumer's security groups, lets it read
 * the ONE credentials secret, and returns `SESSION_STORE=postgres`,
 * `SESSION_DATABASE_URL=postgres://<user>@<proxy endpoint>:5432/<db>?sslmode=require` (no
 * password: the runtime takes it from the secret) and `SESSION_DATABASE_SECRET_ARN`.
 */
export class PostgresSessionStore extends Construct implements ISessionStore, ec2.IConnectable {
  /** Always 'postgres'. */
  public readonly kind: SessionStoreKind = SessionStoreKind.POSTGRES;
  /**
   * The VPC consumers must run in: always set on this store (optional only in type, as on
   * `ISessionStore`, since jsii keeps an implemented property's optionality).
   */
  public readonly vpc?: ec2.IVpc;
  /** Network access to what consumers connect to (the proxy, or an existing cluster without one), default port {@link port}. */
  public readonly connections: ec2.Connections;
  /** The Aurora cluster (undefined for a store on an existing proxy alone). */
  public readonly cluster?: rds.IDatabaseCluster;
  /** The cluster's security group, when this construct made the cluster. */
  public readonly clusterSecurityGroup?: ec2.SecurityGroup;
  /** Where Aurora exports the PostgreSQL log (`/aws/rds/cluster/<cluster id>/postgresql`), when this construct made the cluster. */
  public readonly postgresLogGroup?: logs.LogGroup;
  /** The RDS Proxy consumers connect through (undefined for a store on an existing cluster without a proxy). */
  public readonly proxy?: rds.IDatabaseProxy;
  /** The proxy's security group, when this construct made the proxy. */
  public readonly proxySecurityGroup?: ec2.SecurityGroup;
  /** The credentials: generated (RDS JSON secret: username, password, host, port, dbname), or `existingSecret`. */
  public readonly secret: secretsmanager.ISecret;
  /** The host consumers connect to: the proxy endpoint, or the existing cluster's endpoint. */
  public readonly endpointAddress: string;
  /** The port consumers connect to (5432 through a proxy). */
  public readonly port: number;
  /** The rotation of {@link secret}, unless turned off. */
  public readonly rotation?: secretsmanager.SecretRotation;
  /** Security group of the rotation function (it needs Secrets Manager and the cluster). */
  public readonly rotationSecurityGroup?: ec2.SecurityGroup;
  /** The function that applies the schema on deploy. */
  public readonly schemaFunction: lambda.Function;
  /** The custom resource that runs it. */
  public readonly schema: CustomResource;
  /** The schedule that runs the schema function's sweep of expired sessions. */
  public readonly sweepRule: events.Rule;
  /** Database name. */
  public readonly databaseName: string;
  /** Master user name. */
  public readonly username: string;
  /** Session table. */
  public readonly tableName: string;
  private readonly proxyIamAuth: boolean;

  constructor(scope: Construct, id: string, props: PostgresSessionStoreProps) {
    super(scope, id);
    const minCapacity = props.minCapacity ?? 0.5;
    const maxCapacity = props.maxCapacity ?? 4;
    const readers = props.readers ?? 1;
    const databaseName = props.databaseName ?? 'sessions';
    const username = props.username ?? 'sessions_owner';
    const tableName = props.tableName ?? 'sessions';
    const backupDays = props.backupRetentionDays ?? 7;

    const problems: string[] = [];
    const acu = (name: string, v: number, min: number) => {
      if (Token.isUnresolved(v)) return;
      if (!(v >= min && v <= 256) || !Number.isInteger(v * 2)) problems.push(`${name} must be from ${min} to 256 ACUs in steps of 0.5, got ${v}`);
    };
    acu('minCapacity', minCapacity, 0.5);
    acu('maxCapacity', maxCapacity, 1);
    if (!Token.isUnresolved(minCapacity) && !Token.isUnresolved(maxCapacity) && minCapacity > maxCapacity) {
      problems.push(`minCapacity (${minCapacity}) must not exceed maxCapacity (${maxCapacity})`);
    }
    checkInt(problems, 'readers', readers, 0, 15);
    checkInt(problems, 'backupRetentionDays', backupDays, 1, 35);
    if (!DB_IDENTIFIER.test(databaseName) || databaseName === 'template0' || databaseName === 'template1') {
      problems.push(`databaseName must be a lower-case identifier (letters, digits, _; at most 63), got '${databaseName}'`);
    }
    if (!DB_IDENTIFIER.test(username) || username === 'rdsadmin' || username.startsWith('pg_')) {
      problems.push(`username must be a lower-case identifier, not rdsadmin or pg_*, got '${username}'`);
    }
    if (!TABLE_NAME.test(tableName)) problems.push(`tableName must be an identifier like 'sessions' or 'app.sessions', got '${tableName}'`);
    const rotationDays = props.rotationSchedule?.isUnresolved() ? undefined : props.rotationSchedule?.toDays({ integral: false });
    if (rotationDays !== undefined && (rotationDays < 1 || rotationDays > 1000 || !Number.isInteger(rotationDays))) {
      problems.push(`rotationSchedule must be a whole number of days from 1 to 1000, got ${rotationDays}`);
    }
    if (props.disableRotation && props.rotationSchedule) problems.push('rotationSchedule and disableRotation: true are mutually exclusive');
    const sweepMinutes = props.sweepSchedule?.isUnresolved() ? undefined : props.sweepSchedule?.toMinutes({ integral: false });
    if (sweepMinutes !== undefined && (sweepMinutes < 1 || sweepMinutes > 1440 || !Number.isInteger(sweepMinutes))) {
      problems.push(`sweepSchedule must be a whole number of minutes from 1 to 1440, got ${sweepMinutes}`);
    }
    const existing = props.existingCluster !== undefined || props.existingProxy !== undefined;
    if (existing) {
      const shaping: (keyof PostgresSessionStoreProps)[] = [
        'engineVersion', 'minCapacity', 'maxCapacity', 'readers', 'encryptionKey', 'iamAuthentication', 'deletionProtection',
        'removalPolicy', 'backupRetentionDays', 'rotationSchedule', 'disableRotation', 'logRetention',
      ];
      for (const k of shaping) if (props[k] !== undefined) problems.push(`${k} only applies to a cluster this construct creates, not to existingCluster or existingProxy`);
      if (!props.existingSecret) problems.push('existingCluster or existingProxy needs existingSecret: the credentials the runtime signs in with');
    } else if (props.existingSecret) {
      problems.push('existingSecret only applies with existingCluster or existingProxy');
    }
    if (props.existingProxy && !props.existingProxySecurityGroups?.length) {
      problems.push('existingProxy needs existingProxySecurityGroups: connect() opens port 5432 on them to each consumer');
    }
    if (props.existingProxySecurityGroups && !props.existingProxy) problems.push('existingProxySecurityGroups only applies with existingProxy');
    if (props.existingCluster && !props.existingProxy && props.proxyIamAuth) problems.push('proxyIamAuth needs a proxy: give existingProxy, or remove proxyIamAuth');
    const selection = storeSubnetSelection(problems, props.vpc, props.vpcSubnets);
    const subnets = !selection ? [] : selectPrivateSubnets(problems, props.vpc, selection, {
      name: 'vpcSubnets',
      twoAzsProblem: existing ? undefined : 'vpcSubnets must span at least two availability zones (Aurora and RDS Proxy need two)',
    });
    validateProps(this, problems);

    this.vpc = props.vpc;
    this.databaseName = databaseName;
    this.username = username;
    this.tableName = tableName;
    this.proxyIamAuth = props.proxyIamAuth ?? false;
    const stack = Stack.of(this);

    // What the schema function connects to, and what must exist before it runs.
    let schemaTarget: { host: string; port: number; connections: ec2.Connections; dependencies: Construct[] };
    if (existing) {
      this.secret = props.existingSecret!;
      this.cluster = props.existingCluster;
      this.proxy = props.existingProxy;
      if (props.existingProxy) {
        this.endpointAddress = props.existingProxy.endpoint;
        this.port = RDS_PROXY_POSTGRES_PORT;
        this.connections = new ec2.Connections({ securityGroups: props.existingProxySecurityGroups, defaultPort: ec2.Port.tcp(RDS_PROXY_POSTGRES_PORT) });
      } else {
        const cluster = props.existingCluster!;
        this.endpointAddress = cluster.clusterEndpoint.hostname;
        this.port = cluster.clusterEndpoint.port;
        this.connections = new ec2.Connections({ securityGroups: cluster.connections.securityGroups, defaultPort: ec2.Port.tcp(this.port) });
      }
      schemaTarget = { host: this.endpointAddress, port: this.port, connections: this.connections, dependencies: [] };
    } else {
      const created = this.createDatabase(props, selection!, subnets, { databaseName, username, minCapacity, maxCapacity, readers, backupDays });
      this.cluster = created.cluster;
      this.clusterSecurityGroup = created.clusterSecurityGroup;
      this.postgresLogGroup = created.postgresLogGroup;
      this.secret = created.cluster.secret!;
      this.rotation = created.rotation;
      this.rotationSecurityGroup = created.rotationSecurityGroup;
      this.proxy = created.proxy;
      this.proxySecurityGroup = created.proxySecurityGroup;
      this.endpointAddress = created.proxy.endpoint;
      this.port = RDS_PROXY_POSTGRES_PORT;
      this.connections = new ec2.Connections({ securityGroups: [created.proxySecurityGroup], defaultPort: ec2.Port.tcp(RDS_PROXY_POSTGRES_PORT) });
      schemaTarget = {
        host: created.cluster.clusterEndpoint.hostname,
        port: created.cluster.clusterEndpoint.port,
        connections: created.cluster.connections,
        dependencies: [created.cluster, created.clusterSecurityGroup],
      };
    }

    // ---- schema on deploy ---------------------------------------------------------------
    const schemaLogs = new logs.LogGroup(this, 'SchemaLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    acknowledgeLogGroupDefaults(schemaLogs, logs.RetentionDays.ONE_MONTH, "the schema and sweep function's logs");
    const schemaRole = createFunctionRole(this, 'SchemaRole', 'Session schema custom resource: its log group, the database secret, its VPC interfaces', schemaLogs);
    addVpcAccess(schemaRole, 'to reach the database in its VPC');
    const schemaSecurityGroup = new ec2.SecurityGroup(this, 'SchemaSecurityGroup', {
      vpc: props.vpc,
      description: `Session schema function of ${this.node.path}: egress to the cluster and Secrets Manager`,
      allowAllOutbound: true,
    });
    this.schemaFunction = runtimeFunction(this, 'SchemaFunction', {
      ...runtimeFunctionProps(runtimeEntry('handlers/postgres-schema'), {
        // The RDS CA bundle the Lambda Node.js runtime ships: TLS to the cluster is verified.
        environment: { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' },
        bundling: { externalModules: ['@aws-sdk/*', 'pg-native'] },
      }),
      memorySize: 256,
      timeout: Duration.minutes(5),
      role: schemaRole,
      logGroup: schemaLogs,
      vpc: props.vpc,
      vpcSubnets: selection,
      securityGroups: [schemaSecurityGroup],
    });
    schemaTarget.connections.allowFrom(schemaSecurityGroup, ec2.Port.tcp(schemaTarget.port), 'Session schema function');
    this.grantReadSecret(schemaRole);

    const providerLogs = new logs.LogGroup(this, 'SchemaProviderLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    acknowledgeLogGroupDefaults(providerLogs, logs.RetentionDays.ONE_MONTH, "the schema custom resource provider's logs");
    const providerRole = createFunctionRole(
      this,
      'SchemaProviderRole',
      'Custom resource provider of the session schema: invokes the schema function, writes its log group',
      providerLogs,
    );
    const provider = new cr.Provider(this, 'SchemaProvider', {
      onEventHandler: this.schemaFunction,
      frameworkOnEventRole: providerRole,
      logGroup: providerLogs,
    });
    acknowledgeGuard(
      provider,
      'lambda_inside_vpc_check',
      'The provider framework function only invokes the schema function (which runs in the VPC) and reports to ' +
        "CloudFormation's pre-signed response URL; it reaches nothing inside the VPC.",
    );
    const schemaProperties = {
      SecretArn: this.secret.secretArn,
      Host: schemaTarget.host,
      Port: Token.isUnresolved(schemaTarget.port) ? Token.asString(schemaTarget.port) : String(schemaTarget.port),
      Database: databaseName,
      Table: tableName,
    };
    this.schema = new CustomResource(this, 'Schema', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SessionSchema',
      // SchemaVersion is bumped whenever the runtime's ensureSchema changes, so an update deploy
      // re-runs it (2: the write_token column that compare-and-set checks).
      properties: { ...schemaProperties, SchemaVersion: '2' },
    });
    // PostgreSQL has no TTL: the same function deletes expired sessions on a schedule.
    this.sweepRule = new events.Rule(this, 'SweepSchedule', {
      description: `Deletes expired sessions of ${this.node.path} in batches`,
      schedule: events.Schedule.rate(props.sweepSchedule ?? Duration.minutes(15)),
      targets: [new targets.LambdaFunction(this.schemaFunction, { event: events.RuleTargetInput.fromObject({ sweep: schemaProperties }), retryAttempts: 0 })],
    });
    this.sweepRule.node.addDependency(this.schema);
    // After every instance is up (the writer takes connections) and the network path is open.
    this.schema.node.addDependency(...schemaTarget.dependencies);
    // cr.Provider grants lambda:InvokeFunction on the function and on `<arn>:*` (its versions).
    const invokeVersions = `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.schemaFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`;
    Validations.of(providerRole.node.findChild('DefaultPolicy')).acknowledge({
      id: invokeVersions,
      reason: 'The provider framework invokes the one schema function, by ARN or by a version/alias of it (`<arn>:*`); no other function.',
    });
  }

  /** The cluster, its log group, the rotation and the proxy of a store that makes its own database. */
  private createDatabase(
    props: PostgresSessionStoreProps,
    selection: ec2.SubnetSelection,
    subnets: ec2.ISubnet[],
    o: { databaseName: string; username: string; minCapacity: number; maxCapacity: number; readers: number; backupDays: number },
  ) {
    const { databaseName, username, minCapacity, maxCapacity, readers, backupDays } = o;
    // ---- cluster ------------------------------------------------------------------------
    const clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc: props.vpc,
      description: `Session database ${this.node.path}: ingress only from its proxy, schema and rotation functions`,
      allowAllOutbound: false,
    });
    const azs = [...new Set(subnets.map((s) => s.availabilityZone))];
    // The PostgreSQL log goes to CloudWatch Logs. RDS writes it to /aws/rds/cluster/<id>/postgresql
    // and makes that group itself on the first export, so the group is made here first, with its
    // retention, under a cluster identifier known at synth (no log-retention custom resource).
    const clusterIdentifier = rdsIdentifier(this, 63).toLowerCase();
    const postgresLogGroup = new logs.LogGroup(this, 'PostgresqlLog', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroupDefaults(postgresLogGroup, props.logRetention ?? logs.RetentionDays.ONE_MONTH, "Aurora's PostgreSQL log (prop logRetention)");
    const cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
      cloudwatchLogsExports: ['postgresql'],
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: props.engineVersion ?? DEFAULT_AURORA_POSTGRES_VERSION }),
      credentials: rds.Credentials.fromGeneratedSecret(username, { encryptionKey: props.encryptionKey }),
      defaultDatabaseName: databaseName,
      writer: rds.ClusterInstance.serverlessV2('Writer', { availabilityZone: azs[0], autoMinorVersionUpgrade: true }),
      readers: Array.from({ length: readers }, (_, i) =>
        rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, {
          availabilityZone: azs[(i + 1) % azs.length],
          scaleWithWriter: true,
          autoMinorVersionUpgrade: true,
        }),
      ),
      serverlessV2MinCapacity: minCapacity,
      serverlessV2MaxCapacity: maxCapacity,
      vpc: props.vpc,
      vpcSubnets: selection,
      securityGroups: [clusterSecurityGroup],
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      iamAuthentication: props.iamAuthentication ?? true,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
      backup: { retention: Duration.days(backupDays) },
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
    });
    acknowledgeGuard(
      cluster,
      'rds_instance_enhanced_monitoring_enabled_check',
      "The instances' CloudWatch metrics (ACU and CPU utilization, connections, replica lag) and the exported " +
        'PostgreSQL log cover a session table; Enhanced Monitoring would add OS metrics billed as log ingestion and a ' +
        'role with the AWS-managed AmazonRDSEnhancedMonitoringRole policy.',
    );
    cluster.node.defaultChild!.node.addDependency(postgresLogGroup);
    if (props.removalPolicy !== undefined) cluster.secret!.applyRemovalPolicy(secretRemovalPolicy(props.removalPolicy));
    if (readers === 0) {
      Annotations.of(this).addWarningV2('cdk-sessions:singleAzDatabase', 'readers: 0 leaves the writer alone in one AZ; an AZ outage stops every session until Aurora recreates it');
    }
    if (props.iamAuthentication === false) {
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-RDS6',
        reason: 'IAM database authentication was turned off on purpose (iamAuthentication: false); clients sign in through the proxy with the rotated Secrets Manager password.',
      });
    }
    if (props.deletionProtection === false) {
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'Deletion protection was turned off on purpose (deletionProtection: false), for a throw-away stack; sessions are transient data.',
      });
    }

    let rotation: secretsmanager.SecretRotation | undefined;
    let rotationSecurityGroup: ec2.SecurityGroup | undefined;
    if (props.disableRotation) {
      Validations.of(cluster.node.findChild('Secret')).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotation was turned off on purpose (disableRotation: true); rotate by hand with the Secrets Manager PostgreSQL rotation function.',
      });
    } else {
      rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: props.vpc,
        description: `Secret rotation of ${this.node.path}: egress to Secrets Manager and the cluster`,
        allowAllOutbound: true,
      });
      rotation = cluster.addRotationSingleUser({
        automaticallyAfter: props.rotationSchedule ?? Duration.days(30),
        vpcSubnets: selection,
        securityGroup: rotationSecurityGroup,
      });
    }

    // ---- proxy --------------------------------------------------------------------------
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: props.vpc,
      description: `Session database proxy ${this.node.path}: ingress only from bound consumers`,
      allowAllOutbound: false,
    });
    const proxy = cluster.addProxy('Proxy', {
      // Unique per stack and construct path (a plain 'Proxy' would collide between stacks in one account).
      dbProxyName: rdsIdentifier(this, 60),
      vpc: props.vpc,
      vpcSubnets: selection,
      securityGroups: [proxySecurityGroup],
      secrets: [cluster.secret!],
      requireTLS: true,
      iamAuth: props.proxyIamAuth ?? false,
      clientPasswordAuthType: rds.ClientPasswordAuthType.POSTGRES_SCRAM_SHA_256,
      borrowTimeout: Duration.seconds(30),
      idleClientTimeout: Duration.minutes(30),
      debugLogging: false,
    });
    // The proxy reads the credentials secret from inside the VPC for every database connection it
    // opens. In subnets with a NAT route it may reach Secrets Manager's public endpoint (HTTPS
    // only, the one egress besides the cluster); a Secrets Manager interface endpoint in the VPC
    // must admit it through allowSecretsManagerEndpoint().
    if (subnets.length > 0 && subnets.every((sub) => props.vpc.privateSubnets.some((p) => p.subnetId === sub.subnetId))) {
      proxySecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'RDS Proxy to Secrets Manager through the NAT gateway');
    }

    return { cluster, clusterSecurityGroup, postgresLogGroup, rotation, rotationSecurityGroup, proxy, proxySecurityGroup };
  }

  /**
   * Lets the parts of the store that call Secrets Manager from inside the VPC through a Secrets
   * Manager interface endpoint: the RDS Proxy (it reads the credentials secret for every
   * database connection), the schema function and the rotation function. With private DNS, every
   * Secrets Manager call in the VPC goes to the endpoint, whose security group admits only whom it
   * is opened to; without this the proxy cannot open connections and every request gets a 503.
   * The schema custom resource then waits for the endpoint, so its first call does not race the
   * endpoint's private DNS. Call it for each such endpoint in the store's VPC (`RdsSessions` does
   * for the one its `SessionApi` makes).
   */
  public allowSecretsManagerEndpoint(endpoint: ec2.IInterfaceVpcEndpoint): void {
    const clients: [ec2.IConnectable, string][] = [[this.schemaFunction, 'session schema function']];
    if (this.proxySecurityGroup) clients.push([this.proxySecurityGroup, 'RDS Proxy']);
    if (this.rotationSecurityGroup) clients.push([this.rotationSecurityGroup, 'secret rotation function']);
    for (const [peer, what] of clients) endpoint.connections.allowDefaultPortFrom(peer, `${what} of ${this.node.path} to Secrets Manager`);
    this.schema.node.addDependency(endpoint);
  }

  /**
   * `postgres://<user>@<endpointAddress>:<port>/<db>?sslmode=require` (the proxy's endpoint and 5432,
   * or an existing cluster's) — no password; the runtime reads it from the secret.
   */
  public get url(): string {
    return `postgres://${this.username}@${this.endpointAddress}:${this.port}/${this.databaseName}?sslmode=require`;
  }

  /**
   * Wires a team's own code to these sessions in one call: grants, network path, and the whole
   * runtime environment (store variables, cookie secret ARN, cookie name, timeouts) set on the
   * consumer. Consumers connected without `cookieSecret` share this store's cookie secret.
   *
   * @example store.connect(SessionConsumer.fromFunction(fn))
   */
  public connect(consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
    return connectSessionConsumer(this, consumer, options);
  }

  /**
   * Opens the proxy port to the consumer's security groups, grants {@link grantReadWrite}, and
   * returns the runtime environment. Throws when the consumer has no `connections` (it must run in the VPC).
   */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    allowConsumer(this, consumer, 'PostgreSQL');
    this.grantReadWrite(consumer);
    return {
      environment: {
        [SessionEnvVars.STORE]: 'postgres',
        [SessionEnvVars.DATABASE_URL]: this.url,
        [SessionEnvVars.DATABASE_SECRET_ARN]: this.secret.secretArn,
      },
    };
  }

  /** `secretsmanager:GetSecretValue` and `DescribeSecret` on the credentials secret only (plus `kms:Decrypt` on its customer key). */
  public grantReadSecret(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /**
   * Everything a consumer needs for session data besides the network path: read of the one
   * credentials secret (plus `kms:Decrypt` on its customer key), and `rds-db:connect` on the proxy
   * for the session user when the proxy requires IAM authentication (`proxyIamAuth`). The
   * table privileges are the database user's own.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantReadSecret(grantee);
    if (this.proxy && this.proxyIamAuthRequired) this.proxy.grantConnect(grantee, this.username);
    return grant;
  }

  /**
   * A metric of the cluster, namespace AWS/RDS, dimension DBClusterIdentifier. Average over 5 minutes.
   * Throws for a store on an existing proxy alone (use {@link metricProxy}).
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.cluster) throw new Error(`${this.node.path} was given existingProxy without existingCluster: it has no cluster metrics; use metricProxy()`);
    return this.cluster.metric(metricName, { period: Duration.minutes(5), ...props });
  }

  /** Percent CPU of the cluster's instances (CPUUtilization). Average over 5 minutes. */
  public metricCPUUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CPUUtilization', props);
  }

  /** Aurora Capacity Units in use (ServerlessDatabaseCapacity): what Serverless v2 bills. Average over 5 minutes. */
  public metricServerlessDatabaseCapacity(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ServerlessDatabaseCapacity', props);
  }

  /** Percent of `maxCapacity` in use (ACUUtilization): near 100 the cluster cannot grow. Average over 5 minutes. */
  public metricACUUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ACUUtilization', props);
  }

  /** Connections to the cluster (DatabaseConnections): the proxy's pooled connections and the schema function's. Maximum over 5 minutes. */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseConnections', { statistic: 'Maximum', ...props });
  }

  /**
   * A metric of the RDS Proxy, namespace AWS/RDS, dimension ProxyName. Average over 5 minutes.
   * Throws for a store on an existing cluster without a proxy.
   */
  public metricProxy(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.proxy) throw new Error(`${this.node.path} connects to its cluster without a proxy: it has no proxy metrics`);
    return new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: this.proxy.dbProxyName },
      period: Duration.minutes(5),
      statistic: 'Average',
      ...props,
    });
  }

  /** Client connections open to the proxy (ClientConnections): every consumer's pool. Maximum over 5 minutes. */
  public metricProxyClientConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('ClientConnections', { statistic: 'Maximum', ...props });
  }

  /**
   * Microseconds the proxy waited for a database connection from its pool
   * (DatabaseConnectionsBorrowLatency): it grows when the pool is exhausted. Average over 5 minutes.
   */
  public metricProxyDatabaseConnectionsBorrowLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('DatabaseConnectionsBorrowLatency', props);
  }

  private get proxyIamAuthRequired(): boolean {
    const cfn = this.proxy?.node.defaultChild;
    if (!(cfn instanceof rds.CfnDBProxy)) return this.proxyIamAuth;
    const auth = cfn.auth as rds.CfnDBProxy.AuthFormatProperty[] | undefined;
    return (auth ?? []).some((a) => a.iamAuth === 'REQUIRED');
  }
}
