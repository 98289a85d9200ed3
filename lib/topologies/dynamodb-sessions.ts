import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SharedSessionTopology, TopologyParts } from './base';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { DynamoDbSessionStore, DynamoDbSessionStoreProps } from '../stores/dynamodb-session-store';
import { ConnectTarget, buildIamStoreTopology, IamStoreTopologyProps, TopologyRuntimeProps } from './common';

/** Props of {@link DynamoDbSessions}. */
export interface DynamoDbSessionsProps extends IamStoreTopologyProps {
  /**
   * The DynamoDB store.
   * @default - the store's defaults (on-demand, PITR, TTL, encrypted)
   */
  readonly storeProps?: DynamoDbSessionStoreProps;
}

/**
 * Seed row 2, "Centralized Session Storage — Database (DynamoDB)": sessions in a DynamoDB
 * table (conditional writes, TTL filtered on read) behind a Lambda HTTP API, optionally with
 * an instance fleet on the same table. No VPC needed for the API.
 */
export class DynamoDbSessions extends SharedSessionTopology {
  /** The DynamoDB store. */
  public readonly store: DynamoDbSessionStore;
  /** The store's table. */
  public readonly table: dynamodb.ITable;
  /** The Lambda HTTP API on the store (in no VPC). */
  public readonly api: SessionApi;
  /** The instance fleet on the same store, when `fleet` was given. */
  public readonly fleet?: InstanceFleet;
  /** The one cookie-signing secret of the API, the fleet and every consumer given to `connect()`. */
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in, on the API, the fleet and connected consumers alike. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the runtime logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * The fleet's instance security group, when there is a fleet; none otherwise (the API's function
   * runs in no VPC and has no network identity).
   */
  public readonly connections: ec2.Connections;
  /** The API's URL (`https://<id>.execute-api.<region>.amazonaws.com/`); the fleet's is `fleet.url`. */
  public readonly url: string;
  private readonly settings: TopologyRuntimeProps;

  constructor(scope: Construct, id: string, props: DynamoDbSessionsProps = {}) {
    super(scope, id);
    const storeProps = props.storeProps ?? {};
    const parts = buildIamStoreTopology(
      this,
      props,
      (storeId) =>
        new DynamoDbSessionStore(this, storeId, {
          ...storeProps,
          // A given table keeps its own removal policy (the store refuses one with existingTable).
          removalPolicy: storeProps.existingTable ? storeProps.removalPolicy : (storeProps.removalPolicy ?? props.removalPolicy),
        }),
    );
    this.store = parts.store;
    this.api = parts.api;
    this.fleet = parts.fleet;
    this.cookieSecret = parts.cookieSecret;
    this.userPool = parts.login.userPool;
    this.userPoolClient = parts.login.userPoolClient;
    this.connections = parts.connections;
    this.settings = parts.settings;
    this.url = this.api.url;
    this.table = this.store.table;
  }

  /** Invocations of the API's function (Sum over 5 minutes). */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricInvocations(props);
  }

  /** Invocations of the API's function that failed (Sum over 5 minutes). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricErrors(props);
  }

  /** Run time of the API's function (Average over 5 minutes). */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricDuration(props);
  }

  /** Invocations of the API's function refused for lack of concurrency (Sum over 5 minutes). */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricThrottles(props);
  }

  /** @internal */
  protected _topologyParts(): TopologyParts {
    return { fleet: this.fleet, api: this.api, store: this.store };
  }

  /** @internal */
  protected _connectTarget(): ConnectTarget {
    return { scope: this, store: this.store, settings: this.settings, cookieSecret: this.cookieSecret, userPool: this.userPool, userPoolClient: this.userPoolClient };
  }
}
