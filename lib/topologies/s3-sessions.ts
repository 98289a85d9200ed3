import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { throwIfProblems } from '../compute/common';
import { InstanceFleet } from '../compute/instance-fleet';
import { SessionApi } from '../compute/session-api';
import { validateVpcChoice, VpcChoice } from '../compute/vpc';
import { S3SessionStore, S3SessionStoreProps } from '../stores/s3-session-store';
import { ApiOptions, FleetOptions, sharedRuntime, topologyCookieSecret, TopologyRuntimeProps } from './common';

/** Props of {@link S3Sessions}. */
export interface S3SessionsProps extends TopologyRuntimeProps, VpcChoice {
  /**
   * The S3 store.
   * @default - the store's defaults (encrypted, TLS-only, private bucket; lifecycle expiry)
   */
  readonly storeProps?: S3SessionStoreProps;
  /**
   * The Lambda API.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * An instance fleet on the same bucket, when given (`{}` for its defaults). `existingVpc` /
   * `vpcProps` apply to it.
   * @default - no fleet: only the Lambda API
   */
  readonly fleet?: FleetOptions;
}

/**
 * Seed row 2, "Centralized Session Storage — Amazon S3": one object per session (conditional
 * writes with If-Match / If-None-Match, expiry filtered on read, lifecycle cleanup in whole days)
 * behind a Lambda HTTP API, optionally with an instance fleet on the same bucket. Cheap and
 * durable, slower per request than Redis or DynamoDB: for light, rarely written sessions.
 */
export class S3Sessions extends Construct {
  public readonly store: S3SessionStore;
  public readonly bucket: s3.IBucket;
  public readonly api: SessionApi;
  public readonly fleet?: InstanceFleet;
  public readonly cookieSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: S3SessionsProps = {}) {
    super(scope, id);
    const problems = validateVpcChoice(props);
    if (!props.fleet && (props.existingVpc || props.vpcProps)) problems.push('existingVpc / vpcProps apply to the fleet only: give `fleet` too');
    throwIfProblems('S3Sessions', problems);
    this.cookieSecret = topologyCookieSecret(this, props);
    const runtime = sharedRuntime(props, this.cookieSecret);
    this.store = new S3SessionStore(this, 'Store', props.storeProps);
    this.bucket = this.store.bucket;
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
