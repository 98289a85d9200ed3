import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { denyNonServiceGrants } from '../core/guard';
import { ISessionStore } from '../core/session-store';
import { validateProps } from '../core/validate';
import { DynamoDbSessionStore } from '../stores/dynamodb-session-store';
import { JwtSessionKeys } from '../stores/jwt-session-keys';
import { MemcachedSessionStore } from '../stores/memcached-session-store';
import { PostgresSessionStore } from '../stores/postgres-session-store';
import { RedisSessionStore } from '../stores/redis-session-store';
import { S3SessionStore } from '../stores/s3-session-store';

/**
 * The thresholds of the alarms {@link SessionMonitoring} creates. Each alarm fires when its metric
 * is at or above the threshold (counts: Sum over 5 minutes) for the periods said; every alarm
 * treats missing data as not breaching (no traffic is no trouble).
 */
export interface SessionAlarmThresholds {
  /** Instances' 5xx responses (ALB HTTPCode_Target_5XX_Count), per 5 minutes. @default 10 */
  readonly target5xxCount?: number;
  /** The load balancer's own 5xx (no healthy target, target timeouts: HTTPCode_ELB_5XX_Count), per 5 minutes. @default 10 */
  readonly elb5xxCount?: number;
  /** Instances failing the health check (Maximum over 1 minute, 3 minutes in a row). @default 1 */
  readonly unhealthyHosts?: number;
  /** p99 of TargetResponseTime, 3 periods of 5 minutes in a row. @default Duration.seconds(2) */
  readonly targetResponseTime?: Duration;
  /** Store calls (JWT: revocation table calls) that failed or timed out, as the runtime counted them (StoreErrors), per compute and 5 minutes. @default 5 */
  readonly storeErrors?: number;
  /** Requests answered 503 because the store (or the JWT denylist) did not answer (Responses503), per compute and 5 minutes. @default 5 */
  readonly responses503?: number;
  /** Failed invocations of the API's function (Lambda Errors: crashes and timeouts; store trouble is a 503), per 5 minutes. @default 1 */
  readonly functionErrors?: number;
  /** Throttled invocations of the API's function, per 5 minutes. @default 1 */
  readonly functionThrottles?: number;
  /** p99 of the function's Duration, 3 periods of 5 minutes in a row. @default - 80 % of the function's timeout */
  readonly functionDuration?: Duration;
  /** HTTP API 5xx responses (the API's own and the function's), per 5 minutes. @default 10 */
  readonly api5xxCount?: number;
  /** Percent CPU of a cache node: EngineCPUUtilization (Redis) or CPUUtilization (Memcached), the busiest node, 3 periods of 5 minutes. @default 80 */
  readonly cacheCpuPercent?: number;
  /** Percent of maxmemory used (Redis DatabaseMemoryUsagePercentage), the fullest node. @default 80 */
  readonly cacheMemoryPercent?: number;
  /** Keys evicted (Evictions), any node, per 5 minutes: every eviction is a lost login. @default 1 */
  readonly cacheEvictions?: number;
  /** Open client connections on the busiest node (CurrConnections). ElastiCache allows 65000. @default 10000 */
  readonly cacheConnections?: number;
  /** Replica lag behind its primary (Redis ReplicationLag), the worst replica, 3 periods of 5 minutes. @default Duration.seconds(5) */
  readonly replicationLag?: Duration;
  /** Serverless cache: ElastiCache Processing Units per second (a load and spend guard), averaged over 5 minutes. @default 100000 */
  readonly serverlessEcpusPerSecond?: number;
  /** Serverless cache: bytes stored (BytesUsedForCache, Maximum). Sessions are small; growth past this is a leak or abuse. @default 10737418240 (10 GiB) */
  readonly serverlessBytesUsed?: number;
  /** Serverless cache: commands throttled while it scaled (ThrottledCmds), per 5 minutes: each one is a 503. @default 1 */
  readonly serverlessThrottledCommands?: number;
  /** DynamoDB (session or revocation table): throttled requests, per 5 minutes. @default 1 */
  readonly dynamoDbThrottles?: number;
  /** DynamoDB: system errors (500s of DynamoDB), per 5 minutes. @default 1 */
  readonly dynamoDbSystemErrors?: number;
  /** DynamoDB: average latency of GetItem (each request's session read), 3 periods of 5 minutes. @default Duration.millis(25) */
  readonly dynamoDbLatency?: Duration;
  /** Aurora: percent CPU, 3 periods of 5 minutes. @default 80 */
  readonly databaseCpuPercent?: number;
  /** Aurora Serverless v2: percent of the maximum capacity in use (ACUUtilization), 3 periods of 5 minutes. @default 90 */
  readonly databaseAcuPercent?: number;
  /** RDS Proxy: database connections as a percent of what the proxy may open (DatabaseConnections ÷ MaxDatabaseConnectionsAllowed). @default 90 */
  readonly proxyConnectionsPercent?: number;
  /** RDS Proxy: failed connection set-ups to the database (DatabaseConnectionsSetupFailed) and failed client authentications (ClientConnectionsSetupFailedAuth), each per 5 minutes. @default 1 */
  readonly proxyConnectionFailures?: number;
  /** S3 store with request metrics on: 5xx errors of S3, per 5 minutes. @default 5 */
  readonly s3ServerErrors?: number;
}

