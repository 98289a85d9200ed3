import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SharedSessionTopology, TopologyParts } from './base';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { S3SessionStore, S3SessionStoreProps } from '../stores/s3-session-store';
import { ConnectTarget, buildIamStoreTopology, IamStoreTopologyProps, TopologyRuntimeProps } from './common';

/** Props of {@link S3Sessions}. */
export interface S3SessionsProps extends IamStoreTopologyProps {
  /**
   * The S3 store.
   * @default - the store's defaults (encrypted, TLS-only, private bucket; lifecycle expiry)
   */
  readonly storeProps?: S3SessionStoreProps;
}

/**
 * Seed row 2, "Centralized Session Storage — Amazon S3": one object per session (conditional
 * writes with If-Match / If-None-Match, expiry filtered on read, lifecycle cleanup in whole days)
 * behind a Lambda HTTP API, optionally with an instance fleet on the same bucket. Cheap and
 * durable, slower per request than Redis or DynamoDB: for light, rarely written sessions.
 */
export class S3Sessions extends SharedSessionTopology {
  /** The S3 store. */
  public readonly store: S3SessionStore;
  /** The store's bucket. */
  public readonly bucket: s3.IBucket;
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

  constructor(scope: Construct, id: string, props: S3SessionsProps = {}) {
    super(scope, id);
    const storeProps = props.storeProps ?? {};
    const parts = buildIamStoreTopology(this, props, (storeId) => {
      // The removal policy reaches the bucket this store creates (a given one keeps its own: the store refuses one then).
      return new S3SessionStore(this, storeId, {
        ...storeProps,
        removalPolicy: storeProps.existingBucket ? storeProps.removalPolicy : (storeProps.removalPolicy ?? props.removalPolicy),
      });
    });
    this.store = parts.store;
    this.api = parts.api;
    this.fleet = parts.fleet;
    this.cookieSecret = parts.cookieSecret;
    this.userPool = parts.login.userPool;
    this.userPoolClient = parts.login.userPoolClient;
    this.connections = parts.connections;
    this.settings = parts.settings;
    this.url = this.api.url;
    this.bucket = this.store.bucket;
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
