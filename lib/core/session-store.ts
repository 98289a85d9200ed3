import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { SessionStoreKind } from './session-env';
import type { SessionConnectOptions } from './connect';
import type { ISessionConsumer } from './consumer';

/**
 * What reads and writes sessions: a Lambda function or an instance fleet. It gets IAM grants
 * through `grantPrincipal` and, when the store lives in a VPC, a network path through
 * `connections`.
 */
export interface ISessionStoreConsumer extends iam.IGrantable {
  /** Present when the consumer runs in a VPC (instances, VPC-attached functions). */
  readonly connections?: ec2.Connections;
}

/** What `bind()` hands back to the consumer. */
export interface SessionStoreBinding {
  /** Environment variables for the consumer, named as in `lambda/session/env.ts`. */
  readonly environment: { [key: string]: string };
}

/** A session store construct: the infrastructure half of a runtime store of the same kind. */
export interface ISessionStore extends IConstruct {
  /** The runtime store the environment selects (`SESSION_STORE`). */
  readonly kind: SessionStoreKind;
  /**
   * The VPC the store lives in, when consumers must run inside it to reach it (Redis, Memcached, RDS).
   * @default - undefined: reachable through AWS APIs from anywhere with IAM credentials
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Grant the consumer least-privilege access, open the network path when there is one, and
   * return the environment the runtime needs.
   */
  bind(consumer: ISessionStoreConsumer): SessionStoreBinding;
  /**
   * One call that wires a team's own code to the sessions: grants, network path and the whole
   * runtime environment (store variables, cookie secret ARN, cookie name, timeouts), set on the
   * consumer. Returns the environment it set.
   */
  connect(consumer: ISessionConsumer, options?: SessionConnectOptions): SessionStoreBinding;
}
