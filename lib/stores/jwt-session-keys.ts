import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { RUNTIME_DEFAULTS, SessionEnvVars, SessionStoreKind } from '../core/session-env';
import { denyNonServiceGrants } from '../core/guard';
import { ISessionStore, ISessionStoreConsumer, SessionStoreBinding } from '../core/session-store';
import { connectSessionConsumer, SessionConnectOptions } from '../core/connect';
import { ISessionConsumer } from '../core/consumer';
import { checkExclusive, checkInt, validateProps } from '../core/validate';
import { SessionTableOptions, TABLE_KEY_ACTIONS } from './dynamodb-session-store';

/** Partition key of the revocation (denylist) table: `sid#<session id>`, `user#<subject>` or `jti#<token id>`. */
export const REVOCATION_TABLE_PARTITION_KEY = 'pk';
/** TTL attribute of the revocation table: an entry may go once the token it revokes has expired. */
export const REVOCATION_TABLE_TTL_ATTRIBUTE = 'ttl';

/** Whether verifiers consult the revocation table (`SESSION_REVOCATION_CHECK`). */
export enum RevocationCheck {
  /** On every request: a revoked session, user or token is refused at once. */
  ALWAYS = 'always',
  /** Never: a token stays valid until it expires (`tokenTtlSeconds`); no table read per request. */
  NEVER = 'never',
}

/** The revocation-table operations the runtime calls, which the throttle and error metrics add up. */
const REVOCATION_TABLE_OPERATIONS = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.PUT_ITEM];

/** Properties of {@link JwtSessionKeys}. */
export interface JwtSessionKeysProps {
  /**
   * Alias of the signing key, with or without the `alias/` prefix.
   * @default - no alias; consumers get the key ARN
   */
  readonly alias?: string;
  /**
   * A signing key you made yourself (ECC_NIST_P256, SIGN_VERIFY). This is how a rotation is
   * deployed: make a new key, pass it here and the old one in `previousSigningKeys`. Not with
   * `description` or `pendingWindow` (they shape the key this construct creates).
   * @default - a new key
   */
  readonly existingSigningKey?: kms.IKey;
  /**
   * Earlier signing keys whose tokens must still verify (rotation). Consumers get
   * kms:GetPublicKey on them (never kms:Sign) and their ARNs in SESSION_JWT_PREVIOUS_KMS_KEY_IDS.
   * Remove a key from this list once the token TTL has passed since the rotation.
   * @default - none
   */
  readonly previousSigningKeys?: kms.IKey[];
  /**
   * Description of the signing key.
   * @default 'JWT session signing key (<construct path>)'
   */
  readonly description?: string;
  /**
   * What happens to the key (and the revocation table this construct creates) when they leave
   * the stack. RETAIN: a deleted key makes every issued token unverifiable at once.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Waiting period before a scheduled key deletion takes effect, 7-30 days.
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;
  /**
   * `iss` claim the runtime puts into and checks in tokens.
   * @default 'cdk-sessions'
   */
  readonly issuer?: string;
  /**
   * `aud` claim the runtime puts into and checks in tokens.
   * @default 'cdk-sessions'
   */
  readonly audience?: string;
  /**
   * Access-token lifetime, seconds (1 to 86400). Short, since revocation before expiry costs a
   * table read.
   * @default 900
   */
  readonly tokenTtlSeconds?: number;
  /**
   * A revocation table you made yourself (`TableV2`, `Table` or an import; with its
   * `encryptionKey` when it uses a customer-managed key): partition key `pk` (S), TTL `ttl`. Not
   * with `revocationTableProps`.
   * @default - a new TableV2
   */
  readonly existingRevocationTable?: dynamodb.ITable;
  /**
   * Extra props of the revocation table this construct creates (key, TTL, billing and PITR are fixed).
   * @default - none
   */
  readonly revocationTableProps?: SessionTableOptions;
  /**
   * Whether verifiers consult the revocation table on every request (`SESSION_REVOCATION_CHECK`).
   * @default RevocationCheck.ALWAYS
   */
  readonly revocationCheck?: RevocationCheck;
}

/**
 * Keys for stateless JWT sessions: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY; ES256)
 * whose private half never leaves KMS, and a DynamoDB revocation (denylist) table.
 *
 * - `grantReadWrite(issuer)`: issue, verify and revoke: kms:Sign, kms:GetPublicKey (current and
 *   previous keys), revocation read + write. `connect()` and `bind()` grant it.
 * - `grantRead(verifier)`: verify only: kms:GetPublicKey and revocation read. `connectVerifier()`
 *   and `bindVerifier()` grant it.
 * - `grantSign(issuer)`: kms:Sign on the current key only, as `kms.Key.grantSign`.
 */
