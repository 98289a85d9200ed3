import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

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
   * @default '/etc/cdk-sessions/session.env'
   */
  readonly environmentFile?: string;
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
  /** A Lambda function: environment variables on the function, grants on its role, its security groups when in a VPC. */
  public static fromFunction(fn: lambda.Function): ISessionConsumer {
    return {
      consumerName: fn.node.path,
      grantPrincipal: fn.grantPrincipal,
      connections: fn.isBoundToVpc ? fn.connections : undefined,
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
   * A task definition without its service: environment and grants only. Use
   * {@link fromFargateService} for a store in a VPC (the network path belongs to the service).
   */
  public static fromTaskDefinition(taskDefinition: ecs.TaskDefinition, options: ContainerConsumerOptions = {}): ISessionConsumer {
    const container = SessionConsumer.container(taskDefinition, options, taskDefinition.node.path);
    return {
      consumerName: taskDefinition.node.path,
      grantPrincipal: taskDefinition.taskRole,
      addEnvironment: (key, value) => container.addEnvironment(key, value),
    };
  }

  /** An Auto Scaling group: grants on its role, its security groups, the environment written to a file by user data. */
  public static fromAutoScalingGroup(asg: autoscaling.AutoScalingGroup, options: AutoScalingGroupConsumerOptions = {}): ISessionConsumer {
    const file = options.environmentFile ?? DEFAULT_CONSUMER_ENVIRONMENT_FILE;
    if (!/^\/[A-Za-z0-9._/-]+$/.test(file)) throw new Error(`environmentFile must be an absolute path of letters, digits, ".", "_", "-" and "/", got "${file}"`);
    let first = true;
    return {
      consumerName: asg.node.path,
      grantPrincipal: asg.grantPrincipal,
      connections: asg.connections,
      addEnvironment: (key, value) => {
        if (first) {
          asg.addUserData(`install -d -m 0755 ${dirname(file)}`, `install -m 0640 /dev/null ${file}`);
          first = false;
        }
        asg.addUserData(`printf '%s\\n' '${key}=${value}' >> ${file}`);
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

function dirname(file: string): string {
  return file.slice(0, file.lastIndexOf('/')) || '/';
}
