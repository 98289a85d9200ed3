/*
 * What the store constructs share: prop checks, and for the stores that live in a VPC
 * (Redis/Valkey, Memcached, PostgreSQL) where they go, who may reach them, how a consumer reads
 * their secret. Not exported from the package.
 */
import { Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ISessionStoreConsumer } from '../core/session-store';

/**
 * The characters ElastiCache accepts in an AUTH token or an RBAC user's password besides
 * letters and digits. The token must be 16-128 printable ASCII characters; CreateReplicationGroup
 * answers "Invalid AuthToken provided" for anything else.
 */
export const ELASTICACHE_AUTH_TOKEN_SPECIALS = '!&#$^<>-';

/** Shortest and longest AUTH token ElastiCache accepts. */
export const ELASTICACHE_AUTH_TOKEN_LENGTH = { min: 16, max: 128 } as const;

/** True for a character ElastiCache accepts in an AUTH token. */
export function isElastiCacheAuthTokenChar(c: string): boolean {
  return /^[A-Za-z0-9]$/.test(c) || ELASTICACHE_AUTH_TOKEN_SPECIALS.includes(c);
}

/** Every printable ASCII character except space (0x21-0x7e). */
export const PRINTABLE_ASCII = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

/** What the generator must leave out: every printable ASCII character ElastiCache does not accept. */
export const ELASTICACHE_AUTH_TOKEN_EXCLUDED = [...PRINTABLE_ASCII].filter((c) => !isElastiCacheAuthTokenChar(c)).join('');

/**
 * A Secrets Manager generator whose every possible output is a valid ElastiCache AUTH token
 * (or RBAC password): letters, digits and {@link ELASTICACHE_AUTH_TOKEN_SPECIALS} only, no space.
 */
export function elastiCacheAuthTokenGenerator(length: number): secretsmanager.SecretStringGenerator {
  return { passwordLength: length, excludeCharacters: ELASTICACHE_AUTH_TOKEN_EXCLUDED, includeSpace: false };
}

/** Collects `<key> <problem>` for each of `keys` that is set in `props`. */
export function checkUnset<P extends object>(problems: string[], props: P, keys: readonly (keyof P & string)[], problem: string): void {
  for (const k of keys) if (props[k] !== undefined) problems.push(`${k} ${problem}`);
}

/**
 * Collects what keeps replicas in other regions from deploying: a stack without a concrete
 * region (CloudFormation needs to know which region is the table's own; CDK would fail later
 * with its own internal message) and a replica in the stack's own region.
 *
 * @param regions replica regions by the prop they come from, e.g. `{ replicaRegions: [...] }`
 */
export function checkReplicaRegions(problems: string[], stack: Stack, regions: Record<string, readonly string[]>): void {
  for (const [prop, list] of Object.entries(regions)) {
    if (list.length === 0) continue;
    if (Token.isUnresolved(stack.region)) {
      problems.push(
        `${prop} needs a stack in a known region, but stack ${stack.node.path} is environment-agnostic: ` +
          `set its env region (new Stack(app, '${stack.node.id}', { env: { region: 'eu-west-1' } })), or remove ${prop}`,
      );
    } else if (list.includes(stack.region)) {
      problems.push(`${prop} must not include the stack's own region ${stack.region}: the table already lives there`);
    }
  }
}

/** The VPC's private subnets with egress, or its isolated subnets when it has none. */
export function defaultPrivateSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return { subnetType: vpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
}

/**
 * The subnets a store goes in: `selection` when given, else {@link defaultPrivateSubnets}. A VPC
 * with neither private nor isolated subnets (and no `selection`) is a problem named after the
 * prop, instead of aws-cdk-lib's bare "There are no 'Isolated' subnet groups in this VPC".
 */
export function storeSubnetSelection(problems: string[], vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined, name = 'vpcSubnets'): ec2.SubnetSelection | undefined {
  if (selection !== undefined) return selection;
  if (vpc.privateSubnets.length === 0 && vpc.isolatedSubnets.length === 0) {
    problems.push(
      `vpc ${vpc.node.path} has no private subnets (with egress or isolated), and a session store is never placed in public ones: ` +
        `add private subnets to the VPC, or select subnets with ${name}`,
    );
    return undefined;
  }
  return defaultPrivateSubnets(vpc);
}

/** Checks of {@link selectPrivateSubnets} beyond "no public subnet". */
export interface PrivateSubnetChecks {
  /** The prop the selection comes from, as problems name it. */
  readonly name: string;
  /** Report a selection without any subnet. */
  readonly nonEmpty?: boolean;
  /** When set, the problem to report for subnets in fewer than two (known) availability zones. */
  readonly twoAzsProblem?: string;
}

/**
 * Selects `selection` in `vpc` and collects what is wrong with it: a public subnet, a selection
 * that fails, and the optional checks. Returns the subnets (none when the selection fails).
 */
export function selectPrivateSubnets(problems: string[], vpc: ec2.IVpc, selection: ec2.SubnetSelection, checks: PrivateSubnetChecks): ec2.ISubnet[] {
  const { name } = checks;
  try {
    const subnets = vpc.selectSubnets(selection).subnets;
    const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
    if (subnets.some((s) => publicIds.has(s.subnetId))) problems.push(`${name} must select private subnets only, not public ones`);
    if (checks.nonEmpty && subnets.length === 0) problems.push(`${name} selects no subnets`);
    else if (checks.twoAzsProblem !== undefined && !subnets.some((s) => Token.isUnresolved(s.availabilityZone)) && new Set(subnets.map((s) => s.availabilityZone)).size < 2) {
      problems.push(checks.twoAzsProblem);
    }
    return subnets;
  } catch (e) {
    problems.push(`${name} cannot be selected in the VPC: ${(e as Error).message}`);
    return [];
  }
}

