import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { validateProps } from './validate';

/**
 * Whatever runs a team's own code that reads and writes sessions: a Lambda function, a Fargate
 * service, an Auto Scaling group, a role. `connect()` on a store or topology grants it access
 * (`grantPrincipal`), opens the network path (`connections`) and sets the runtime's environment
 * (`addEnvironment`). Make one with {@link SessionConsumer}.
 */
export interface ISessionConsumer extends iam.IGrantable {
  /** How errors name the consumer (its construct path). */
  readonly consumerName: string;
  /**
   * The consumer's security groups, when it runs in a VPC.
   * @default - none: the consumer runs in no VPC (it can reach only stores with an AWS API)
   */
  readonly connections?: ec2.Connections;
  /**
   * The VPC the consumer runs in, when known; `connect()` refuses a store in another VPC.
   * @default - unknown
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The id of the VPC the consumer runs in, when its `vpc` is not known but its id is (a Lambda
   * function or an Auto Scaling group: read from the security groups they created); `connect()`
   * refuses a store in another VPC.
   * @default - unknown
   */
  readonly vpcId?: string;
  /** Sets one variable of the session runtime's environment on the consumer. */
  addEnvironment(key: string, value: string): void;
}

/** Options of {@link SessionConsumer.fromFargateService} and {@link SessionConsumer.fromTaskDefinition}. */
export interface ContainerConsumerOptions {
  /**
   * The container that runs the code reading sessions.
   * @default - the task definition's default (first essential) container
   */
  readonly containerName?: string;
}

/** Options of {@link SessionConsumer.fromAutoScalingGroup}. */
export interface AutoScalingGroupConsumerOptions {
  /**
   * File the instances' user data writes the environment to (`KEY=value` lines), for a systemd
   * `EnvironmentFile=` or `set -a; . file`. User data appends the lines when `connect()` runs, so
   * start your server after them (e.g. with a systemd unit, not inline in earlier user data).
   * The file is owned by root, mode 0640: systemd reads `EnvironmentFile=` as root before it
   * switches to the unit's `User=`, so the service user needs no access of its own. It holds
   * ARNs and names, never a secret value (the runtime reads the secrets from Secrets Manager).
   * @default '/etc/cdk-sessions/session.env'
   */
  readonly environmentFile?: string;
  /**
   * A group that may read the environment file too (mode 0640, group `environmentFileGroup`), for a
   * server that sources the file itself (`set -a; . file`) as a non-root user. The group must exist
   * when user data runs.
   * @default - group root: only root (and systemd, for `EnvironmentFile=`) reads it
   */
  readonly environmentFileGroup?: string;
}

/** Options of {@link SessionConsumer.fromRole}. */
export interface RoleConsumerOptions {
  /**
   * The security groups of what assumes the role, when it runs in a VPC.
   * @default - none
   */
  readonly connections?: ec2.Connections;
  /**
   * The VPC of what assumes the role.
   * @default - unknown
   */
  readonly vpc?: ec2.IVpc;
}

/** Default of {@link AutoScalingGroupConsumerOptions.environmentFile}. */
export const DEFAULT_CONSUMER_ENVIRONMENT_FILE = '/etc/cdk-sessions/session.env';

/** Makes an {@link ISessionConsumer} out of what a team runs its code on. */
export class SessionConsumer {
  /**
   * A Lambda function: environment variables on the function, grants on its role, its security
   * groups when in a VPC. aws-cdk-lib does not expose a function's VPC, so its VPC id is read from
   * the security groups it runs with when they were made in this app (the function's own, or
   * yours); with imported security groups only, the VPC is unknown and not checked.
   */
  public static fromFunction(fn: lambda.Function): ISessionConsumer {
    return {
      consumerName: fn.node.path,
      grantPrincipal: fn.grantPrincipal,
      connections: fn.isBoundToVpc ? fn.connections : undefined,
      vpcId: fn.isBoundToVpc ? vpcIdOfSecurityGroups(fn.connections.securityGroups) : undefined,
      addEnvironment: (key, value) => {
        fn.addEnvironment(key, value);
      },
    };
  }

  /** A Fargate (or EC2) service: environment on its container, grants on its task role, the service's security groups. */
  public static fromFargateService(service: ecs.BaseService, options: ContainerConsumerOptions = {}): ISessionConsumer {
    const container = SessionConsumer.container(service.taskDefinition, options, service.node.path);
    return {
      consumerName: service.node.path,
      grantPrincipal: service.taskDefinition.taskRole,
      connections: service.connections,
      vpc: service.cluster.vpc,
      addEnvironment: (key, value) => container.addEnvironment(key, value),
    };
  }

