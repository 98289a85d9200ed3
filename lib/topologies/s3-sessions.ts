import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { S3SessionStore, S3SessionStoreProps } from '../stores/s3-session-store';
import { FleetOptions, IamStoreTopology, IamStoreTopologyProps } from './common';

/** Props of {@link S3Sessions}. */
export interface S3SessionsProps extends IamStoreTopologyProps {
  /**
   * The S3 store.
   * @default - the store's defaults (encrypted, TLS-only, private bucket; lifecycle expiry)
   */
  readonly storeProps?: S3SessionStoreProps;
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
export class S3Sessions extends IamStoreTopology<S3SessionStore> {
  public readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: S3SessionsProps = {}) {
    super(scope, id, 'S3Sessions', props, (s, storeId) => new S3SessionStore(s, storeId, props.storeProps));
    this.bucket = this.store.bucket;
  }
}
