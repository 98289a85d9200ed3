import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SharedSessionTopology, TopologyParts } from './base';
import { ApiOptions, SessionApi } from '../compute/session-api';
import { validateLoginOptions } from '../compute/login';
import { validateProps } from '../core/validate';
import { JwtSessionKeys, JwtSessionKeysProps } from '../stores/jwt-session-keys';
import { ConnectTarget, sharedRuntime, topologyCookieSecret, topologyLoginPool, TopologyRuntimeProps } from './common';

/** Props of {@link JwtSessions}. */
export interface JwtSessionsProps extends TopologyRuntimeProps {
  /**
   * Signing key, claims and revocation table.
   * @default - the keys' defaults: a new ECC P-256 KMS signing key and an on-demand revocation table
   */
  readonly keys?: JwtSessionKeysProps;
  /**
   * The Lambda API that issues and verifies the tokens.
   * @default - the API's defaults
   */
  readonly api?: ApiOptions;
  /**
   * What happens to the signing key, the revocation table, the log groups and the user pool when
   * they leave the stack. SNAPSHOT means RETAIN.
   * @default - each resource's own default (RETAIN for the key and the table, see `keys`)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Seed row 3, "JWT (Stateless Sessions)": the Lambda API signs short-lived JWTs with a KMS key
 * (ES256; the private key never leaves KMS) and verifies them without a session store. Revocation,
 * the weak spot the seed names, is a DynamoDB denylist consulted per request.
 */
export class JwtSessions extends SharedSessionTopology {
  /** The signing key and the revocation table. */
  public readonly keys: JwtSessionKeys;
  /** The KMS key that signs the tokens. */
  public readonly signingKey: kms.IKey;
  /** The DynamoDB denylist of revoked sessions. */
  public readonly revocationTable: dynamodb.ITable;
  /** The Lambda HTTP API that issues and verifies the tokens. */
  public readonly api: SessionApi;
  /** The cookie-signing secret of the API and every consumer given to `connect()`. */
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in: a token is signed only for a user it authenticated. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the API logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** None: the API's function runs in no VPC and has no network identity (an empty `Connections`). */
  public readonly connections: ec2.Connections;
  /** The API's URL (`https://<id>.execute-api.<region>.amazonaws.com/`). */
  public readonly url: string;
  private readonly settings: TopologyRuntimeProps;

  constructor(scope: Construct, id: string, props: JwtSessionsProps = {}) {
    super(scope, id);
    validateProps(this, validateLoginOptions(props));
    this.settings = props;
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, props, props.removalPolicy);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    const keysProps = props.keys ?? {};
    this.keys = new JwtSessionKeys(this, 'Keys', { ...keysProps, removalPolicy: keysProps.removalPolicy ?? props.removalPolicy });
    this.signingKey = this.keys.key;
    this.revocationTable = this.keys.revocationTable;
    // bind() = bindIssuer(): kms:Sign + verify on the key, GetItem/PutItem on the revocation table.
    this.api = new SessionApi(this, 'Api', { ...props.api, ...sharedRuntime(props, this.cookieSecret, login), store: this.keys, removalPolicy: props.removalPolicy });
    this.connections = this.api.connections;
    this.url = this.api.url;
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
    return { api: this.api, store: this.keys };
  }

  /** @internal */
  protected _connectTarget(): ConnectTarget {
    return { scope: this, store: this.keys, settings: this.settings, cookieSecret: this.cookieSecret, userPool: this.userPool, userPoolClient: this.userPoolClient };
  }
}
