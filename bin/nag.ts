import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, CfnOutput, IPolicyValidationContextBeta1, PolicyValidationPluginReportBeta1, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DynamoDbSessions, InstanceFleet, JwtSessions, MemcachedSessions, RdsSessions, RedisSessions, S3Sessions, StickySessions } from '../lib';
import { acknowledgeGuard } from '../lib/core/guard';

/** The reference stacks, one per row of the seed's table; environment-agnostic. */
export interface ReferenceStacks {
  readonly sticky: Stack;
  readonly redis: Stack;
  readonly dynamodb: Stack;
  readonly s3: Stack;
  readonly jwt: Stack;
  readonly memcached: Stack;
  readonly rds: Stack;
}

/**
 * Adds the reference stacks to `app`. Context `certificateArn` (an ACM certificate in the
 * target region) turns the load balancers' listeners into HTTPS; without it they are plain
 * HTTP and say so in a warning. Every stack gets its alarms and dashboard (`addMonitoring()`);
 * context `alarmEmail` subscribes that address to each stack's alarm topic.
 */
export function addReferenceStacks(app: App, props: StackProps = {}): ReferenceStacks {
  const certificateArn: string | undefined = app.node.tryGetContext('certificateArn');
  const alarmEmail: string | undefined = app.node.tryGetContext('alarmEmail');
  const monitoring = { alarmEmail };
  const certificate = (stack: Stack) =>
    certificateArn ? acm.Certificate.fromCertificateArn(stack, 'Certificate', certificateArn) : undefined;

  const sticky = new Stack(app, 'CdkSessions-Sticky', { ...props, description: 'cdk-sessions: sticky sessions on an ALB, in-memory store' });
  const s = new StickySessions(sticky, 'Sessions', { certificate: certificate(sticky) });
  s.addMonitoring(monitoring);
  loginOutputs(sticky, s);
  new CfnOutput(sticky, 'Url', { value: s.url });
  pageOutput(sticky, `${s.url}/`);

  const redis = new Stack(app, 'CdkSessions-Redis', { ...props, description: 'cdk-sessions: Redis/Valkey store shared by an ALB fleet and a Lambda API' });
  const r = new RedisSessions(redis, 'Sessions', { certificate: certificate(redis) });
  r.addMonitoring(monitoring);
  loginOutputs(redis, r);
  new CfnOutput(redis, 'FleetUrl', { value: r.fleet.url });
  new CfnOutput(redis, 'ApiUrl', { value: r.api.url });
  pageOutput(redis, `${r.fleet.url}/`);

  const dynamodb = new Stack(app, 'CdkSessions-DynamoDb', { ...props, description: 'cdk-sessions: DynamoDB store behind a Lambda API' });
  const d = new DynamoDbSessions(dynamodb, 'Sessions');
  d.addMonitoring(monitoring);
  loginOutputs(dynamodb, d);
  new CfnOutput(dynamodb, 'ApiUrl', { value: d.api.url });
  pageOutput(dynamodb, d.api.url);

  const s3 = new Stack(app, 'CdkSessions-S3', { ...props, description: 'cdk-sessions: S3 store behind a Lambda API' });
  const b = new S3Sessions(s3, 'Sessions');
  b.addMonitoring(monitoring);
  loginOutputs(s3, b);
  new CfnOutput(s3, 'ApiUrl', { value: b.api.url });
  pageOutput(s3, b.api.url);

  const jwt = new Stack(app, 'CdkSessions-Jwt', { ...props, description: 'cdk-sessions: stateless JWT sessions signed by KMS, DynamoDB revocation list' });
  const j = new JwtSessions(jwt, 'Sessions');
  j.addMonitoring(monitoring);
  loginOutputs(jwt, j);
  new CfnOutput(jwt, 'ApiUrl', { value: j.api.url });
  pageOutput(jwt, j.api.url);

  const memcached = new Stack(app, 'CdkSessions-Memcached', { ...props, description: 'cdk-sessions: ElastiCache for Memcached store shared by an ALB fleet and a Lambda API' });
  const m = new MemcachedSessions(memcached, 'Sessions', { certificate: certificate(memcached) });
  m.addMonitoring(monitoring);
  loginOutputs(memcached, m);
  new CfnOutput(memcached, 'FleetUrl', { value: m.fleet.url });
  new CfnOutput(memcached, 'ApiUrl', { value: m.api.url });
  pageOutput(memcached, `${m.fleet.url}/`);

  const rds = new Stack(app, 'CdkSessions-Rds', { ...props, description: 'cdk-sessions: Aurora PostgreSQL Serverless v2 store behind an RDS Proxy, shared by an ALB fleet and a Lambda API' });
  const p = new RdsSessions(rds, 'Sessions', { certificate: certificate(rds) });
  p.addMonitoring(monitoring);
  loginOutputs(rds, p);
  new CfnOutput(rds, 'FleetUrl', { value: p.fleet.url });
  new CfnOutput(rds, 'ApiUrl', { value: p.api.url });
  pageOutput(rds, `${p.fleet.url}/`);

  if (!certificateArn) {
    for (const fleet of [s.fleet, r.fleet, m.fleet, p.fleet]) acknowledgePlainHttp(fleet);
  }

  return { sticky, redis, dynamodb, s3, jwt, memcached, rds };
}