/** The security group of a store: no ingress (consumers are let in by `bind`) and no outbound rules. */
export function createStoreSecurityGroup(store: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  return new ec2.SecurityGroup(store, 'SecurityGroup', {
    vpc,
    description: `Session store ${store.node.path}: ingress only from bound consumers`,
    allowAllOutbound: false,
  });
}

/** The network side of a node-based ElastiCache store. */
export interface ElastiCacheNetwork {
  /** The nodes' security group. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Network access through the security group, default port the nodes' port. */
  readonly connections: ec2.Connections;
  /** The subnet group in the selected private subnets. */
  readonly subnetGroup: elasticache.CfnSubnetGroup;
}

/**
 * The network of a node-based ElastiCache store: the given security group or a new one (see
 * {@link createStoreSecurityGroup}), connections on its port, and a subnet group of `subnets`.
 */
export function createElastiCacheNetwork(
  store: Construct,
  vpc: ec2.IVpc,
  subnets: ec2.ISubnet[],
  port: number,
  securityGroup: ec2.ISecurityGroup | undefined,
): ElastiCacheNetwork {
  const group = securityGroup ?? createStoreSecurityGroup(store, vpc);
  return {
    securityGroup: group,
    connections: new ec2.Connections({ securityGroups: [group], defaultPort: ec2.Port.tcp(port) }),
    subnetGroup: new elasticache.CfnSubnetGroup(store, 'SubnetGroup', {
      description: `Private subnets of session store ${store.node.path}`,
      subnetIds: subnets.map((s) => s.subnetId),
    }),
  };
}

/**
 * Opens the store's default port to the consumer's security groups. Throws when the consumer has
 * no `connections`: it must run in the store's VPC.
 *
 * @param engine how the error names the store, e.g. 'Redis'
 */
export function allowConsumer(store: Construct & ec2.IConnectable, consumer: ISessionStoreConsumer, engine: string): void {
  if (!consumer.connections) {
    throw new Error(
      `${store.node.path} is a ${engine} store inside a VPC: bind() needs a consumer with connections ` +
        '(an instance fleet, or a Lambda function attached to the same VPC)',
    );
  }
  store.connections.allowDefaultPortFrom(consumer.connections, `Session clients of ${store.node.path}`);
}

/**
 * `secretsmanager:GetSecretValue` on the one secret, plus `kms:Decrypt` through Secrets Manager
 * when the secret uses a customer key (no DescribeSecret, unlike `secret.grantRead`).
 */
export function grantSecretValue(scope: Construct, grantee: iam.IGrantable, secret: secretsmanager.ISecret): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [secret.secretArn],
  });
  const key = secret.encryptionKey;
  if (key) {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.${Stack.of(scope).urlSuffix}` } },
    });
  }
  return grant;
}

/** A node-based ElastiCache metric (namespace AWS/ElastiCache): Average over 5 minutes unless `props` says otherwise. */
export function elastiCacheMetric(metricName: string, dimensionsMap: cloudwatch.DimensionsMap, props: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/ElastiCache',
    metricName,
    dimensionsMap,
    period: Duration.minutes(5),
    statistic: 'Average',
    ...props,
  });
}

/**
 * A metric of an ElastiCache Serverless cache (namespace AWS/ElastiCache, dimension
 * `ServerlessCacheName`, as `@aws-cdk/aws-elasticache-alpha`'s `ServerlessCache.metric()` reads
 * it): Average over 5 minutes unless `props` says otherwise. Made here, not by the alpha, so that
 * an imported cache (by name) has the same metrics.
 */
export function serverlessCacheMetric(metricName: string, serverlessCacheName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
  return elastiCacheMetric(metricName, { ServerlessCacheName: serverlessCacheName }, props);
}

/** The error a store's metric method throws when the store's variant does not publish that metric. */
export function noSuchMetric(store: Construct, metricName: string, variant: string, instead: string): Error {
  return new Error(`${store.node.path} is ${variant}: ElastiCache publishes no ${metricName} for it; use ${instead}`);
}

/** The removal policy of a store's secret: the store's, except SNAPSHOT (a secret has none), which retains it. */
export function secretRemovalPolicy(policy: RemovalPolicy): RemovalPolicy {
  return policy === RemovalPolicy.SNAPSHOT ? RemovalPolicy.RETAIN : policy;
}

/**
 * `CacheClusterId` of a member node: `<id>-00<node>`, or `<id>-<shard 4 digits>-<node 3 digits>`
 * in cluster mode (node 1 is the shard's primary at creation).
 */
export function memberClusterId(replicationGroupId: string, clusterMode: boolean, shard: number, node: number): string {
  const suffix = clusterMode ? `-${String(shard).padStart(4, '0')}-${String(node).padStart(3, '0')}` : `-${String(node).padStart(3, '0')}`;
  return Token.isUnresolved(replicationGroupId) ? Fn.join('', [replicationGroupId, suffix]) : `${replicationGroupId}${suffix}`;
}
