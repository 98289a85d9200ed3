import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createCookieSecret, SessionRuntimeOptions } from '../compute/common';
import { InstanceFleetProps } from '../compute/instance-fleet';
import { SessionApi, SessionApiProps } from '../compute/session-api';

type RuntimeKeys = keyof SessionRuntimeOptions;

/**
 * The instance fleet of a topology: everything of {@link InstanceFleetProps} except what the
 * topology decides (VPC, store) and the session settings it shares with its other compute.
 */
export interface FleetOptions extends Omit<InstanceFleetProps, 'existingVpc' | 'vpcProps' | 'store' | RuntimeKeys> {}

/** The Lambda API of a topology: {@link SessionApiProps} without the store and shared session settings. */
export interface ApiOptions extends Omit<SessionApiProps, 'store' | RuntimeKeys> {}

/** Session settings every compute construct of one topology shares (one cookie secret, one cookie). */
export interface TopologyRuntimeProps extends SessionRuntimeOptions {}

/** The runtime options for a compute construct, with the topology's one cookie secret. */
export function sharedRuntime(props: SessionRuntimeOptions, cookieSecret: secretsmanager.ISecret): SessionRuntimeOptions {
  return {
    cookieName: props.cookieName,
    idleTimeout: props.idleTimeout,
    absoluteTimeout: props.absoluteTimeout,
    environment: props.environment,
    cookieSecret,
  };
}

/** The topology's cookie secret: the given one or a new generated one. */
export function topologyCookieSecret(scope: Construct, props: SessionRuntimeOptions): secretsmanager.ISecret {
  return props.cookieSecret ?? createCookieSecret(scope, 'CookieSecret');
}

/**
 * Lets the given constructs through the API's interface endpoints. The Secrets Manager endpoint
 * has private DNS, so inside the VPC every Secrets Manager call goes to it, and its security
 * group admits only whom it is opened to.
 */
export function openInterfaceEndpoints(api: SessionApi, peers: ec2.IConnectable[]): void {
  for (const endpoint of api.vpcEndpoints) {
    if (!(endpoint instanceof ec2.InterfaceVpcEndpoint)) continue;
    for (const peer of peers) endpoint.connections.allowDefaultPortFrom(peer, `Session topology to ${endpoint.node.id}`);
  }
}
