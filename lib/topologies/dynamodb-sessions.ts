import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DynamoDbSessionStore, DynamoDbSessionStoreProps } from '../stores/dynamodb-session-store';
import { FleetOptions, IamStoreTopology, IamStoreTopologyProps } from './common';

/** Props of {@link DynamoDbSessions}. */
export interface DynamoDbSessionsProps extends IamStoreTopologyProps {
  /**
   * The DynamoDB store.
   * @default - the store's defaults (on-demand, PITR, TTL, encrypted)
   */
  readonly storeProps?: DynamoDbSessionStoreProps;
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
export class DynamoDbSessions extends IamStoreTopology<DynamoDbSessionStore> {
  public readonly table: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: DynamoDbSessionsProps = {}) {
    super(scope, id, 'DynamoDbSessions', props, (s, storeId) => new DynamoDbSessionStore(s, storeId, props.storeProps));
    this.table = this.store.table;
  }
}
