import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/**
 * Name of the cfn-guard policy-validation plugin (`@cdklabs/cdk-validator-cfnguard`); aws-cdk-lib
 * files its findings under `<plugin name>::<guard rule name>`. Kept here so that the library does
 * not depend on the plugin at run time.
 */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/**
 * Acknowledges one AWS Control Tower proactive-control finding, named by its cfn-guard rule
 * (e.g. `s3_bucket_versioning_enabled_check` for CT.S3.PR.11), on `construct` and what it contains
 * only, with the reason; like cdk-nag acknowledgments, it shows in the validation report.
 */
export function acknowledgeGuard(construct: IConstruct, rule: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `${GUARD_PLUGIN}::${rule}`, reason });
}

/** Control Tower's minimum log retention (CT.CLOUDWATCH.PR.2), days. */
const CONTROL_TOWER_MIN_RETENTION_DAYS = 365;

/**
 * Acknowledges the two Control Tower log-group controls this library's log groups do not meet
 * by default, on `logGroup` only: a customer-managed KMS key (CT.CLOUDWATCH.PR.3) and, when
 * `retention` is shorter, one year of retention (CT.CLOUDWATCH.PR.2).
 *
 * @param what what the group holds and where its retention is set, e.g. "the API's access logs (prop logRetention)"
 */
export function acknowledgeLogGroupDefaults(logGroup: logs.ILogGroup, retention: logs.RetentionDays, what: string): void {
  acknowledgeGuard(
    logGroup,
    'cloudwatch_log_group_encrypted_check',
    `CloudWatch Logs encrypts ${what} at rest with an AWS-owned key; they carry request and error records, not session ` +
      'data or secrets, and a customer-managed key would add a key policy for the logs service and a monthly key charge.',
  );
  if (retention < CONTROL_TOWER_MIN_RETENTION_DAYS) {
    acknowledgeGuard(
      logGroup,
      'cloudwatch_log_group_retention_period_check',
      `${what.charAt(0).toUpperCase()}${what.slice(1)} are for operating the service, kept ${retention} days to bound their cost; keeping them a year is an ` +
        'account-level compliance choice (a longer retention, or a subscription to a log archive).',
    );
  }
}

/**
 * Denies `kms:CreateGrant` on `key` unless the grant is for an AWS resource or the caller is an
 * AWS service (the statement CT.KMS.PR.3 asks for): grants bypass the key policy and IAM, and
 * nothing in this library needs one.
 */
export function denyNonServiceGrants(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}