/** Options of a topology's `addMonitoring()`, and the base of {@link SessionMonitoringProps}. */
export interface SessionMonitoringOptions {
  /**
   * Where every alarm sends its ALARM and OK notifications.
   * @default - a new SNS topic, encrypted with a new customer-managed KMS key (with rotation) that CloudWatch may use, TLS-only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An email address subscribed to the alarm topic (the recipient confirms the subscription).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Name of the dashboard.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * Alarm thresholds; each one left out keeps its documented default.
   * @default - every default
   */
  readonly thresholds?: SessionAlarmThresholds;
  /**
   * What happens to the KMS key of a topic this construct creates when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Props of {@link SessionMonitoring}: the parts to watch, and the options. */
export interface SessionMonitoringProps extends SessionMonitoringOptions {
  /**
   * An instance fleet: ALB 5xx, unhealthy hosts and response time, and its runtime's store errors and 503s.
   * @default - no fleet alarms
   */
  readonly fleet?: InstanceFleet;
  /**
   * A Lambda HTTP API: function errors, throttles and duration, API 5xx, and its runtime's store errors and 503s.
   * @default - no API alarms
   */
  readonly api?: SessionApi;
  /**
   * The session store: the alarms of its kind (Redis/Valkey and Memcached nodes or serverless
   * caches, DynamoDB, S3 with request metrics, Aurora and RDS Proxy, the JWT revocation table).
   * @default - no store alarms
   */
  readonly store?: ISessionStore;
}

const FIVE_MINUTES = Duration.minutes(5);

/** One alarm to create. */
interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** What it means and what to do, in the alarm's description. */
  readonly description: string;
  /** Periods evaluated; the alarm fires when all of them breach. @default 1 */
  readonly periods?: number;
}

/**
 * Alarms and a CloudWatch dashboard for a session deployment, matched to the parts it has: the
 * instance fleet's load balancer, the Lambda HTTP API, the store of its kind, and the runtime's
 * own metrics (store errors and 503s, store latency, compare-and-set conflicts, sessions, JWT
 * refusals; written as EMF by lambda/session/metrics.ts). Every alarm notifies one SNS topic
 * (given, or created encrypted and TLS-only) on ALARM and on OK, and says in its description what
 * it means and what to do. Built on aws-cdk-lib's CloudWatch L2s, no other dependency.
 *
 * Each topology has `addMonitoring()`, which passes its parts.
 *
 * @example new SessionMonitoring(this, 'Monitoring', { fleet, api, store, alarmEmail: 'oncall@example.com' })
 */
export class SessionMonitoring extends Construct {
  /** The topic every alarm notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The KMS key of the topic, when this construct created the topic. */
  public readonly alarmTopicKey?: kms.IKey;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm created, in the order of the dashboard. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly thresholds: SessionAlarmThresholds;
  private readonly action: cwActions.SnsAction;

