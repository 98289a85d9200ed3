/**
 * SessionMonitoring on the reference stacks (bin/nag.ts: every stack calls addMonitoring()): each
 * stack has its dashboard and exactly the alarms of its parts, every alarm notifies the stack's
 * alarm topic on ALARM and OK, the topic is KMS-encrypted (with a key CloudWatch may use) and
 * TLS-only; plus the options (a given topic, an email, thresholds, bad thresholds) and the
 * runtime's environment the constructs set.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration } from 'aws-cdk-lib';
import { addReferenceStacks, ReferenceStacks } from '../../../bin/nag';
import { DynamoDbSessions, RedisSessions, S3Sessions, SessionMonitoring, StickySessions } from '../../../lib';
import { newApp, topologyStack } from '../helpers';

/** The stack's SessionMonitoring (exactly one). */
function monitoringOf(stack: Stack): SessionMonitoring {
  const found = stack.node.findAll().filter((c): c is SessionMonitoring => c instanceof SessionMonitoring);
  expect(found).toHaveLength(1);
  return found[0];
}

/** Alarm construct ids of a stack's monitoring, sorted. */
function alarmIds(stack: Stack): string[] {
  return monitoringOf(stack).alarms.map((a) => a.node.id).sort();
}

const FLEET = ['FleetElb5xx', 'FleetResponses503', 'FleetTarget5xx', 'FleetTargetResponseTime', 'FleetUnhealthyHosts'];
const FLEET_STORE = [...FLEET, 'FleetStoreErrors'];
const API = ['Api5xx', 'ApiFunctionDuration', 'ApiFunctionErrors', 'ApiFunctionThrottles', 'ApiResponses503'];
const API_STORE = [...API, 'ApiStoreErrors'];

const EXPECTED: Record<keyof ReferenceStacks, string[]> = {
  sticky: FLEET,
  redis: [...FLEET_STORE, ...API_STORE, 'RedisConnections', 'RedisEngineCpu', 'RedisEvictions', 'RedisMemory', 'RedisReplicationLag'],
  memcached: [...FLEET_STORE, ...API_STORE, 'MemcachedConnections', 'MemcachedCpu', 'MemcachedEvictions'],
  rds: [...FLEET_STORE, ...API_STORE, 'DatabaseAcu', 'DatabaseCpu', 'ProxyClientAuthFailures', 'ProxyConnections', 'ProxyDatabaseConnectFailures'],
  dynamodb: [...API_STORE, 'DynamoDbLatency', 'DynamoDbSystemErrors', 'DynamoDbThrottles'],
  s3: API_STORE, // the reference S3 store has no request metrics: no S3 5xx alarm
  jwt: [...API_STORE, 'RevocationSystemErrors', 'RevocationThrottles'], // StoreErrors: the denylist's calls
};

describe('reference stacks', () => {
  const app = newApp({ flags: true });
  app.node.setContext('alarmEmail', 'oncall@example.com');
  const stacks = addReferenceStacks(app);
  const templates = Object.fromEntries(Object.entries(stacks).map(([k, s]) => [k, Template.fromStack(s as Stack)])) as Record<keyof ReferenceStacks, Template>;

  test.each(Object.keys(EXPECTED) as Array<keyof ReferenceStacks>)('%s: a dashboard and exactly the alarms of its parts', (name) => {
    const t = templates[name];
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(alarmIds(stacks[name])).toEqual([...EXPECTED[name]].sort());
    t.resourceCountIs('AWS::CloudWatch::Alarm', EXPECTED[name].length);
  });

  test.each(Object.keys(EXPECTED) as Array<keyof ReferenceStacks>)('%s: every alarm notifies the alarm topic on ALARM and OK; the topic is KMS-encrypted, TLS-only, and -c alarmEmail is subscribed', (name) => {
    const t = templates[name];
    const topics = t.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    const topicId = Object.keys(topics)[0];
    expect(topics[topicId].Properties.KmsMasterKeyId).toBeDefined();
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: /);
    }
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } });
  });

  test('the store-error and 503 alarms read the runtime metrics of their compute (namespace CdkSessions, its service name), which the constructs turn on', () => {
    const t = templates.redis;
    const fleetEnv = stacks.redis.node.findAll().find((c) => c.node.path === 'CdkSessions-Redis/Sessions/Fleet') as unknown as { environment: Record<string, string> };
    expect(fleetEnv.environment).toMatchObject({ SESSION_METRICS: 'on', SESSION_METRICS_NAMESPACE: 'CdkSessions', POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^CdkSessionsRedis-Sessions-Fleet-[0-9A-F]{8}$/) });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkSessions',
      MetricName: 'StoreErrors',
      Dimensions: [{ Name: 'service', Value: fleetEnv.environment.POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Threshold: 5,
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SESSION_METRICS: 'on', POWERTOOLS_SERVICE_NAME: Match.stringLikeRegexp('^CdkSessionsRedis-Sessions-Api-') }) },
    });
  });

  test('Redis alarms watch the busiest of the replication group\'s nodes (metric math over every member)', () => {
    const t = templates.redis;
    const id = Object.keys(t.findResources('AWS::CloudWatch::Alarm')).find((k) => /MonitoringRedisMemory[0-9A-F]{8}$/.test(k))!;
    const mem = t.findResources('AWS::CloudWatch::Alarm')[id];
    const metrics = mem.Properties.Metrics as Array<{ Expression?: string; MetricStat?: { Metric: { Dimensions: Array<{ Value: unknown }> } } }>;
    expect(metrics.find((m) => m.Expression)?.Expression).toMatch(/^MAX\(\[/);
    expect(metrics.filter((m) => m.MetricStat).length).toBe(2); // primary and replica
  });
});