  /**
   * A task definition without its service: environment and grants only, so only for a store
   * reached through its AWS API (DynamoDB, S3, JWT). `connect()` refuses it for a store in a VPC:
   * use {@link fromFargateService}, since the network path belongs to the service.
   */
  public static fromTaskDefinition(taskDefinition: ecs.TaskDefinition, options: ContainerConsumerOptions = {}): ISessionConsumer {
    const container = SessionConsumer.container(taskDefinition, options, taskDefinition.node.path);
    return {
      consumerName: taskDefinition.node.path,
      grantPrincipal: taskDefinition.taskRole,
      addEnvironment: (key, value) => container.addEnvironment(key, value),
    };
  }

  /**
   * An Auto Scaling group: grants on its role, its security groups (and the VPC id read from them
   * when they were made in this app), the environment written by user data to a file only root
   * (and `environmentFileGroup`) can read — see {@link AutoScalingGroupConsumerOptions.environmentFile}.
   */
  public static fromAutoScalingGroup(asg: autoscaling.AutoScalingGroup, options: AutoScalingGroupConsumerOptions = {}): ISessionConsumer {
    const file = options.environmentFile ?? DEFAULT_CONSUMER_ENVIRONMENT_FILE;
    const group = options.environmentFileGroup ?? 'root';
    const problems: string[] = [];
    if (!/^\/[A-Za-z0-9._/-]+$/.test(file) || file.split('/').includes('..')) {
      problems.push(`environmentFile must be an absolute path of letters, digits, ".", "_", "-" and "/" (no ".."), got "${file}"`);
    }
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(group)) problems.push(`environmentFileGroup must be a group name (lower-case letters, digits, "_", "-"), got "${group}"`);
    validateProps(asg, problems);
    return {
      consumerName: asg.node.path,
      grantPrincipal: asg.grantPrincipal,
      connections: asg.connections,
      vpcId: vpcIdOfSecurityGroups(asg.connections.securityGroups),
      addEnvironment: (key, value) => {
        // Created once per group and file, however many stores or consumers write to it: a second
        // `install /dev/null` would empty the lines written before.
        const files = CREATED_ENV_FILES.get(asg) ?? new Set<string>();
        CREATED_ENV_FILES.set(asg, files);
        if (!files.has(file)) {
          asg.addUserData(`install -d -m 0755 -o root -g root ${dirname(file)}`, `install -m 0640 -o root -g ${group} /dev/null ${file}`);
          files.add(file);
        }
        asg.addUserData(`printf '%s\\n' ${shellQuote(`${key}=${value}`)} >> ${file}`);
      },
    };
  }

  /** A role: grants only; the environment is returned by `connect()` for you to apply. */
  public static fromRole(role: iam.IRole, options: RoleConsumerOptions = {}): ISessionConsumer {
    return {
      consumerName: role.node.path,
      grantPrincipal: role,
      connections: options.connections,
      vpc: options.vpc,
      addEnvironment: () => undefined,
    };
  }

  private static container(td: ecs.TaskDefinition, options: ContainerConsumerOptions, owner: string): ecs.ContainerDefinition {
    const container = options.containerName !== undefined ? td.findContainer(options.containerName) : td.defaultContainer;
    if (!container) {
      throw new Error(
        options.containerName !== undefined
          ? `${owner}: no container named "${options.containerName}" in ${td.node.path}`
          : `${owner}: ${td.node.path} has no container yet; add the container before connect(), or name it with containerName`,
      );
    }
    return container;
  }

  private constructor() {}
}

/** The environment files whose creation is already in an Auto Scaling group's user data. */
const CREATED_ENV_FILES = new WeakMap<autoscaling.AutoScalingGroup, Set<string>>();

/** Single-quoted for sh: `'` becomes `'\''`. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The VPC id of the first security group made in this app (`ec2.SecurityGroup`, whose
 * CloudFormation resource names its VPC), or undefined when all are imported.
 */
function vpcIdOfSecurityGroups(groups: ec2.ISecurityGroup[]): string | undefined {
  for (const sg of groups) {
    const cfn = sg.node.defaultChild;
    if (cfn instanceof ec2.CfnSecurityGroup && cfn.vpcId !== undefined) return cfn.vpcId;
  }
  return undefined;
}

function dirname(file: string): string {
  return file.slice(0, file.lastIndexOf('/')) || '/';
}