  constructor(scope: Construct, id: string, props: SessionMonitoringProps) {
    super(scope, id);
    validateThresholds(this, props.thresholds ?? {});
    this.thresholds = props.thresholds ?? {};
    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      const key = new kms.Key(this, 'AlarmTopicKey', {
        description: `Encrypts the session alarm topic of ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      // CloudWatch publishes alarm notifications to an encrypted topic only with these on its key.
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      // Grants bypass the key policy; nothing here needs one (CT.KMS.PR.3).
      denyNonServiceGrants(key);
      this.alarmTopicKey = key;
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Session alarms', masterKey: key, enforceSSL: true });
    }
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new cwActions.SnsAction(this.alarmTopic);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });

    const rows: cloudwatch.IWidget[][] = [];
    if (props.fleet) rows.push(...this.watchFleet(props.fleet, props.store));
    if (props.api) rows.push(...this.watchApi(props.api, props.store));
    if (props.store) rows.push(...this.watchStore(props.store));
    const runtimes = [props.fleet, props.api].filter((c): c is InstanceFleet | SessionApi => c !== undefined);
    if (runtimes.length > 0) rows.push(...runtimeRows(runtimes, props.store));
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Session alarms', alarms: this.alarms, width: 24, height: Math.min(12, 2 + Math.ceil(this.alarms.length / 4)) }));
    for (const row of rows) this.dashboard.addWidgets(...row);
  }

  private alarm(id: string, spec: AlarmSpec): cloudwatch.Alarm {
    const periods = spec.periods ?? 1;
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  private watchFleet(fleet: InstanceFleet, store: ISessionStore | undefined): cloudwatch.IWidget[][] {
    const t = this.thresholds;
    const target5xx = fleet.metricHttpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum' });
    const elb5xx = fleet.metricHttpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: 'Sum' });
    const unhealthy = fleet.metricUnhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) });
    const responseTime = fleet.metricTargetResponseTime({ statistic: 'p99' });
    this.alarm('FleetTarget5xx', { metric: target5xx, threshold: t.target5xxCount ?? 10, description: 'Instances answered 5xx. Runbook: read the fleet\'s error lines (CloudWatch Logs, "store error" / "unexpected error"); if they are 503 store_unavailable, check the store alarms.' });
    this.alarm('FleetElb5xx', { metric: elb5xx, threshold: t.elb5xxCount ?? 10, description: 'The load balancer answered 5xx itself (no healthy instance, instance timeouts or resets). Runbook: check UnhealthyHosts and the Auto Scaling group\'s activity; look for instances that crash or fail their health check.' });
    this.alarm('FleetUnhealthyHosts', { metric: unhealthy, threshold: t.unhealthyHosts ?? 1, periods: 3, description: 'Instances fail the /healthz check (liveness: the process does not serve). Runbook: the Auto Scaling group replaces them; if it repeats, read the instance\'s journal/CloudWatch log for crashes or out-of-memory kills.' });
    this.alarm('FleetTargetResponseTime', { metric: responseTime, threshold: (t.targetResponseTime ?? Duration.seconds(2)).toMilliseconds() / 1000, periods: 3, description: 'p99 instance response time is high. Runbook: compare StoreLatency on the dashboard (a slow store) with instance CPU (scale out: maxCapacity).' });
    this.runtimeAlarms('Fleet', fleet, store);
    return [[graph('Fleet: requests and 5xx', [fleet.metricRequestCount({ statistic: 'Sum' }), target5xx, elb5xx]), graph('Fleet: p99 response time (s)', [responseTime]), graph('Fleet: unhealthy instances', [unhealthy])]];
  }

  private watchApi(api: SessionApi, store: ISessionStore | undefined): cloudwatch.IWidget[][] {
    const t = this.thresholds;
    const timeoutMs = api.function.timeout?.toMilliseconds() ?? 3000;
    const errors = api.metricErrors({ statistic: 'Sum' });
    const throttles = api.metricThrottles({ statistic: 'Sum' });
    const duration = api.metricDuration({ statistic: 'p99' });
    const server5xx = api.metricServerError({ statistic: 'Sum' });
    this.alarm('ApiFunctionErrors', { metric: errors, threshold: t.functionErrors ?? 1, description: 'The API\'s function failed (crash, timeout or out of memory; store trouble is answered 503, not an error). Runbook: read the function\'s log group for the failing request id; a timeout near the function\'s limit points at a slow store.' });
    this.alarm('ApiFunctionThrottles', { metric: throttles, threshold: t.functionThrottles ?? 1, description: 'Invocations were refused for lack of concurrency: users got 5xx. Runbook: raise reservedConcurrentExecutions or the account\'s concurrency quota; check for a traffic spike.' });
    this.alarm('ApiFunctionDuration', { metric: duration, threshold: (t.functionDuration?.toMilliseconds() ?? Math.round(timeoutMs * 0.8)), periods: 3, description: 'p99 function duration is close to its timeout. Runbook: compare StoreLatency; a cold store connection or a slow store shows there first; raise memorySize if CPU-bound.' });
    this.alarm('Api5xx', { metric: server5xx, threshold: t.api5xxCount ?? 10, description: 'The HTTP API answered 5xx. Runbook: Responses503 on the dashboard means the store; else see ApiFunctionErrors and the API access log.' });
    this.runtimeAlarms('Api', api, store);
    return [[graph('API: invocations, errors, throttles, 5xx', [api.metricInvocations({ statistic: 'Sum' }), errors, throttles, server5xx]), graph('API: p99 duration (ms)', [duration])]];
  }

  /** The runtime's own alarms on one compute: store errors (a store outside the instances: not for memory) and 503s. */
  private runtimeAlarms(prefix: string, c: InstanceFleet | SessionApi, store: ISessionStore | undefined): cloudwatch.Alarm[] {
    const t = this.thresholds;
    const out: cloudwatch.Alarm[] = [];
    if (store !== undefined) {
      // JWT: the calls are the revocation table's (the denylist checks and writes).
      const calls = store.kind === 'jwt' ? 'revocation table calls' : 'store calls';
      out.push(this.alarm(`${prefix}StoreErrors`, { metric: c.metricStoreErrors(), threshold: t.storeErrors ?? 5, description: `The session runtime (${prefix.toLowerCase()}) saw ${calls} fail or time out: those requests got 503. Runbook: check the store's alarms and its security group/endpoint; StoreTimeouts vs StoreErrors on the dashboard tells a slow store from a refused one.` }));
    }
    out.push(this.alarm(`${prefix}Responses503`, { metric: c.metricResponses503(), threshold: t.responses503 ?? 5, description: `The session runtime (${prefix.toLowerCase()}) answered 503: the session store (JWT: the revocation table or KMS) did not answer within SESSION_STORE_TIMEOUT_MS. Runbook: check the store alarms; users keep their sessions once it answers again.` }));
    return out;
  }

  private watchStore(store: ISessionStore): cloudwatch.IWidget[][] {
    const t = this.thresholds;
    if (store instanceof RedisSessionStore) {
      if (store.serverlessCache !== undefined || hasMetric(() => store.metricThrottledCmds())) {
        return this.serverlessCacheAlarms('Redis', store.metricElastiCacheProcessingUnits(), store.metricBytesUsedForCache(), store.metricThrottledCmds());
      }
      const nodes = store.replicationGroup?.memberClusterIds ?? [];
      const max = (name: string, statistic: string) => maxOverNodes(nodes.map((id) => store.metric(name, { cacheClusterId: id, statistic })), store.metric(name, { statistic }), name);
      const cpu = max('EngineCPUUtilization', 'Average');
      const mem = max('DatabaseMemoryUsagePercentage', 'Maximum');
      const evictions = max('Evictions', 'Sum');
      const conns = max('CurrConnections', 'Maximum');
      this.alarm('RedisEngineCpu', { metric: cpu, threshold: t.cacheCpuPercent ?? 80, periods: 3, description: 'The Redis engine thread is busy on a node (single-threaded: latency rises next). Runbook: scale the node type up or add shards; look for hot keys or a client storm.' });
      this.alarm('RedisMemory', { metric: mem, threshold: t.cacheMemoryPercent ?? 80, description: 'A node\'s memory is filling: evictions (lost logins) come next. Runbook: scale the node type up or add shards; check SESSION_MAX_BYTES and idle timeouts.' });
      this.alarm('RedisEvictions', { metric: evictions, threshold: t.cacheEvictions ?? 1, description: 'Redis evicted keys: each is a session lost, its user logged out. Runbook: scale memory now (node type or shards); evictions stop when memory fits the sessions.' });
      this.alarm('RedisConnections', { metric: conns, threshold: t.cacheConnections ?? 10000, description: 'Many client connections on a node. Runbook: check for a connection leak (instances or functions opening a client per request) or a scale-out storm.' });
      const widgets = [graph('Redis: CPU % / memory %', [cpu, mem]), graph('Redis: evictions, connections', [evictions, conns])];
      // Only with replicas (metricReplicationLag throws without). Every member is read: only replicas
      // publish ReplicationLag, and which node is the primary changes with each failover.
      if (hasMetric(() => store.metricReplicationLag())) {
        const lag = nodes.length > 1 ? maxOverNodes(nodes.map((id) => store.metric('ReplicationLag', { cacheClusterId: id, statistic: 'Maximum' })), store.metricReplicationLag(), 'ReplicationLag') : store.metricReplicationLag();
        this.alarm('RedisReplicationLag', { metric: lag, threshold: (t.replicationLag ?? Duration.seconds(5)).toMilliseconds() / 1000, periods: 3, description: 'A replica lags its primary: a failover now would lose the latest session writes (the runtime then refuses the stale copies, users may be logged out). Runbook: check the primary\'s CPU and network; a lag that keeps growing needs a bigger node type.' });
        widgets.push(graph('Redis: replication lag (s)', [lag]));
      }
      return [widgets];
    }
    if (store instanceof MemcachedSessionStore) {
      if (store.serverlessCache !== undefined || hasMetric(() => store.metricThrottledCmds())) {
        return this.serverlessCacheAlarms('Memcached', store.metricElastiCacheProcessingUnits(), store.metricBytesUsedForCache(), store.metricThrottledCmds());
      }
      const count = store.cacheCluster?.numCacheNodes ?? 1;
      const ids = Array.from({ length: Math.min(count, 10) }, (_, i) => String(i + 1).padStart(4, '0'));
      const max = (name: string, statistic: string) => maxOverNodes(ids.map((n) => store.metric(name, { cacheNodeId: n, statistic })), store.metric(name, { statistic }), name);
      const cpu = max('CPUUtilization', 'Average');
      const evictions = max('Evictions', 'Sum');
      const conns = max('CurrConnections', 'Maximum');
      this.alarm('MemcachedCpu', { metric: cpu, threshold: t.cacheCpuPercent ?? 80, periods: 3, description: 'A Memcached node is busy. Runbook: scale the node type up or add nodes (sessions on a removed node are lost).' });
      this.alarm('MemcachedEvictions', { metric: evictions, threshold: t.cacheEvictions ?? 1, description: 'Memcached evicted items: each is a session lost. Runbook: add memory (node type or nodes); check SESSION_MAX_BYTES and idle timeouts.' });
      this.alarm('MemcachedConnections', { metric: conns, threshold: t.cacheConnections ?? 10000, description: 'Many client connections on a node. Runbook: check for a connection leak or a scale-out storm.' });
      return [[graph('Memcached: CPU %', [cpu]), graph('Memcached: evictions, connections', [evictions, conns])]];
    }
    if (store instanceof DynamoDbSessionStore) {
      return [this.dynamoDbAlarms('DynamoDb', 'session table', store.metricThrottledRequests(), store.metricSystemErrors(), store.metricSuccessfulRequestLatency({ statistic: 'Average' }))];
    }
    if (store instanceof JwtSessionKeys) {
      return [this.dynamoDbAlarms('Revocation', 'revocation table', store.metricThrottledRequests(), store.metricSystemErrors())];
    }
    if (store instanceof S3SessionStore) {
      if (!store.requestMetrics) {
        Annotations.of(this).addInfoV2('cdk-sessions:s3NoRequestMetrics', 'The S3 store has no request metrics (requestMetrics: true adds them): no S3 5xx alarm');
        return [];
      }
      const errors = store.metric5xxErrors();
      this.alarm('S3ServerErrors', { metric: errors, threshold: t.s3ServerErrors ?? 5, description: 'S3 answered 5xx on session objects (the runtime retries, then answers 503). Runbook: check the AWS Health Dashboard for S3 in the region; sustained SlowDown means too many requests on one prefix.' });
      return [[graph('S3: requests, 4xx, 5xx', [store.metricAllRequests(), store.metric4xxErrors(), errors])]];
    }
    if (store instanceof PostgresSessionStore) {
      const widgets: cloudwatch.IWidget[] = [];
      if (store.cluster) {
        const cpu = store.metricCPUUtilization();
        const acu = store.metricACUUtilization();
        this.alarm('DatabaseCpu', { metric: cpu, threshold: t.databaseCpuPercent ?? 80, periods: 3, description: 'Aurora CPU is high. Runbook: raise maxCapacity (ACUs); check the sweep and pg_stat_statements for slow queries.' });
        this.alarm('DatabaseAcu', { metric: acu, threshold: t.databaseAcuPercent ?? 90, periods: 3, description: 'Aurora Serverless v2 is near its maximum capacity and cannot grow. Runbook: raise maxCapacity.' });
        widgets.push(graph('Aurora: CPU %, ACU %', [cpu, acu]), graph('Aurora: connections, ACUs', [store.metricDatabaseConnections(), store.metricServerlessDatabaseCapacity()]));
      }
      if (store.proxy) {
        const used = store.metricProxy('DatabaseConnections', { statistic: 'Maximum' });
        const allowed = store.metricProxy('MaxDatabaseConnectionsAllowed', { statistic: 'Minimum' });
        const pct = new cloudwatch.MathExpression({ expression: '100 * used / allowed', usingMetrics: { used, allowed }, label: 'proxy connections %', period: FIVE_MINUTES });
        const setupFailed = store.metricProxy('DatabaseConnectionsSetupFailed', { statistic: 'Sum' });
        const authFailed = store.metricProxy('ClientConnectionsSetupFailedAuth', { statistic: 'Sum' });
        this.alarm('ProxyConnections', { metric: pct, threshold: t.proxyConnectionsPercent ?? 90, description: 'RDS Proxy is near the database connections it may open: requests wait for a connection (borrow latency) and time out as 503s. Runbook: raise maxCapacity (max_connections grows with ACUs) or the proxy\'s maxConnectionsPercent.' });
        this.alarm('ProxyDatabaseConnectFailures', { metric: setupFailed, threshold: t.proxyConnectionFailures ?? 1, description: 'RDS Proxy could not open connections to Aurora. Runbook: check the cluster is available (failover, scaling), the proxy\'s secret and the security group between them.' });
        this.alarm('ProxyClientAuthFailures', { metric: authFailed, threshold: t.proxyConnectionFailures ?? 1, description: 'Clients failed to authenticate to RDS Proxy. Runbook: a rotated database secret the runtime has not reread, or IAM auth (rds-db:connect) missing on a consumer.' });
        widgets.push(graph('RDS Proxy: connections %, borrow latency (µs)', [pct, store.metricProxyDatabaseConnectionsBorrowLatency()]), graph('RDS Proxy: failures', [setupFailed, authFailed]));
      }
      return [widgets];
    }
    return []; // memory (sticky sessions): nothing outside the instances to watch
  }

  private serverlessCacheAlarms(engine: string, ecpus: cloudwatch.Metric, bytes: cloudwatch.Metric, throttled: cloudwatch.Metric): cloudwatch.IWidget[][] {
    const t = this.thresholds;
    const ecpuRate = new cloudwatch.MathExpression({ expression: 'ecpus / PERIOD(ecpus)', usingMetrics: { ecpus }, label: 'ECPUs per second', period: FIVE_MINUTES });
    this.alarm(`${engine}ServerlessEcpus`, { metric: ecpuRate, threshold: t.serverlessEcpusPerSecond ?? 100_000, periods: 3, description: 'The serverless cache uses many ECPUs (load and spend). Runbook: look for a traffic spike or a client retry storm; raise the threshold if this is the new normal.' });
    this.alarm(`${engine}ServerlessBytes`, { metric: bytes, threshold: t.serverlessBytesUsed ?? 10 * 1024 ** 3, description: 'The serverless cache stores more than expected for sessions. Runbook: check SESSION_MAX_BYTES and idle timeouts; look for session spam (logins without end).' });
    this.alarm(`${engine}ServerlessThrottled`, { metric: throttled, threshold: t.serverlessThrottledCommands ?? 1, description: 'The serverless cache throttled commands while scaling: those requests got 503. Runbook: raise the cache\'s ECPU/storage minimums (cacheUsageLimits) so it scales ahead of the load.' });
    return [[graph(`${engine} serverless: ECPUs/s`, [ecpuRate]), graph(`${engine} serverless: bytes, throttled commands`, [bytes, throttled])]];
  }

  private dynamoDbAlarms(prefix: string, what: string, throttles: cloudwatch.IMetric, systemErrors: cloudwatch.IMetric, latency?: cloudwatch.Metric): cloudwatch.IWidget[] {
    const t = this.thresholds;
    this.alarm(`${prefix}Throttles`, { metric: throttles, threshold: t.dynamoDbThrottles ?? 1, description: `DynamoDB throttled requests on the ${what} (the runtime retries, then answers 503). Runbook: on-demand tables throttle on a sudden spike past twice the previous peak or a hot key; provisioned: raise capacity or turn auto scaling on.` });
    this.alarm(`${prefix}SystemErrors`, { metric: systemErrors, threshold: t.dynamoDbSystemErrors ?? 1, description: `DynamoDB answered 500s on the ${what}. Runbook: check the AWS Health Dashboard for DynamoDB in the region; the runtime answers 503 until it recovers.` });
    // Two graphs: both are sums over operations whose metric ids (getitem, …) would clash in one.
    const widgets: cloudwatch.IWidget[] = [graph(`DynamoDB ${what}: throttled requests`, [throttles]), graph(`DynamoDB ${what}: system errors`, [systemErrors])];
    if (latency) {
      this.alarm(`${prefix}Latency`, { metric: latency, threshold: (t.dynamoDbLatency ?? Duration.millis(25)).toMilliseconds(), periods: 3, description: `GetItem on the ${what} is slow. Runbook: check the AWS Health Dashboard; large sessions (near 400 KB, or the S3 overflow) read slower: check SESSION_MAX_BYTES.` });
      widgets.push(graph(`DynamoDB ${what}: GetItem latency (ms)`, [latency]));
    }
    return widgets;
  }
}

/** The runtime's own metrics on the dashboard, one line per compute. */
function runtimeRows(computes: Array<InstanceFleet | SessionApi>, store: ISessionStore | undefined): cloudwatch.IWidget[][] {
  const each = (name: string, props?: cloudwatch.MetricOptions) => computes.map((c) => c.metricRuntime(name, { label: `${name} (${c instanceof InstanceFleet ? 'fleet' : 'api'})`, ...props }));
  const rows: cloudwatch.IWidget[][] = [
    [
      graph('Runtime: requests, 5xx, 503, 413', [...each('Requests'), ...each('Responses5xx'), ...each('Responses503'), ...each('Responses413')]),
      graph('Runtime: store errors and timeouts', [...each('StoreErrors'), ...each('StoreTimeouts')]),
      graph('Runtime: store latency p50 / p99 (ms)', [...each('StoreLatency', { statistic: 'p50' }), ...each('StoreLatency', { statistic: 'p99' })]),
    ],
  ];
  if (store?.kind === 'jwt') {
    rows.push([graph('Runtime: JWT rejected / revoked', [...each('JwtRejected'), ...each('JwtRevoked')])]);
  } else {
    rows.push([
      graph('Runtime: compare-and-set conflicts, retries, 409s', [...each('CasConflicts'), ...each('CasRetries'), ...each('CasExhausted')]),
      graph('Runtime: sessions created, destroyed, expired', [...each('SessionsCreated'), ...each('SessionsDestroyed'), ...each('SessionsExpired')]),
    ]);
  }
  return rows;
}

function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
}