describe('options', () => {
  test('a given topic is used as is (no key, no topic created); thresholds replace the defaults', () => {
    const stack = topologyStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:oncall');
    const d = new DynamoDbSessions(stack, 'Sessions');
    const m = d.addMonitoring({ alarmTopic: topic, thresholds: { functionErrors: 3, dynamoDbLatency: Duration.millis(40) } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    expect(m.alarmTopicKey).toBeUndefined();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 3, AlarmActions: ['arn:aws:sns:eu-west-1:111111111111:oncall'] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SuccessfulRequestLatency', Threshold: 40, EvaluationPeriods: 3 });
  });

  test('an S3 store with request metrics gets its S3 5xx alarm', () => {
    const stack = topologyStack();
    new S3Sessions(stack, 'Sessions', { storeProps: { requestMetrics: true } }).addMonitoring();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/S3', MetricName: '5xxErrors', Threshold: 5 });
  });

  test('bad thresholds are refused, every one named', () => {
    const stack = topologyStack();
    const d = new DynamoDbSessions(stack, 'Sessions');
    expect(() => new SessionMonitoring(stack, 'M', { api: d.api, thresholds: { storeErrors: -1, functionDuration: Duration.seconds(0) } })).toThrow(/storeErrors[\s\S]*functionDuration/);
  });

  test('SESSION_METRICS=off in the environment keeps the runtime metrics off', () => {
    const stack = topologyStack();
    const d = new DynamoDbSessions(stack, 'Sessions', { environment: { SESSION_METRICS: 'off' } });
    expect(d.api.environment.SESSION_METRICS).toBe('off');
  });
});

describe('instance logs', () => {
  const { stack, topology } = (() => {
    const s = topologyStack();
    return { stack: s, topology: new StickySessions(s, 'Sessions', { fleet: { logRetention: logs.RetentionDays.TWO_WEEKS } }) };
  })();
  const t = Template.fromStack(stack);
  const groupId = stack.getLogicalId(topology.fleet.logGroup.node.defaultChild as logs.CfnLogGroup);
  // The launch template's user data as text, references written as ${LogicalId}.
  const lt = Object.values(t.findResources('AWS::EC2::LaunchTemplate'))[0];
  const parts = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1] as Array<string | { Ref?: string }>;
  const userData = parts.map((p) => (typeof p === 'string' ? p : p.Ref !== undefined ? `\${${p.Ref}}` : '?')).join('');

  test('the server log goes to its own log group with the given retention', () => {
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
    expect(groupId).toMatch(/ServerLogs/);
  });

  test('the instance role may only create streams in and write to that group (no CreateLogGroup, no retention change)', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const logStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')) && JSON.stringify(s.Resource).includes('ServerLogs'));
    expect(statements.filter((s) => [s.Action].flat().some((a) => /^logs:(CreateLogGroup|PutRetentionPolicy|\*)$/.test(a)) && JSON.stringify(s).includes('ServerLogs'))).toEqual([]);
    expect(logStatements).toEqual([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [groupId, 'Arn'] } }]);
  });

  test('the server writes stdout/stderr to a file the CloudWatch agent ships to the group (one stream per instance), rotated by size', () => {
    expect(userData).toContain('amazon-cloudwatch-agent');
    expect(userData).toContain('StandardOutput=append:/var/log/cdk-sessions/server.log');
    expect(userData).toContain(`"file_path":"/var/log/cdk-sessions/server.log","log_group_name":"\${${groupId}}","log_stream_name":"{instance_id}"`);
    expect(userData).toContain('amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s');
    expect(userData).toContain('copytruncate');
  });
});

test('a Redis store without replicas gets no replication-lag alarm (and no error)', () => {
  const stack = topologyStack();
  const r = new RedisSessions(stack, 'Sessions', { storeProps: { replicationGroupProps: { replicasPerNodeGroup: 0 } } });
  const m = r.addMonitoring();
  expect(m.alarms.map((a) => a.node.id)).not.toContain('RedisReplicationLag');
  expect(m.alarms.map((a) => a.node.id)).toContain('RedisEvictions');
});