/** Without `-c certificateArn=...` the reference fleets serve plain HTTP on purpose (and warn so). */
function acknowledgePlainHttp(fleet: InstanceFleet): void {
  acknowledgeGuard(
    fleet.listener,
    'alb_http_to_https_redirection_check',
    'Reference stack synthesized without -c certificateArn=...: it serves plain HTTP for review and tests, and the ' +
      'InstanceFleet.plainHttp warning says so. With a certificate this listener redirects to the HTTPS one.',
  );
}

/**
 * The session page (GET /, lambda/app/page.ts): what to open in a browser after `cdk deploy`.
 * Stacks with a fleet and an API point at the fleet, whose instances show up one by one in
 * "served by"; the API's URL (ApiUrl) serves the same page.
 */
function pageOutput(stack: Stack, url: string): void {
  new CfnOutput(stack, 'PageUrl', { value: url, description: 'The session page: log in, add to the cart, see which server answers each request' });
}

/** The ids an administrator needs to create the first user (`aws cognito-idp admin-create-user`) and to log in. */
function loginOutputs(stack: Stack, sessions: { readonly userPool: cognito.IUserPool; readonly userPoolClient: cognito.IUserPoolClient }): void {
  new CfnOutput(stack, 'UserPoolId', { value: sessions.userPool.userPoolId, description: 'Cognito user pool whose users log in' });
  new CfnOutput(stack, 'ClientId', { value: sessions.userPoolClient.userPoolClientId, description: 'App client the session runtime logs users in through' });
}

/** cdk-nag's AWS Solutions pack as a policy-validation plugin: synth fails on any unacknowledged finding. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/**
 * The cfn-guard plugin with each finding marked as an error. The plugin (0.0.62) leaves
 * `severity` unset; aws-cdk-lib then takes the report for a success as soon as one finding of it
 * is acknowledged, so any other finding would only print and `cdk synth` would still pass.
 */
class GuardValidator extends CfnGuardValidator {
  public validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const report = super.validate(context);
    return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
  }
}

/**
 * cfn-guard with the AWS Control Tower proactive-control rules (all of them, as bundled with
 * `@cdklabs/cdk-validator-cfnguard`) as a policy-validation plugin: synth fails on any
 * unacknowledged finding. Acknowledgments sit on their constructs (lib/core/guard.ts).
 */
export function addGuardChecks(app: App): void {
  Validations.of(app).addPlugins(new GuardValidator({ controlTowerRulesEnabled: true }));
}
