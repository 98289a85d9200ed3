import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SessionApi } from '../compute/session-api';
import { JwtSessionKeys, JwtSessionKeysProps } from '../stores/jwt-session-keys';
import { ApiOptions, sharedRuntime, topologyCookieSecret, topologyLoginPool, TopologyRuntimeProps } from './common';

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
}

/**
 * Seed row 3, "JWT (Stateless Sessions)": the Lambda API signs short-lived JWTs with a KMS key
 * (ES256; the private key never leaves KMS) and verifies them without a session store. Revocation,
 * the weak spot the seed names, is a DynamoDB denylist consulted per request.
 */
export class JwtSessions extends Construct {
  public readonly keys: JwtSessionKeys;
  public readonly signingKey: kms.IKey;
  public readonly revocationTable: dynamodb.ITable;
  public readonly api: SessionApi;
  public readonly cookieSecret: secretsmanager.ISecret;
  /** The Cognito user pool whose users log in: a token is signed only for a user it authenticated. */
  public readonly userPool: cognito.IUserPool;
  /** The app client the API logs users in through. */
  public readonly userPoolClient: cognito.IUserPoolClient;

  constructor(scope: Construct, id: string, props: JwtSessionsProps = {}) {
    super(scope, id);
    this.cookieSecret = topologyCookieSecret(this, props);
    const login = topologyLoginPool(this, 'JwtSessions', props);
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = login);
    this.keys = new JwtSessionKeys(this, 'Keys', props.keys);
    this.signingKey = this.keys.key;
    this.revocationTable = this.keys.revocationTable;
    // bind() = bindIssuer(): kms:Sign + verify on the key, GetItem/PutItem on the revocation table.
    this.api = new SessionApi(this, 'Api', { ...props.api, ...sharedRuntime(props, this.cookieSecret, login), store: this.keys });
  }
}