export class JwtSessionKeys extends Construct implements ISessionStore, ec2.IConnectable {
  /** Always 'jwt'. */
  public readonly kind: SessionStoreKind = SessionStoreKind.JWT;
  /** No VPC: KMS and DynamoDB are reached through their APIs. */
  public readonly vpc?: ec2.IVpc;
  /**
   * Empty: KMS and DynamoDB are reached through their APIs, so there is no security group to open.
   * Present so that every store is `ec2.IConnectable`; `connect()` adds no network rule.
   */
  public readonly connections: ec2.Connections = new ec2.Connections();
  /** The signing key. */
  public readonly key: kms.IKey;
  /** Earlier signing keys that still verify. */
  public readonly previousKeys: kms.IKey[];
  /** The alias, when one was asked for. */
  public readonly alias?: kms.Alias;
  /** The revocation (denylist) table. */
  public readonly revocationTable: dynamodb.ITable;
  /** `iss` claim. */
  public readonly issuer: string;
  /** `aud` claim. */
  public readonly audience: string;
  private readonly tokenTtlSeconds: number;
  private readonly revocationCheck: RevocationCheck;

  constructor(scope: Construct, id: string, props: JwtSessionKeysProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    checkExclusive(problems, { existingRevocationTable: props.existingRevocationTable, revocationTableProps: props.revocationTableProps });
    checkExclusive(problems, { existingSigningKey: props.existingSigningKey, description: props.description });
    checkExclusive(problems, { existingSigningKey: props.existingSigningKey, pendingWindow: props.pendingWindow });
    const aliasName = props.alias === undefined ? undefined : props.alias.startsWith('alias/') ? props.alias : `alias/${props.alias}`;
    if (aliasName !== undefined && !Token.isUnresolved(aliasName)) {
      if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName)) problems.push(`alias must be letters, digits, '/', '_' or '-', got '${props.alias}'`);
      if (aliasName.startsWith('alias/aws/')) problems.push("alias must not start with 'alias/aws/' (reserved for AWS managed keys)");
    }
    if (props.pendingWindow && !Token.isUnresolved(props.pendingWindow.toSeconds())) {
      checkInt(problems, 'pendingWindow (days)', props.pendingWindow.toDays({ integral: false }), 7, 30);
    }
    checkInt(problems, 'tokenTtlSeconds', props.tokenTtlSeconds, 1, 24 * 3600);
    for (const [name, v] of [['issuer', props.issuer], ['audience', props.audience]] as const) {
      if (v !== undefined && !Token.isUnresolved(v) && v.trim() === '') problems.push(`${name} must not be empty`);
    }
    if (props.revocationCheck !== undefined && !Object.values(RevocationCheck).includes(props.revocationCheck)) {
      problems.push(`revocationCheck must be 'always' or 'never', got '${props.revocationCheck}'`);
    }
    validateProps(this, problems);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.issuer = props.issuer ?? 'cdk-sessions';
    this.audience = props.audience ?? 'cdk-sessions';
    this.tokenTtlSeconds = props.tokenTtlSeconds ?? RUNTIME_DEFAULTS.jwtTtlSeconds;
    this.revocationCheck = props.revocationCheck ?? RevocationCheck.ALWAYS;

    this.previousKeys = [...(props.previousSigningKeys ?? [])];
    this.key = props.existingSigningKey ?? new kms.Key(this, 'SigningKey', {
      description: props.description ?? `JWT session signing key (${this.node.path})`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // KMS does not rotate asymmetric keys; rotation is a new key + SESSION_JWT_PREVIOUS_KMS_KEY_IDS.
      enableKeyRotation: false,
      removalPolicy,
      pendingWindow: props.pendingWindow ?? Duration.days(30),
    });
    // Our own key only: grants bypass the key policy and IAM, and nothing here needs one (CT.KMS.PR.3).
    if (!props.existingSigningKey) denyNonServiceGrants(this.key as kms.Key);
    if (aliasName) this.alias = this.key.addAlias(aliasName);

    this.revocationTable =
      props.existingRevocationTable ??
      new dynamodb.TableV2(this, 'RevocationTable', {
        removalPolicy,
        ...props.revocationTableProps,
        partitionKey: { name: REVOCATION_TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: REVOCATION_TABLE_TTL_ATTRIBUTE,
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      });
  }

  /** `kms:Sign` on the current signing key only (what `kms.Key.grantSign` grants). */
  public grantSign(issuer: iam.IGrantable): iam.Grant {
    return this.key.grant(issuer, 'kms:Sign');
  }

  /**
   * Everything an issuer needs: issue (kms:Sign), verify (kms:GetPublicKey on the current and
   * previous keys) and revoke (revocation table GetItem/BatchGetItem/PutItem, and the table key's
   * grants when it is customer-managed).
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantSign(grantee);
    this.grantPublicKeys(grantee);
    this.grantRevocationRead(grantee);
    this.grantRevocationWrite(grantee);
    return grant;
  }

  /**
   * Everything a verifier needs: kms:GetPublicKey on the current and previous keys and revocation
   * table GetItem/BatchGetItem. No kms:Sign, no table writes.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantPublicKeys(grantee);
    this.grantRevocationRead(grantee);
    return grant;
  }

  /**
   * `kms:GetPublicKey` on the signing key and the previous keys: the runtime verifies locally
   * with the public keys (jose), so it never calls kms:Verify (hence not named `grantVerify`,
   * which on `kms.Key` grants kms:Verify).
   */
  public grantPublicKeys(verifier: iam.IGrantable): iam.Grant {
    const grant = this.key.grant(verifier, 'kms:GetPublicKey');
    for (const k of this.previousKeys) k.grant(verifier, 'kms:GetPublicKey');
    return grant;
  }

  /** `dynamodb:PutItem` on the revocation table (revoke a session, a subject or a token). */
  public grantRevocationWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.revocationTable.grant(grantee, 'dynamodb:PutItem');
    this.revocationTable.encryptionKey?.grant(grantee, ...TABLE_KEY_ACTIONS);
    return grant;
  }

  /**
   * `dynamodb:GetItem` and `dynamodb:BatchGetItem` on the revocation table (is this token, its
   * session or its user revoked? one BatchGetItem per verification).
   */
  public grantRevocationRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.revocationTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    this.revocationTable.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
    return grant;
  }

  /** Issuer binding: {@link grantReadWrite}. Returns the `SESSION_STORE=jwt` environment. */
  public bindIssuer(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.grantReadWrite(consumer);
    return { environment: this.environment() };
  }

  /** Verifier binding: {@link grantRead} only (no kms:Sign, no table writes). Same environment. */
  public bindVerifier(consumer: ISessionStoreConsumer): SessionStoreBinding {
    this.grantRead(consumer);
    return { environment: this.environment() };
  }

  /**
   * {@link connect} for code that only verifies tokens (it never logs users in or out): the same
   * environment, with {@link grantRead} instead of {@link grantReadWrite}.
   */
  public connectVerifier(consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
    return connectSessionConsumer(this, consumer, options, (c) => this.bindVerifier(c));
  }

  /**
   * Wires a team's own code to these sessions in one call: grants, network path, and the whole
   * runtime environment (store variables, cookie secret ARN, cookie name, timeouts) set on the
   * consumer. Consumers connected without `cookieSecret` share this store's cookie secret.
   *
   * @example store.connect(SessionConsumer.fromFunction(fn))
   */
  public connect(consumer: ISessionConsumer, options: SessionConnectOptions = {}): SessionStoreBinding {
    return connectSessionConsumer(this, consumer, options);
  }

  /** Same as {@link bindIssuer}: the reference app both logs users in and serves them. */
  public bind(consumer: ISessionStoreConsumer): SessionStoreBinding {
    return this.bindIssuer(consumer);
  }

  private environment(): Record<string, string> {
    return {
      [SessionEnvVars.STORE]: 'jwt',
      [SessionEnvVars.JWT_KMS_KEY_ID]: this.key.keyArn,
      ...(this.previousKeys.length > 0 ? { [SessionEnvVars.JWT_PREVIOUS_KMS_KEY_IDS]: this.previousKeys.map((k) => k.keyArn).join(',') } : {}),
      [SessionEnvVars.JWT_ISSUER]: this.issuer,
      [SessionEnvVars.JWT_AUDIENCE]: this.audience,
      [SessionEnvVars.JWT_TTL]: String(this.tokenTtlSeconds),
      [SessionEnvVars.REVOCATION_TABLE]: this.revocationTable.tableName,
      [SessionEnvVars.REVOCATION_CHECK]: this.revocationCheck,
    };
  }

  /** A metric of the revocation table (namespace AWS/DynamoDB, dimension TableName). */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.revocationTable.metric(metricName, props);
  }

  /**
   * Revocation-table requests DynamoDB throttled (ThrottledRequests), summed over GetItem,
   * BatchGetItem and PutItem: with `RevocationCheck.ALWAYS` each is a request answered 503. Sum over 5 minutes.
   */
  public metricThrottledRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.revocationTable.metricThrottledRequestsForOperations({ operations: REVOCATION_TABLE_OPERATIONS, ...props });
  }

  /** Revocation-table requests that failed inside DynamoDB (SystemErrors), summed over the same operations. Sum over 5 minutes. */
  public metricSystemErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.revocationTable.metricSystemErrorsForOperations({ operations: REVOCATION_TABLE_OPERATIONS, ...props });
  }
}