/**
 * The highest value among the nodes' metrics (MAX of a metric-math expression, at most 10 nodes:
 * the limit of metrics in one alarm); `single` when there is only one node or none known.
 */
function maxOverNodes(nodes: cloudwatch.Metric[], single: cloudwatch.Metric, label: string): cloudwatch.IMetric {
  const some = nodes.slice(0, 10);
  if (some.length <= 1) return some[0] ?? single;
  const usingMetrics: { [id: string]: cloudwatch.IMetric } = {};
  // Ids unique per metric name: one graph may hold several of these expressions.
  const base = label.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  some.forEach((m, i) => (usingMetrics[`${base}${i}`] = m));
  return new cloudwatch.MathExpression({ expression: `MAX([${Object.keys(usingMetrics).join(',')}])`, usingMetrics, label: `${label} (max of ${some.length} nodes)`, period: FIVE_MINUTES });
}

/** True when `read` gives a metric (the store has it), false when it throws (imported without it, or the other variant). */
function hasMetric(read: () => cloudwatch.Metric): boolean {
  try {
    read();
    return true;
  } catch {
    return false;
  }
}

function validateThresholds(scope: Construct, t: SessionAlarmThresholds): void {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(t)) {
    if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0)) problems.push(`thresholds.${k} must be a number ≥ 0, got ${v}`);
    if (v instanceof Duration && !v.isUnresolved() && v.toMilliseconds() <= 0) problems.push(`thresholds.${k} must be longer than 0`);
  }
  validateProps(scope, problems);
}
