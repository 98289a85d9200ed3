import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { throwIfProblems } from '../compute/common';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { validateVpcChoice, VpcChoice } from '../compute/vpc';
import { DynamoDbSessionStore, DynamoDbSessionStoreProps } from '../stores/dynamodb-session-store';
import { ApiOptions, FleetOptions, sharedRuntime, topologyCookieSecret, TopologyRuntimeProps } from './common';

/** Props of {@link DynamoDbSessions}. */
export interface DynamoDbSessionsProps extends TopologyRuntimeProps, VpcChoice {
  /**
   * The DynamoDB store.
   * @default - the store's defaults (on-demand, PITR, TTL, encrypted)
   */
  readonly storeProps?: DynamoDbSessionStoreProps;
  /**
   * The Lambda API.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * An instance fleet on the same table, when given (`{}` for its defaults). `existingVpc` /
   * `vpcProps` apply to it.
   * @default - no fleet: only the Lambda API
   */
  readonly fleet?: FleetOptions;
}

/**
 * Seed row 2, "Centralized Session Storage — Database (DynamoDB)": sessions in a DynamoDB
 * table (conditional writes, TTL filtered on read) behind a Lambda HTTP API, optionally with
 * an instance fleet on the same table. No VPC needed for the API.
 */
export class DynamoDbSessions extends Construct {
  public readonly store: DynamoDbSessionStore;
  public readonly table: dynamodb.ITableV2;
  public readonly api: SessionApi;
  public readonly fleet?: InstanceFleet;
  public readonly cookieSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DynamoDbSessionsProps = {}) {
    super(scope, id);
    const problems = validateVpcChoice(props);
    if (!props.fleet && (props.existingVpc || props.vpcProps)) problems.push('existingVpc / vpcProps apply to the fleet only: give `fleet` too');
    throwIfProblems('DynamoDbSessions', problems);
    this.cookieSecret = topologyCookieSecret(this, props);
    const runtime = sharedRuntime(props, this.cookieSecret);
    this.store = new DynamoDbSessionStore(this, 'Store', props.storeProps);
    this.table = this.store.table;
    this.api = new SessionApi(this, 'Api', { ...props.api, ...runtime, store: this.store });
    if (props.fleet) {
      this.fleet = new InstanceFleet(this, 'Fleet', {
        ...props.fleet,
        ...runtime,
        existingVpc: props.existingVpc,
        vpcProps: props.vpcProps,
        store: this.store,
      });
    }
  }
}
